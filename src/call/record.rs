//! Who a call leg is with, and the call record written when it ends (one append-only row
//! per leg).

use std::time::SystemTime;

use crate::domain::{Direction, Disposition};
use crate::pii::Redacted;
use crate::report::Slot;
use crate::store::CallRecord;

/// Who a call leg is with, fixed when it starts.
#[derive(Debug, Clone)]
pub struct Leg {
    /// carecall's call id (unique across nodes and restarts).
    pub call_id: String,
    /// Inbound (Health Call) or outbound (automatic or test call).
    pub direction: Direction,
    /// The trunk name, when the leg uses one.
    pub trunk: Option<String>,
    /// The calling number.
    pub caller: Redacted<String>,
    /// The called number.
    pub called: Redacted<String>,
    /// The slot and attempt number of an automatic call.
    pub slot: Option<(Slot, u32)>,
}

/// What a call learns along the way for its record.
#[derive(Debug, Clone)]
pub(super) struct RecordNotes {
    /// The SIP Call-ID, once known.
    pub sip_call_id: String,
    /// When the INVITE was received or the call set up.
    pub started_at: SystemTime,
    /// When the call was answered.
    pub answered_at: Option<SystemTime>,
    /// Dialplan id, version and last step, once the flow ran.
    pub position: (String, u32, String),
}

impl RecordNotes {
    pub(super) fn new(started_at: SystemTime) -> Self {
        RecordNotes {
            sip_call_id: String::new(),
            started_at,
            answered_at: None,
            position: (String::new(), 0, String::new()),
        }
    }

    /// The record of `leg` ending at `ended_at`.
    pub(super) fn record(
        &self,
        leg: &Leg,
        ended_at: SystemTime,
        disposition: Disposition,
        sip_status: Option<u16>,
    ) -> CallRecord {
        let (dialplan, version, step) = self.position.clone();
        CallRecord {
            call_id: leg.call_id.clone(),
            sip_call_id: self.sip_call_id.clone(),
            direction: leg.direction,
            trunk: leg.trunk.clone(),
            caller: leg.caller.clone(),
            called: leg.called.clone(),
            started_at: self.started_at,
            answered_at: self.answered_at,
            ended_at,
            disposition,
            sip_status,
            dialplan_id: (!dialplan.is_empty()).then_some(dialplan),
            dialplan_version: (version > 0).then(|| version.to_string()),
            last_step: (!step.is_empty()).then_some(step),
            slot: leg.slot.map(|(s, _)| s),
            attempt: leg.slot.map(|(_, a)| a),
        }
    }
}

/// The disposition of a call that ended from the SIP side.
pub fn ended_disposition(answered: bool, reason: crate::sip::EndReason) -> Disposition {
    use crate::sip::EndReason;
    match (answered, reason) {
        (_, EndReason::Cancelled) => Disposition::Cancelled,
        (true, _) => Disposition::Answered,
        (false, EndReason::Timeout) => Disposition::NoAnswer,
        (false, _) => Disposition::Failed,
    }
}
