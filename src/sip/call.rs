//! One call's SIP side, in carecall's terms: an inbound INVITE waiting for a decision, an
//! answered or ringing call, and the signals the peer sends during it.

use std::net::IpAddr;
use std::sync::Arc;

use rsipstack::dialog::dialog::{
    DialogState, DialogStateReceiver, TerminatedReason, TransactionHandle,
};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteAsyncResult;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::prelude::*;
use rsipstack::sip::{Header, StatusCode};
use rsipstack::transaction::key::TransactionRole;
use rsipstack::transaction::transaction::Transaction;

use crate::pii::Redacted;

/// Why carecall refuses an inbound INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// At capacity or draining: 503 with Retry-After.
    Overloaded {
        /// Seconds for Retry-After.
        retry_after_s: u64,
    },
    /// The offer has no G.711: 488 Not Acceptable Here.
    NotAcceptable,
    /// No RTP port free: 503 without Retry-After.
    NoMedia,
}

/// A new inbound INVITE. Answer it with [`PendingInvite::accept`] or refuse it with
/// [`PendingInvite::reject`]; dropping it leaves the caller to time out.
pub struct PendingInvite {
    tx: Transaction,
    dialogs: Arc<DialogLayer>,
    contact: rsipstack::sip::Uri,
    /// The address the INVITE came from.
    pub source: IpAddr,
}

impl PendingInvite {
    pub(super) fn new(
        tx: Transaction,
        dialogs: Arc<DialogLayer>,
        contact: rsipstack::sip::Uri,
        source: IpAddr,
    ) -> Self {
        PendingInvite {
            tx,
            dialogs,
            contact,
            source,
        }
    }

    /// The SIP Call-ID (not personal data; logged to correlate with carrier traces).
    pub fn call_id(&self) -> String {
        self.tx
            .original
            .call_id_header()
            .map(|h| h.value().to_string())
            .unwrap_or_default()
    }

    /// The calling party's URI user (a phone number: personal data).
    pub fn caller(&self) -> Redacted<String> {
        let user = self
            .tx
            .original
            .from_header()
            .ok()
            .and_then(|f| f.uri().ok())
            .and_then(|u| u.user().map(str::to_owned));
        Redacted::new(user.unwrap_or_default())
    }

    /// The called URI user (the service, e.g. `healthcall`).
    pub fn called(&self) -> String {
        self.tx.original.uri.user().unwrap_or_default().to_owned()
    }

    /// The SDP offer body, if any.
    pub fn offer(&self) -> String {
        String::from_utf8_lossy(&self.tx.original.body).into_owned()
    }

    /// Refuses the INVITE with the response for `why`.
    pub fn reject(mut self, why: Rejection) {
        let (status, headers) = match why {
            Rejection::Overloaded { retry_after_s } => (
                StatusCode::ServiceUnavailable,
                vec![Header::RetryAfter(retry_after_s.to_string().into())],
            ),
            Rejection::NotAcceptable => (StatusCode::NotAcceptableHere, vec![]),
            Rejection::NoMedia => (StatusCode::ServiceUnavailable, vec![]),
        };
        tokio::spawn(async move { self.tx.reply_with(status, headers, None).await });
    }

    /// Takes the call: creates the dialog (100 Trying is sent) and returns its handle.
    pub fn accept(self) -> Result<SipCall, super::SipError> {
        let PendingInvite {
            mut tx,
            dialogs,
            contact,
            ..
        } = self;
        let (states_tx, states_rx) = dialogs.new_dialog_state_channel();
        let dialog = dialogs.get_or_create_server_invite(&tx, states_tx, None, Some(contact))?;
        let mut runner = dialog.clone();
        tokio::spawn(async move { runner.handle(&mut tx).await });
        Ok(SipCall {
            dialog,
            states: states_rx,
            dialogs,
            role: TransactionRole::Server,
            confirmed: false,
        })
    }
}

/// How a call ended, from the SIP side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The peer sent BYE.
    PeerHangup,
    /// carecall sent BYE.
    LocalHangup,
    /// The caller cancelled before the answer (487 sent).
    Cancelled,
    /// A transaction timed out (no ACK, no response).
    Timeout,
    /// Any other end, with the SIP status if one applies.
    Other(u16),
}

impl EndReason {
    /// The reason in plain words, for logs.
    pub fn label(self) -> &'static str {
        match self {
            EndReason::PeerHangup => "peer hung up",
            EndReason::LocalHangup => "carecall hung up",
            EndReason::Cancelled => "cancelled by the caller",
            EndReason::Timeout => "SIP transaction timed out",
            EndReason::Other(_) => "other",
        }
    }
}

/// A request from the peer inside the call that carecall must act on.
pub enum CallSignal {
    /// The ACK for our 200 OK arrived: media may flow both ways.
    Confirmed,
    /// SIP INFO (DTMF relay or anything else).
    Info {
        /// Content-Type header value.
        content_type: String,
        /// The body.
        body: Vec<u8>,
        /// Reply with this.
        reply: Responder,
    },
    /// A re-INVITE (hold, unhold, new media address).
    ReInvite {
        /// The new offer (may be empty for an offerless re-INVITE).
        offer: String,
        /// Reply with this.
        reply: Responder,
    },
    /// The call is over.
    Ended(EndReason),
}

impl std::fmt::Debug for CallSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallSignal::Confirmed => f.write_str("Confirmed"),
            CallSignal::Info { .. } => f.write_str("Info"),
            CallSignal::ReInvite { .. } => f.write_str("ReInvite"),
            CallSignal::Ended(r) => write!(f, "Ended({r:?})"),
        }
    }
}

/// The final answer to an in-call request.
pub struct Responder(TransactionHandle);

impl Responder {
    /// Sends `status` with an optional SDP body.
    pub async fn respond(self, status: u16, sdp: Option<String>) {
        let headers = sdp
            .as_ref()
            .map(|_| vec![Header::ContentType("application/sdp".into())]);
        let _ = self
            .0
            .respond(
                StatusCode::from(status),
                headers,
                sdp.map(String::into_bytes),
            )
            .await;
    }
}

/// An established or establishing call (either direction).
pub struct SipCall {
    dialog: InviteDialog,
    states: DialogStateReceiver,
    dialogs: Arc<DialogLayer>,
    role: TransactionRole,
    confirmed: bool,
}

impl SipCall {
    /// The SIP Call-ID.
    pub fn call_id(&self) -> String {
        self.dialog.id().call_id.clone()
    }

    /// Sends 180 Ringing (inbound calls).
    pub fn ringing(&self) {
        let _ = self.dialog.ringing(None, None);
    }

    /// Sends 200 OK with our SDP answer (inbound calls).
    pub fn answer(&self, sdp: String) -> Result<(), super::SipError> {
        let headers = vec![Header::ContentType("application/sdp".into())];
        Ok(self.dialog.accept(Some(headers), Some(sdp.into_bytes()))?)
    }

    /// Refuses an accepted but unanswered inbound call (e.g. 488 after reading the offer).
    pub fn reject(&self, why: Rejection) {
        let code = match why {
            Rejection::NotAcceptable => StatusCode::NotAcceptableHere,
            Rejection::Overloaded { .. } | Rejection::NoMedia => StatusCode::ServiceUnavailable,
        };
        let _ = self.dialog.reject(Some(code), None);
    }

    /// Ends the call: BYE when confirmed, CANCEL while an outbound call rings.
    pub async fn hangup(&self) {
        let _ = self.dialog.hangup().await;
    }

    /// The next signal from the peer; `None` once the stack has dropped the dialog.
    pub async fn next_signal(&mut self) -> Option<CallSignal> {
        loop {
            let state = self.states.recv().await?;
            if let Some(signal) = self.translate(state) {
                if let CallSignal::Ended(_) = signal {
                    self.dialogs.remove_dialog(&self.dialog.id());
                }
                return Some(signal);
            }
        }
    }

    fn translate(&mut self, state: DialogState) -> Option<CallSignal> {
        match state {
            DialogState::Confirmed(..) if !self.confirmed => {
                self.confirmed = true;
                Some(CallSignal::Confirmed)
            }
            DialogState::Info(_, req, handle) => Some(CallSignal::Info {
                content_type: req.header_value("Content-Type").unwrap_or_default(),
                body: req.body,
                reply: Responder(handle),
            }),
            DialogState::Updated(_, req, handle) => Some(CallSignal::ReInvite {
                offer: String::from_utf8_lossy(&req.body).into_owned(),
                reply: Responder(handle),
            }),
            DialogState::Options(_, _, handle) => {
                tokio::spawn(async move { handle.reply(StatusCode::OK).await });
                None
            }
            DialogState::Notify(_, _, handle)
            | DialogState::Refer(_, _, handle)
            | DialogState::Message(_, _, handle)
            | DialogState::Publish(_, _, handle) => {
                tokio::spawn(async move { handle.reply(StatusCode::NotImplemented).await });
                None
            }
            DialogState::Terminated(_, reason) => Some(CallSignal::Ended(self.end_reason(reason))),
            _ => None,
        }
    }

    fn end_reason(&self, reason: TerminatedReason) -> EndReason {
        let peer_is_uac = self.role == TransactionRole::Server;
        match reason {
            TerminatedReason::UacBye if peer_is_uac => EndReason::PeerHangup,
            TerminatedReason::UasBye if !peer_is_uac => EndReason::PeerHangup,
            TerminatedReason::UacBye | TerminatedReason::UasBye => EndReason::LocalHangup,
            TerminatedReason::UacCancel => EndReason::Cancelled,
            TerminatedReason::Timeout => EndReason::Timeout,
            TerminatedReason::UacBusy | TerminatedReason::UasBusy => EndReason::Other(486),
            TerminatedReason::UasDecline => EndReason::Other(603),
            TerminatedReason::ProxyAuthRequired => EndReason::Other(407),
            TerminatedReason::ProxyError(s)
            | TerminatedReason::UacOther(s)
            | TerminatedReason::UasOther(s) => EndReason::Other(s.code()),
        }
    }
}

/// How an outbound INVITE is getting on.
#[derive(Debug)]
pub enum Progress {
    /// 180 or 183 arrived.
    Ringing,
    /// 2xx: the call is up; its SDP answer.
    Answered {
        /// The peer's SDP.
        sdp: String,
    },
    /// A final non-2xx response (or 0 when none came: transport failure or timeout).
    Failed {
        /// The SIP status.
        status: u16,
    },
}

/// An outbound call from INVITE to its final response; then a [`SipCall`].
pub struct OutboundCall {
    call: SipCall,
    result: rsipstack::platform::JoinHandle<InviteAsyncResult>,
    ringing_reported: bool,
}

impl OutboundCall {
    pub(super) fn new(
        dialog: InviteDialog,
        result: rsipstack::platform::JoinHandle<InviteAsyncResult>,
        states: DialogStateReceiver,
        dialogs: Arc<DialogLayer>,
    ) -> Self {
        OutboundCall {
            call: SipCall {
                dialog,
                states,
                dialogs,
                role: TransactionRole::Client,
                confirmed: false,
            },
            result,
            ringing_reported: false,
        }
    }

    /// The SIP Call-ID.
    pub fn call_id(&self) -> String {
        self.call.call_id()
    }

    /// Waits for the next step: `Ringing` (once), then `Answered` or `Failed`.
    pub async fn progress(&mut self) -> Progress {
        loop {
            tokio::select! {
                state = self.call.states.recv(), if !self.ringing_reported => match state {
                    Some(DialogState::Early(..)) => {
                        self.ringing_reported = true;
                        return Progress::Ringing;
                    }
                    Some(_) => {}
                    None => self.ringing_reported = true,
                },
                done = &mut self.result => {
                    return match done {
                        Ok(Ok((_, Some(resp)))) if resp.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful => {
                            Progress::Answered { sdp: String::from_utf8_lossy(&resp.body).into_owned() }
                        }
                        Ok(Ok((_, Some(resp)))) => Progress::Failed { status: resp.status_code.code() },
                        _ => Progress::Failed { status: 0 },
                    };
                }
            }
        }
    }

    /// Sends CANCEL (ring timeout); the final response (487) still comes through `progress`.
    pub async fn cancel(&self) {
        let _ = self.call.dialog.cancel().await;
    }

    /// The answered call.
    pub fn into_call(self) -> SipCall {
        self.call
    }
}
