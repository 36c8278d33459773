//! Who may open a simulator WebSocket: a browser page of the same origin (or one configured
//! in `[http] simulator_origins`), within a total and a per-source number of open connections.
//!
//! A page from another site could otherwise open the socket from a staff member's browser
//! (cross-site WebSocket hijacking), and any client could hold connections until the
//! interpreter's memory runs out. Sans-IO: the handler in [`super::ws`] asks and answers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::config::SimulatorLimits;

/// Why a connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The `Origin` header names another site: 403.
    ForeignOrigin,
    /// `max_connections` are open, or `max_per_source` from this address: 503.
    TooMany,
}

/// The open connections, by source.
#[derive(Default)]
pub struct SimGate {
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it gives the slot back.
pub struct Slot {
    gate: Arc<SimGate>,
    source: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(ip) = self.source {
            if let Some(n) = open.by_source.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.by_source.remove(&ip);
                }
            }
        }
    }
}

impl SimGate {
    /// Admits a connection from `source` (unknown when the server does not pass peer
    /// addresses) whose request carried `origin` and `host`, or says why not.
    pub fn admit(
        self: &Arc<Self>,
        limits: &SimulatorLimits,
        source: Option<IpAddr>,
        origin: Option<&str>,
        host: Option<&str>,
    ) -> Result<Slot, Refusal> {
        if !origin_allowed(origin, host, &limits.origins) {
            return Err(Refusal::ForeignOrigin);
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= limits.max_connections {
            return Err(Refusal::TooMany);
        }
        if let Some(ip) = source {
            let n = open.by_source.entry(ip).or_default();
            if *n >= limits.max_per_source {
                return Err(Refusal::TooMany);
            }
            *n += 1;
        }
        open.total += 1;
        Ok(Slot {
            gate: self.clone(),
            source,
        })
    }
}

/// True when there is no `Origin` (not a browser, so not a hijacked page), when it is the
/// page's own origin (`http://` or `https://` plus the request's `Host`), or when it is one of
/// `allowed` (compared without case and without a trailing `/`).
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin.map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase()) else {
        return true;
    };
    let same = host.is_some_and(|host| {
        let host = host.trim().to_ascii_lowercase();
        origin == format!("http://{host}") || origin == format!("https://{host}")
    });
    same || allowed
        .iter()
        .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(&origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_source: usize) -> SimulatorLimits {
        SimulatorLimits {
            origins: vec!["https://staff.example.org/".into()],
            max_connections: total,
            max_per_source: per_source,
        }
    }

    #[test]
    fn only_the_pages_own_origin_or_a_configured_one_is_allowed() {
        let allowed = limits(1, 1).origins;
        let host = Some("127.0.0.1:8080");
        assert!(origin_allowed(None, host, &allowed));
        assert!(origin_allowed(
            Some("http://127.0.0.1:8080"),
            host,
            &allowed
        ));
        assert!(origin_allowed(
            Some("HTTPS://127.0.0.1:8080/"),
            host,
            &allowed
        ));
        assert!(origin_allowed(
            Some("https://staff.example.org"),
            host,
            &allowed
        ));
        assert!(!origin_allowed(Some("http://evil.example"), host, &allowed));
        assert!(!origin_allowed(
            Some("http://127.0.0.1:8081"),
            host,
            &allowed
        ));
        assert!(!origin_allowed(Some("null"), host, &allowed));
        assert!(!origin_allowed(Some("http://127.0.0.1:8080"), None, &[]));
    }

    #[test]
    fn connections_are_limited_in_all_and_per_source_and_slots_come_back() {
        let gate = Arc::new(SimGate::default());
        let l = limits(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let one = gate.admit(&l, Some(a), None, None).unwrap();
        let _two = gate.admit(&l, Some(a), None, None).unwrap();
        assert_eq!(
            gate.admit(&l, Some(a), None, None).err(),
            Some(Refusal::TooMany)
        );
        let _three = gate.admit(&l, Some(b), None, None).unwrap();
        assert_eq!(
            gate.admit(&l, None, None, None).err(),
            Some(Refusal::TooMany)
        );
        drop(one);
        assert!(gate.admit(&l, Some(a), None, None).is_ok());
        let foreign = gate.admit(&l, Some(b), Some("http://evil.example"), Some("x"));
        assert_eq!(foreign.err(), Some(Refusal::ForeignOrigin));
    }
}
