//! Sends: a [`Batch`] of frames, each from its call's socket to its call's peer.

use std::marker::PhantomData;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

use io_uring::{opcode, types};

use super::{submit_all, write_sockaddr, Ring};

/// Room for a frame: an RTP header and 20 ms of G.711 is 172 bytes, an RFC 4733 event 16.
/// A longer datagram is sent with `sendto` instead.
pub(super) const MAX_FRAME: usize = 512;

/// One send's memory. Pointers between the fields are set just before the push and stay
/// valid until the completion is reaped, since the entries are neither moved nor reallocated
/// while a batch is open.
pub(super) struct Entry {
    frame: [u8; MAX_FRAME],
    len: usize,
    addr: libc::sockaddr_in6,
    addr_len: libc::socklen_t,
    iov: libc::iovec,
    msg: libc::msghdr,
    fd: RawFd,
}

impl Ring {
    /// Opens a batch of sends. Every socket pushed must outlive it (the borrow says so).
    pub fn batch<'a>(&'a mut self) -> Batch<'a> {
        Batch {
            ring: self,
            queued: 0,
            sent: 0,
            failed: 0,
            _sockets: PhantomData,
        }
    }
}

/// Frames on their way out. [`Batch::flush`] (or dropping the batch) hands the queued ones
/// to the kernel and waits for all of them.
pub struct Batch<'a> {
    ring: &'a mut Ring,
    queued: usize,
    sent: usize,
    failed: usize,
    _sockets: PhantomData<&'a UdpSocket>,
}

impl<'a> Batch<'a> {
    /// Queues `frame` for `to` from `socket`: with `io_uring`, copied into the batch (and the
    /// batch submitted when full); without, sent at once.
    pub fn push(&mut self, socket: &'a UdpSocket, frame: &[u8], to: SocketAddr) {
        if self.ring.ring.is_none() || frame.len() > MAX_FRAME {
            match socket.send_to(frame, to) {
                Ok(_) => self.sent += 1,
                Err(_) => self.failed += 1,
            }
            return;
        }
        if self.queued == self.ring.sends.len() {
            self.submit();
        }
        self.ring.sends[self.queued].fill(socket.as_raw_fd(), frame, to);
        self.queued += 1;
    }

    /// Sends what is queued; returns the frames sent and the frames that failed since the
    /// batch opened.
    pub fn flush(mut self) -> (usize, usize) {
        self.submit();
        (self.sent, self.failed)
    }

    /// Submits the queued entries and reaps one completion for each before returning, so no
    /// submission outlives the memory or the sockets it names. Sends carry `MSG_DONTWAIT`: a
    /// full socket buffer completes at once with `EAGAIN` instead of parking the send.
    fn submit(&mut self) {
        let n = std::mem::take(&mut self.queued);
        let Some(ring) = self.ring.ring.as_mut() else {
            return;
        };
        if n == 0 {
            return;
        }
        let sqes = self.ring.sends[..n].iter_mut().map(|entry| {
            opcode::SendMsg::new(types::Fd(entry.fd), entry.header())
                .flags(libc::MSG_DONTWAIT as u32)
                .build()
        });
        let (mut sent, mut failed) = (0, 0);
        // SAFETY: each entry's header, address, iovec and frame live in `self.ring.sends`,
        // which is not touched again until `submit_all` has reaped every completion (or is
        // leaked by `abandon`); the sockets are borrowed for `'a`, which outlives this batch.
        let result = unsafe {
            submit_all(ring, sqes, |_, res| {
                if res >= 0 {
                    sent += 1;
                } else {
                    failed += 1;
                }
            })
        };
        self.sent += sent;
        self.failed += failed;
        match result {
            Ok(pushed) => self.failed += n - pushed,
            Err(e) => {
                self.failed += n - sent - failed;
                self.ring.abandon(&e);
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
    pub(super) fn new() -> Entry {
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
