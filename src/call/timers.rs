//! Every timer of one call in one table (quinn-proto's `connection/timer.rs` shape): a named
//! [`Timer`] per deadline the call can wait for, and the next deadline is the table's minimum.
//! [`crate::call::Session::poll_timeout`] returns that minimum; nothing else of a call keeps a
//! deadline.

use std::time::{Duration, Instant};

/// How long the BYE waits after the closing prompt's last frame was queued, so the peer's
/// jitter buffer plays it out (baresip lost the last ~100 ms without it).
pub const HANGUP_TAIL: Duration = Duration::from_millis(300);

/// The longest a hang-up waits for a queued prompt to end (a player that never reports the
/// end must not keep the call up; the media timeout would, much later).
pub const CLOSING_LIMIT: Duration = Duration::from_secs(30);

/// The longest carecall listens for an answering machine before the flow starts anyway.
pub const AMD_LIMIT: Duration = Duration::from_secs(6);

/// The named timers of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Inbound: the ring before the 200 OK (`[calls] answer_delay`).
    AnswerDelay,
    /// Outbound: no answer by then sends CANCEL (`[calls] ring_timeout`).
    RingTimeout,
    /// Outbound with answering-machine detection: the flow starts by then anyway.
    AmdLimit,
    /// The dialplan's own deadline (digit timeouts, pauses), from `CallFlow::poll_timeout`.
    Flow,
    /// The flow hung up: the BYE goes at this time (prompt end plus [`HANGUP_TAIL`]).
    HangupTail,
    /// The store request in flight is given up for the journal by then
    /// (`[journal] write_timeout`).
    StoreWrite,
    /// Repeated identification failures from one caller: the lookup waits until then.
    IdentifySlowdown,
}

impl Timer {
    /// Every timer, in the order they are checked when several are due at once.
    pub const ALL: [Timer; 7] = [
        Timer::AnswerDelay,
        Timer::RingTimeout,
        Timer::AmdLimit,
        Timer::StoreWrite,
        Timer::IdentifySlowdown,
        Timer::Flow,
        Timer::HangupTail,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// The deadline of each [`Timer`], or none.
#[derive(Debug, Default, Clone)]
pub struct TimerTable {
    at: [Option<Instant>; Timer::ALL.len()],
}

impl TimerTable {
    /// Arms `timer` for `at`, replacing any earlier setting.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.at[timer.index()] = Some(at);
    }

    /// Arms or disarms `timer`.
    pub fn set_opt(&mut self, timer: Timer, at: Option<Instant>) {
        self.at[timer.index()] = at;
    }

    /// Disarms `timer`.
    pub fn stop(&mut self, timer: Timer) {
        self.at[timer.index()] = None;
    }

    /// When `timer` fires, if armed.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.at[timer.index()]
    }

    /// The earliest armed deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    /// Disarms and returns one timer due at `now` (in [`Timer::ALL`] order); `None` when
    /// nothing is due, so a spurious wake-up changes nothing.
    pub fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        let due = Timer::ALL
            .into_iter()
            .find(|t| self.at[t.index()].is_some_and(|at| at <= now))?;
        self.stop(due);
        Some(due)
    }

    /// Disarms every timer (the call is over; only the store's may be re-armed).
    pub fn clear_call_timers(&mut self) {
        for t in [
            Timer::AnswerDelay,
            Timer::RingTimeout,
            Timer::AmdLimit,
            Timer::Flow,
            Timer::HangupTail,
        ] {
            self.stop(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_deadline_is_the_minimum_and_only_due_timers_fire() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        assert_eq!(table.next_deadline(), None);
        table.set(Timer::Flow, t0 + Duration::from_secs(8));
        table.set(Timer::StoreWrite, t0 + Duration::from_secs(2));
        assert_eq!(table.next_deadline(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(table.take_expired(t0 + Duration::from_secs(1)), None);
        assert_eq!(
            table.take_expired(t0 + Duration::from_secs(9)),
            Some(Timer::StoreWrite)
        );
        assert_eq!(
            table.take_expired(t0 + Duration::from_secs(9)),
            Some(Timer::Flow)
        );
        assert_eq!(table.take_expired(t0 + Duration::from_secs(9)), None);
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn clearing_the_call_timers_keeps_the_store_deadline() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::HangupTail, t0);
        table.set(Timer::StoreWrite, t0 + HANGUP_TAIL);
        table.clear_call_timers();
        assert_eq!(table.next_deadline(), Some(t0 + HANGUP_TAIL));
    }
}
