//! When to try a failed delivery again: exponential backoff, capped, with a bounded number of
//! attempts. Pure: the worker passes the time.

use std::time::{Duration, SystemTime};

/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(300);

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; each later failure doubles it, up to [`MAX_DELAY`].
    pub first_retry: Duration,
    /// Attempts in all, the first included; after the last one fails the alert is given up.
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// The wait after attempt `attempt` (1-based) failed.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.first_retry
            .checked_mul(1 << doublings)
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY)
    }

    /// When to make the next attempt after attempt `attempt` failed at `at`; `None` when it
    /// was the last one allowed.
    pub fn retry_at(&self, attempt: u32, at: SystemTime) -> Option<SystemTime> {
        (attempt < self.max_attempts).then(|| at + self.delay_after(attempt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_attempts_are_bounded() {
        let p = RetryPolicy {
            first_retry: Duration::from_secs(1),
            max_attempts: 12,
        };
        let waits: Vec<u64> = (1..=11).map(|n| p.delay_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(p.delay_after(u32::MAX), MAX_DELAY, "no overflow");
        let t = SystemTime::UNIX_EPOCH;
        assert_eq!(p.retry_at(3, t), Some(t + Duration::from_secs(4)));
        assert_eq!(p.retry_at(11, t), Some(t + MAX_DELAY));
        assert_eq!(p.retry_at(12, t), None, "the twelfth attempt was the last");
        let once = RetryPolicy {
            max_attempts: 1,
            ..p
        };
        assert_eq!(once.retry_at(1, t), None);
    }
}
