//! The torture test's peers: a UDP socket or a TCP stream that sends raw messages and reads
//! whole SIP responses.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// The transport a message is sent over.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Transport {
    Udp,
    Tcp,
}

/// A datagram or stream peer that reads whole SIP responses.
pub enum Peer {
    Udp(UdpSocket, SocketAddr),
    Tcp(TcpStream, Vec<u8>),
}

impl Peer {
    pub fn open(t: Transport, target: SocketAddr) -> Peer {
        match t {
            Transport::Udp => {
                let s = UdpSocket::bind("127.0.0.1:0").unwrap();
                Peer::Udp(s, target)
            }
            Transport::Tcp => Peer::Tcp(TcpStream::connect(target).unwrap(), Vec::new()),
        }
    }
    pub fn local_port(&self) -> u16 {
        match self {
            Peer::Udp(s, _) => s.local_addr().unwrap().port(),
            Peer::Tcp(s, _) => s.local_addr().unwrap().port(),
        }
    }
    pub fn send(&mut self, bytes: &[u8]) {
        match self {
            Peer::Udp(s, to) => {
                s.send_to(bytes, *to).unwrap();
            }
            Peer::Tcp(s, _) => {
                let _ = s.write_all(bytes);
            }
        }
    }
    /// The next whole message within `wait`, as text.
    pub fn recv(&mut self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        match self {
            Peer::Udp(s, _) => {
                let mut buf = vec![0u8; 65536];
                s.set_read_timeout(Some(wait)).unwrap();
                let n = s.recv(&mut buf).ok()?;
                Some(String::from_utf8_lossy(&buf[..n]).into_owned())
            }
            Peer::Tcp(s, pending) => loop {
                if let Some(msg) = take_stream_message(pending) {
                    return Some(msg);
                }
                let left = deadline.checked_duration_since(Instant::now())?;
                s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
                    .unwrap();
                let mut buf = [0u8; 8192];
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                }
            },
        }
    }
}

/// Splits one message (headers and Content-Length body) off the front of a TCP stream.
fn take_stream_message(pending: &mut Vec<u8>) -> Option<String> {
    while pending.starts_with(b"\r\n") {
        pending.drain(..2);
    }
    let end = pending.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&pending[..end]).into_owned();
    let len: usize = header(&head, &["content-length", "l"])
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if pending.len() < end + len {
        return None;
    }
    let msg = String::from_utf8_lossy(&pending[..end + len]).into_owned();
    pending.drain(..end + len);
    Some(msg)
}

pub fn status(msg: &str) -> Option<u16> {
    msg.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// The first header named one of `names` (case-insensitive), its value.
pub fn header(msg: &str, names: &[&str]) -> Option<String> {
    msg.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        names
            .iter()
            .any(|x| n.trim().eq_ignore_ascii_case(x))
            .then(|| v.trim().to_string())
    })
}
