//! Inbound SIP over TCP with carecall's look at each message before the SIP library's parser,
//! as [`super::datagram`] does for UDP.
//!
//! The library frames and parses a stream inside its own connection type, which reads a tokio
//! `TcpStream` and nothing else, and closes the connection on the first message it cannot
//! parse. So carecall reads the peer's stream itself: [`guard_stream`] builds the library's
//! connection from the peer stream's write half (responses go straight to the peer) and the
//! read half of a local socket pair, and a relay task frames what the peer sends, one message
//! at a time: a message the library takes is written to the pair, unchanged (but for a
//! Content-Length header name written with white space before its colon, which the library's
//! framing would misread); one it cannot take is answered as over UDP and not passed on.
//! Keep-alive CRLFs pass as they come. When the library closes the connection (idle timeout,
//! a framing error, shutdown) its cancel token fires and the relay stops; when the peer closes,
//! the relay closes the pair and the library sees the end of stream.

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use rsipstack::transport::stream::StreamConnectionInner;
use rsipstack::transport::tcp::TcpConnection;
use rsipstack::transport::SipAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf};
use tokio::net::{TcpStream, UnixStream};
use tokio_util::sync::CancellationToken;

use super::datagram::{Guard, Verdict};

/// The most a message may take, as the library's own framing allows.
const MAX_MESSAGE: usize = 65535;

/// Wraps an accepted stream from `remote`: returns the connection to hand to the library and
/// starts the relay, which ends with `token`.
pub(super) fn guard_stream(
    stream: TcpStream,
    local: SipAddr,
    guard: Arc<Guard>,
    token: CancellationToken,
) -> std::io::Result<TcpConnection> {
    let remote = stream.peer_addr()?;
    let (peer_read, peer_write) = tokio::io::split(stream);
    let (library_end, relay_end) = std::os::unix::net::UnixStream::pair()?;
    library_end.set_nonblocking(true)?;
    relay_end.set_nonblocking(true)?;
    // The library's connection type names `TcpStream`; the pair's end is a stream socket
    // read with read(2)/recv(2) like any other, and nothing asks it for TCP options.
    let library_end = TcpStream::from_std(std::net::TcpStream::from(OwnedFd::from(library_end)))?;
    let relay_end = UnixStream::from_std(relay_end)?;
    let (library_read, _) = tokio::io::split(library_end);
    let remote_sip = SipAddr {
        r#type: Some(rsipstack::sip::Transport::Tcp),
        addr: remote.into(),
    };
    let inner = StreamConnectionInner::new(local, remote_sip, library_read, peer_write);
    let connection = TcpConnection {
        inner: Arc::new(inner),
        cancel_token: Some(token.clone()),
    };
    let relay = Relay {
        connection: connection.clone(),
        guard,
        remote,
    };
    tokio::spawn(relay.run(peer_read, relay_end, token));
    Ok(connection)
}

struct Relay {
    connection: TcpConnection,
    guard: Arc<Guard>,
    remote: SocketAddr,
}

impl Relay {
    async fn run(
        self,
        mut peer: ReadHalf<TcpStream>,
        mut library: UnixStream,
        token: CancellationToken,
    ) {
        let mut framer = Framer::default();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let read = tokio::select! {
                () = token.cancelled() => break,
                read = peer.read(&mut chunk) => read,
            };
            let n = match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            framer.push(&chunk[..n]);
            while let Some(frame) = framer.next_frame() {
                if self.deliver(frame, &mut library).await.is_err() {
                    return;
                }
            }
        }
        let _ = library.shutdown().await;
    }

    /// Passes one frame on to the library, or answers it.
    async fn deliver(&self, frame: Frame, library: &mut UnixStream) -> std::io::Result<()> {
        let message = match frame {
            Frame::Pass(bytes) => return library.write_all(&bytes).await,
            Frame::Message(bytes) => bytes,
        };
        match self.guard.judge(&message, self.remote) {
            Verdict::Pass => library.write_all(&message).await,
            Verdict::Drop => Ok(()),
            Verdict::Answer(status, response) => {
                tracing::info!(
                    status = status.code(),
                    "SIP request the library cannot parse answered (TCP)"
                );
                super::counters::count("other", status.code());
                let _ = self.connection.inner.send_raw(&response).await;
                Ok(())
            }
        }
    }
}

/// One unit of the peer's stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Bytes for the library as they are: keep-alive CRLFs, or a head the library's framing
    /// will refuse (a bad Content-Length, an oversized message), which ends the connection.
    Pass(Vec<u8>),
    /// One whole message (head and body).
    Message(Vec<u8>),
}

/// What framing has learnt of the message at the front of `pending` so far, so that bytes
/// arriving a few at a time are not searched again and again (a head sent one byte at a time
/// would otherwise cost the square of its length).
#[derive(Debug, Default)]
struct Scan {
    /// Bytes already searched for the blank line that ends the head.
    searched: usize,
    /// Once the head is whole: where it ends (before its blank line) and the message's length.
    head: Option<(usize, usize)>,
}

/// Takes the next frame off the front of `pending`, or `None` until more bytes arrive (each
/// call searches `pending` from the start: [`Framer`] is the incremental form the relay uses).
pub fn next_frame(pending: &mut Vec<u8>) -> Option<Frame> {
    frame(pending, &mut Scan::default())
}

/// The relay's incremental framing of one connection (bytes in as they arrive, frames out):
/// what the relay runs, and what the fuzz target feeds ([`next_frame`] searches from the start
/// on every call).
#[derive(Debug, Default)]
pub struct Framer {
    pending: Vec<u8>,
    scan: Scan,
}

impl Framer {
    /// Appends bytes that arrived.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The next whole frame, or `None` until more bytes arrive.
    pub fn next_frame(&mut self) -> Option<Frame> {
        frame(&mut self.pending, &mut self.scan)
    }
}

/// [`next_frame`], resuming from `scan`, which must have seen only this `pending`.
fn frame(pending: &mut Vec<u8>, scan: &mut Scan) -> Option<Frame> {
    if scan.head.is_none() {
        if pending.starts_with(b"\r\n\r\n") {
            let keep_alive = pending.drain(..4).collect();
            return taken(scan, Frame::Pass(keep_alive));
        }
        if pending.starts_with(b"\r\n") {
            let keep_alive = pending.drain(..2).collect();
            return taken(scan, Frame::Pass(keep_alive));
        }
        let from = scan.searched.saturating_sub(3);
        let Some(found) = pending[from..].windows(4).position(|w| w == b"\r\n\r\n") else {
            scan.searched = pending.len();
            if pending.len() > MAX_MESSAGE {
                let refused = std::mem::take(pending);
                return taken(scan, Frame::Pass(refused));
            }
            return None;
        };
        let end = from + found;
        let head_len = end + 4;
        let length = match content_length(&pending[..end]) {
            Some(Ok(n)) => n,
            None => 0,
            Some(Err(())) => {
                let refused = std::mem::take(pending);
                return taken(scan, Frame::Pass(refused));
            }
        };
        // Compared without adding: a Content-Length near usize::MAX would overflow the sum.
        if head_len > MAX_MESSAGE || length > MAX_MESSAGE - head_len {
            let refused = std::mem::take(pending);
            return taken(scan, Frame::Pass(refused));
        }
        scan.head = Some((end, head_len + length));
    }
    let (end, total) = scan.head?;
    if pending.len() < total {
        return None;
    }
    let message: Vec<u8> = pending.drain(..total).collect();
    taken(scan, Frame::Message(tidy_content_length_name(message, end)))
}

/// The Content-Length (or `l`) of a message head, its header name compared without the white
/// space RFC 3261 allows before the colon; `Err` when it is not a number.
fn content_length(head: &[u8]) -> Option<Result<usize, ()>> {
    head.split(|b| *b == b'\n').skip(1).find_map(|line| {
        let colon = line.iter().position(|b| *b == b':')?;
        let name = String::from_utf8_lossy(&line[..colon]);
        let name = name.trim();
        if !(name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l")) {
            return None;
        }
        let value = String::from_utf8_lossy(&line[colon + 1..]);
        Some(value.trim().parse::<usize>().map_err(|_| ()))
    })
}

/// A frame taken off the front: what was learnt of it no longer applies.
fn taken(scan: &mut Scan, frame: Frame) -> Option<Frame> {
    *scan = Scan::default();
    Some(frame)
}

/// `Content-Length   :` becomes `Content-Length:`, so that the library frames the body the
/// same way (its framing compares the name as written).
fn tidy_content_length_name(message: Vec<u8>, head_end: usize) -> Vec<u8> {
    let head = &message[..head_end];
    let mut out = Vec::with_capacity(message.len());
    let mut changed = false;
    for (i, line) in head.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        let colon = line.iter().position(|b| *b == b':');
        match colon {
            Some(c) if i > 0 && !matches!(line.first(), Some(b' ' | b'\t')) => {
                let name = &line[..c];
                let trimmed = name.trim_ascii_end();
                let is_length = trimmed.eq_ignore_ascii_case(b"content-length")
                    || trimmed.eq_ignore_ascii_case(b"l");
                if is_length && trimmed.len() != name.len() {
                    changed = true;
                    out.extend_from_slice(trimmed);
                    out.extend_from_slice(&line[c..]);
                } else {
                    out.extend_from_slice(line);
                }
            }
            _ => out.extend_from_slice(line),
        }
    }
    if !changed {
        return message;
    }
    out.extend_from_slice(&message[head_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_arriving_one_at_a_time_are_framed_without_searching_them_again() {
        // A 60 KB head one byte at a time: searched from the start on every byte it would take
        // 1.8 billion comparisons (minutes unoptimised); resumed, it is one pass.
        let filler = format!("X: {}\r\n", "a".repeat(60_000));
        let big = format!("OPTIONS sip:a SIP/2.0\r\n{filler}l: 2\r\n\r\nhi").into_bytes();
        let small = b"OPTIONS sip:b SIP/2.0\r\nl: 0\r\n\r\n".to_vec();
        let stream = [big.as_slice(), b"\r\n", &small].concat();
        let started = std::time::Instant::now();
        let (mut framer, mut frames) = (Framer::default(), Vec::new());
        for byte in &stream {
            framer.push(std::slice::from_ref(byte));
            while let Some(f) = framer.next_frame() {
                frames.push(f);
            }
        }
        assert_eq!(
            frames,
            [
                Frame::Message(big),
                Frame::Pass(b"\r\n".to_vec()),
                Frame::Message(small)
            ]
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn frames_are_whole_messages_keepalives_pass_and_partial_ones_wait() {
        let one = b"OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabc".to_vec();
        let mut pending = [b"\r\n\r\n".as_slice(), &one, &one[..10]].concat();
        assert_eq!(
            next_frame(&mut pending),
            Some(Frame::Pass(b"\r\n\r\n".to_vec()))
        );
        assert_eq!(next_frame(&mut pending), Some(Frame::Message(one.clone())));
        assert_eq!(next_frame(&mut pending), None, "half a message waits");
        pending.extend_from_slice(&one[10..]);
        assert_eq!(next_frame(&mut pending), Some(Frame::Message(one)));
        assert!(pending.is_empty());
    }

    #[test]
    fn a_spaced_content_length_frames_the_body_and_is_tidied_for_the_library() {
        let msg = b"INVITE sip:a SIP/2.0\r\nContent-Length   : 4\r\nX: y\r\n\r\nv=0\n".to_vec();
        let mut pending = msg.clone();
        let Some(Frame::Message(m)) = next_frame(&mut pending) else {
            panic!("one message");
        };
        assert_eq!(
            m,
            b"INVITE sip:a SIP/2.0\r\nContent-Length: 4\r\nX: y\r\n\r\nv=0\n"
        );
        let mut bad = b"INVITE sip:a SIP/2.0\r\nContent-Length: -999\r\n\r\n".to_vec();
        assert!(
            matches!(next_frame(&mut bad), Some(Frame::Pass(_))),
            "the library refuses it"
        );
    }

    #[test]
    fn a_content_length_near_usize_max_is_refused_not_added_up() {
        // Found by fuzz/fuzz_targets/sip_tcp_stream.rs: head + length overflowed (a panic in
        // debug builds; in release a wrapped sum drained too little and the head slice panicked).
        for length in [usize::MAX, usize::MAX - 40, usize::MAX / 2 + 1] {
            let mut head =
                format!("OPTIONS sip:a SIP/2.0\r\nContent-Length: {length}\r\n\r\n").into_bytes();
            let whole = head.clone();
            assert_eq!(next_frame(&mut head), Some(Frame::Pass(whole)), "{length}");
        }
    }
}
