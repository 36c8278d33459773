//! Login rate limiting: failed attempts counted per username and per source address over a
//! sliding window. A pure core: every call takes `now`; the HTTP layer holds it in a mutex.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures of one username allowed within `window`.
    pub per_username: usize,
    /// Failures from one address allowed within `window` (any usernames).
    pub per_address: usize,
    /// The sliding window.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        LoginLimits {
            per_username: 5,
            per_address: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Failed logins per username and per address.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    limits: LoginLimits,
    users: Failures<String>,
    addrs: Failures<IpAddr>,
}

impl LoginLimiter {
    /// A limiter with `limits`.
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter {
            limits,
            ..LoginLimiter::default()
        }
    }

    /// `Ok` when a login for `username` from `addr` may be tried at `now`; otherwise how long
    /// until it may.
    pub fn check(&mut self, username: &str, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let l = self.limits;
        let user = self.users.wait(username, l.per_username, l.window, now);
        let addr = self.addrs.wait(&addr, l.per_address, l.window, now);
        match user.max(addr) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Records a failed login.
    pub fn failed(&mut self, username: &str, addr: IpAddr, now: Instant) {
        let window = self.limits.window;
        self.users.record(username.to_string(), window, now);
        self.addrs.record(addr, window, now);
    }

    /// Forgets the username's failures after a successful login (the address keeps its own).
    pub fn succeeded(&mut self, username: &str) {
        self.users.0.remove(username);
    }
}

/// Failure times per key, oldest first.
#[derive(Debug)]
struct Failures<K>(HashMap<K, VecDeque<Instant>>);

impl<K> Default for Failures<K> {
    fn default() -> Self {
        Failures(HashMap::new())
    }
}

impl<K: Hash + Eq> Failures<K> {
    /// How long until `key` is under `limit` failures in the window, `None` if it is now.
    fn wait<Q>(&mut self, key: &Q, limit: usize, window: Duration, now: Instant) -> Option<Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let times = self.0.get_mut(key)?;
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() < limit {
            return None;
        }
        // The oldest failure that must age out for the count to drop below the limit.
        let oldest = times[times.len() - limit];
        Some(window.saturating_sub(now.duration_since(oldest)))
    }

    fn record(&mut self, key: K, window: Duration, now: Instant) {
        if self.0.len() > 10_000 {
            self.0
                .retain(|_, t| t.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        self.0.entry(key).or_default().push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_held_back_after_its_limit_until_the_window_passes() {
        let mut l = LoginLimiter::default();
        let (t0, a, b) = (
            Instant::now(),
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
        );
        for i in 0..5 {
            assert!(l.check("sato", a, t0).is_ok(), "attempt {i}");
            l.failed("sato", a, t0 + Duration::from_secs(i));
        }
        let wait = l
            .check("sato", b, t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(15 * 60 - 10));
        assert!(
            l.check("suzuki", a, t0).is_ok(),
            "other usernames are not held back"
        );
        assert!(l
            .check("sato", b, t0 + Duration::from_secs(15 * 60))
            .is_ok());
        l.succeeded("sato");
        assert!(l.check("sato", a, t0 + Duration::from_secs(11)).is_ok());
    }

    #[test]
    fn an_address_is_held_back_whatever_usernames_it_tries() {
        let mut l = LoginLimiter::default();
        let (t0, a) = (Instant::now(), "10.0.0.1".parse().unwrap());
        for i in 0..20 {
            l.failed(&format!("user{i}"), a, t0);
        }
        assert!(l.check("someone", a, t0).is_err());
        assert!(l.check("someone", "10.0.0.9".parse().unwrap(), t0).is_ok());
    }
}
