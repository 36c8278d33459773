//! A slot's backlog and expected finish, so staff see when a slot cannot finish in its window
//! (SPEC §4) and metrics can export `carecall_slot_backlog_calls`.
//!
//! The estimate is a simple fluid model: waiting and active calls share `channels` channels,
//! each call taking `average_call`; first attempts cannot run ahead of the spread and retries
//! not before their due time. It counts one attempt per waiting call (its next one); retries
//! that later failures will add are not forecast. Slots whose windows overlap share channels
//! in reality; each slot is estimated as if it had them all.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::pacer::Pacer;
use super::state::{CallState, Finish, Phase};
use crate::report::date::Slot;

/// One slot's progress at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotBacklog {
    /// The slot.
    pub slot: Slot,
    /// The slot instant.
    pub at: SystemTime,
    /// No attempt starts at or after this instant.
    pub window_end: SystemTime,
    /// Planned calls in the slot.
    pub calls: usize,
    /// Calls whose next attempt has not started yet (the backlog gauge).
    pub not_started: usize,
    /// Of those, calls never dialled.
    pub never_called: usize,
    /// Calls with an attempt on the line.
    pub active: usize,
    /// Calls that completed a report.
    pub completed: usize,
    /// Calls cancelled (report on another channel, observation ended, calling off, …).
    pub cancelled: usize,
    /// Calls that used every attempt the window allowed without a complete report.
    pub unreached: usize,
    /// Calls whose due attempt never started before the window closed.
    pub missed: usize,
    /// When the last waiting attempt is expected to end; `None` when work remains but there
    /// are no channels.
    pub expected_finish: Option<SystemTime>,
    /// Waiting calls expected not to start before the window end at this capacity.
    pub expected_missed: usize,
}

impl SlotBacklog {
    /// True when the slot is not expected to finish inside its window.
    pub fn overruns(&self) -> bool {
        self.expected_missed > 0 || self.expected_finish.is_none_or(|f| f > self.window_end)
    }
}

impl Pacer {
    /// The backlog of every slot in `calls` at `now`, in slot order, given the total
    /// `channels` (free or busy) and the average call duration.
    pub fn backlog(
        &self,
        calls: &[CallState],
        channels: usize,
        average_call: Duration,
        now: SystemTime,
    ) -> Vec<SlotBacklog> {
        let mut slots: BTreeMap<Slot, (SlotBacklog, SystemTime)> = BTreeMap::new();
        for state in calls {
            let (b, latest_due) = slots
                .entry(state.call.slot)
                .or_insert_with(|| (empty(state), state.call.at));
            b.calls += 1;
            match state.phase {
                Phase::Waiting { due } => {
                    b.not_started += 1;
                    b.never_called += usize::from(state.attempts == 0);
                    *latest_due = (*latest_due).max(due);
                }
                Phase::Active { .. } => b.active += 1,
                Phase::Finished(Finish::Completed) => b.completed += 1,
                Phase::Finished(Finish::Cancelled(_)) => b.cancelled += 1,
                Phase::Finished(Finish::Unreached) => b.unreached += 1,
                Phase::Finished(Finish::Missed(_)) => b.missed += 1,
            }
        }
        let estimate = Estimate {
            pacer: self,
            channels,
            average_call,
            now,
        };
        slots
            .into_values()
            .map(|(b, latest_due)| estimate.apply(b, latest_due))
            .collect()
    }
}

fn empty(state: &CallState) -> SlotBacklog {
    SlotBacklog {
        slot: state.call.slot,
        at: state.call.at,
        window_end: state.call.window_end,
        calls: 0,
        not_started: 0,
        never_called: 0,
        active: 0,
        completed: 0,
        cancelled: 0,
        unreached: 0,
        missed: 0,
        expected_finish: None,
        expected_missed: 0,
    }
}

struct Estimate<'a> {
    pacer: &'a Pacer,
    channels: usize,
    average_call: Duration,
    now: SystemTime,
}

impl Estimate<'_> {
    fn apply(&self, mut b: SlotBacklog, latest_due: SystemTime) -> SlotBacklog {
        let work = b.not_started + b.active;
        let start = self.now.max(b.at + self.pacer.first_offset());
        if work == 0 {
            b.expected_finish = Some(self.now);
            return b;
        }
        if self.channels == 0 {
            b.expected_missed = b.not_started;
            return b;
        }
        let rounds = work.div_ceil(self.channels);
        let by_capacity = start + self.average_call * u32::try_from(rounds).unwrap_or(u32::MAX);
        let by_due = latest_due.max(self.last_first_start(&b, start)) + self.average_call;
        b.expected_finish = Some(by_capacity.max(by_due));
        let left = b.window_end.duration_since(start).unwrap_or_default();
        let start_rounds = if self.average_call.is_zero() {
            usize::MAX
        } else {
            usize::try_from(left.as_nanos().div_ceil(self.average_call.as_nanos()))
                .unwrap_or(usize::MAX)
        };
        let startable = self
            .channels
            .saturating_mul(start_rounds)
            .saturating_sub(b.active);
        b.expected_missed = b.not_started.saturating_sub(startable);
        b
    }

    /// The earliest the spread lets the last never-called call start.
    fn last_first_start(&self, b: &SlotBacklog, start: SystemTime) -> SystemTime {
        if b.never_called == 0 {
            return start;
        }
        let total = b.calls - b.cancelled;
        let spread_start = b.at + self.pacer.first_offset();
        let step = self.pacer.spread() / u32::try_from(total.max(1)).unwrap_or(u32::MAX);
        let last = spread_start + step * u32::try_from(total - 1).unwrap_or(u32::MAX);
        last.max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::ScheduleConfig;
    use super::super::plan::{plan_day, tests::patient};
    use super::*;
    use crate::report::date::Date;

    const MINUTE: Duration = Duration::from_secs(60);

    fn states(pacer: &Pacer, n: i64) -> Vec<CallState> {
        let patients: Vec<_> = (1..=n)
            .map(|i| patient(i, &["09:00"], "", "1990-01-01"))
            .collect();
        let date: Date = "2025-05-01".parse().unwrap();
        let calls = plan_day(pacer.config(), &patients, date);
        calls
            .into_iter()
            .map(|c| CallState::new(c, pacer))
            .collect()
    }

    #[test]
    fn ten_thousand_patients_on_thirty_channels_overrun_the_window() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let calls = states(&pacer, 10_000);
        let at = calls[0].call.at;
        let b = pacer.backlog(&calls, 30, 3 * MINUTE, at - 10 * MINUTE);
        assert_eq!(b.len(), 1);
        let b = b[0];
        assert_eq!(
            (b.calls, b.not_started, b.never_called, b.active),
            (10_000, 10_000, 10_000, 0)
        );
        // 30 channels × 20 three-minute rounds = 600 calls fit in the hour.
        assert_eq!(b.expected_missed, 9_400);
        // 334 rounds of 3 minutes from 09:00.
        assert_eq!(b.expected_finish, Some(at + 1_002 * MINUTE));
        assert!(b.overruns());
    }

    #[test]
    fn a_small_slot_finishes_after_its_spread() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let calls = states(&pacer, 40);
        let at = calls[0].call.at;
        let b = pacer.backlog(&calls, 30, 3 * MINUTE, at)[0];
        // Capacity alone would take 2 rounds (6 min); the 40th first attempt waits for the
        // spread: 09:00 + 39 × 30 s, then 3 minutes on the line.
        assert_eq!(
            b.expected_finish,
            Some(at + 39 * Duration::from_secs(30) + 3 * MINUTE)
        );
        assert_eq!(b.expected_missed, 0);
        assert!(!b.overruns());
    }

    #[test]
    fn no_channels_means_no_finish_and_finished_slots_are_done_now() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut calls = states(&pacer, 3);
        let at = calls[0].call.at;
        let b = pacer.backlog(&calls, 0, 3 * MINUTE, at)[0];
        assert_eq!((b.expected_finish, b.expected_missed), (None, 3));
        calls[0].apply(super::super::state::NextStep::Finish(Finish::Completed));
        calls[1].start(at);
        calls[2].apply(super::super::state::NextStep::Finish(Finish::Unreached));
        let b = pacer.backlog(&calls, 10, 3 * MINUTE, at)[0];
        assert_eq!(
            (b.completed, b.active, b.unreached, b.not_started),
            (1, 1, 1, 0)
        );
        assert_eq!(b.expected_finish, Some(at + 3 * MINUTE));
        calls[1].apply(super::super::state::NextStep::Finish(Finish::Completed));
        let later = at + 5 * MINUTE;
        assert_eq!(
            pacer.backlog(&calls, 10, 3 * MINUTE, later)[0].expected_finish,
            Some(later)
        );
    }
}
