//! What `carecall loadgen` measures over its window, and the report it prints.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carecall::runtime::{Engine, MediaStats};

use super::generator::Totals;
use super::threads::{rss_kib, ThreadCpu};
use super::{keys_per_call, Args};

/// The figures at the start of the measured window.
pub(super) struct Window {
    at: Instant,
    cpu: ThreadCpu,
    media: MediaStats,
    rss_kib: u64,
    invites: u64,
    digits_seen: u64,
    calls_up: usize,
}

/// What the window measured.
pub(super) struct Figures {
    wall: Duration,
    cpu: ThreadCpu,
    media: MediaStats,
    max_lateness_us: u64,
    rss_kib: (u64, u64),
    setups: u64,
    digits_seen: u64,
    calls_up: (usize, usize),
}

impl Window {
    pub(super) fn open(engine: &Engine, totals: &Totals, digits: &AtomicU64) -> Window {
        Window {
            at: Instant::now(),
            cpu: ThreadCpu::sample(),
            media: engine.media_stats(),
            rss_kib: rss_kib(),
            invites: totals.invites.load(Ordering::Relaxed),
            digits_seen: digits.load(Ordering::Relaxed),
            calls_up: engine.active_calls(),
        }
    }

    pub(super) fn close(self, engine: &Engine, totals: &Totals, digits: &AtomicU64) -> Figures {
        let media = engine.media_stats();
        let mut window = media.clone();
        for (w, b) in window.lateness.iter_mut().zip(&self.media.lateness) {
            *w -= b;
        }
        window.frames_sent -= self.media.frames_sent;
        Figures {
            wall: self.at.elapsed(),
            cpu: ThreadCpu::sample().since(&self.cpu),
            max_lateness_us: media.max_lateness_us,
            media: window,
            rss_kib: (self.rss_kib, rss_kib()),
            setups: totals.invites.load(Ordering::Relaxed) - self.invites,
            digits_seen: digits.load(Ordering::Relaxed) - self.digits_seen,
            calls_up: (self.calls_up, engine.active_calls()),
        }
    }
}

pub(super) fn report(
    args: &Args,
    f: &Figures,
    totals: &Totals,
    digits_seen: &AtomicU64,
    stored: Option<(u64, u64)>,
) {
    let secs = f.wall.as_secs_f64();
    let calls = args.calls as f64;
    let engine = f.cpu.engine();
    let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
    println!(
        "carecall loadgen ({:?} flow): {} calls up, measured over {secs:.1} s (calls up at its start {}, at its end {})",
        args.flow, args.calls, f.calls_up.0, f.calls_up.1
    );
    println!(
        "engine CPU: {:.1} % of one core = {:.4} % per concurrent call ({:.3} ms CPU per call-second)",
        100.0 * engine / secs,
        100.0 * engine / secs / calls,
        1000.0 * engine / secs / calls
    );
    for (role, cpu) in &f.cpu.0 {
        println!(
            "  {}: {:.1} % of one core ({:.3} ms per call-second)",
            role.label(),
            100.0 * cpu / secs,
            1000.0 * cpu / secs / calls
        );
    }
    println!(
        "engine frames sent in the window: {} ({:.1} per call per second)",
        f.media.frames_sent,
        f.media.frames_sent as f64 / secs / calls
    );
    println!(
        "send lateness in the window: p50 < {} us, p99 < {} us; max {} us over the whole run",
        f.media.lateness_quantile_us(0.50),
        f.media.lateness_quantile_us(0.99),
        f.max_lateness_us
    );
    println!(
        "process RSS (engine + generator): {} MiB at the window's start, {} MiB at its end",
        f.rss_kib.0 / 1024,
        f.rss_kib.1 / 1024
    );
    println!(
        "calls: {} INVITEs ({} in the window, {:.1} set-ups/s), {} answered, {} refused, {} hung up by the caller, {} ended by the engine",
        load(&totals.invites),
        f.setups,
        f.setups as f64 / secs,
        load(&totals.answered),
        load(&totals.refused),
        load(&totals.hung_up),
        load(&totals.ended_by_engine)
    );
    let (sent, seen) = (load(&totals.digits_sent), load(digits_seen));
    println!(
        "digits: sent {sent}, reported by the engine {seen} ({} in the window), lost {}",
        f.digits_seen,
        sent.saturating_sub(seen)
    );
    if let Some((reports, answers)) = stored {
        println!(
            "store: {reports} reports, {answers} answers ({} keys per whole call; a call cut by the end of the run stores fewer)",
            keys_per_call()
        );
    }
    println!(
        "RTP received by the generator: {}",
        load(&totals.packets_received)
    );
}
