//! SIP call control over the SIP library (rsipstack, pinned `=0.7.14`): the facade that turns
//! SIP transactions and dialogs into carecall's own call events, SDP offer/answer, and the
//! mapping of call progress to outcomes.
//!
//! Owns: the SIP sockets (through the library), source-address policy, OPTIONS, 403/481/405
//! answers, 501/505 for requests the library cannot parse (datagram.rs, raw.rs), server
//! transactions keyed by sent-by as well as branch (sent_by.rs). Must not touch: RTP, prompts,
//! the dialplan, the store. No module outside `sip/` names the library's types; see
//! docs/dependencies.md for why the library was chosen.

mod call;
pub mod counters;
mod datagram;
mod endpoint;
pub mod outcome;
mod raw;
mod registration;
mod repair;
mod sanity;
pub use sanity::triage;
pub mod sdp;
mod sent_by;
mod tcp;
mod tcp_relay;

pub use call::{
    CallSignal, EndReason, OutboundCall, PendingInvite, Progress, Rejection, Responder, SipCall,
};
pub use endpoint::{DialRequest, SipEndpoint, SipError, SipSettings, SourcePolicy};
pub use registration::{RegisterRequest, RegistrationState};
