//! The media workers' scheduling priority (`[rtp] worker_nice`, default -10): a frame is due
//! every 20 ms per call, and a worker that wakes behind the SIP, store and HTTP threads (or
//! another process) on a busy machine sends its slot late. Raising the workers' priority is
//! what Asterisk's `-p` and FreeSWITCH's `-rp` do for their media; here it is the nice value
//! of each worker thread alone, the rest of the process keeps the priority it started with.
//! At 2,500 `carecall loadgen` calls on 2 cores, send lateness p99 was 2–5 ms at nice 0 and
//! under 2 ms at -10 (docs/benchmarks.md).
//!
//! A negative value needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows it (systemd's
//! `LimitNICE=-10` or `Nice=`); without, the workers keep the process's priority and the log
//! says so once. Why unsafe code: `setpriority(2)` on one thread's id has no safe binding in
//! the standard library; the two calls below take and return plain integers.
#![allow(unsafe_code)]

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

static REFUSED_LOGGED: AtomicBool = AtomicBool::new(false);

/// Sets the calling thread's nice value to `nice` (0 leaves it as it is); a refusal is
/// logged once per process and otherwise ignored.
pub(super) fn apply(nice: i32) {
    if nice == 0 {
        return;
    }
    match set_thread_nice(nice) {
        Ok(()) => tracing::debug!(nice, "media worker priority raised"),
        Err(e) => {
            if !REFUSED_LOGGED.swap(true, Ordering::Relaxed) {
                tracing::info!(
                    nice,
                    error = %e,
                    "media workers keep the process's priority ([rtp] worker_nice needs CAP_SYS_NICE or LimitNICE)"
                );
            }
        }
    }
}

/// The calling thread's nice value.
#[cfg(test)]
pub(super) fn thread_nice() -> io::Result<i32> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and getpriority take and return integers and touch no memory.
        let tid = unsafe { libc::gettid() };
        // getpriority returns the nice value, or -1 with errno set on failure (-1 is also a
        // valid nice value, so errno is cleared first and read after).
        unsafe { *libc::__errno_location() = 0 };
        let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t) };
        let errno = io::Error::last_os_error();
        if nice == -1 && errno.raw_os_error() != Some(0) {
            return Err(errno);
        }
        Ok(nice)
    }
    #[cfg(not(target_os = "linux"))]
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

fn set_thread_nice(nice: i32) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take and return integers and touch no memory; on
        // Linux PRIO_PROCESS with a thread id sets that thread alone.
        let tid = unsafe { libc::gettid() };
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = nice;
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_thread_takes_the_nice_value_and_the_others_keep_theirs() {
        let before = thread_nice().unwrap();
        // Lowering priority is always allowed, so the test needs no privilege.
        let target = (before + 5).min(19);
        let seen = std::thread::spawn(move || {
            apply(target);
            thread_nice().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(seen, target, "the worker thread's own nice value");
        assert_eq!(
            thread_nice().unwrap(),
            before,
            "the spawning thread keeps its own"
        );
    }
}
