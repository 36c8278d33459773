//! How an automatic-call attempt ended, and why a slot call has no further attempt.
//!
//! Both are stored as labels in `call_attempts.outcome`: a dialled attempt's
//! [`AttemptOutcome::label`], an attempt never dialled its [`Finish::label`]; each label
//! reads back with `from_label`.

use super::Disposition;

/// How one attempt ended, as the call and the IVR saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Answered and the report completed.
    Completed,
    /// Answered, a report started but not completed (hang-up or drop mid-way).
    Incomplete,
    /// Answered, but no key at the greeting after the repeats (counts as unanswered).
    NoResponse,
    /// The callee pressed 9: not the patient.
    WrongNumber,
    /// Not answered by a person: the SIP or answering-machine disposition. `Answered` or
    /// `Cancelled` here are treated like no answer.
    NotAnswered(Disposition),
}

impl AttemptOutcome {
    /// The store's `outcome` label: completed, incomplete, no_response, wrong_number, or the
    /// disposition (no_answer, busy, rejected, unreachable, failed, answering_machine).
    pub fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Completed => "completed",
            AttemptOutcome::Incomplete => "incomplete",
            AttemptOutcome::NoResponse => "no_response",
            AttemptOutcome::WrongNumber => "wrong_number",
            AttemptOutcome::NotAnswered(Disposition::Answered | Disposition::Cancelled) => {
                "no_answer"
            }
            AttemptOutcome::NotAnswered(d) => d.label(),
        }
    }

    /// The outcome a stored label names (the inverse of [`AttemptOutcome::label`]; `no_answer`
    /// reads back as `NotAnswered(NoAnswer)`); `None` for any other text.
    pub fn from_label(label: &str) -> Option<AttemptOutcome> {
        let named = [
            AttemptOutcome::Completed,
            AttemptOutcome::Incomplete,
            AttemptOutcome::NoResponse,
            AttemptOutcome::WrongNumber,
        ];
        let not_answered = Disposition::ALL
            .into_iter()
            .filter(|d| !matches!(d, Disposition::Answered | Disposition::Cancelled))
            .map(AttemptOutcome::NotAnswered);
        named
            .into_iter()
            .chain(not_answered)
            .find(|o| o.label() == label)
    }
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

impl Finish {
    /// Every finish, for parsing and tests.
    pub const ALL: [Finish; 9] = [
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

    /// The finish a stored label names (the inverse of [`Finish::label`]).
    pub fn from_label(label: &str) -> Option<Finish> {
        Finish::ALL.into_iter().find(|f| f.label() == label)
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
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn finish_labels_are_distinct_and_round_trip() {
        let labels: HashSet<&str> = Finish::ALL.iter().map(|f| f.label()).collect();
        assert_eq!(labels.len(), Finish::ALL.len());
        for f in Finish::ALL {
            assert_eq!(Finish::from_label(f.label()), Some(f));
        }
        assert_eq!(Finish::from_label("busy"), None);
    }

    #[test]
    fn outcome_labels_round_trip() {
        for label in [
            "completed",
            "incomplete",
            "no_response",
            "wrong_number",
            "no_answer",
            "busy",
            "rejected",
            "unreachable",
            "failed",
            "answering_machine",
        ] {
            let outcome = AttemptOutcome::from_label(label).unwrap();
            assert_eq!(outcome.label(), label);
        }
        assert_eq!(
            AttemptOutcome::from_label("no_answer"),
            Some(AttemptOutcome::NotAnswered(Disposition::NoAnswer))
        );
        assert_eq!(AttemptOutcome::from_label("answered"), None);
        assert_eq!(
            AttemptOutcome::from_label("cancelled_report_received"),
            None
        );
    }
}
