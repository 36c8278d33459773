//! The SIP endpoint: UDP and TCP listeners, the incoming-request loop with carecall's policy
//! (source addresses, OPTIONS, unknown dialogs), and outbound INVITEs through a trunk.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::prelude::*;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::{SipAddr, TransportLayer};
use rsipstack::EndpointBuilder;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::call::{OutboundCall, PendingInvite};
use crate::config::{TcpLimits, UnknownSource};
use crate::pii::Redacted;

/// A failure of the SIP layer itself (not of a call).
#[derive(Debug, thiserror::Error)]
pub enum SipError {
    /// A listener could not bind its address.
    #[error("cannot listen for SIP on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The stack's explanation.
        reason: String,
    },
    /// The stack refused to build or send a request.
    #[error("SIP stack: {0}")]
    Stack(String),
}

impl From<rsipstack::Error> for SipError {
    fn from(e: rsipstack::Error) -> Self {
        SipError::Stack(scrub(&e.to_string()))
    }
}

/// The SIP library's error texts may quote URIs, and URIs carry phone numbers: every run of
/// six or more digits is replaced before the text can reach a log line.
pub(super) fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 6 {
            out.push_str("[redacted]");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// The methods carecall answers, for Allow in 200 OPTIONS, 405 and 501.
const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO";

/// The User-Agent and Server header value.
const USER_AGENT: &str = concat!("carecall/", env!("CARGO_PKG_VERSION"));

/// Who may send carecall requests, and what happens to the others.
pub type SourcePolicy = Arc<dyn Fn(IpAddr) -> bool + Send + Sync>;

/// What the endpoint needs to start.
pub struct SipSettings {
    /// Listen address for UDP and TCP.
    pub listen: SocketAddr,
    /// Address written in Contact headers.
    pub public_ip: IpAddr,
    /// Whether `allowed` failures get 403 or silence.
    pub unknown_source: UnknownSource,
    /// True for source addresses that belong to a trunk.
    pub allowed: SourcePolicy,
    /// Capacity of the queue of new calls handed to the runtime; beyond it INVITEs get 503.
    pub queue: usize,
    /// The Retry-After of that 503, in seconds.
    pub retry_after_s: u64,
    /// Limits on inbound TCP connections (see [`super::tcp`]).
    pub tcp: TcpLimits,
}

/// An outbound INVITE to place through a trunk.
pub struct DialRequest {
    /// The trunk's outbound proxy.
    pub proxy: SocketAddr,
    /// Use TCP to the proxy instead of UDP.
    pub tcp: bool,
    /// The number to call (user part of the Request-URI).
    pub number: Redacted<String>,
    /// The caller ID to present.
    pub caller_id: String,
    /// Digest credentials for 401/407 challenges.
    pub credentials: Option<(String, String)>,
    /// Our SDP offer.
    pub offer: String,
}

/// A running SIP endpoint. Dropping it does not stop it; call [`SipEndpoint::shutdown`].
#[derive(Clone)]
pub struct SipEndpoint {
    inner: EndpointInnerRef,
    dialogs: Arc<DialogLayer>,
    cancel: CancellationToken,
    contact_host: SocketAddr,
}

impl SipEndpoint {
    /// Binds UDP and TCP on `settings.listen`, starts the stack, and returns the endpoint and
    /// the queue of new inbound calls. Every other request is answered here.
    pub async fn start(
        settings: SipSettings,
    ) -> Result<(SipEndpoint, mpsc::Receiver<PendingInvite>), SipError> {
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.clone());
        let guard = Arc::new(super::datagram::Guard {
            allowed: settings.allowed.clone(),
            unknown_source: settings.unknown_source,
            allow: ALLOW,
            agent: USER_AGENT,
        });
        let (udp, udp_addr, tcp) =
            super::datagram::bind_listeners(settings.listen, guard.clone(), &cancel).await?;
        transport.add_transport(udp.into());
        transport.set_stream_idle_timeout(settings.tcp.idle_timeout);

        let endpoint = EndpointBuilder::new()
            .with_cancel_token(cancel.clone())
            .with_transport_layer(transport)
            .with_user_agent(USER_AGENT)
            .with_inspector(Box::new(super::sent_by::Hooks))
            .with_transport_inspector(Box::new(super::sent_by::SentByKey))
            .build();
        let incoming = endpoint.incoming_transactions()?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let inner = endpoint.inner.clone();
        tokio::spawn(async move { endpoint.serve().await });
        let gate = super::tcp::TcpGate::new(
            settings.tcp,
            settings.allowed.clone(),
            settings.unknown_source,
        );
        tokio::spawn(super::tcp::accept_loop(
            tcp,
            udp_addr,
            Arc::new(gate),
            guard,
            inner.clone(),
            cancel.child_token(),
        ));

        let contact_host = SocketAddr::new(settings.public_ip, udp_addr.port());
        let sip = SipEndpoint {
            inner,
            dialogs,
            cancel,
            contact_host,
        };
        let (calls_tx, calls_rx) = mpsc::channel(settings.queue.max(1));
        tokio::spawn(sip.clone().incoming_loop(incoming, settings, calls_tx));
        Ok((sip, calls_rx))
    }

    /// The address SIP listens on (useful when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.contact_host
    }

    /// Registers with a trunk's registrar and keeps the binding fresh until shutdown.
    pub fn register(
        &self,
        req: super::registration::RegisterRequest,
    ) -> tokio::sync::watch::Receiver<super::registration::RegistrationState> {
        super::registration::spawn(self.inner.clone(), req, self.cancel.child_token())
    }

    /// Stops the listeners and every transaction.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    fn contact(&self, user: &str) -> rsipstack::sip::Uri {
        let text = format!("sip:{user}@{}", self.contact_host);
        rsipstack::sip::Uri::try_from(text.as_str()).unwrap_or_default()
    }

    async fn incoming_loop(
        self,
        mut incoming: rsipstack::transaction::TransactionReceiver,
        settings: SipSettings,
        calls: mpsc::Sender<PendingInvite>,
    ) {
        while let Some(mut tx) = incoming.recv().await {
            let Some(source) = source_ip(&tx) else {
                tokio::spawn(async move { tx.reply(StatusCode::BadRequest).await });
                continue;
            };
            if !(settings.allowed)(source) {
                tracing::info!(method = %tx.original.method, "request from unknown source refused");
                if settings.unknown_source == UnknownSource::Reject
                    && tx.original.method != Method::Ack
                {
                    tokio::spawn(async move { tx.reply(StatusCode::Forbidden).await });
                }
                continue;
            }
            if let Some(why) = super::sanity::malformed(&tx.original) {
                tracing::info!(method = %tx.original.method, why, "malformed request refused");
                if tx.original.method != Method::Ack {
                    tokio::spawn(async move { tx.reply(StatusCode::BadRequest).await });
                }
                continue;
            }
            if let Some(mut dialog) = self.dialogs.match_dialog(&tx) {
                tokio::spawn(async move { dialog.handle(&mut tx).await });
                continue;
            }
            // A request with a To tag belongs to a dialog; none matched (RFC 3261 §12.2.2).
            let in_dialog = tx
                .original
                .to_header()
                .is_ok_and(|to| to.tag().ok().flatten().is_some());
            match tx.original.method {
                Method::Invite if in_dialog => {
                    tokio::spawn(
                        async move { tx.reply(StatusCode::CallTransactionDoesNotExist).await },
                    );
                }
                Method::Invite => {
                    let pending = PendingInvite::new(
                        tx,
                        self.dialogs.clone(),
                        self.contact("carecall"),
                        source,
                    );
                    if let Err(
                        mpsc::error::TrySendError::Full(p) | mpsc::error::TrySendError::Closed(p),
                    ) = calls.try_send(pending)
                    {
                        p.reject(super::call::Rejection::Overloaded {
                            retry_after_s: settings.retry_after_s,
                        });
                    }
                }
                Method::Options => {
                    let allow = Header::Allow(ALLOW.into());
                    let accept = Header::Accept("application/sdp".into());
                    tokio::spawn(async move {
                        tx.reply_with(StatusCode::OK, vec![allow, accept], None)
                            .await
                    });
                }
                Method::Ack => {}
                Method::Bye | Method::Info | Method::Cancel | Method::Update => {
                    tokio::spawn(
                        async move { tx.reply(StatusCode::CallTransactionDoesNotExist).await },
                    );
                }
                // Not a registrar, presence server or proxy: REGISTER, SUBSCRIBE, MESSAGE …
                // get 405 with the Allow header RFC 3261 §8.2.1 requires.
                _ => {
                    let allow = Header::Allow(ALLOW.into());
                    tokio::spawn(async move {
                        tx.reply_with(StatusCode::MethodNotAllowed, vec![allow], None)
                            .await
                    });
                }
            }
        }
    }

    /// Sends an INVITE through a trunk. The call is ringing or failing in the background;
    /// await [`OutboundCall::progress`] for what happens.
    pub fn dial(&self, req: DialRequest) -> Result<OutboundCall, SipError> {
        let transport = if req.tcp { "tcp" } else { "udp" };
        let callee = format!(
            "sip:{}@{};transport={transport}",
            req.number.expose(),
            req.proxy
        );
        let caller = format!("sip:{}@{}", req.caller_id, self.contact_host);
        let uri = |s: &str| {
            rsipstack::sip::Uri::try_from(s)
                .map_err(|_| SipError::Stack("invalid URI built for a call".into()))
        };
        let destination = SipAddr {
            r#type: Some(if req.tcp {
                rsipstack::sip::Transport::Tcp
            } else {
                rsipstack::sip::Transport::Udp
            }),
            addr: req.proxy.into(),
        };
        let option = InviteOption {
            caller: uri(&caller)?,
            callee: uri(&callee)?,
            destination: Some(destination),
            content_type: Some("application/sdp".into()),
            offer: Some(req.offer.into_bytes()),
            contact: self.contact("carecall"),
            credential: req.credentials.map(|(username, password)| Credential {
                username,
                password,
                realm: None,
                auth_username: None,
            }),
            ..Default::default()
        };
        let (states_tx, states_rx) = self.dialogs.new_dialog_state_channel();
        let (dialog, result) = self.dialogs.do_invite_async(option, states_tx)?;
        Ok(OutboundCall::new(
            dialog,
            result,
            states_rx,
            self.dialogs.clone(),
        ))
    }
}

/// The address a request really came from: the top Via's `received`, else its host.
fn source_ip(tx: &Transaction) -> Option<IpAddr> {
    let via = tx.original.via_header().ok()?.typed().ok()?;
    if let Some(Ok(ip)) = via.received() {
        return Some(ip);
    }
    via.sent_by().host.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn scrub_hides_numbers_but_keeps_addresses_and_codes() {
        assert_eq!(
            scrub("invalid uri sip:09061234987@127.0.0.1:5060 (481)"),
            "invalid uri sip:[redacted]@127.0.0.1:5060 (481)"
        );
        assert_eq!(scrub("+81 3 1234 5678"), "+81 3 1234 5678");
        assert_eq!(scrub("tel:+819012345678"), "tel:+[redacted]");
    }
}
