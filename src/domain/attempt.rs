//! An automatic-call attempt: the one shape the planner makes, the store keeps, the pacer
//! orders and the scheduler dials.
//!
//! An attempt is the `number`-th call of a patient's slot. It moves through
//! [`AttemptState`]: `Pending` (waiting for its due time) → `Claimed` (a node holds it under
//! a lease) → `Done` (dialled; how it ended) or `Cancelled` (never dialled; why). A claimed
//! attempt may also go back to `Pending` (quiet hours, no free trunk), and a claimed one whose
//! lease ran out may be claimed by another node.

use std::time::SystemTime;

use crate::lang::Language;
use crate::pii::Redacted;
use crate::report::date::Slot;

use super::{AttemptId, AttemptOutcome, Finish, PatientId, Priority};

/// One attempt of a patient's slot call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Who is called.
    pub patient: PatientId,
    /// The slot it belongs to (a call staff asked for has the local minute it was asked at).
    pub slot: Slot,
    /// 1 for the first call of the slot, 2 and 3 for retries.
    pub number: u32,
    /// Not before this instant.
    pub due_at: SystemTime,
    /// No attempt of the slot starts at or after this instant (the slot's window).
    pub window_end: SystemTime,
    /// The slot instant: a report at or after it cancels what is left of the slot.
    pub slot_at: SystemTime,
    /// The patient's priority within the slot.
    pub priority: Priority,
    /// A call staff asked for (`calls now`): one attempt, ahead of every slot call, never
    /// retried.
    pub manual: bool,
    /// Where it stands.
    pub state: AttemptState,
}

/// Where an attempt stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptState {
    /// Waiting for its due time (or given back by a node).
    Pending,
    /// A node holds it until `lease_until` (renewed while the call is on the line).
    Claimed {
        /// The node holding it.
        node: String,
        /// When the lease runs out and another node may take it.
        lease_until: SystemTime,
    },
    /// Dialled, and ended so.
    Done {
        /// The node that dialled it.
        node: String,
        /// How it ended.
        outcome: AttemptOutcome,
        /// carecall's call id of the call, when one was placed.
        call_id: Option<String>,
        /// When it ended.
        finished_at: SystemTime,
    },
    /// Never dialled.
    Cancelled {
        /// Why.
        finish: Finish,
        /// The node that had claimed it, if one had.
        node: Option<String>,
        /// When it was cancelled.
        finished_at: SystemTime,
    },
}

/// An attempt a node holds, with what it needs to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The attempt's row id.
    pub id: AttemptId,
    /// The attempt (its state is `Claimed` by this node).
    pub attempt: Attempt,
    /// The patient's registered number (the only number carecall ever dials).
    pub phone: Redacted<String>,
    /// The call language.
    pub language: Language,
}

impl Attempt {
    /// The store's priority rank: a call staff asked for above every slot call, then
    /// [`Priority::rank`]. Higher is claimed first.
    pub fn rank(&self) -> i32 {
        if self.manual {
            i32::MAX
        } else {
            self.priority.rank()
        }
    }
}

impl AttemptState {
    /// The store's `state` column: `pending`, `claimed`, `done` or `cancelled`.
    pub fn label(&self) -> &'static str {
        match self {
            AttemptState::Pending => "pending",
            AttemptState::Claimed { .. } => "claimed",
            AttemptState::Done { .. } => "done",
            AttemptState::Cancelled { .. } => "cancelled",
        }
    }

    /// The store's `outcome` column: how a dialled attempt ended
    /// ([`AttemptOutcome::label`]) or why one was cancelled ([`Finish::label`]).
    pub fn outcome_label(&self) -> Option<&'static str> {
        match self {
            AttemptState::Done { outcome, .. } => Some(outcome.label()),
            AttemptState::Cancelled { finish, .. } => Some(finish.label()),
            AttemptState::Pending | AttemptState::Claimed { .. } => None,
        }
    }

    /// The node holding it or that dialled it.
    pub fn node(&self) -> Option<&str> {
        match self {
            AttemptState::Claimed { node, .. } | AttemptState::Done { node, .. } => Some(node),
            AttemptState::Cancelled { node, .. } => node.as_deref(),
            AttemptState::Pending => None,
        }
    }

    /// carecall's call id of the call placed, if any.
    pub fn call_id(&self) -> Option<&str> {
        match self {
            AttemptState::Done { call_id, .. } => call_id.as_deref(),
            _ => None,
        }
    }

    /// When it was done or cancelled.
    pub fn finished_at(&self) -> Option<SystemTime> {
        match self {
            AttemptState::Done { finished_at, .. }
            | AttemptState::Cancelled { finished_at, .. } => Some(*finished_at),
            AttemptState::Pending | AttemptState::Claimed { .. } => None,
        }
    }

    /// True once it can change no more (done or cancelled).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            AttemptState::Done { .. } | AttemptState::Cancelled { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CancelReason, Disposition};
    use super::*;

    #[test]
    fn states_have_the_store_labels_and_outcomes() {
        let t = SystemTime::UNIX_EPOCH;
        let done = AttemptState::Done {
            node: "n1".into(),
            outcome: AttemptOutcome::NotAnswered(Disposition::Busy),
            call_id: Some("c1".into()),
            finished_at: t,
        };
        let cancelled = AttemptState::Cancelled {
            finish: Finish::Cancelled(CancelReason::ReportReceived),
            node: None,
            finished_at: t,
        };
        let claimed = AttemptState::Claimed {
            node: "n2".into(),
            lease_until: t,
        };
        assert_eq!(
            [&AttemptState::Pending, &claimed, &done, &cancelled].map(|s| s.label()),
            ["pending", "claimed", "done", "cancelled"]
        );
        assert_eq!(done.outcome_label(), Some("busy"));
        assert_eq!(cancelled.outcome_label(), Some("cancelled_report_received"));
        assert_eq!(
            (done.node(), claimed.node(), cancelled.node()),
            (Some("n1"), Some("n2"), None)
        );
        assert_eq!(done.call_id(), Some("c1"));
        assert!(done.is_final() && cancelled.is_final() && !claimed.is_final());
    }
}
