//! Batched socket I/O: the frames a media slot has due go to the kernel in one `io_uring`
//! submission instead of one `sendto` per call, and the slot's sockets are read in one
//! submission instead of one `recvfrom` each.
//!
//! Why unsafe code: symmetric RTP gives every call its own socket, so `sendmmsg`,
//! `recvmmsg` and GSO (which batch datagrams of one socket) do not apply, and one system
//! call per frame and direction was the engine's largest single cost (a call sends 50 frames
//! a second and reads its socket 60 times). On this project's 2-core VM a 250-socket paced
//! sender measured 4.3–5.1 µs of CPU per `sendto` against 1.7–3.0 µs per datagram submitted
//! through `io_uring` in batches (docs/benchmarks.md "Batched sends"). Pushing a submission
//! entry is `unsafe` because the kernel reads (and for a receive, writes) the message
//! header, the address, the payload and the socket after the call returns; this module owns
//! all of them and reaps every completion before it lets them go (see [`submit_all`]).
//!
//! Where the kernel refuses `io_uring` (an old kernel, `kernel.io_uring_disabled`, a seccomp
//! profile) or `[rtp] io_uring = false`, the same calls use `sendto` and `recvfrom`: one code
//! path for the worker either way.
#![allow(unsafe_code)]

mod recv;
mod send;
#[cfg(test)]
mod tests;

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use io_uring::{squeue, IoUring};

pub use send::Batch;

/// Operations submitted in one go; a slot holding more calls submits in several.
const BATCH: usize = 64;

/// What a worker does its socket I/O with: a ring and the memory its submissions point into,
/// or nothing (system calls).
pub struct Ring {
    ring: Option<IoUring>,
    sends: Box<[send::Entry]>,
    recvs: Box<[recv::Entry]>,
    /// The buffer of `recvfrom` when there is no ring.
    fallback: Vec<u8>,
}

impl Ring {
    /// A ring when `use_ring` and the kernel allows it, else system calls; says which once,
    /// in the log.
    pub fn new(use_ring: bool) -> Ring {
        let ring = if use_ring {
            match IoUring::new(BATCH as u32) {
                Ok(ring) => {
                    tracing::debug!("media socket I/O batched through io_uring");
                    Some(ring)
                }
                Err(e) => {
                    tracing::info!(error = %e, "io_uring unavailable: media uses sendto and recvfrom");
                    None
                }
            }
        } else {
            None
        };
        let (sends, recvs) = match ring {
            Some(_) => (
                (0..BATCH).map(|_| send::Entry::new()).collect(),
                (0..BATCH).map(|_| recv::Entry::new()).collect(),
            ),
            None => (Box::default(), Box::default()),
        };
        Ring {
            ring,
            sends,
            recvs,
            fallback: vec![0; recv::RECV_BUFFER],
        }
    }

    /// Whether I/O goes through `io_uring`.
    #[cfg(test)]
    fn batched(&self) -> bool {
        self.ring.is_some()
    }

    /// Gives up the ring after an error it may still hold submissions from: the memory they
    /// point into is leaked, so nothing the kernel may read or write is ever freed or reused.
    fn abandon(&mut self, e: &io::Error) {
        tracing::warn!(error = %e, "io_uring failed: media falls back to sendto and recvfrom");
        std::mem::forget(std::mem::take(&mut self.sends));
        std::mem::forget(std::mem::take(&mut self.recvs));
        std::mem::forget(self.ring.take());
    }
}

/// Pushes `sqes` (each with its index as user data) and waits for every completion, which
/// goes to `done(index, result)`. Returns how many were pushed (the rest did not fit).
///
/// # Safety
///
/// Every pointer the entries carry must stay valid, and the memory behind it untouched,
/// until this returns; on `Err` the kernel may still hold them, so the caller must leak that
/// memory (see [`Ring::abandon`]).
unsafe fn submit_all(
    ring: &mut IoUring,
    sqes: impl Iterator<Item = squeue::Entry>,
    mut done: impl FnMut(usize, i32),
) -> io::Result<usize> {
    let mut pushed = 0;
    {
        let mut sq = ring.submission();
        for sqe in sqes {
            // SAFETY: the caller keeps what the entry points into alive until every
            // completion is reaped below (or leaks it on error).
            if unsafe { sq.push(&sqe.user_data(pushed as u64)) }.is_err() {
                break;
            }
            pushed += 1;
        }
    }
    let mut reaped = 0;
    while reaped < pushed {
        match ring.submit_and_wait(pushed - reaped) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for cqe in ring.completion() {
            reaped += 1;
            done(cqe.user_data() as usize, cqe.result());
        }
    }
    Ok(pushed)
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

/// Reads the C socket address the kernel wrote into `addr` (`len` bytes of it).
fn read_sockaddr(addr: &libc::sockaddr_in6, len: libc::socklen_t) -> Option<SocketAddr> {
    match i32::from(addr.sin6_family) {
        libc::AF_INET if len as usize >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the kernel wrote a sockaddr_in at the start of `addr`, which is larger.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read_unaligned((addr as *const libc::sockaddr_in6).cast()) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len as usize >= std::mem::size_of::<libc::sockaddr_in6>() => {
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(addr.sin6_addr.s6_addr),
                u16::from_be(addr.sin6_port),
                addr.sin6_flowinfo,
                addr.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
