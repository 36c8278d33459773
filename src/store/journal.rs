//! The local journal (SPEC §11: nothing a patient confirmed is lost to a database outage):
//! what a call could not write to the report store in time is appended to a file on this
//! node, synced to disk before the call goes on, and written to the store later, exactly once.
//!
//! One JSON object per line: a report started (with its key), an answer, a completion. A
//! replay first renames the file aside (new entries go to a fresh file), applies every entry
//! in order and deletes the renamed file only when all are in the store. Applying is
//! idempotent, so a replay cut short by a crash or another outage is simply done again:
//! reports are found by their key (`reports.journal_key`, unique; the runtime gives every
//! call's report one), answers are upserts by (report, question), and completion keeps its
//! first time. A line cut short by a crash mid-append was never confirmed to the caller, and
//! is skipped (and counted).
//!
//! The file holds answers, which are personal data: it is created readable by its owner only,
//! and nothing of it is logged.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::report::date::epoch_millis;
use crate::report::{AnswerValue, Channel, Slot};

use super::reports::encode;
use super::{PatientId, StoreError};

/// Entries appended (`carecall_journal_appends_total`).
pub static JOURNAL_APPENDS: AtomicU64 = AtomicU64::new(0);
/// Entries written to the store by replays (`carecall_journal_replayed_total`).
pub static JOURNAL_REPLAYED: AtomicU64 = AtomicU64::new(0);
/// Lines that could not be read back (`carecall_journal_unreadable_total`).
pub static JOURNAL_UNREADABLE: AtomicU64 = AtomicU64::new(0);
/// Entries the store refused for good, set aside in `<journal>.rejected`
/// (`carecall_journal_rejected_total`).
pub static JOURNAL_REJECTED: AtomicU64 = AtomicU64::new(0);

/// Which report an entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportRef {
    /// A report the store already has.
    Id(i64),
    /// A report known by its key; a `start` entry (here or in an earlier file) or the store
    /// has it.
    Key(String),
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Entry {
    /// A report started by a call.
    Start {
        /// The report's key.
        key: String,
        /// The patient.
        patient: i64,
        /// The channel label (`health_call`, `outbound_call`).
        channel: String,
        /// carecall's call id.
        call_id: Option<String>,
        /// The schedule slot (`YYYY-MM-DD`, `HH:MM`).
        slot: Option<(String, String)>,
        /// When, in milliseconds since the epoch.
        at: i64,
    },
    /// A confirmed answer.
    Answer {
        /// The report.
        report: ReportRef,
        /// The question id.
        question: String,
        /// The value as stored: kind, number, text.
        value: (String, Option<i64>, Option<String>),
        /// When, in milliseconds since the epoch.
        at: i64,
    },
    /// The report completed.
    Complete {
        /// The report.
        report: ReportRef,
        /// When, in milliseconds since the epoch.
        at: i64,
    },
    /// The report may have turned red and its alert could not be enqueued: enqueue it on
    /// replay (enqueueing is once per report, so a repeat is harmless).
    Alert {
        /// The report.
        report: ReportRef,
    },
}

impl Entry {
    /// A report started by a call.
    pub fn start(
        key: &str,
        patient: PatientId,
        channel: Channel,
        call_id: Option<&str>,
        slot: Option<Slot>,
        now: SystemTime,
    ) -> Entry {
        Entry::Start {
            key: key.to_owned(),
            patient: patient.0,
            channel: channel.label().to_owned(),
            call_id: call_id.map(str::to_owned),
            slot: slot.map(|s| (s.date.to_string(), s.time.to_string())),
            at: epoch_millis(now).unwrap_or(0),
        }
    }

    /// A confirmed answer.
    pub fn answer(report: ReportRef, question: &str, value: AnswerValue, now: SystemTime) -> Entry {
        let (num, text) = encode(value);
        Entry::Answer {
            report,
            question: question.to_owned(),
            value: (value.kind().to_owned(), num, text.map(str::to_owned)),
            at: epoch_millis(now).unwrap_or(0),
        }
    }

    /// The report completed.
    pub fn complete(report: ReportRef, now: SystemTime) -> Entry {
        Entry::Complete {
            report,
            at: epoch_millis(now).unwrap_or(0),
        }
    }
}

/// The journal could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Another carecall process holds the journal: each node needs its own file.
    #[error(
        "journal {0} is in use by another carecall process: give each node its own [store] journal"
    )]
    InUse(PathBuf),
    /// The file could not be opened, written, synced or renamed.
    #[error("journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The store refused an entry; the replay stops and is tried again later.
    #[error("replaying the journal: {0}")]
    Store(#[from] StoreError),
}

/// The journal file of this node. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    /// Held while appending or renaming, so a line is never split between two files.
    lock: Mutex<()>,
    /// Held for a whole replay, so two replays never take the same file.
    replaying: tokio::sync::Mutex<()>,
    /// `<path>.lock`, locked for as long as this process holds the journal.
    _owner: std::fs::File,
}

impl Journal {
    /// Takes the journal at `path` for this process: locks `<path>.lock` (created if
    /// missing), so a second process given the same file refuses to start
    /// ([`JournalError::InUse`]) instead of replaying another node's entries, and finds out at
    /// start that the folder is writable. The journal itself is created on the first append.
    pub fn open(path: PathBuf) -> Result<Journal, JournalError> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        let io = |source| JournalError::Io {
            path: lock_path.clone(),
            source,
        };
        let owner = open_append(&lock_path).map_err(io)?;
        match owner.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(JournalError::InUse(path)),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        sync_folder(&path).map_err(io)?;
        Ok(Journal {
            inner: Arc::new(Inner {
                path,
                lock: Mutex::new(()),
                replaying: tokio::sync::Mutex::new(()),
                _owner: owner,
            }),
        })
    }

    /// Held for a whole replay, so two replays never take the same file.
    pub(super) async fn replay_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.replaying.lock().await
    }

    /// The file new entries are appended to.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn replaying_path(&self) -> PathBuf {
        let mut name = self.inner.path.as_os_str().to_owned();
        name.push(".replaying");
        PathBuf::from(name)
    }

    /// Appends `entry` and syncs it to disk before returning (blocking: call it from
    /// `spawn_blocking` on a runtime).
    pub fn append(&self, entry: &Entry) -> Result<(), JournalError> {
        let path = &self.inner.path;
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(entry).unwrap_or_default();
        line.push(b'\n');
        let _held = self.inner.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = open_append(path).map_err(io)?;
        let created = file.metadata().map_err(io)?.len() == 0;
        // A line cut short by a crash is ended first, so it cannot swallow this one.
        if !created && !ends_with_newline(path).map_err(io)? {
            line.insert(0, b'\n');
        }
        file.write_all(&line).map_err(io)?;
        file.sync_data().map_err(io)?;
        if created {
            sync_folder(path).map_err(io)?;
        }
        JOURNAL_APPENDS.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Whether anything waits to be replayed.
    pub fn has_entries(&self) -> bool {
        let non_empty = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.len() > 0);
        non_empty(&self.inner.path) || non_empty(&self.replaying_path())
    }

    /// Takes the entries to replay: the file left by an unfinished replay if there is one,
    /// else the current file (renamed aside, so new entries start a fresh one). `None` when
    /// there is nothing.
    pub(super) fn take(&self) -> Result<Option<(PathBuf, Vec<Entry>)>, JournalError> {
        let aside = self.replaying_path();
        let _held = self.inner.lock.lock().unwrap_or_else(|e| e.into_inner());
        if !aside.exists() {
            if !self.inner.path.exists() {
                return Ok(None);
            }
            let io = |source| JournalError::Io {
                path: self.inner.path.clone(),
                source,
            };
            std::fs::rename(&self.inner.path, &aside).map_err(io)?;
            sync_folder(&aside).map_err(io)?;
        }
        let io = |source| JournalError::Io {
            path: aside.clone(),
            source,
        };
        let file = std::fs::File::open(&aside).map_err(io)?;
        let mut entries = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(io)?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(&line) {
                Ok(entry) => entries.push(entry),
                Err(_) => {
                    JOURNAL_UNREADABLE.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(Some((aside, entries)))
    }
}

/// Sets an entry the store refused for good aside in `<journal>.rejected` (for an operator to
/// look at), so it does not hold back every entry after it.
pub(super) fn reject(path: &Path, entry: &Entry) -> std::io::Result<()> {
    let mut name = path.as_os_str().to_owned();
    name.push(".rejected");
    let mut file = open_append(Path::new(&name))?;
    let mut line = serde_json::to_vec(entry).unwrap_or_default();
    line.push(b'\n');
    file.write_all(&line)?;
    file.sync_data()
}

/// Whether the file at `path` ends with a newline (or is empty).
fn ends_with_newline(path: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Syncs the folder holding `path`, so a file created or renamed there survives a crash.
#[cfg(unix)]
fn sync_folder(path: &Path) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(folder)?.sync_all()
}

#[cfg(not(unix))]
fn sync_folder(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_as_json_lines() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let entries = [
            Entry::start(
                "k1",
                PatientId(7),
                Channel::HealthCall,
                Some("c-1"),
                None,
                now,
            ),
            Entry::answer(
                ReportRef::Key("k1".into()),
                "temperature",
                AnswerValue::TemperatureTenths(382),
                now,
            ),
            Entry::answer(ReportRef::Id(3), "spo2", AnswerValue::Spo2(None), now),
            Entry::complete(ReportRef::Id(3), now),
        ];
        for e in &entries {
            let line = serde_json::to_string(e).unwrap();
            assert!(!line.contains('\n'));
            assert_eq!(&serde_json::from_str::<Entry>(&line).unwrap(), e, "{line}");
        }
    }

    #[test]
    fn a_torn_line_is_ended_by_the_next_append_and_an_unfinished_replay_comes_first() {
        let dir = std::env::temp_dir().join(format!("carecall-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let journal = Journal::open(dir.join("j")).unwrap();
        assert!(
            matches!(Journal::open(dir.join("j")), Err(JournalError::InUse(_))),
            "a second holder is refused"
        );
        assert!(!journal.has_entries());
        let now = SystemTime::UNIX_EPOCH;
        journal
            .append(&Entry::complete(ReportRef::Id(1), now))
            .unwrap();
        // A crash in the middle of an append leaves half a line; the next append ends it.
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap()
            .write_all(b"{\"op\":\"answer\",\"rep")
            .unwrap();
        journal
            .append(&Entry::complete(ReportRef::Id(3), now))
            .unwrap();
        assert!(journal.has_entries());
        let (aside, entries) = journal.take().unwrap().unwrap();
        assert_eq!(
            entries,
            [
                Entry::complete(ReportRef::Id(1), now),
                Entry::complete(ReportRef::Id(3), now)
            ]
        );
        // New entries go to a fresh file while the taken one waits to be written.
        journal
            .append(&Entry::complete(ReportRef::Id(2), now))
            .unwrap();
        let (again, entries) = journal.take().unwrap().unwrap();
        assert_eq!(again, aside, "an unfinished replay is taken again first");
        assert_eq!(entries.len(), 2);
        std::fs::remove_file(&aside).unwrap();
        let (_, entries) = journal.take().unwrap().unwrap();
        assert_eq!(entries, [Entry::complete(ReportRef::Id(2), now)]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(journal.replaying_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "only its owner reads the journal");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
