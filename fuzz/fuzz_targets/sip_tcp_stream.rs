//! A TCP byte stream framed by the relay in front of the SIP library
//! (`carecall::sip::fuzzing::Framer`, the relay's incremental framing), whole and in arbitrary chunks (the first input
//! bytes give the chunk sizes). Never panics; every message frame is one head and the body its
//! Content-Length gives; up to the first refused head (bytes passed on that the library's own
//! framing refuses, closing the connection) any chunking yields the same messages, and the same
//! keep-alive bytes between them.
#![no_main]

use carecall::sip::fuzzing::{Frame, Framer};
use libfuzzer_sys::fuzz_target;

/// What the relay makes of `stream` read in chunks of the given sizes: the frames up to and
/// including the first refused one, keep-alive CRLFs between messages joined.
fn frames(stream: &[u8], sizes: &[u8]) -> Vec<Frame> {
    let mut out: Vec<Frame> = Vec::new();
    let mut framer = Framer::default();
    let mut rest = stream;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let size = sizes.next().map_or(rest.len(), |s| usize::from(*s).max(1));
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        framer.push(chunk);
        while let Some(frame) = framer.next_frame() {
            match frame {
                Frame::Pass(bytes) if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) => {
                    assert!(bytes == b"\r\n" || bytes == b"\r\n\r\n", "{bytes:?}");
                    match out.last_mut() {
                        Some(Frame::Pass(prev)) => prev.extend_from_slice(&bytes),
                        _ => out.push(Frame::Pass(bytes)),
                    }
                }
                Frame::Pass(bytes) => {
                    out.push(Frame::Pass(bytes));
                    return out;
                }
                Frame::Message(bytes) => {
                    check_message(&bytes);
                    out.push(Frame::Message(bytes));
                }
            }
        }
    }
    out
}

/// A message frame is a head ending in the first blank line, then as many body bytes as its
/// Content-Length (or `l`) says.
fn check_message(bytes: &[u8]) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a message frame has a head");
    let head = String::from_utf8_lossy(&bytes[..end]);
    let length =
        head.split('\n')
            .skip(1)
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                let name = name.trim();
                (name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l"))
                    .then(|| {
                        value
                            .trim()
                            .parse::<usize>()
                            .expect("a framed length is a number")
                    })
            })
            .unwrap_or(0);
    assert_eq!(bytes.len(), end + 4 + length);
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (sizes, stream) = rest.split_at(usize::from(n % 8).min(rest.len()));
    let whole = frames(stream, &[]);
    // Refused frames may hold different amounts of what follows them.
    let strip = |mut f: Vec<Frame>| {
        if matches!(f.last(), Some(Frame::Pass(b)) if b.iter().any(|c| !matches!(c, b'\r' | b'\n')))
        {
            f.pop();
        }
        f
    };
    let whole = strip(whole);
    let chunked = strip(frames(stream, sizes));
    // The shorter run stops where its first refused head was; the rest must agree.
    let common = whole.len().min(chunked.len());
    assert_eq!(whole[..common], chunked[..common]);
});
