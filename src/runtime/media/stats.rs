//! The media workers' figures: frames sent, packets received, send errors and how late each
//! frame left, shared by every worker through atomics and read as a [`MediaStats`] snapshot.
//! A worker counts a slot's frames in a [`Tally`] of its own and adds it to the shared
//! atomics once per wake-up: per frame, atomics written by both workers would bounce their
//! cache lines between the cores.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Lateness buckets, upper bounds in microseconds (the last is open).
pub const LATENESS_BOUNDS_US: [u64; 9] = [50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000];

/// The live counters, one set per engine, updated by every worker.
#[derive(Default)]
pub(super) struct StatsInner {
    frames_sent: AtomicU64,
    packets_received: AtomicU64,
    send_errors: AtomicU64,
    lateness: [AtomicU64; LATENESS_BOUNDS_US.len() + 1],
    max_lateness_us: AtomicU64,
    calls: AtomicUsize,
}

/// A snapshot of the media workers' figures.
#[derive(Debug, Clone, Default)]
pub struct MediaStats {
    /// RTP frames sent.
    pub frames_sent: u64,
    /// RTP packets received.
    pub packets_received: u64,
    /// Sends the kernel refused.
    pub send_errors: u64,
    /// Frames per lateness bucket (see [`LATENESS_BOUNDS_US`]; the last bucket is beyond).
    pub lateness: Vec<u64>,
    /// The latest frame, in microseconds after its due time.
    pub max_lateness_us: u64,
    /// Calls with media now.
    pub calls: usize,
}

impl MediaStats {
    /// The lateness (µs, bucket upper bound) at quantile `q` (0.0–1.0).
    pub fn lateness_quantile_us(&self, q: f64) -> u64 {
        let total: u64 = self.lateness.iter().sum();
        let target = (total as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.lateness.iter().enumerate() {
            seen += n;
            if seen >= target && *n > 0 {
                return LATENESS_BOUNDS_US
                    .get(i)
                    .copied()
                    .unwrap_or(self.max_lateness_us);
            }
        }
        0
    }
}

/// One worker's counts since its last [`StatsInner::add`].
#[derive(Debug, Default)]
pub(super) struct Tally {
    frames_sent: u64,
    packets_received: u64,
    send_errors: u64,
    lateness: [u64; LATENESS_BOUNDS_US.len() + 1],
    max_lateness_us: u64,
}

impl Tally {
    /// Counts one batch of sends: `failed` errors and `sent` frames that had all left `late`
    /// after their due time.
    pub(super) fn record_sends(&mut self, late: Duration, sent: usize, failed: usize) {
        self.send_errors += failed as u64;
        if sent == 0 {
            return;
        }
        self.frames_sent += sent as u64;
        let us = late.as_micros() as u64;
        let bucket = LATENESS_BOUNDS_US
            .iter()
            .position(|&b| us < b)
            .unwrap_or(LATENESS_BOUNDS_US.len());
        self.lateness[bucket] += sent as u64;
        self.max_lateness_us = self.max_lateness_us.max(us);
    }

    /// Counts one RTP packet accepted from a peer.
    pub(super) fn packet_received(&mut self) {
        self.packets_received += 1;
    }
}

impl StatsInner {
    /// Adds a worker's `tally` to the shared figures and empties it.
    pub(super) fn add(&self, tally: &mut Tally) {
        let t = std::mem::take(tally);
        let add = |counter: &AtomicU64, n: u64| {
            if n > 0 {
                counter.fetch_add(n, Ordering::Relaxed);
            }
        };
        add(&self.frames_sent, t.frames_sent);
        add(&self.packets_received, t.packets_received);
        add(&self.send_errors, t.send_errors);
        for (counter, n) in self.lateness.iter().zip(t.lateness) {
            add(counter, n);
        }
        if t.max_lateness_us > 0 {
            self.max_lateness_us
                .fetch_max(t.max_lateness_us, Ordering::Relaxed);
        }
    }

    /// A call joined (`true`) or left (`false`) a worker.
    pub(super) fn call_count(&self, joined: bool) {
        if joined {
            self.calls.fetch_add(1, Ordering::Relaxed);
        } else {
            self.calls.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The figures now.
    pub(super) fn snapshot(&self) -> MediaStats {
        MediaStats {
            frames_sent: self.frames_sent.load(Ordering::Relaxed),
            packets_received: self.packets_received.load(Ordering::Relaxed),
            send_errors: self.send_errors.load(Ordering::Relaxed),
            lateness: self
                .lateness
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            max_lateness_us: self.max_lateness_us.load(Ordering::Relaxed),
            calls: self.calls.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_adds_to_the_shared_figures_once_and_empties() {
        let shared = StatsInner::default();
        let mut tally = Tally::default();
        tally.record_sends(Duration::from_micros(30), 1, 0);
        tally.record_sends(Duration::from_micros(1500), 1, 0);
        tally.record_sends(Duration::ZERO, 0, 1);
        tally.packet_received();
        shared.add(&mut tally);
        shared.add(&mut tally);
        let s = shared.snapshot();
        assert_eq!(
            (s.frames_sent, s.send_errors, s.packets_received),
            (2, 1, 1)
        );
        assert_eq!(s.lateness[0], 1);
        assert_eq!(s.lateness[5], 1);
        assert_eq!(s.max_lateness_us, 1500);
    }
}
