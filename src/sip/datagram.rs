//! The UDP socket the SIP library reads, with carecall's look at each datagram first.
//!
//! The library parses a datagram inside its own receive loop and drops, unanswered, one it
//! cannot parse. [`GuardedUdp`] is the socket it reads through (the library's platform socket
//! seam): a datagram the library takes goes through untouched; a request it cannot take (an
//! extension method, another SIP version, see [`super::raw`]) is answered here, under the same
//! source policy as every other request, and not passed on.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use rsipstack::platform::net::UdpSocket as LibrarySocket;
use rsipstack::sip::prelude::*;
use rsipstack::sip::SipMessage;
use rsipstack::transport::udp::UdpConnection;
use tokio_util::sync::CancellationToken;

use super::endpoint::{SipError, SourcePolicy};
use super::raw::{RawRequest, Status};
use crate::config::UnknownSource;

/// What carecall does with one datagram before the library's parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The library takes it (or drops it: a response, garbage): hand it over.
    Pass,
    /// The library cannot take this request: send this response to the source instead.
    Answer(Status, Vec<u8>),
    /// A request the library cannot take, from a source whose requests are dropped (or an
    /// ACK): nothing is sent, nothing handed over.
    Drop,
}

/// The policy a datagram is judged by.
pub(super) struct Guard {
    /// True for source addresses that belong to a trunk.
    pub allowed: SourcePolicy,
    /// What a source of no trunk gets.
    pub unknown_source: UnknownSource,
    /// The Allow header's value for 501.
    pub allow: &'static str,
    /// The Server header's value.
    pub agent: &'static str,
}

impl Guard {
    /// What to do with `bytes` from `source`.
    pub fn judge(&self, bytes: &[u8], source: SocketAddr) -> Verdict {
        if library_takes(bytes) {
            return Verdict::Pass;
        }
        let Some(req) = RawRequest::parse(bytes) else {
            return Verdict::Pass;
        };
        if req.is_ack() {
            return Verdict::Drop;
        }
        let status = if (self.allowed)(source.ip()) {
            req.status()
        } else if self.unknown_source == UnknownSource::Reject {
            Status::Forbidden
        } else {
            return Verdict::Drop;
        };
        Verdict::Answer(status, req.response(status, source, self.allow, self.agent))
    }
}

/// Whether the library's receive loop keeps `bytes`: it parses, and a request's top Via
/// (which the loop stamps with `received`) is readable.
pub(super) fn library_takes(bytes: &[u8]) -> bool {
    match SipMessage::try_from(bytes) {
        Ok(SipMessage::Request(req)) => req.top_via_header().is_ok_and(|v| v.typed().is_ok()),
        Ok(SipMessage::Response(_)) => true,
        Err(_) => false,
    }
}

/// Ephemeral UDP ports tried (listen port 0) before giving up on one whose number is free
/// for TCP too.
const EPHEMERAL_ATTEMPTS: u32 = 16;

/// Binds the guarded UDP socket and the TCP listener on `listen`: the library's UDP
/// connection over [`GuardedUdp`], its address, and the listener for carecall's accept loop.
pub(super) async fn bind_listeners(
    listen: SocketAddr,
    guard: Arc<Guard>,
    cancel: &CancellationToken,
) -> Result<(UdpConnection, SocketAddr, tokio::net::TcpListener), SipError> {
    let bind_err = |e: rsipstack::Error| SipError::Bind {
        addr: listen,
        reason: super::endpoint::scrub(&e.to_string()),
    };
    // Port 0 binds an ephemeral UDP port and TCP then takes the same number; when that
    // number is taken for TCP (another process's socket), another UDP port is tried.
    let mut attempts = 0;
    loop {
        let socket = GuardedUdp::bind(listen, guard.clone()).map_err(|e| SipError::Bind {
            addr: listen,
            reason: e.to_string(),
        })?;
        let udp = UdpConnection::from_socket(Arc::new(socket), None, Some(cancel.child_token()))
            .await
            .map_err(bind_err)?;
        let udp_addr = udp
            .get_addr()
            .get_socketaddr()
            .map_err(|e| SipError::Stack(e.to_string()))?;
        // TCP is accepted by carecall's own loop (connection limits), not the library's.
        match super::tcp::bind(udp_addr) {
            Ok(tcp) => return Ok((udp, udp_addr, tcp)),
            Err(e)
                if listen.port() == 0
                    && e.kind() == std::io::ErrorKind::AddrInUse
                    && attempts < EPHEMERAL_ATTEMPTS =>
            {
                attempts += 1;
            }
            Err(e) => {
                return Err(SipError::Bind {
                    addr: udp_addr,
                    reason: e.to_string(),
                })
            }
        }
    }
}

/// A tokio UDP socket whose receive side answers what the library cannot parse.
pub(super) struct GuardedUdp {
    socket: tokio::net::UdpSocket,
    guard: Arc<Guard>,
}

impl GuardedUdp {
    /// Binds `addr` (no address reuse, as the library's own constructor).
    pub fn bind(addr: SocketAddr, guard: Arc<Guard>) -> std::io::Result<Self> {
        let std_socket = std::net::UdpSocket::bind(addr)?;
        std_socket.set_nonblocking(true)?;
        let socket = tokio::net::UdpSocket::from_std(std_socket)?;
        Ok(GuardedUdp { socket, guard })
    }

    async fn receive(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        loop {
            let (len, source) = self.socket.recv_from(buf).await?;
            let Some(packet) = buf.get(..len) else {
                return Ok((len, source));
            };
            match self.guard.judge(packet, source) {
                Verdict::Pass => return Ok((len, source)),
                Verdict::Drop => {
                    tracing::debug!("SIP request the library cannot parse dropped");
                }
                Verdict::Answer(status, response) => {
                    tracing::info!(
                        status = status.code(),
                        "SIP request the library cannot parse answered"
                    );
                    super::counters::count("other", status.code());
                    if let Err(e) = self.socket.send_to(&response, source).await {
                        tracing::debug!(error = %e, "SIP answer not sent");
                    }
                }
            }
        }
    }
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// The library's trait is `#[async_trait]`; its methods are written out here by hand, without
// the macro crate.
impl LibrarySocket for GuardedUdp {
    fn recv_from<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 mut [u8],
    ) -> Boxed<'async_trait, rsipstack::Result<(usize, SocketAddr)>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.receive(buf))
    }

    fn send_to<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 [u8],
        addr: SocketAddr,
    ) -> Boxed<'async_trait, rsipstack::Result<usize>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(self.socket.send_to(buf, addr).await?) })
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(trunk: bool, unknown_source: UnknownSource) -> Guard {
        Guard {
            allowed: Arc::new(move |_| trunk),
            unknown_source,
            allow: "INVITE",
            agent: "carecall/test",
        }
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/rfc4475/{name}.dat",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).expect("fixture")
    }

    #[test]
    fn what_the_library_takes_passes_what_it_cannot_is_answered_by_policy() {
        let src: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let trunk = guard(true, UnknownSource::Reject);
        assert_eq!(trunk.judge(&fixture("esc01"), src), Verdict::Pass);
        assert_eq!(trunk.judge(&fixture("unreason"), src), Verdict::Pass);
        assert_eq!(trunk.judge(b"\x00garbage", src), Verdict::Pass);
        let code = |v: Verdict| match v {
            Verdict::Answer(s, _) => Some(s.code()),
            _ => None,
        };
        assert_eq!(code(trunk.judge(&fixture("intmeth"), src)), Some(501));
        assert_eq!(code(trunk.judge(&fixture("esc02"), src)), Some(501));
        let stranger = guard(false, UnknownSource::Reject);
        assert_eq!(code(stranger.judge(&fixture("intmeth"), src)), Some(403));
        let dropped = guard(false, UnknownSource::Drop);
        assert_eq!(dropped.judge(&fixture("intmeth"), src), Verdict::Drop);
    }
}
