//! Login rate limiting: failed attempts counted per username and per source address over a
//! sliding window. The failures are kept in the store (`login_failures`), so every node on
//! one store counts the same ones; this file is the pure decision over them, taking `now`.

use std::time::{Duration, SystemTime};

use crate::store::RecentFailures;

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

impl LoginLimits {
    /// `Ok` when a login may be tried at `now`, given the `recent` failures of its username
    /// and address (newest first, as [`crate::store::Store::recent_login_failures`] returns
    /// them); otherwise how long until it may.
    pub fn check(&self, recent: &RecentFailures, now: SystemTime) -> Result<(), Duration> {
        let user = self.wait(&recent.username, self.per_username, now);
        let addr = self.wait(&recent.address, self.per_address, now);
        match user.max(addr) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// How long until fewer than `limit` of `times` (newest first) are inside the window.
    fn wait(&self, times: &[SystemTime], limit: usize, now: SystemTime) -> Option<Duration> {
        let inside: Vec<&SystemTime> = times
            .iter()
            .filter(|t| now.duration_since(**t).unwrap_or_default() < self.window)
            .collect();
        if limit == 0 {
            return Some(self.window);
        }
        // The oldest failure that must age out for the count to drop below the limit.
        let oldest = inside.get(limit - 1)?;
        let age = now.duration_since(**oldest).unwrap_or_default();
        Some(self.window.saturating_sub(age))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: SystemTime, secs: &[u64]) -> Vec<SystemTime> {
        let mut v: Vec<SystemTime> = secs.iter().map(|s| t0 + Duration::from_secs(*s)).collect();
        v.reverse();
        v
    }

    #[test]
    fn a_username_is_held_back_after_its_limit_until_the_window_passes() {
        let l = LoginLimits::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let four = RecentFailures {
            username: at(t0, &[0, 1, 2, 3]),
            address: vec![],
        };
        assert!(l.check(&four, t0 + Duration::from_secs(4)).is_ok());
        let five = RecentFailures {
            username: at(t0, &[0, 1, 2, 3, 4]),
            address: vec![],
        };
        let wait = l.check(&five, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(15 * 60 - 10));
        assert!(l.check(&five, t0 + Duration::from_secs(15 * 60)).is_ok());
        assert!(l.check(&RecentFailures::default(), t0).is_ok());
    }

    #[test]
    fn an_address_is_held_back_whatever_usernames_it_tries() {
        let l = LoginLimits::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let secs: Vec<u64> = (0..20).collect();
        let many = RecentFailures {
            username: vec![],
            address: at(t0, &secs),
        };
        let wait = l.check(&many, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(15 * 60 - 20));
        let nineteen = RecentFailures {
            username: vec![],
            address: at(t0, &secs[1..]),
        };
        assert!(l.check(&nineteen, t0 + Duration::from_secs(20)).is_ok());
    }
}
