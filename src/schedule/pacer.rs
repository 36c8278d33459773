//! The pacer: which attempts start now, which can no longer start, and when to look again.
//!
//! Rules:
//! - never more starts than free channels (the sum over trunks, given by the caller);
//! - no start inside the quiet hours, none at or after a call's window end, none before its
//!   due time;
//! - what is due starts in the one start order of [`super::claim`] (higher priority first,
//!   then the earlier due time, then the lower patient id), the order the store's claim uses;
//! - a slot's first attempts are spread, not burst: their due times are spread at planning
//!   ([`Pacer::first_attempts`], [`Pacer::planned_states`]) over the first `window − last
//!   offset` minutes after the first offset (20 minutes with the defaults), so even the last
//!   first attempt leaves room for all its retries inside the window. When capacity falls
//!   behind, due attempts go on as fast as channels free, up to the window end;
//! - an attempt still due when the window closes (or when quiet hours outlast it) is
//!   reported as [`Finish::Missed`]: backlog, never silently dropped.

use std::time::{Duration, SystemTime};

use super::claim::{start_key, StartKey};
use super::config::ScheduleConfig;
use super::state::{CallState, Finish, MissReason, Phase};
use crate::report::date::Slot;

/// Paces slot calls by the `[schedule]` rules. Holds configuration only; all state is the
/// [`CallState`]s the caller passes in.
#[derive(Debug, Clone)]
pub struct Pacer {
    config: ScheduleConfig,
}

/// The answer of [`Pacer::decide`]. Indices refer to the slice given to `decide`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Start these now, in this order (the start order): for each, [`Pacer::may_dial`]
    /// then [`CallState::start`]. Never longer than the free channels.
    pub start: Vec<usize>,
    /// These can no longer start; store each finish with `CallState::apply`.
    pub finish: Vec<(usize, Finish)>,
    /// Call `decide` again at this instant at the latest; also whenever a channel frees, an
    /// attempt ends or a call changes. `None` when nothing waits.
    pub next_deadline: Option<SystemTime>,
    /// Attempts due now that found no free channel.
    pub waiting_for_channel: usize,
}

impl Pacer {
    /// A pacer for this configuration.
    pub fn new(config: ScheduleConfig) -> Pacer {
        Pacer { config }
    }

    /// The configuration it paces by.
    pub fn config(&self) -> &ScheduleConfig {
        &self.config
    }

    /// How long after the first offset a slot's first attempts are spread: the window minus
    /// the last attempt offset (at least one minute, as validation keeps offsets inside the
    /// window).
    pub fn spread(&self) -> Duration {
        let last = self.config.attempt_offsets().last().copied();
        self.config
            .window()
            .saturating_sub(last.unwrap_or_default())
    }

    /// Decides which of `calls` start now, given `free_channels` and `now`. Pure: it changes
    /// nothing; calls may belong to several slots; finished and active calls are skipped.
    /// Calling it again at the same `now` after applying its answer starts nothing new.
    pub fn decide(&self, calls: &[CallState], free_channels: usize, now: SystemTime) -> Decision {
        let quiet_end = self.config.quiet_end(now);
        let mut decision = Decision::default();
        let mut deadline = Earliest(None);
        let mut ready = Vec::new();
        for (index, state) in calls.iter().enumerate() {
            let Phase::Waiting { due } = state.phase else {
                continue;
            };
            if let Some(finish) = self.expired(state, due, now, quiet_end) {
                decision.finish.push((index, finish));
                continue;
            }
            deadline.add(state.call.window_end);
            if quiet_end > now {
                deadline.add(quiet_end);
            } else if due > now {
                deadline.add(due);
            } else {
                ready.push(index);
            }
        }
        let due_now = ready.len();
        let key = |&i: &usize| order_key(&calls[i]);
        if ready.len() > free_channels {
            if free_channels > 0 {
                ready.select_nth_unstable_by_key(free_channels, key);
            }
            ready.truncate(free_channels);
        }
        ready.sort_unstable_by_key(key);
        decision.waiting_for_channel = due_now - ready.len();
        decision.start = ready;
        decision.next_deadline = deadline.0;
        decision
    }

    /// The finish of a waiting call that can no longer start, if so.
    fn expired(
        &self,
        state: &CallState,
        due: SystemTime,
        now: SystemTime,
        quiet_end: SystemTime,
    ) -> Option<Finish> {
        let end = state.call.window_end;
        if due >= end {
            Some(Finish::Unreached)
        } else if now >= end {
            Some(Finish::Missed(MissReason::Capacity))
        } else if quiet_end >= end {
            Some(Finish::Missed(MissReason::QuietHours))
        } else {
            None
        }
    }

    /// The first attempt offset (the start of the spread).
    pub(super) fn first_offset(&self) -> Duration {
        self.config
            .attempt_offsets()
            .first()
            .copied()
            .unwrap_or_default()
    }
}

/// A waiting call's place in the start order ([`start_key`]); a patient's two slots due at
/// the same instant go in slot order.
fn order_key(state: &CallState) -> (StartKey, Slot) {
    let due = match state.phase {
        Phase::Waiting { due } => due,
        _ => state.call.window_end,
    };
    let call = &state.call;
    (
        start_key(call.priority.rank(), due, call.patient),
        call.slot,
    )
}

/// The earliest of the instants added.
struct Earliest(Option<SystemTime>);

impl Earliest {
    fn add(&mut self, t: SystemTime) {
        self.0 = Some(self.0.map_or(t, |e| e.min(t)));
    }
}

#[cfg(test)]
mod tests {
    use super::super::attempt::AttemptOutcome;
    use super::super::config::{RawQuietHours, RawSchedule};
    use super::super::plan::{plan_day, tests::patient};
    use super::super::state::NextStep;
    use super::*;
    use crate::domain::Disposition;

    const MINUTE: Duration = Duration::from_secs(60);
    const SECOND: Duration = Duration::from_secs(1);

    fn slot(pacer: &Pacer, patients: &[(i64, &str)]) -> Vec<CallState> {
        let ps: Vec<_> = patients
            .iter()
            .map(|&(id, risk)| patient(id, &["09:00"], risk, "1990-01-01"))
            .collect();
        let calls = plan_day(pacer.config(), &ps, "2025-05-01".parse().unwrap());
        pacer.planned_states(&calls)
    }

    fn normal(n: i64) -> Vec<(i64, &'static str)> {
        (1..=n).map(|id| (id, "")).collect()
    }

    #[test]
    fn deciding_twice_at_the_same_instant_starts_nothing_new() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut calls = slot(&pacer, &normal(10));
        let at = calls[0].call.at;
        let d = pacer.decide(&calls, 5, at + 10 * MINUTE);
        assert_eq!(d.start.len(), 5); // 6 due by the spread, 5 channels
        assert_eq!(d.waiting_for_channel, 1);
        d.start
            .iter()
            .for_each(|&i| calls[i].start(at + 10 * MINUTE));
        let again = pacer.decide(&calls, 0, at + 10 * MINUTE);
        assert!(again.start.is_empty());
        assert_eq!(again.waiting_for_channel, 1);
        let freed = pacer.decide(&calls, 5, at + 10 * MINUTE);
        assert_eq!(freed.start.len(), 1);
    }

    #[test]
    fn high_priority_first_then_patient_id() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let list = [
            (5, ""),
            (4, "pregnant"),
            (3, ""),
            (2, "diabetes;copd"),
            (1, "diabetes"),
        ];
        let calls = slot(&pacer, &list);
        let at = calls[0].call.at;
        let d = pacer.decide(&calls, 3, at + 30 * MINUTE);
        let ids: Vec<i64> = d.start.iter().map(|&i| calls[i].call.patient.0).collect();
        assert_eq!(ids, [2, 4, 1]);
    }

    #[test]
    fn a_due_retry_of_high_priority_goes_before_normal_first_attempts() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut calls = slot(&pacer, &[(1, ""), (2, ""), (9, "age65")]);
        let at = calls[0].call.at;
        let high = calls.iter().position(|c| c.call.patient.0 == 9).unwrap();
        calls[high].start(at);
        let no_answer = AttemptOutcome::NotAnswered(Disposition::NoAnswer);
        let step = pacer.after_attempt(&calls[high], no_answer, at + 30 * SECOND);
        calls[high].apply(step);
        let d = pacer.decide(&calls, 1, at + 25 * MINUTE);
        assert_eq!(d.start, [high]);
        assert_eq!(d.waiting_for_channel, 2);
    }

    #[test]
    fn the_window_end_turns_waiting_calls_into_missed_backlog() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut calls = slot(&pacer, &normal(3));
        let at = calls[0].call.at;
        calls[0].start(at);
        let d = pacer.decide(&calls, 0, at + 59 * MINUTE);
        assert!(d.finish.is_empty());
        assert_eq!(d.next_deadline, Some(at + 60 * MINUTE));
        let d = pacer.decide(&calls, 10, at + 60 * MINUTE);
        let missed = Finish::Missed(MissReason::Capacity);
        assert_eq!(d.finish, [(1, missed), (2, missed)]);
        assert!(d.start.is_empty());
        calls[1].apply(NextStep::Finish(missed));
        calls[2].apply(NextStep::Finish(missed));
        assert_eq!(
            pacer.decide(&calls, 10, at + 61 * MINUTE),
            Decision::default()
        );
    }

    #[test]
    fn no_start_in_quiet_hours() {
        let raw = RawSchedule {
            quiet_hours: RawQuietHours {
                start: "09:10".into(),
                end: "09:30".into(),
            },
            ..RawSchedule::default()
        };
        let pacer = Pacer::new(raw.validate().unwrap());
        let calls = slot(&pacer, &normal(20));
        let at = calls[0].call.at;
        let d = pacer.decide(&calls, 100, at + 15 * MINUTE);
        assert!(d.start.is_empty());
        assert_eq!(d.next_deadline, Some(at + 30 * MINUTE));
        // After the quiet spell the spread is over: everything due starts.
        assert_eq!(pacer.decide(&calls, 100, at + 30 * MINUTE).start.len(), 20);
        let long = RawSchedule {
            slots: vec!["09:00".into()],
            quiet_hours: RawQuietHours {
                start: "09:10".into(),
                end: "12:00".into(),
            },
            ..RawSchedule::default()
        };
        let pacer = Pacer::new(long.validate().unwrap());
        let d = pacer.decide(&calls, 100, at + 15 * MINUTE);
        assert_eq!(d.finish.len(), 20);
        assert!(d
            .finish
            .iter()
            .all(|f| f.1 == Finish::Missed(MissReason::QuietHours)));
    }
}
