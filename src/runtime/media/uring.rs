//! Batched sends: the frames a media slot has due go to the kernel in one `io_uring`
//! submission instead of one `sendto` per call.
//!
//! Why unsafe code: symmetric RTP gives every call its own socket, so `sendmmsg` and GSO
//! (which batch datagrams of one socket) do not apply, and one `sendto` per frame was the
//! engine's largest single cost (a call sends 50 frames a second). On this project's 2-core
//! VM a 250-socket paced sender measured 4.5–5.1 µs of CPU per `sendto` against 1.7–3.0 µs
//! per datagram submitted through `io_uring` in batches (docs/benchmarks.md). Pushing a
//! submission entry is `unsafe` because the kernel reads the message header, the address,
//! the payload and the socket after the call returns; this file owns all of them and waits
//! for every completion before it lets them go (see [`Batch::flush`]).
//!
//! Where the kernel refuses `io_uring` (an old kernel, `kernel.io_uring_disabled`, a seccomp
//! profile) or `[rtp] io_uring = false`, the same [`Batch`] sends each frame with `sendto` as
//! it is pushed: one code path for the worker either way.
#![allow(unsafe_code)]

use std::io;
use std::marker::PhantomData;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

use io_uring::{opcode, types, IoUring};

/// Frames submitted in one go; a slot holding more calls submits in several.
const BATCH: usize = 64;
/// Room for a frame: an RTP header and 20 ms of G.711 is 172 bytes, an RFC 4733 event 16.
/// A longer datagram is sent with `sendto` instead.
const MAX_FRAME: usize = 512;

/// What a worker sends with: a ring and the memory its submissions point into, or nothing
/// (system calls).
pub(super) struct Sender {
    ring: Option<IoUring>,
    entries: Box<[Entry]>,
}

/// One submission's memory. Pointers between the fields are set just before the push and
/// stay valid until the completion is reaped, since `entries` is neither moved nor
/// reallocated while a batch is open.
struct Entry {
    frame: [u8; MAX_FRAME],
    len: usize,
    addr: libc::sockaddr_in6,
    addr_len: libc::socklen_t,
    iov: libc::iovec,
    msg: libc::msghdr,
    fd: RawFd,
}

impl Sender {
    /// A sender on `io_uring` when `use_ring` and the kernel allows it, else on system calls;
    /// says which once, in the log.
    pub(super) fn new(use_ring: bool) -> Sender {
        let ring = if use_ring {
            match IoUring::new(BATCH as u32) {
                Ok(ring) => {
                    tracing::debug!("media sends batched through io_uring");
                    Some(ring)
                }
                Err(e) => {
                    tracing::info!(error = %e, "io_uring unavailable: media sends use sendto");
                    None
                }
            }
        } else {
            None
        };
        let entries = match ring {
            Some(_) => (0..BATCH).map(|_| Entry::new()).collect(),
            None => Box::default(),
        };
        Sender { ring, entries }
    }

    /// Whether sends go through `io_uring`.
    #[cfg(test)]
    fn batched(&self) -> bool {
        self.ring.is_some()
    }

    /// Opens a batch. Every socket pushed must outlive it (the borrow says so).
    pub(super) fn batch<'a>(&'a mut self) -> Batch<'a> {
        Batch {
            sender: self,
            queued: 0,
            sent: 0,
            failed: 0,
            _sockets: PhantomData,
        }
    }
}

/// Frames on their way out. [`Batch::flush`] (or dropping the batch) hands the queued ones
/// to the kernel and waits for all of them.
pub(super) struct Batch<'a> {
    sender: &'a mut Sender,
    queued: usize,
    sent: usize,
    failed: usize,
    _sockets: PhantomData<&'a UdpSocket>,
}

impl<'a> Batch<'a> {
    /// Queues `frame` for `to` from `socket`: with `io_uring`, copied into the batch (and the
    /// batch submitted when full); without, sent at once.
    pub(super) fn push(&mut self, socket: &'a UdpSocket, frame: &[u8], to: SocketAddr) {
        if self.sender.ring.is_none() || frame.len() > MAX_FRAME {
            match socket.send_to(frame, to) {
                Ok(_) => self.sent += 1,
                Err(_) => self.failed += 1,
            }
            return;
        }
        if self.queued == self.sender.entries.len() {
            self.submit();
        }
        self.sender.entries[self.queued].fill(socket.as_raw_fd(), frame, to);
        self.queued += 1;
    }

    /// Sends what is queued; returns the frames sent and the frames that failed since the
    /// batch opened.
    pub(super) fn flush(mut self) -> (usize, usize) {
        self.submit();
        (self.sent, self.failed)
    }

    /// Submits the queued entries and reaps one completion for each before returning, so no
    /// submission outlives the memory or the sockets it names. Sends carry `MSG_DONTWAIT`: a
    /// full socket buffer completes at once with `EAGAIN` instead of parking the send.
    fn submit(&mut self) {
        let n = std::mem::take(&mut self.queued);
        if n == 0 {
            return;
        }
        let Some(ring) = self.sender.ring.as_mut() else {
            return;
        };
        let entries = &mut self.sender.entries[..n];
        let mut pushed = 0;
        {
            let mut sq = ring.submission();
            for (i, entry) in entries.iter_mut().enumerate() {
                let sqe = opcode::SendMsg::new(types::Fd(entry.fd), entry.header())
                    .flags(libc::MSG_DONTWAIT as u32)
                    .build()
                    .user_data(i as u64);
                // SAFETY: the entry's header, address, iovec and frame live in
                // `self.sender.entries`, which is not touched again until every completion of
                // this submission is reaped below; the socket is borrowed for `'a`, which
                // outlives this batch. The ring has `BATCH` slots and at most `BATCH` entries
                // are queued, and all are reaped before the next submission.
                if unsafe { sq.push(&sqe) }.is_err() {
                    break;
                }
                pushed += 1;
            }
        }
        self.failed += n - pushed;
        let mut reaped = 0;
        while reaped < pushed {
            if let Err(e) = ring.submit_and_wait(pushed - reaped) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // The kernel may still hold submissions: give up the ring and leak the memory
                // they point into, so nothing the kernel may read is ever freed or reused.
                tracing::warn!(error = %e, "io_uring failed: media sends fall back to sendto");
                self.failed += pushed - reaped;
                let entries = std::mem::take(&mut self.sender.entries);
                std::mem::forget(entries);
                std::mem::forget(self.sender.ring.take());
                return;
            }
            for cqe in ring.completion() {
                reaped += 1;
                if cqe.result() >= 0 {
                    self.sent += 1;
                } else {
                    self.failed += 1;
                }
            }
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.submit();
    }
}

impl Entry {
    fn new() -> Entry {
        Entry {
            frame: [0; MAX_FRAME],
            len: 0,
            // SAFETY: plain C structs of integers and pointers, for which all zeroes is a
            // valid (empty) value.
            addr: unsafe { std::mem::zeroed() },
            addr_len: 0,
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
            // SAFETY: as above.
            msg: unsafe { std::mem::zeroed() },
            fd: -1,
        }
    }

    fn fill(&mut self, fd: RawFd, frame: &[u8], to: SocketAddr) {
        self.frame[..frame.len()].copy_from_slice(frame);
        self.len = frame.len();
        self.fd = fd;
        self.addr_len = write_sockaddr(&mut self.addr, to);
    }

    /// Points the message header at this entry's own fields (called once the entry is in
    /// place, just before the push).
    fn header(&mut self) -> *const libc::msghdr {
        self.iov = libc::iovec {
            iov_base: self.frame.as_mut_ptr().cast(),
            iov_len: self.len,
        };
        self.msg.msg_name = (&mut self.addr as *mut libc::sockaddr_in6).cast();
        self.msg.msg_namelen = self.addr_len;
        self.msg.msg_iov = &mut self.iov;
        self.msg.msg_iovlen = 1;
        self.msg.msg_control = std::ptr::null_mut();
        self.msg.msg_controllen = 0;
        self.msg.msg_flags = 0;
        &self.msg
    }
}

/// Writes `to` as a C socket address into `out` (room for IPv6, which also holds IPv4's
/// shorter form); returns its length.
fn write_sockaddr(out: &mut libc::sockaddr_in6, to: SocketAddr) -> libc::socklen_t {
    match to {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in is smaller than sockaddr_in6 and both are plain C structs;
            // the write stays inside `out`.
            unsafe { std::ptr::write_unaligned((out as *mut libc::sockaddr_in6).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            *out = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn receiver() -> UdpSocket {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        socket
    }

    fn sends_every_frame_to_its_own_destination(use_ring: bool) {
        let mut sender = Sender::new(use_ring);
        // The test machines' kernels allow io_uring: the batched path must be the one tested.
        assert_eq!(sender.batched(), use_ring);
        let sockets: Vec<UdpSocket> = (0..BATCH * 2 + 3)
            .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let receivers: Vec<UdpSocket> = (0..3).map(|_| receiver()).collect();
        let mut batch = sender.batch();
        for (i, socket) in sockets.iter().enumerate() {
            let to = receivers[i % 3].local_addr().unwrap();
            batch.push(socket, &[i as u8; 172], to);
        }
        assert_eq!(batch.flush(), (sockets.len(), 0));
        let mut seen = vec![false; sockets.len()];
        for (r, receiver) in receivers.iter().enumerate() {
            let mut buf = [0u8; 600];
            for _ in (0..sockets.len()).filter(|i| i % 3 == r) {
                let (len, from) = receiver.recv_from(&mut buf).unwrap();
                assert_eq!(len, 172);
                let i = buf[0] as usize;
                assert_eq!(i % 3, r, "frame {i} reached receiver {r}");
                assert_eq!(
                    from,
                    sockets[i].local_addr().unwrap(),
                    "sent from its socket"
                );
                assert!(buf[..len].iter().all(|&b| b == i as u8));
                seen[i] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn a_batch_on_io_uring_sends_every_frame_from_its_socket_to_its_destination() {
        sends_every_frame_to_its_own_destination(true);
    }

    #[test]
    fn a_batch_on_system_calls_sends_the_same() {
        sends_every_frame_to_its_own_destination(false);
    }

    #[test]
    fn a_frame_too_long_for_an_entry_and_an_ipv6_destination_still_go_out() {
        let mut sender = Sender::new(true);
        let v4 = UdpSocket::bind("127.0.0.1:0").unwrap();
        let v6 = UdpSocket::bind("[::1]:0").unwrap();
        let (r4, r6) = (receiver(), UdpSocket::bind("[::1]:0").unwrap());
        r6.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut batch = sender.batch();
        batch.push(&v4, &[7; MAX_FRAME + 100], r4.local_addr().unwrap());
        batch.push(&v6, &[6; 172], r6.local_addr().unwrap());
        assert_eq!(batch.flush(), (2, 0));
        let mut buf = [0u8; 1500];
        assert_eq!(r4.recv_from(&mut buf).unwrap().0, MAX_FRAME + 100);
        let (len, from) = r6.recv_from(&mut buf).unwrap();
        assert_eq!((len, from), (172, v6.local_addr().unwrap()));
    }

    #[test]
    fn a_send_the_kernel_refuses_is_counted_as_failed_not_sent() {
        let mut sender = Sender::new(true);
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let ok = receiver();
        let mut batch = sender.batch();
        // An IPv6 destination from an IPv4 socket: the kernel refuses it.
        batch.push(&socket, &[1; 172], "[::1]:9".parse().unwrap());
        batch.push(&socket, &[2; 172], ok.local_addr().unwrap());
        assert_eq!(batch.flush(), (1, 1));
    }
}
