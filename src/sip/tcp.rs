//! Inbound SIP over TCP: carecall's own accept loop in front of the library's stream
//! connections, so that idle or half-sent connections cannot starve legitimate clients.
//!
//! A new connection is closed at once when its source already holds
//! [`TcpLimits::max_per_source`] connections, when its source belongs to no trunk and
//! [`TcpLimits::max_connections`] such connections are open, or when its source belongs to no
//! trunk and `unknown_source = "drop"`. A trunk's address is bounded by the per-source limit
//! only, so a flood from elsewhere never locks a trunk out. The library closes a
//! connection that sends no byte for [`TcpLimits::idle_timeout`] (set on the transport layer
//! by [`super::SipEndpoint::start`]); its slot is given back when the library retires it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use rsipstack::transaction::endpoint::EndpointInnerRef;
use rsipstack::transport::{SipAddr, SipConnection};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;

use super::datagram::Guard;
use super::endpoint::SourcePolicy;
use crate::config::{TcpLimits, UnknownSource};

/// Connections the kernel queues before the accept loop takes them: large enough for a burst
/// of thousands of connects, each of which the loop then admits or closes at once.
const BACKLOG: u32 = 4096;

/// Binds the TCP listener on `addr` (address reuse on, so a restart binds at once).
pub(super) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Who may open a connection, and how many are open now.
pub(super) struct TcpGate {
    limits: TcpLimits,
    allowed: SourcePolicy,
    unknown_source: UnknownSource,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    /// Connections from addresses that belong to no trunk.
    unknown: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// Why a connection was closed at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Its source holds `max_per_source` connections already.
    SourceFull,
    /// `max_connections` from addresses of no trunk are open.
    Full,
    /// Its source is no trunk's and unknown sources are dropped.
    UnknownSource,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Refusal::SourceFull => "per-source limit",
            Refusal::Full => "connection limit",
            Refusal::UnknownSource => "unknown source",
        }
    }
}

impl TcpGate {
    /// A gate with nothing open.
    pub fn new(limits: TcpLimits, allowed: SourcePolicy, unknown_source: UnknownSource) -> Self {
        TcpGate {
            limits,
            allowed,
            unknown_source,
            open: Mutex::new(Open::default()),
        }
    }

    /// Takes a slot for a connection from `ip`, or says why there is none. Returns whether
    /// `ip` is a trunk's, to pass back to [`TcpGate::release`].
    pub fn admit(&self, ip: IpAddr) -> Result<bool, Refusal> {
        let trunk = (self.allowed)(ip);
        if self.unknown_source == UnknownSource::Drop && !trunk {
            return Err(Refusal::UnknownSource);
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !trunk && open.unknown >= self.limits.max_connections {
            return Err(Refusal::Full);
        }
        let here = open.by_source.entry(ip).or_default();
        if *here >= self.limits.max_per_source {
            return Err(Refusal::SourceFull);
        }
        *here += 1;
        if !trunk {
            open.unknown += 1;
        }
        Ok(trunk)
    }

    /// Gives back the slot of a closed connection from `ip` (`trunk` as [`TcpGate::admit`]
    /// returned it).
    pub fn release(&self, ip: IpAddr, trunk: bool) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !trunk {
            open.unknown = open.unknown.saturating_sub(1);
        }
        if let Some(here) = open.by_source.get_mut(&ip) {
            *here = here.saturating_sub(1);
            if *here == 0 {
                open.by_source.remove(&ip);
            }
        }
    }

    /// Connections open now.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.by_source.values().sum()
    }
}

/// Accepts connections on `listener` until `cancel` fires, admitting each through `gate` and
/// handing the admitted ones to the SIP stack of `endpoint`.
pub(super) async fn accept_loop(
    listener: TcpListener,
    local: SocketAddr,
    gate: Arc<TcpGate>,
    guard: Arc<Guard>,
    endpoint: EndpointInnerRef,
    cancel: CancellationToken,
) {
    let local = SipAddr {
        r#type: Some(rsipstack::sip::Transport::Tcp),
        addr: local.into(),
    };
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors, mostly: wait a little rather than spin.
                tracing::warn!(error = %e, "SIP TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let ip = remote.ip();
        match gate.admit(ip) {
            Ok(trunk) => {
                let shared = (&gate, &guard, &endpoint, &cancel);
                hand_over(stream, (ip, trunk), &local, shared);
            }
            Err(why) => {
                tracing::debug!(reason = why.label(), "SIP TCP connection refused");
                drop(stream);
            }
        }
    }
}

/// What every connection's hand-over needs.
type Shared<'a> = (
    &'a Arc<TcpGate>,
    &'a Arc<Guard>,
    &'a EndpointInnerRef,
    &'a CancellationToken,
);

/// Gives an admitted stream to the stack, through carecall's relay
/// ([`super::tcp_relay`]); its slot is released when the stack retires it.
fn hand_over(
    stream: TcpStream,
    (ip, trunk): (IpAddr, bool),
    local: &SipAddr,
    (gate, guard, endpoint, cancel): Shared<'_>,
) {
    let token = cancel.child_token();
    match super::tcp_relay::guard_stream(stream, local.clone(), guard.clone(), token.clone()) {
        Ok(connection) => {
            endpoint
                .transport_layer
                .add_connection(SipConnection::Tcp(connection));
            let gate = gate.clone();
            tokio::spawn(async move {
                token.cancelled().await;
                gate.release(ip, trunk);
            });
        }
        Err(e) => {
            tracing::debug!(error = %super::endpoint::scrub(&e.to_string()), "SIP TCP connection lost at accept");
            gate.release(ip, trunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn gate(total: usize, per_source: usize, unknown: UnknownSource) -> TcpGate {
        let limits = TcpLimits {
            max_connections: total,
            max_per_source: per_source,
            idle_timeout: Duration::from_secs(1),
        };
        let allowed: SourcePolicy = Arc::new(|ip: IpAddr| ip.is_loopback());
        TcpGate::new(limits, allowed, unknown)
    }

    #[test]
    fn limits_per_source_and_for_unknown_sources_and_slots_come_back() {
        let g = gate(2, 2, UnknownSource::Reject);
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let (trunk, a, b) = (ip("127.0.0.1"), ip("10.0.0.1"), ip("10.0.0.2"));
        assert_eq!(g.admit(a), Ok(false));
        assert_eq!(g.admit(a), Ok(false));
        assert_eq!(
            g.admit(b),
            Err(Refusal::Full),
            "two unknown connections at most"
        );
        assert_eq!(
            g.admit(trunk),
            Ok(true),
            "a trunk is never locked out by others"
        );
        assert_eq!(g.admit(trunk), Ok(true));
        assert_eq!(g.admit(trunk), Err(Refusal::SourceFull));
        g.release(a, false);
        assert_eq!(g.admit(a), Ok(false), "the per-source count came back");
        g.release(a, false);
        assert_eq!(g.admit(b), Ok(false), "the unknown count came back");
        assert_eq!(g.open(), 4);
        for (ip, trunk) in [(a, false), (b, false), (trunk, true), (trunk, true)] {
            g.release(ip, trunk);
        }
        assert_eq!(g.open(), 0);
        g.release(a, false);
        assert_eq!(g.open(), 0, "a stray release never underflows");
    }

    #[test]
    fn unknown_sources_are_closed_at_accept_when_dropped() {
        let g = gate(10, 10, UnknownSource::Drop);
        assert_eq!(
            g.admit("10.0.0.1".parse().unwrap()),
            Err(Refusal::UnknownSource)
        );
        assert_eq!(g.admit("127.0.0.1".parse().unwrap()), Ok(true));
    }
}
