//! What goes into a [`crate::call::Session`] and what comes out: plain values, no handles. The
//! driver in `runtime/` turns sockets and store futures into [`Input`]s and carries out each
//! [`Output`]; request ids tie replies (in-dialog requests, store calls) to what asked for them.

use std::time::{Duration, SystemTime};

use crate::domain::Disposition;
use crate::ivr::{CallOutcome, QuestionId};
use crate::pii::Redacted;
use crate::report::{AnswerValue, Assessment, Channel, Slot};
use crate::rtp::amd::AmdResult;
use crate::rtp::DigitEvent;
use crate::sip::sdp::{LocalMedia, Negotiated};
use crate::sip::{EndReason, Rejection};
use crate::store::{CallRecord, JournalEntry, PatientId, ReportId, StoreError};

use super::PromptRef;

/// The id of an in-dialog request (INFO, re-INVITE) awaiting its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SipRequestId(pub u64);

/// The id of a store request awaiting its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreRequestId(pub u64);

/// One input to a session.
#[derive(Debug)]
pub enum Input {
    /// From the SIP facade.
    Sip(SipEvent),
    /// From the call's media leg.
    Media(MediaEvent),
    /// The reply to [`Output::Store`] with this id.
    Store {
        /// The request answered.
        id: StoreRequestId,
        /// What the store said.
        reply: Result<StoreValue, StoreError>,
    },
    /// The engine's drain limit passed: end the call now.
    Drain,
}

/// What the SIP side reports.
#[derive(Debug)]
pub enum SipEvent {
    /// Inbound: the INVITE, with the RTP address reserved for the call (`None`: no port was
    /// free, the call gets 503).
    Invite {
        /// The SIP Call-ID.
        sip_call_id: String,
        /// The SDP offer.
        offer: String,
        /// Our RTP side.
        local: Option<LocalMedia>,
    },
    /// Outbound: the RTP address reserved for the call (`None`: no port, nothing is dialled).
    Outgoing {
        /// Our RTP side.
        local: Option<LocalMedia>,
    },
    /// Outbound: the INVITE went out under this Call-ID.
    InviteSent {
        /// The SIP Call-ID.
        sip_call_id: String,
    },
    /// Outbound: 180/183.
    Ringing,
    /// Outbound: 2xx with the peer's SDP answer.
    Answered {
        /// The SDP answer.
        sdp: String,
    },
    /// Outbound: a final non-2xx response (0 when none came).
    Failed {
        /// The SIP status.
        status: u16,
    },
    /// The stack could not carry out the last SIP action (accept, 200 OK, dial).
    LocalError,
    /// Inbound: the ACK for our 200 OK.
    Confirmed,
    /// SIP INFO; answer it with [`SipAction::Respond`] naming `request`.
    Info {
        /// The request to answer.
        request: SipRequestId,
        /// Its Content-Type.
        content_type: String,
        /// Its body (a digit: personal data).
        body: Redacted<Vec<u8>>,
    },
    /// A re-INVITE (hold, unhold, new address; `offer` empty for an offerless one).
    ReInvite {
        /// The request to answer.
        request: SipRequestId,
        /// The new offer.
        offer: String,
    },
    /// The dialog ended.
    Ended(EndReason),
    /// The stack dropped the dialog without saying why.
    Gone,
}

/// What the media leg reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// A digit by RFC 4733 or in-band tones.
    Digit(DigitEvent),
    /// The playback queue ran empty (its last frame is being sent).
    PlaybackDone,
    /// No RTP for the media timeout (or the media worker has gone).
    Timeout,
    /// The answering-machine verdict.
    Amd(AmdResult),
}

/// A store call the driver runs and answers with [`Input::Store`].
#[derive(Debug, Clone)]
pub enum StoreCall {
    /// Identification failures from `caller` within `window` (replied with `Count`).
    CountCallerFailures {
        /// The calling number.
        caller: Redacted<String>,
        /// Now.
        at: SystemTime,
        /// How far back.
        window: Duration,
    },
    /// Who keyed this ID and birthday (replied with `Identified`).
    Identify {
        /// The HER-SYS ID keyed.
        hersys_id: Redacted<String>,
        /// The birthday keyed, `MMDD`.
        mmdd: Redacted<String>,
        /// The calling number.
        caller: Redacted<String>,
        /// carecall's call id.
        call_id: String,
        /// Now.
        at: SystemTime,
    },
    /// Starts the report keyed `key` (replied with `Report`).
    StartReport {
        /// The report's journal key.
        key: String,
        /// Whose report.
        patient: PatientId,
        /// By which channel.
        channel: Channel,
        /// carecall's call id.
        call_id: String,
        /// The slot of an automatic call.
        slot: Option<Slot>,
        /// Now.
        at: SystemTime,
    },
    /// Stores one answer (replied with `Assessed`).
    StoreAnswer {
        /// The report.
        report: ReportId,
        /// The question.
        question: QuestionId,
        /// The confirmed value.
        value: AnswerValue,
        /// When it was confirmed.
        at: SystemTime,
    },
    /// Completes the report (replied with `Done`).
    CompleteReport {
        /// The report.
        report: ReportId,
        /// Now.
        at: SystemTime,
    },
    /// Cancels the patient's automatic calls the report answers (replied with `Count`).
    CancelAttempts {
        /// The patient.
        patient: PatientId,
        /// Now.
        at: SystemTime,
    },
    /// Enqueues the report's red alert if it is red (replied with `Done`).
    Alert {
        /// The report.
        report: ReportId,
    },
    /// Writes the call record (replied with `Done`).
    CallRecord(Box<CallRecord>),
}

impl StoreCall {
    /// The operation in plain words, for logs.
    pub fn label(&self) -> &'static str {
        match self {
            StoreCall::CountCallerFailures { .. } => "count caller failures",
            StoreCall::Identify { .. } => "identify",
            StoreCall::StartReport { .. } => "start report",
            StoreCall::StoreAnswer { .. } => "store answer",
            StoreCall::CompleteReport { .. } => "complete report",
            StoreCall::CancelAttempts { .. } => "cancel attempts",
            StoreCall::Alert { .. } => "enqueue red alert",
            StoreCall::CallRecord(_) => "write call record",
        }
    }
}

/// A store reply's value.
#[derive(Debug, Clone)]
pub enum StoreValue {
    /// A count (failures, cancelled attempts).
    Count(u64),
    /// The identification result.
    Identified(crate::store::Identification),
    /// The report started.
    Report(ReportId),
    /// The answer's assessment.
    Assessed(Assessment),
    /// Done, nothing to say.
    Done,
}

/// One thing for the driver to do, or to know.
#[derive(Debug)]
pub enum Output {
    /// A SIP action.
    Sip(SipAction),
    /// A media action.
    Media(MediaAction),
    /// Run this store call; reply with [`Input::Store`] and the same id.
    Store {
        /// The request id.
        id: StoreRequestId,
        /// The call.
        call: StoreCall,
    },
    /// Append to the node's journal (the store did not take it in time).
    Journal(JournalEntry),
    /// Something observable happened.
    Event(SessionEvent),
}

/// What the SIP side must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipAction {
    /// Inbound: accept the INVITE and send 180 Ringing.
    Ringing,
    /// Inbound: 200 OK with this SDP answer.
    Answer(String),
    /// Inbound: refuse the INVITE.
    Reject(Rejection),
    /// Outbound: send the INVITE with this SDP offer.
    Dial(String),
    /// Outbound: CANCEL the ringing INVITE.
    Cancel,
    /// Answer an in-dialog request.
    Respond {
        /// The request.
        request: SipRequestId,
        /// The status.
        status: u16,
        /// An SDP body.
        sdp: Option<String>,
    },
    /// BYE.
    Hangup,
}

/// What the media leg must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaAction {
    /// Start media with what SDP agreed, with answering-machine detection or not.
    Attach {
        /// The agreed media.
        negotiated: Negotiated,
        /// Listen for an answering machine.
        amd: bool,
    },
    /// Queue prompts after whatever plays.
    Play(Vec<PromptRef>),
    /// Stop playback and drop the queue.
    Stop,
    /// Apply a renegotiation.
    Update(Negotiated),
    /// The far end signalled: restart the media timeout.
    NoteActivity,
    /// The call is over: release the media.
    Release,
}

/// Something observable about the call (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The call is answered and media flows.
    Answered,
    /// A digit arrived (its `Debug` hides the key).
    Digit(DigitEvent),
    /// The dialplan moved to this step.
    Step(String),
    /// A store call failed or timed out (`carecall_store_errors_total`).
    StoreError,
    /// The call is over on the SIP side; the call record follows.
    Ended {
        /// Its disposition.
        disposition: Disposition,
        /// The INVITE's final status, when there was one.
        sip_status: Option<u16>,
        /// The dialplan's outcome, once answered.
        flow: Option<CallOutcome>,
    },
}
