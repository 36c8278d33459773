//! The interpreter's named timers. The next deadline is the earliest one set.

use std::time::Instant;

/// A timer the interpreter can be waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// From the end of a step's prompts to the first key.
    FirstDigit,
    /// From one key of an entry to the next.
    InterDigit,
}

/// The deadlines of all [`Timer`]s; unset timers are `None`.
#[derive(Debug, Default, Clone)]
pub(super) struct Timers {
    first_digit: Option<Instant>,
    inter_digit: Option<Instant>,
}

impl Timers {
    /// Sets (or moves) a timer.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        *self.slot(timer) = Some(at);
    }

    /// Cancels a timer; harmless when it is not set.
    pub fn cancel(&mut self, timer: Timer) {
        *self.slot(timer) = None;
    }

    /// Cancels every timer.
    pub fn clear(&mut self) {
        *self = Timers::default();
    }

    /// The earliest deadline, if any timer is set.
    pub fn next(&self) -> Option<Instant> {
        [self.first_digit, self.inter_digit]
            .into_iter()
            .flatten()
            .min()
    }

    /// The earliest timer due at `now`, unset as it is returned; `None` when none is due.
    pub fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        let due = [
            (Timer::FirstDigit, self.first_digit),
            (Timer::InterDigit, self.inter_digit),
        ]
        .into_iter()
        .filter_map(|(t, at)| at.filter(|at| *at <= now).map(|at| (at, t)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, t)| t)?;
        self.cancel(due);
        Some(due)
    }

    fn slot(&mut self, timer: Timer) -> &mut Option<Instant> {
        match timer {
            Timer::FirstDigit => &mut self.first_digit,
            Timer::InterDigit => &mut self.inter_digit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn next_deadline_is_the_minimum_and_expiry_unsets() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        assert_eq!(timers.next(), None);
        timers.set(Timer::FirstDigit, t0 + Duration::from_secs(8));
        timers.set(Timer::InterDigit, t0 + Duration::from_secs(4));
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(4)));
        assert_eq!(timers.take_expired(t0 + Duration::from_secs(3)), None);
        let late = t0 + Duration::from_secs(9);
        assert_eq!(timers.take_expired(late), Some(Timer::InterDigit));
        assert_eq!(timers.take_expired(late), Some(Timer::FirstDigit));
        assert_eq!(timers.take_expired(late), None);
        assert_eq!(timers.next(), None);
    }
}
