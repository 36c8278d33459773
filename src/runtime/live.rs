//! This node's live calls, as operators list them (`carecall calls list`, `GET
//! /api/v1/calls/active`): direction, dialplan, step, trunk, answered, start and duration.
//!
//! No personal data: no numbers, no HER-SYS IDs, no digits. A call is entered when its task
//! starts and removed when the task ends, however it ends ([`LiveEntry`] removes it on drop).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use serde::Serialize;

use crate::call::Direction;

/// The registry of active calls; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct LiveCalls {
    calls: Arc<Mutex<BTreeMap<u64, Entry>>>,
}

#[derive(Debug, Clone)]
struct Entry {
    direction: Direction,
    dialplan: String,
    step: Option<String>,
    trunk: Option<String>,
    answered: bool,
    started_at: SystemTime,
    started: Instant,
}

/// One live call as listed: the JSON shape of `calls list --json` and the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LiveCall {
    /// carecall's call id on this node.
    pub id: u64,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The dialplan the call follows.
    pub dialplan: String,
    /// The dialplan step it is in (`None` until the call is answered).
    pub step: Option<String>,
    /// The trunk the call came in or went out through, if any.
    pub trunk: Option<String>,
    /// Whether it has been answered (else ringing).
    pub answered: bool,
    /// When it started, RFC 3339 UTC.
    pub started_at: String,
    /// Seconds since it started.
    pub duration_s: u64,
}

/// This node's live calls: the body of `GET /api/v1/calls/active` and of the control socket's
/// `calls` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LiveList {
    /// `[calls] node_id`.
    pub node_id: String,
    /// Oldest first.
    pub calls: Vec<LiveCall>,
}

impl LiveCalls {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Entry>> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enters call `call` (ringing, at its first step once answered); the returned entry
    /// removes it when dropped.
    pub(crate) fn enter(
        &self,
        call: u64,
        direction: Direction,
        dialplan: &str,
        trunk: Option<&str>,
    ) -> LiveEntry {
        let entry = Entry {
            direction,
            dialplan: dialplan.to_owned(),
            step: None,
            trunk: trunk.map(str::to_owned),
            answered: false,
            started_at: crate::clock::wall_now(),
            started: crate::clock::now(),
        };
        self.lock().insert(call, entry);
        LiveEntry {
            calls: self.clone(),
            call,
        }
    }

    /// The calls now, oldest first, with durations as of `now`.
    pub fn list(&self, node_id: &str, now: Instant) -> LiveList {
        let calls = self
            .lock()
            .iter()
            .map(|(&id, e)| LiveCall {
                id,
                direction: e.direction.label().to_owned(),
                dialplan: e.dialplan.clone(),
                step: e.step.clone(),
                trunk: e.trunk.clone(),
                answered: e.answered,
                started_at: utc_seconds(e.started_at),
                duration_s: now.saturating_duration_since(e.started).as_secs(),
            })
            .collect();
        LiveList {
            node_id: node_id.to_owned(),
            calls,
        }
    }

    /// How many calls are listed.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no call is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `t` as RFC 3339 UTC to the second (`2026-12-03T07:00:00Z`).
fn utc_seconds(t: SystemTime) -> String {
    let ms = crate::report::date::epoch_millis(t).unwrap_or(0);
    crate::report::date::rfc3339_utc(ms - ms.rem_euclid(1000)).replace(".000Z", "Z")
}

/// A call's place in the registry; removes it when dropped.
pub(crate) struct LiveEntry {
    calls: LiveCalls,
    call: u64,
}

impl LiveEntry {
    /// The call was answered.
    pub(crate) fn answered(&self) {
        if let Some(e) = self.calls.lock().get_mut(&self.call) {
            e.answered = true;
        }
    }

    /// The call moved to `step`; returns true if that is a change.
    pub(crate) fn step(&self, step: &str) -> bool {
        let mut calls = self.calls.lock();
        let Some(e) = calls.get_mut(&self.call) else {
            return false;
        };
        if e.step.as_deref() == Some(step) {
            return false;
        }
        e.step = Some(step.to_owned());
        true
    }
}

impl Drop for LiveEntry {
    fn drop(&mut self) {
        self.calls.lock().remove(&self.call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_call_is_listed_with_its_step_until_its_entry_is_dropped() {
        let live = LiveCalls::default();
        let entry = live.enter(17, Direction::Inbound, "health_call", None);
        let other = live.enter(18, Direction::Outbound, "automatic_call", Some("carrier"));
        assert!(entry.step("temperature"));
        assert!(!entry.step("temperature"), "the same step is no change");
        entry.answered();
        let list = live.list("node-1", crate::clock::now() + Duration::from_secs(42));
        assert_eq!(list.node_id, "node-1");
        assert_eq!(list.calls.len(), 2);
        let first = &list.calls[0];
        assert_eq!((first.id, first.direction.as_str()), (17, "inbound"));
        assert_eq!(first.step.as_deref(), Some("temperature"));
        assert!(first.answered && first.duration_s >= 42 && first.trunk.is_none());
        assert!(first.started_at.ends_with('Z'), "{}", first.started_at);
        assert_eq!(list.calls[1].trunk.as_deref(), Some("carrier"));
        assert!(!list.calls[1].answered && list.calls[1].step.is_none());
        drop(entry);
        drop(other);
        assert!(live.is_empty());
    }
}
