//! How an attempt's outcome decides a slot call's next step, and the last check before
//! dialling.
//!
//! Rules (SPEC §4, §5a):
//! - completed: done. Wrong number (key 9): stop every call to that number.
//! - answered but incomplete: retried sooner, `incomplete_retry` after that attempt ended.
//! - anything else (no answer, busy, rejected, unreachable, answering machine, no key at the
//!   greeting, a failed trunk): the next attempt n starts at the later of slot + offset n and
//!   the previous attempt's end + (offset n − offset n−1).
//! - a retry that would start at or after the window end is not made: the call finishes
//!   [`Finish::Unreached`]; so does a call whose attempts are all used.
//! - a complete report on any channel at or after the slot instant, observation ended, calling
//!   off, the call time or period removed, or the number blocked cancels the remaining attempts.

use std::time::SystemTime;

use super::pacer::Pacer;
use super::plan::{PatientSettings, SlotCall};
use super::state::{CallState, CancelReason, Finish, MissReason, NextStep, Phase};

pub use crate::domain::AttemptOutcome;

/// What the patient's record says now, read just before dialling.
#[derive(Debug, Clone, Copy)]
pub struct PatientNow<'a> {
    /// Current settings (calling on/off, periods, call times).
    pub settings: &'a PatientSettings,
    /// When the latest complete report (any channel) was received, if ever.
    pub last_complete_report: Option<SystemTime>,
    /// The number was reported as a wrong number.
    pub number_blocked: bool,
}

/// The answer of [`Pacer::may_dial`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialCheck {
    /// Dial now.
    Dial,
    /// Not yet; ask again at `until`.
    Wait {
        /// When the attempt may start.
        until: SystemTime,
    },
    /// Do not dial; store this finish.
    Finish(Finish),
}

impl Pacer {
    /// The step after the attempt on the line in `state` (number `state.attempts`, from 1)
    /// ended at `ended` with `outcome`. A state that never started an attempt, or has used
    /// every offset, gets no retry ([`Finish::Unreached`]) unless the outcome finishes it.
    pub fn after_attempt(
        &self,
        state: &CallState,
        outcome: AttemptOutcome,
        ended: SystemTime,
    ) -> NextStep {
        let config = self.config();
        let offsets = config.attempt_offsets();
        let made = state.attempts as usize;
        let due = match outcome {
            AttemptOutcome::Completed => return NextStep::Finish(Finish::Completed),
            AttemptOutcome::WrongNumber => return NextStep::StopNumber,
            _ if made >= offsets.len() || made == 0 => return NextStep::Finish(Finish::Unreached),
            AttemptOutcome::Incomplete => ended + config.incomplete_retry(),
            _ => {
                let gap = offsets[made] - offsets[made - 1];
                (state.call.at + offsets[made]).max(ended + gap)
            }
        };
        if due >= state.call.window_end {
            NextStep::Finish(Finish::Unreached)
        } else {
            NextStep::Retry { due }
        }
    }

    /// Why the remaining attempts of `call` must stop, given the patient's record now;
    /// `None` while they may go on. Run it for waiting calls whenever a report arrives or
    /// staff change a patient, so queued attempts stop at once.
    pub fn cancellation(&self, call: &SlotCall, patient: &PatientNow<'_>) -> Option<CancelReason> {
        let settings = patient.settings;
        let date = call.slot.date;
        let reason = if patient.number_blocked {
            CancelReason::WrongNumber
        } else if !settings.auto_call {
            CancelReason::AutoCallOff
        } else if !settings.observation.contains(date) {
            CancelReason::ObservationEnded
        } else if !settings.calls_on(date) || !settings.call_times.contains(&call.slot.time) {
            CancelReason::NoLongerScheduled
        } else if patient.last_complete_report.is_some_and(|t| t >= call.at) {
            CancelReason::ReportReceived
        } else {
            return None;
        };
        Some(reason)
    }

    /// The last check before dialling the next attempt of `state` at `now`: cancellations
    /// first, then the window, the due time and the quiet hours (a quiet spell that outlasts
    /// the window makes the attempt missed). Never dials a call that is not waiting.
    pub fn may_dial(
        &self,
        state: &CallState,
        patient: &PatientNow<'_>,
        now: SystemTime,
    ) -> DialCheck {
        let due = match state.phase {
            Phase::Waiting { due } => due,
            Phase::Finished(finish) => return DialCheck::Finish(finish),
            Phase::Active { .. } => {
                return DialCheck::Wait {
                    until: state.call.window_end,
                }
            }
        };
        let call = &state.call;
        if let Some(reason) = self.cancellation(call, patient) {
            return DialCheck::Finish(Finish::Cancelled(reason));
        }
        if due >= call.window_end {
            return DialCheck::Finish(Finish::Unreached);
        }
        if now >= call.window_end {
            return DialCheck::Finish(Finish::Missed(MissReason::Capacity));
        }
        if now < due {
            return DialCheck::Wait { until: due };
        }
        let open = self.config().quiet_end(now);
        if open >= call.window_end {
            DialCheck::Finish(Finish::Missed(MissReason::QuietHours))
        } else if open > now {
            DialCheck::Wait { until: open }
        } else {
            DialCheck::Dial
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::config::{RawQuietHours, RawSchedule, ScheduleConfig};
    use super::super::plan::{plan_day, tests::patient, Period};
    use super::*;
    use crate::domain::Disposition;
    use crate::report::date::Date;

    const MINUTE: Duration = Duration::from_secs(60);
    const SECOND: Duration = Duration::from_secs(1);

    fn first_call(pacer: &Pacer, settings: &PatientSettings) -> CallState {
        let date: Date = "2025-05-01".parse().unwrap();
        let call = plan_day(pacer.config(), std::slice::from_ref(settings), date)[0];
        CallState::new(call, pacer)
    }

    /// Starts the next attempt at `start` and ends it `length` later with `outcome`.
    fn attempt(
        pacer: &Pacer,
        s: &mut CallState,
        start: SystemTime,
        length: Duration,
        outcome: AttemptOutcome,
    ) -> NextStep {
        s.start(start);
        let step = pacer.after_attempt(s, outcome, start + length);
        s.apply(step);
        step
    }

    #[test]
    fn unanswered_attempts_retry_at_their_offsets_after_the_previous_end() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut s = first_call(&pacer, &patient(1, &["09:00"], "", "1990-01-01"));
        let at = s.call.at;
        assert_eq!(s.phase, Phase::Waiting { due: at });
        let no_answer = AttemptOutcome::NotAnswered(Disposition::NoAnswer);
        let step = attempt(&pacer, &mut s, at, 30 * SECOND, no_answer);
        assert_eq!(
            step,
            NextStep::Retry {
                due: at + 20 * MINUTE + 30 * SECOND
            }
        );
        let busy = AttemptOutcome::NotAnswered(Disposition::Busy);
        let step = attempt(&pacer, &mut s, at + 21 * MINUTE, 5 * SECOND, busy);
        assert_eq!(
            step,
            NextStep::Retry {
                due: at + 41 * MINUTE + 5 * SECOND
            }
        );
        let machine = AttemptOutcome::NotAnswered(Disposition::AnsweringMachine);
        let step = attempt(&pacer, &mut s, at + 42 * MINUTE, MINUTE, machine);
        assert_eq!(step, NextStep::Finish(Finish::Unreached));
        assert_eq!((s.attempts, s.is_waiting()), (3, false));
    }

    #[test]
    fn a_short_first_attempt_still_waits_for_the_next_offset() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut s = first_call(&pacer, &patient(1, &["09:00"], "", "1990-01-01"));
        let at = s.call.at;
        let step = attempt(
            &pacer,
            &mut s,
            at,
            Duration::ZERO,
            AttemptOutcome::NoResponse,
        );
        assert_eq!(
            step,
            NextStep::Retry {
                due: at + 20 * MINUTE
            }
        );
    }

    #[test]
    fn a_retry_past_the_window_is_not_made() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut s = first_call(&pacer, &patient(1, &["09:00"], "", "1990-01-01"));
        let at = s.call.at;
        let rejected = AttemptOutcome::NotAnswered(Disposition::Rejected);
        // A first attempt started late in the window by pacing: its retry would be 10:01.
        let step = attempt(&pacer, &mut s, at + 40 * MINUTE, MINUTE, rejected);
        assert_eq!(step, NextStep::Finish(Finish::Unreached));
    }

    #[test]
    fn an_incomplete_report_is_retried_sooner() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut s = first_call(&pacer, &patient(1, &["09:00"], "", "1990-01-01"));
        let at = s.call.at;
        let step = attempt(&pacer, &mut s, at, 5 * MINUTE, AttemptOutcome::Incomplete);
        assert_eq!(
            step,
            NextStep::Retry {
                due: at + 15 * MINUTE
            }
        );
        let step = attempt(
            &pacer,
            &mut s,
            at + 15 * MINUTE,
            4 * MINUTE,
            AttemptOutcome::Completed,
        );
        assert_eq!(step, NextStep::Finish(Finish::Completed));
        assert_eq!(s.phase, Phase::Finished(Finish::Completed));
    }

    #[test]
    fn a_wrong_number_stops_the_number() {
        let pacer = Pacer::new(ScheduleConfig::default());
        let mut s = first_call(&pacer, &patient(1, &["09:00"], "", "1990-01-01"));
        let at = s.call.at;
        let step = attempt(&pacer, &mut s, at, MINUTE, AttemptOutcome::WrongNumber);
        assert_eq!(step, NextStep::StopNumber);
        let wrong = Finish::Cancelled(CancelReason::WrongNumber);
        assert_eq!(s.phase, Phase::Finished(wrong));
    }

    #[test]
    fn may_dial_checks_the_record_then_the_clock() {
        let raw = RawSchedule {
            quiet_hours: RawQuietHours {
                start: "09:30".into(),
                end: "09:45".into(),
            },
            ..RawSchedule::default()
        };
        let pacer = Pacer::new(raw.validate().unwrap());
        let settings = patient(1, &["09:00"], "", "1990-01-01");
        let s = first_call(&pacer, &settings);
        let at = s.call.at;
        let check = |settings: &PatientSettings, report: Option<SystemTime>, blocked, now| {
            let now_state = PatientNow {
                settings,
                last_complete_report: report,
                number_blocked: blocked,
            };
            pacer.may_dial(&s, &now_state, now)
        };
        let cancelled = |r| DialCheck::Finish(Finish::Cancelled(r));
        assert_eq!(check(&settings, None, false, at), DialCheck::Dial);
        assert_eq!(
            check(&settings, None, false, at - SECOND),
            DialCheck::Wait { until: at }
        );
        // Quiet 09:30–09:45 ends before the window does: wait for it.
        let quiet = at + 31 * MINUTE;
        assert_eq!(
            check(&settings, None, false, quiet),
            DialCheck::Wait {
                until: at + 45 * MINUTE
            }
        );
        let closed = DialCheck::Finish(Finish::Missed(MissReason::Capacity));
        assert_eq!(check(&settings, None, false, at + 60 * MINUTE), closed);
        // A report before the slot does not count; one after it cancels.
        assert_eq!(
            check(&settings, Some(at - MINUTE), false, at),
            DialCheck::Dial
        );
        let after = check(&settings, Some(at + MINUTE), false, at + 2 * MINUTE);
        assert_eq!(after, cancelled(CancelReason::ReportReceived));
        assert_eq!(
            check(&settings, None, true, at),
            cancelled(CancelReason::WrongNumber)
        );
        let mut changed = settings.clone();
        changed.observation.end = "2025-04-30".parse().unwrap();
        assert_eq!(
            check(&changed, None, false, at),
            cancelled(CancelReason::ObservationEnded)
        );
        changed = settings.clone();
        changed.auto_call = false;
        assert_eq!(
            check(&changed, None, false, at),
            cancelled(CancelReason::AutoCallOff)
        );
        changed = settings.clone();
        changed.call_times = vec!["14:00".parse().unwrap()];
        assert_eq!(
            check(&changed, None, false, at),
            cancelled(CancelReason::NoLongerScheduled)
        );
        changed = settings.clone();
        let may2 = "2025-05-02".parse().unwrap();
        changed.call_period = Some(Period {
            start: may2,
            end: may2,
        });
        assert_eq!(
            check(&changed, None, false, at),
            cancelled(CancelReason::NoLongerScheduled)
        );
    }

    #[test]
    fn quiet_hours_that_outlast_the_window_make_the_attempt_missed() {
        let raw = RawSchedule {
            quiet_hours: RawQuietHours {
                start: "09:30".into(),
                end: "11:00".into(),
            },
            ..RawSchedule::default()
        };
        let pacer = Pacer::new(raw.validate().unwrap());
        let settings = patient(1, &["09:00"], "", "1990-01-01");
        let s = first_call(&pacer, &settings);
        let now_state = PatientNow {
            settings: &settings,
            last_complete_report: None,
            number_blocked: false,
        };
        let missed = DialCheck::Finish(Finish::Missed(MissReason::QuietHours));
        assert_eq!(
            pacer.may_dial(&s, &now_state, s.call.at + 30 * MINUTE),
            missed
        );
    }
}
