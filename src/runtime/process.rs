//! The process's own figures for `/metrics` (Prometheus' standard `process_*` names), read
//! from Linux's `/proc` without unsafe code. Elsewhere, or when `/proc` cannot be read, the
//! figures are absent.

/// Kernel clock ticks per second for `/proc/<pid>/stat` times. Linux reports `USER_HZ`,
/// which is 100 on every architecture carecall runs on (it is fixed in the kernel ABI).
const USER_HZ: f64 = 100.0;

/// One reading of the process's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessFigures {
    /// User plus system CPU time, seconds.
    pub cpu_seconds: f64,
    /// Resident memory, bytes.
    pub resident_bytes: u64,
    /// Open file descriptors (sockets included).
    pub open_fds: u64,
    /// When the process started, seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// Reads the figures of this process now; `None` where `/proc` is unavailable.
pub fn read() -> Option<ProcessFigures> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    parse(&stat, &status, &boot, open_fds)
}

fn parse(stat: &str, status: &str, boot: &str, open_fds: u64) -> Option<ProcessFigures> {
    // The command name (field 2) is in parentheses and may contain spaces: start after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime is field 14, stime 15, starttime 22.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let cpu_ticks = field(14)? + field(15)?;
    let start_ticks = field(22)?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())?;
    let btime = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<u64>().ok())?;
    Some(ProcessFigures {
        cpu_seconds: cpu_ticks as f64 / USER_HZ,
        resident_bytes: rss_kib * 1024,
        open_fds,
        start_time_seconds: btime as f64 + start_ticks as f64 / USER_HZ,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_parsed_even_with_spaces_in_the_command_name() {
        let stat = "4242 (carecall (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 9 0 12345 1000000 2000 18446744073709551615";
        let status = "Name:\tcarecall\nVmRSS:\t   20480 kB\nThreads:\t9\n";
        let boot = "cpu  1 2 3\nbtime 1764000000\nprocesses 99\n";
        let f = parse(stat, status, boot, 17).unwrap();
        assert_eq!(f.cpu_seconds, 3.0);
        assert_eq!(f.resident_bytes, 20480 * 1024);
        assert_eq!(f.open_fds, 17);
        assert_eq!(f.start_time_seconds, 1764000000.0 + 123.45);
        assert!(parse("garbage", status, boot, 0).is_none());
    }

    #[test]
    fn this_process_can_be_read_on_linux() {
        if cfg!(target_os = "linux") {
            let f = read().expect("/proc is readable");
            assert!(f.resident_bytes > 0 && f.open_fds > 0 && f.start_time_seconds > 1e9);
        }
    }
}
