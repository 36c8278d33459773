//! The planner and pacer's decisions in the shape the store keeps them: one
//! [`Attempt`] per attempt.
//!
//! - [`Pacer::first_attempts`]: a slot's first attempts with their due times, spread over the
//!   spread time in call order (high priority first). The spread lives in these due times
//!   only: [`Pacer::decide`] and the store's claim both start what is due, in the one start
//!   order of [`super::claim`], so no node holds the whole slot in memory.
//!   [`Pacer::planned_states`] is the same plan as [`CallState`]s (simulations, backlog).
//! - [`Pacer::claimed_state`] / [`Pacer::next_attempt`]: a claimed attempt as a
//!   [`CallState`] for [`Pacer::may_dial`] and [`Pacer::after_attempt`], and the retry
//!   attempt a [`NextStep::Retry`] becomes.
//! - [`Pacer::states_from_rows`]: stored attempts back as slot calls, for the backlog.

use std::time::{Duration, SystemTime};

use super::attempt::AttemptOutcome;
use super::pacer::Pacer;
use super::plan::SlotCall;
use super::state::{CallState, CancelReason, Finish, NextStep, Phase};
use crate::domain::{Attempt, AttemptState, Disposition, PatientId};
use crate::ivr::CallOutcome;
use crate::report::date::Slot;

impl Pacer {
    /// `calls` (any slots, any order) with their first attempt's due time: within each slot,
    /// in call order (priority, then patient), call i of n is due at slot + first offset +
    /// i/n of the spread. The last first attempt thus starts by the end of the spread and
    /// still has every retry offset left inside the window. Returned in that order.
    pub fn spread_calls(&self, calls: &[SlotCall]) -> Vec<(SlotCall, SystemTime)> {
        let mut sorted: Vec<SlotCall> = calls.to_vec();
        sorted.sort_unstable_by_key(|c| (c.slot, c.priority, c.patient));
        let spread = self.spread();
        let first = self.first_offset();
        let mut out = Vec::with_capacity(calls.len());
        for group in sorted.chunk_by(|a, b| a.slot == b.slot) {
            let n = group.len() as u128;
            for (i, call) in group.iter().enumerate() {
                let offset = spread.as_millis() * i as u128 / n;
                let offset = Duration::from_millis(u64::try_from(offset).unwrap_or(u64::MAX));
                out.push((*call, call.at + first + offset));
            }
        }
        out
    }

    /// The first attempts of `calls`, pending at their [`Pacer::spread_calls`] due times:
    /// what the store keeps for a planned slot.
    pub fn first_attempts(&self, calls: &[SlotCall]) -> Vec<Attempt> {
        self.spread_calls(calls)
            .into_iter()
            .map(|(call, due_at)| Attempt {
                patient: call.patient,
                slot: call.slot,
                number: 1,
                due_at,
                window_end: call.window_end,
                priority: call.priority,
                slot_at: call.at,
                manual: false,
                state: AttemptState::Pending,
            })
            .collect()
    }

    /// The same plan as [`Pacer::first_attempts`], as slot calls waiting for their first
    /// attempt at its spread due time (in [`Pacer::spread_calls`] order).
    pub fn planned_states(&self, calls: &[SlotCall]) -> Vec<CallState> {
        self.spread_calls(calls)
            .into_iter()
            .map(|(call, due)| CallState {
                call,
                attempts: 0,
                phase: Phase::Waiting { due },
            })
            .collect()
    }

    /// A claimed attempt as the slot call's state just before it is dialled.
    pub fn claimed_state(&self, attempt: &Attempt) -> CallState {
        CallState {
            call: slot_call(attempt),
            attempts: attempt.number.saturating_sub(1),
            phase: Phase::Waiting {
                due: attempt.due_at,
            },
        }
    }

    /// The attempt after `attempt`, pending, when `step` is a retry.
    pub fn next_attempt(&self, attempt: &Attempt, step: NextStep) -> Option<Attempt> {
        let NextStep::Retry { due } = step else {
            return None;
        };
        Some(Attempt {
            number: attempt.number + 1,
            due_at: due,
            manual: false,
            state: AttemptState::Pending,
            ..attempt.clone()
        })
    }

    /// The slot calls behind stored attempts (calls staff asked for are left out), for
    /// [`Pacer::backlog`] and listings: one state per patient and slot, from its latest
    /// attempt. `attempts` may come in any order.
    pub fn states_from_rows<'a>(
        &self,
        attempts: impl IntoIterator<Item = &'a Attempt>,
    ) -> Vec<CallState> {
        let mut latest: std::collections::BTreeMap<(Slot, PatientId), &Attempt> =
            std::collections::BTreeMap::new();
        for a in attempts.into_iter().filter(|a| !a.manual) {
            let key = (a.slot, a.patient);
            if latest.get(&key).is_none_or(|l| l.number < a.number) {
                latest.insert(key, a);
            }
        }
        latest
            .into_values()
            .map(|a| {
                let (attempts, phase) = match &a.state {
                    AttemptState::Pending => (a.number - 1, Phase::Waiting { due: a.due_at }),
                    AttemptState::Claimed { .. } => (a.number, Phase::Active { started: a.due_at }),
                    AttemptState::Done { outcome, .. } => {
                        let finish = match outcome {
                            AttemptOutcome::Completed => Finish::Completed,
                            AttemptOutcome::WrongNumber => {
                                Finish::Cancelled(CancelReason::WrongNumber)
                            }
                            _ => Finish::Unreached,
                        };
                        (a.number, Phase::Finished(finish))
                    }
                    AttemptState::Cancelled { finish, .. } => {
                        (a.number - 1, Phase::Finished(*finish))
                    }
                };
                CallState {
                    call: slot_call(a),
                    attempts,
                    phase,
                }
            })
            .collect()
    }
}

/// The planned call an attempt belongs to.
fn slot_call(a: &Attempt) -> SlotCall {
    SlotCall {
        patient: a.patient,
        slot: a.slot,
        at: a.slot_at,
        window_end: a.window_end,
        priority: a.priority,
    }
}

impl AttemptOutcome {
    /// How an answered-or-not call ended: the SIP/AMD disposition and, once answered, the
    /// dialplan's own outcome.
    pub fn of_call(disposition: Disposition, flow: Option<CallOutcome>) -> AttemptOutcome {
        match (disposition, flow) {
            (Disposition::Answered | Disposition::Cancelled, Some(outcome)) => match outcome {
                CallOutcome::Completed => AttemptOutcome::Completed,
                CallOutcome::WrongNumber => AttemptOutcome::WrongNumber,
                CallOutcome::NoResponse => AttemptOutcome::NoResponse,
                CallOutcome::Incomplete => AttemptOutcome::Incomplete,
                // Hung up at the greeting, before a report started: nobody answered. (An
                // unavailable store only ends a flow that identifies, which automatic calls
                // do not; were one to, the slot is retried like an unanswered call.)
                CallOutcome::Abandoned
                | CallOutcome::NotIdentified
                | CallOutcome::StoreUnavailable => {
                    AttemptOutcome::NotAnswered(Disposition::NoAnswer)
                }
            },
            (Disposition::Answered, None) => AttemptOutcome::NotAnswered(Disposition::NoAnswer),
            (other, _) => AttemptOutcome::NotAnswered(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::ScheduleConfig;
    use super::super::plan::{plan_day, tests::patient};
    use super::*;
    use crate::domain::Priority;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn first_attempts_spread_high_priority_first_over_the_spread() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut ps: Vec<_> = (1..=8)
            .map(|id| patient(id, &["09:00", "14:00"], "", "1990-01-01"))
            .collect();
        ps.push(patient(9, &["09:00"], "age65", "1990-01-01"));
        let calls = plan_day(pacer.config(), &ps, "2025-05-01".parse().unwrap());
        let firsts = pacer.first_attempts(&calls);
        assert_eq!(firsts.len(), 17);
        let nine: Vec<_> = firsts
            .iter()
            .filter(|a| a.slot.time.to_string() == "09:00")
            .collect();
        let at = nine[0].slot_at;
        assert_eq!(nine[0].patient, PatientId(9), "high priority first");
        assert_eq!(nine[0].priority, Priority::High);
        assert_eq!(nine[0].rank(), 1);
        assert_eq!(nine[0].due_at, at);
        // 9 calls over a 20-minute spread (60 − 40): every 133.3 s, the last before +20 min.
        assert_eq!(nine[1].due_at, at + Duration::from_millis(133_333));
        assert!(nine[8].due_at < at + 20 * MINUTE);
        assert!(nine.windows(2).all(|w| w[0].due_at <= w[1].due_at));
        assert!(nine.iter().all(|a| a.window_end == at + 60 * MINUTE));
        let two: Vec<_> = firsts
            .iter()
            .filter(|a| a.slot.time.to_string() == "14:00")
            .collect();
        assert_eq!(two.len(), 8);
        assert_eq!(
            two[1].due_at,
            two[0].due_at + Duration::from_millis(150_000)
        );
    }

    fn claim(number: u32, due: SystemTime, at: SystemTime) -> Attempt {
        Attempt {
            patient: PatientId(3),
            slot: Slot {
                date: "2025-05-01".parse().unwrap(),
                time: "09:00".parse().unwrap(),
            },
            number,
            due_at: due,
            window_end: at + 60 * MINUTE,
            slot_at: at,
            priority: Priority::Normal,
            manual: false,
            state: AttemptState::Claimed {
                node: "n".into(),
                lease_until: at + 70 * MINUTE,
            },
        }
    }

    #[test]
    fn a_claimed_attempt_retries_by_the_pacer_rules() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let at = ScheduleConfig::default()
            .instant("2025-05-01".parse().unwrap(), "09:00".parse().unwrap());
        let c = claim(1, at + MINUTE, at);
        let mut state = pacer.claimed_state(&c);
        assert_eq!(state.attempts, 0);
        state.start(at + MINUTE);
        let busy = AttemptOutcome::of_call(Disposition::Busy, None);
        let step = pacer.after_attempt(&state, busy, at + MINUTE + 5 * Duration::from_secs(1));
        let next = pacer.next_attempt(&c, step).unwrap();
        assert_eq!((next.number, &next.state), (2, &AttemptState::Pending));
        assert_eq!(next.due_at, at + 21 * MINUTE + Duration::from_secs(5));
        // The third attempt is the last: after it, nothing.
        let c3 = claim(3, at + 41 * MINUTE, at);
        let mut state = pacer.claimed_state(&c3);
        state.start(at + 41 * MINUTE);
        let step = pacer.after_attempt(&state, busy, at + 42 * MINUTE);
        assert_eq!(step, NextStep::Finish(Finish::Unreached));
        assert!(pacer.next_attempt(&c3, step).is_none());
        // Completed and wrong number never retry.
        let done = AttemptOutcome::of_call(Disposition::Answered, Some(CallOutcome::Completed));
        assert_eq!(done.label(), "completed");
        let wrong = AttemptOutcome::of_call(Disposition::Answered, Some(CallOutcome::WrongNumber));
        let mut state = pacer.claimed_state(&c);
        state.start(at);
        assert_eq!(pacer.after_attempt(&state, wrong, at), NextStep::StopNumber);
    }

    #[test]
    fn planned_states_wait_at_the_first_attempts_due_times() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let ps: Vec<_> = (1..=5)
            .map(|id| {
                patient(
                    id,
                    &["09:00"],
                    if id == 4 { "pregnant" } else { "" },
                    "1990-01-01",
                )
            })
            .collect();
        let calls = plan_day(pacer.config(), &ps, "2025-05-01".parse().unwrap());
        let states = pacer.planned_states(&calls);
        let firsts = pacer.first_attempts(&calls);
        assert_eq!(states.len(), firsts.len());
        for (s, a) in states.iter().zip(&firsts) {
            assert_eq!(s.phase, Phase::Waiting { due: a.due_at });
            assert_eq!((s.call.patient, s.attempts), (a.patient, 0));
        }
        assert_eq!(states[0].call.patient, PatientId(4));
        // Read back from the store's attempts, the same calls wait at the same times.
        assert_eq!(pacer.states_from_rows(&firsts), {
            let mut by_patient = states.clone();
            by_patient.sort_by_key(|s| s.call.patient);
            by_patient
        });
    }

    #[test]
    fn outcomes_have_the_store_labels() {
        let cases = [
            (Disposition::Busy, None, "busy"),
            (Disposition::NoAnswer, None, "no_answer"),
            (Disposition::AnsweringMachine, None, "answering_machine"),
            (Disposition::Unreachable, None, "unreachable"),
            (Disposition::Rejected, None, "rejected"),
            (
                Disposition::Answered,
                Some(CallOutcome::Incomplete),
                "incomplete",
            ),
            (
                Disposition::Answered,
                Some(CallOutcome::NoResponse),
                "no_response",
            ),
            (
                Disposition::Answered,
                Some(CallOutcome::Abandoned),
                "no_answer",
            ),
            (
                Disposition::Cancelled,
                Some(CallOutcome::Completed),
                "completed",
            ),
        ];
        for (d, flow, label) in cases {
            assert_eq!(
                AttemptOutcome::of_call(d, flow).label(),
                label,
                "{d:?} {flow:?}"
            );
        }
    }
}
