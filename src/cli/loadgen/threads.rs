//! CPU seconds of this process's threads by role, from `/proc/self/task`, and its RSS.

use std::collections::BTreeMap;

/// What a thread does, from the name carecall and its libraries give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// tokio workers (`carecall`): SIP, the call tasks, HTTP, store futures.
    CallTasks,
    /// Media workers (`carecall-media-N`): RTP in and out, pacing.
    Media,
    /// SQLite connection threads (`sqlx-sqlite-*`): the store's statements.
    Store,
    /// The load generator itself (`loadgen`).
    Generator,
    /// Everything else (the main thread, prompt loading, blocking pool).
    Other,
    /// Threads that ended since the process started (sqlx replaces its SQLite connection
    /// threads when a pool connection reaches its lifetime): the process's total minus its
    /// live threads.
    Ended,
}

impl Role {
    fn of(name: &str) -> Role {
        if name.starts_with("carecall-media") {
            Role::Media
        } else if name.starts_with("carecall") {
            Role::CallTasks
        } else if name.starts_with("sqlx-sqlite") {
            Role::Store
        } else if name.starts_with("loadgen") {
            Role::Generator
        } else {
            Role::Other
        }
    }

    /// The name printed in the report.
    pub fn label(self) -> &'static str {
        match self {
            Role::CallTasks => "SIP and call tasks (tokio)",
            Role::Media => "media workers",
            Role::Store => "store (SQLite threads)",
            Role::Generator => "generator",
            Role::Other => "other",
            Role::Ended => "threads that ended (replaced SQLite connections)",
        }
    }

    /// Whether the thread is the engine's (everything but the generator).
    pub fn is_engine(self) -> bool {
        self != Role::Generator
    }
}

/// CPU seconds per role at one moment.
#[derive(Debug, Clone, Default)]
pub struct ThreadCpu(pub BTreeMap<Role, f64>);

impl ThreadCpu {
    /// Reads every thread's user + system time now.
    pub fn sample() -> ThreadCpu {
        let mut cpu = ThreadCpu::default();
        let tick = 100.0; // USER_HZ on Linux
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return cpu;
        };
        let mut live = 0.0;
        for task in tasks.flatten() {
            let Some((name, ticks)) = read_stat(&task.path().join("stat")) else {
                continue;
            };
            live += ticks;
            *cpu.0.entry(Role::of(&name)).or_default() += ticks / tick;
        }
        // The process's own figure also holds the threads that have ended.
        if let Some((_, total)) = read_stat(std::path::Path::new("/proc/self/stat")) {
            cpu.0.insert(Role::Ended, ((total - live) / tick).max(0.0));
        }
        cpu
    }

    /// CPU seconds per role spent since `before` (threads that ended meanwhile are lost).
    pub fn since(&self, before: &ThreadCpu) -> ThreadCpu {
        let mut d = ThreadCpu::default();
        for (role, secs) in &self.0 {
            let was = before.0.get(role).copied().unwrap_or(0.0);
            d.0.insert(*role, (secs - was).max(0.0));
        }
        d
    }

    /// The engine's CPU seconds (every role but the generator).
    pub fn engine(&self) -> f64 {
        self.0
            .iter()
            .filter(|(r, _)| r.is_engine())
            .map(|(_, s)| s)
            .sum()
    }
}

/// The name and user + system ticks of a `/proc/…/stat` file.
fn read_stat(path: &std::path::Path) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let fields: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((stat[open + 1..close].to_string(), utime + stime))
}

/// This process's resident set, in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
