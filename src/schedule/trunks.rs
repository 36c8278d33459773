//! Which trunk carries each automatic call: round robin over trunks with a free channel,
//! avoiding a failing trunk with back-off. Sans-IO: the caller passes `now`.

use std::time::{Duration, SystemTime};

use super::attempt::AttemptOutcome;
use crate::domain::Disposition;

/// True when the outcome means the trunk, not the patient, failed: the
/// call never reached the network's answer (no final response, a 5xx, a transport error).
pub fn trunk_failed(outcome: AttemptOutcome) -> bool {
    matches!(outcome, AttemptOutcome::NotAnswered(Disposition::Failed))
}

/// Picks the trunk for each call: trunks in turn (round robin), only with a free channel,
/// skipping a trunk that is failing. A trunk fails after `FAIL_AFTER` failed calls in a row
/// and is avoided for a back-off that doubles (30 s up to 5 min) while it keeps failing; one
/// call that reaches the network clears it. Sans-IO: the caller passes `now`.
#[derive(Debug, Clone)]
pub struct TrunkPicker {
    trunks: Vec<TrunkState>,
    next: usize,
}

#[derive(Debug, Clone)]
struct TrunkState {
    channels: usize,
    busy: usize,
    failures: u32,
    avoid_until: Option<SystemTime>,
}

/// Failed calls in a row after which a trunk is avoided.
pub const FAIL_AFTER: u32 = 2;
const FIRST_BACKOFF: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

impl TrunkPicker {
    /// Trunks with these channel limits, in configuration order.
    pub fn new(channels: impl IntoIterator<Item = usize>) -> TrunkPicker {
        TrunkPicker {
            trunks: channels
                .into_iter()
                .map(|channels| TrunkState {
                    channels,
                    busy: 0,
                    failures: 0,
                    avoid_until: None,
                })
                .collect(),
            next: 0,
        }
    }

    /// Free channels on trunks not being avoided at `now`.
    pub fn free(&self, now: SystemTime) -> usize {
        self.trunks
            .iter()
            .filter(|t| t.usable(now))
            .map(|t| t.channels.saturating_sub(t.busy))
            .sum()
    }

    /// The trunk for the next call, its channel taken; `None` when every usable trunk is
    /// full. When every trunk is being avoided, the one whose back-off ends first is tried
    /// once its back-off is over (`None` until then).
    pub fn take(&mut self, now: SystemTime) -> Option<usize> {
        let n = self.trunks.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let t = &self.trunks[i];
            if t.usable(now) && t.busy < t.channels {
                self.trunks[i].busy += 1;
                self.next = (i + 1) % n;
                return Some(i);
            }
        }
        None
    }

    /// The call on trunk `i` ended; `failed` when the trunk, not the patient, failed.
    pub fn release(&mut self, i: usize, failed: bool, now: SystemTime) {
        let Some(t) = self.trunks.get_mut(i) else {
            return;
        };
        t.busy = t.busy.saturating_sub(1);
        if !failed {
            t.failures = 0;
            t.avoid_until = None;
            return;
        }
        t.failures += 1;
        if t.failures >= FAIL_AFTER {
            let doublings = (t.failures - FAIL_AFTER).min(4);
            let backoff = (FIRST_BACKOFF * 2u32.pow(doublings)).min(MAX_BACKOFF);
            t.avoid_until = Some(now + backoff);
        }
    }

    /// Trunk `i` is being avoided at `now`.
    pub fn avoided(&self, i: usize, now: SystemTime) -> bool {
        self.trunks.get(i).is_some_and(|t| !t.usable(now))
    }
}

impl TrunkState {
    fn usable(&self, now: SystemTime) -> bool {
        self.avoid_until.is_none_or(|until| now >= until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunks_alternate_and_respect_channel_limits() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut p = TrunkPicker::new([2, 1]);
        assert_eq!(p.free(now), 3);
        assert_eq!(p.take(now), Some(0));
        assert_eq!(p.take(now), Some(1));
        assert_eq!(p.take(now), Some(0));
        assert_eq!(p.take(now), None, "all channels busy");
        p.release(1, false, now);
        assert_eq!(p.take(now), Some(1));
    }

    #[test]
    fn a_failing_trunk_is_avoided_with_back_off_and_cleared_by_a_good_call() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let s = Duration::from_secs(1);
        let mut p = TrunkPicker::new([10, 10]);
        for _ in 0..FAIL_AFTER {
            assert_eq!(p.take(t0), Some(0));
            p.release(0, true, t0);
            assert_eq!(p.take(t0), Some(1));
            p.release(1, false, t0);
        }
        assert!(p.avoided(0, t0));
        // Only trunk 1 is used while trunk 0 is avoided.
        for _ in 0..5 {
            assert_eq!(p.take(t0 + s), Some(1));
        }
        assert_eq!(p.free(t0 + s), 5);
        // After the back-off it is tried again; another failure doubles the back-off.
        let t1 = t0 + 30 * s;
        assert!(!p.avoided(0, t1));
        assert_eq!(p.take(t1), Some(0));
        p.release(0, true, t1);
        assert!(p.avoided(0, t1 + 59 * s));
        assert!(!p.avoided(0, t1 + 60 * s));
        // A call that reaches the network clears it (trunk 1 had its turn first).
        assert_eq!(p.take(t1 + 60 * s), Some(1));
        assert_eq!(p.take(t1 + 60 * s), Some(0));
        p.release(0, false, t1 + 61 * s);
        assert!(!p.avoided(0, t1 + 61 * s));
        // Both failing: nothing until a back-off is over.
        let mut q = TrunkPicker::new([1, 1]);
        for _ in 0..FAIL_AFTER {
            for i in 0..2 {
                assert_eq!(q.take(t0), Some(i));
                q.release(i, true, t0);
            }
        }
        assert_eq!(q.take(t0 + s), None);
        assert_eq!(q.take(t0 + 30 * s), Some(0));
    }
}
