//! Trunk registration: REGISTER with digest authentication, refreshed at 75 % of the granted
//! expiry, retried with exponential backoff (1 s doubling, capped at 60 s) while it fails.

use std::net::SocketAddr;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Where a trunk's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationState {
    /// No answer yet.
    Pending,
    /// The registrar accepted the binding.
    Registered,
    /// The registrar refused it (final status), retrying with backoff.
    Rejected(u16),
    /// The registrar did not answer, retrying with backoff.
    Unreachable,
}

impl RegistrationState {
    /// The state in plain words, for logs.
    pub fn label(self) -> &'static str {
        match self {
            RegistrationState::Pending => "pending",
            RegistrationState::Registered => "registered",
            RegistrationState::Rejected(_) => "rejected",
            RegistrationState::Unreachable => "unreachable",
        }
    }
}

/// What to register.
pub struct RegisterRequest {
    /// The trunk's name (for logs).
    pub trunk: String,
    /// The registrar / outbound proxy.
    pub proxy: SocketAddr,
    /// Digest user and password.
    pub credentials: Option<(String, String)>,
    /// Requested expiry in seconds.
    pub expires: u32,
}

/// Starts the keep-alive loop; it stops when `cancel` fires.
pub(super) fn spawn(
    endpoint: EndpointInnerRef,
    req: RegisterRequest,
    cancel: CancellationToken,
) -> watch::Receiver<RegistrationState> {
    let (tx, rx) = watch::channel(RegistrationState::Pending);
    let credential = req
        .credentials
        .clone()
        .map(|(username, password)| Credential {
            username,
            password,
            realm: None,
            auth_username: None,
        });
    let user = req
        .credentials
        .as_ref()
        .map_or("carecall", |(u, _)| u.as_str());
    let server = format!("sip:{user}@{}", req.proxy);
    tokio::spawn(async move {
        let Ok(server) = rsipstack::sip::Uri::try_from(server.as_str()) else {
            tracing::error!(trunk = %req.trunk, "registrar address is not a SIP URI");
            return;
        };
        let mut registration = Registration::new(endpoint, credential);
        registration.outbound_proxy = Some(req.proxy);
        let trunk = req.trunk.clone();
        registration
            .keep_alive(server, req.expires, cancel, |outcome| {
                let state = match outcome {
                    RefreshOutcome::Registered(_) => RegistrationState::Registered,
                    RefreshOutcome::Rejected(resp) => {
                        RegistrationState::Rejected(resp.status_code.code())
                    }
                    RefreshOutcome::Failed(_) => RegistrationState::Unreachable,
                };
                if state != *tx.borrow() {
                    let status = match state {
                        RegistrationState::Rejected(code) => code,
                        _ => 0,
                    };
                    tracing::info!(trunk = %trunk, state = state.label(), status, "trunk registration");
                }
                let _ = tx.send(state);
            })
            .await;
    });
    rx
}
