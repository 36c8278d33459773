//! A slot call's state between decisions, and how it finishes.
//!
//! A [`CallState`] is a slot call as the pacer sees it (the store keeps its attempts as
//! domain [`crate::domain::Attempt`]s; [`Pacer::states_from_rows`] reads them back); the
//! pacer reads them and decides, and callers change them only through [`CallState::start`]
//! and [`CallState::apply`].

use std::time::SystemTime;

use super::pacer::Pacer;
use super::plan::SlotCall;

/// Where one slot call stands. The store keeps it between decisions; only the pacer's
/// decisions and [`CallState::start`] / [`CallState::apply`] change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallState {
    /// The planned call.
    pub call: SlotCall,
    /// Attempts started so far; the one on the line, if any, is number `attempts`.
    pub attempts: u32,
    /// What the call waits for.
    pub phase: Phase,
}

/// What a slot call waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Its next attempt, which may start at `due` at the earliest.
    Waiting {
        /// Earliest start of the next attempt.
        due: SystemTime,
    },
    /// The end of the attempt being dialled or on the line.
    Active {
        /// When that attempt started.
        started: SystemTime,
    },
    /// Nothing: no further attempt for this slot.
    Finished(Finish),
}

pub use crate::domain::{CancelReason, Finish, MissReason};

/// What follows an attempt or an event, to be stored with [`CallState::apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Another attempt, not before `due`.
    Retry {
        /// Earliest start of the next attempt.
        due: SystemTime,
    },
    /// No further attempt.
    Finish(Finish),
    /// Wrong number: the runtime records that the number is not to be called again and flags
    /// it for staff; this call finishes as `Cancelled(WrongNumber)`.
    StopNumber,
}

impl CallState {
    /// A planned call before its first attempt, due at the slot instant + the first offset
    /// (the first call of its slot's spread; a whole slot is planned with
    /// [`Pacer::planned_states`], which spreads the due times as the store's plan does).
    pub fn new(call: SlotCall, pacer: &Pacer) -> CallState {
        let first = pacer.config().attempt_offsets().first().copied();
        CallState {
            call,
            attempts: 0,
            phase: Phase::Waiting {
                due: call.at + first.unwrap_or_default(),
            },
        }
    }

    /// Records that the next attempt started at `now` (after [`Pacer::may_dial`] said `Dial`).
    pub fn start(&mut self, now: SystemTime) {
        self.attempts += 1;
        self.phase = Phase::Active { started: now };
    }

    /// Stores a step decided by the pacer.
    pub fn apply(&mut self, step: NextStep) {
        self.phase = match step {
            NextStep::Retry { due } => Phase::Waiting { due },
            NextStep::Finish(finish) => Phase::Finished(finish),
            NextStep::StopNumber => Phase::Finished(Finish::Cancelled(CancelReason::WrongNumber)),
        };
    }

    /// True when a further attempt may still start (waiting, not finished or on the line).
    pub fn is_waiting(&self) -> bool {
        matches!(self.phase, Phase::Waiting { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::ScheduleConfig;
    use super::super::plan::{plan_day, tests::patient};
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_call_waits_starts_and_finishes() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let p = patient(1, &["09:00"], "", "1990-01-01");
        let call = plan_day(pacer.config(), &[p], "2025-05-01".parse().unwrap())[0];
        let mut s = CallState::new(call, &pacer);
        assert_eq!((s.attempts, s.phase), (0, Phase::Waiting { due: call.at }));
        assert!(s.is_waiting());
        s.start(call.at);
        assert_eq!(
            (s.attempts, s.phase),
            (1, Phase::Active { started: call.at })
        );
        let due = call.at + Duration::from_secs(1200);
        s.apply(NextStep::Retry { due });
        assert_eq!((s.attempts, s.phase), (1, Phase::Waiting { due }));
        s.apply(NextStep::StopNumber);
        let wrong = Finish::Cancelled(CancelReason::WrongNumber);
        assert_eq!(s.phase, Phase::Finished(wrong));
        assert!(!s.is_waiting());
    }
}
