//! Receives: one read of each of a slot's sockets, all in one submission.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

use io_uring::{opcode, types};

use super::{read_sockaddr, submit_all, Ring, BATCH};

/// Room for any UDP datagram a peer may send.
pub(super) const RECV_BUFFER: usize = 2048;

/// One read's memory: the kernel writes the datagram into `buf` and its source into
/// `addr`; `header` points `msg` at both just before the push.
pub(super) struct Entry {
    buf: [u8; RECV_BUFFER],
    addr: libc::sockaddr_in6,
    iov: libc::iovec,
    msg: libc::msghdr,
    fd: RawFd,
    /// The item the read is for.
    item: usize,
}

impl Ring {
    /// Reads at most one waiting datagram from the socket of each `items[i]` whose
    /// `wanted[i]` is set, and hands it to `deliver(&mut items[i], datagram, source)`.
    /// `wanted[i]` stays set where a datagram was read (so a drain reads that socket again)
    /// and is cleared where the socket was empty. Returns how many datagrams were read.
    ///
    /// With `io_uring` the reads go to the kernel in one submission per [`BATCH`] sockets
    /// (`MSG_DONTWAIT`: an empty socket completes at once); without, one `recvfrom` each
    /// (the media pool's sockets are non-blocking).
    pub fn receive<T>(
        &mut self,
        items: &mut [T],
        wanted: &mut [bool],
        socket: impl Fn(&T) -> &UdpSocket,
        mut deliver: impl FnMut(&mut T, &[u8], SocketAddr),
    ) -> usize {
        let mut read = 0;
        let mut next = 0;
        while next < items.len() {
            if self.ring.is_none() {
                for (item, want) in items[next..].iter_mut().zip(&mut wanted[next..]) {
                    if !*want {
                        continue;
                    }
                    match socket(item).recv_from(&mut self.fallback) {
                        Ok((len, from)) => {
                            read += 1;
                            deliver(item, &self.fallback[..len], from);
                        }
                        Err(_) => *want = false,
                    }
                }
                return read;
            }
            // The next BATCH sockets wanted, into the entries.
            let mut queued = 0;
            while next < items.len() && queued < BATCH {
                if wanted[next] {
                    let fd = socket(&items[next]).as_raw_fd();
                    self.recvs[queued].prepare(fd, next);
                    queued += 1;
                }
                next += 1;
            }
            if queued == 0 {
                break;
            }
            let Some(ring) = self.ring.as_mut() else {
                break;
            };
            let entries = &mut self.recvs[..queued];
            let sqes = entries.iter_mut().map(|entry| {
                opcode::RecvMsg::new(types::Fd(entry.fd), entry.header())
                    .flags(libc::MSG_DONTWAIT as u32)
                    .build()
            });
            // SAFETY: each entry's header, address, iovec and buffer live in `self.recvs`,
            // which is not touched again until `submit_all` has reaped every completion (or
            // is leaked by `abandon`); the sockets are borrowed from `items` for the whole
            // call, so every descriptor names an open socket when the kernel takes it.
            let mut results = [-libc::EAGAIN; BATCH];
            let result = unsafe {
                submit_all(ring, sqes, |k, res| {
                    if let Some(r) = results.get_mut(k) {
                        *r = res;
                    }
                })
            };
            let pushed = match result {
                Ok(pushed) => pushed,
                Err(e) => {
                    self.abandon(&e);
                    return read;
                }
            };
            for (entry, &res) in self.recvs[..pushed].iter().zip(&results) {
                let from = read_sockaddr(&entry.addr, entry.msg.msg_namelen);
                match (usize::try_from(res), from) {
                    (Ok(len), Some(from)) => {
                        read += 1;
                        let len = len.min(RECV_BUFFER);
                        deliver(&mut items[entry.item], &entry.buf[..len], from);
                    }
                    _ => wanted[entry.item] = false,
                }
            }
        }
        read
    }
}

impl Entry {
    pub(super) fn new() -> Entry {
        Entry {
            buf: [0; RECV_BUFFER],
            // SAFETY: plain C structs of integers and pointers, for which all zeroes is a
            // valid (empty) value.
            addr: unsafe { std::mem::zeroed() },
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
            // SAFETY: as above.
            msg: unsafe { std::mem::zeroed() },
            fd: -1,
            item: 0,
        }
    }

    fn prepare(&mut self, fd: RawFd, item: usize) {
        self.fd = fd;
        self.item = item;
        // A source the kernel did not write reads as none, never as the last read's.
        self.addr.sin6_family = 0;
    }

    /// Points the message header at this entry's own buffer and address (called once the
    /// entry is in place, just before the push).
    fn header(&mut self) -> *mut libc::msghdr {
        self.iov = libc::iovec {
            iov_base: self.buf.as_mut_ptr().cast(),
            iov_len: RECV_BUFFER,
        };
        self.msg.msg_name = (&mut self.addr as *mut libc::sockaddr_in6).cast();
        self.msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        self.msg.msg_iov = &mut self.iov;
        self.msg.msg_iovlen = 1;
        self.msg.msg_control = std::ptr::null_mut();
        self.msg.msg_controllen = 0;
        self.msg.msg_flags = 0;
        &mut self.msg
    }
}
