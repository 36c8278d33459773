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

/// Entry points for the fuzz targets `sip_raw` and `sip_tcp_stream` (fuzz/fuzz_targets/): the
/// raw-message paths of the UDP guard and the TCP relay, without sockets. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use rsipstack::sip::{Header, Request};

    pub use super::sent_by::{fold, restore};
    pub use super::tcp_relay::{next_frame, Frame, Framer};

    /// What the guard in front of the library does with one message ([`super::datagram`]).
    #[derive(Debug, PartialEq, Eq)]
    pub enum Guarded {
        /// Handed to the library.
        Pass,
        /// Neither answered nor handed over.
        Drop,
        /// Answered with this status and response text.
        Answer(u16, Vec<u8>),
    }

    /// The guard's verdict on `bytes` from `source`, for a trunk's source or a stranger's
    /// (answered 403 when `reject_unknown`, else dropped).
    pub fn guard(bytes: &[u8], source: SocketAddr, trunk: bool, reject_unknown: bool) -> Guarded {
        let guard = super::datagram::Guard {
            allowed: Arc::new(move |_| trunk),
            unknown_source: if reject_unknown {
                crate::config::UnknownSource::Reject
            } else {
                crate::config::UnknownSource::Drop
            },
            allow: "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO",
            agent: "carecall",
        };
        match guard.judge(bytes, source) {
            super::datagram::Verdict::Pass => Guarded::Pass,
            super::datagram::Verdict::Drop => Guarded::Drop,
            super::datagram::Verdict::Answer(status, text) => Guarded::Answer(status.code(), text),
        }
    }

    /// For a request the library parses: its top Via value once tidied, and as the transport
    /// hook hands it to the library (tidied, then its branch folded with its sent-by).
    pub fn incoming_via(bytes: &[u8]) -> Option<(String, String)> {
        let req = Request::try_from(bytes).ok()?;
        let top = |r: &Request| {
            r.headers.iter().find_map(|h| match h {
                Header::Via(v) => Some(v.value().to_owned()),
                _ => None,
            })
        };
        let mut tidied = req.clone();
        super::repair::tidy_request(&mut tidied);
        let mut hooked = req;
        super::sent_by::fold_request(&mut hooked);
        Some((top(&tidied)?, top(&hooked)?))
    }

    /// The branch the library reads from a Via value (its typed parser), if it reads one.
    pub fn library_branch(via: &str) -> Option<String> {
        let via = rsipstack::sip::typed::Via::parse(via).ok()?;
        via.branch().map(ToString::to_string)
    }
}
