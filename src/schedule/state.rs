//! A slot call's state between decisions, and how it finishes.
//!
//! The store keeps one [`CallState`] per planned call; the pacer reads them and decides, and
//! the runtime changes them only through [`CallState::start`] and [`CallState::apply`].

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

/// Why a slot call has no further attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Finish {
    /// The patient completed the report on this call.
    Completed,
    /// Stopped on purpose; see the reason.
    Cancelled(CancelReason),
    /// Every attempt the window allowed was made and none completed (a non-reporter).
    Unreached,
    /// The window closed with an attempt still due that never started: backlog, shown to staff.
    Missed(MissReason),
}

/// Why remaining attempts were cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// A complete report arrived on another channel at or after the slot instant.
    ReportReceived,
    /// The slot date is outside the observation period (observation ended).
    ObservationEnded,
    /// Automatic calling was turned off for the patient.
    AutoCallOff,
    /// The call time or the call period no longer includes this slot.
    NoLongerScheduled,
    /// The number was reported as a wrong number; no call goes to it again.
    WrongNumber,
}

/// Why an attempt that was due never started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MissReason {
    /// No free channel before the window closed.
    Capacity,
    /// Quiet hours lasted until the window closed.
    QuietHours,
}

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
    /// A planned call before its first attempt, due at the slot instant + the first offset.
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

impl Finish {
    /// The finish a stored label names (the inverse of [`Finish::label`]).
    pub fn from_label(label: &str) -> Option<Finish> {
        let all = [
            Finish::Completed,
            Finish::Cancelled(CancelReason::ReportReceived),
            Finish::Cancelled(CancelReason::ObservationEnded),
            Finish::Cancelled(CancelReason::AutoCallOff),
            Finish::Cancelled(CancelReason::NoLongerScheduled),
            Finish::Cancelled(CancelReason::WrongNumber),
            Finish::Unreached,
            Finish::Missed(MissReason::Capacity),
            Finish::Missed(MissReason::QuietHours),
        ];
        all.into_iter().find(|f| f.label() == label)
    }

    /// The label used in metrics and call records (`completed`, `cancelled_report_received`,
    /// `unreached`, `missed_capacity`, …).
    pub fn label(self) -> &'static str {
        match self {
            Finish::Completed => "completed",
            Finish::Cancelled(CancelReason::ReportReceived) => "cancelled_report_received",
            Finish::Cancelled(CancelReason::ObservationEnded) => "cancelled_observation_ended",
            Finish::Cancelled(CancelReason::AutoCallOff) => "cancelled_auto_call_off",
            Finish::Cancelled(CancelReason::NoLongerScheduled) => "cancelled_not_scheduled",
            Finish::Cancelled(CancelReason::WrongNumber) => "cancelled_wrong_number",
            Finish::Unreached => "unreached",
            Finish::Missed(MissReason::Capacity) => "missed_capacity",
            Finish::Missed(MissReason::QuietHours) => "missed_quiet_hours",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::ScheduleConfig;
    use super::super::plan::{plan_day, tests::patient};
    use super::*;
    use std::collections::HashSet;
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

    #[test]
    fn finish_labels_are_distinct() {
        use CancelReason::*;
        let all = [
            Finish::Completed,
            Finish::Cancelled(ReportReceived),
            Finish::Cancelled(ObservationEnded),
            Finish::Cancelled(AutoCallOff),
            Finish::Cancelled(NoLongerScheduled),
            Finish::Cancelled(WrongNumber),
            Finish::Unreached,
            Finish::Missed(MissReason::Capacity),
            Finish::Missed(MissReason::QuietHours),
        ];
        let labels: HashSet<&str> = all.iter().map(|f| f.label()).collect();
        assert_eq!(labels.len(), all.len());
        for f in all {
            assert_eq!(Finish::from_label(f.label()), Some(f));
        }
        assert_eq!(Finish::from_label("busy"), None);
    }
}
