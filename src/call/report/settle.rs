//! What follows a store request's end: the next step of identification, a report's id or
//! its journal entry, the answer's flag and alert, completion's follow-ups.

use std::time::Duration;

use super::{journal, Cx, Op, ReportDesk, Waiting};
use crate::call::io::StoreValue;
use crate::call::timers::Timer;
use crate::ivr::Identification;
use crate::report::Flag;
use crate::store::{JournalEntry, ReportRef};

impl ReportDesk {
    /// Carries a request's end (`None`: failed or timed out) through to what follows it.
    pub(super) fn settle(
        &mut self,
        waiting: Waiting,
        value: Option<StoreValue>,
        cx: &mut Cx,
    ) -> Option<Identification> {
        match (waiting, value) {
            (Waiting::CallerFailures(hersys_id, mmdd), Some(StoreValue::Count(n @ 1..))) => {
                let delay = Duration::from_secs(1 << (n - 1).min(4));
                tracing::info!(
                    failures = n,
                    delay_s = delay.as_secs(),
                    "identification slowed down"
                );
                cx.timers.set(Timer::IdentifySlowdown, cx.now + delay);
                self.in_flight = Some((None, Waiting::SlowDown(hersys_id, mmdd)));
            }
            // A store that cannot count the caller's failures will not identify either (and
            // the slow-down must not be skipped): the caller is told at once.
            (Waiting::CallerFailures(..), None) => return Some(unavailable()),
            (Waiting::CallerFailures(hersys_id, mmdd), Some(_)) => {
                self.send_identify(hersys_id, mmdd, cx)
            }
            (Waiting::Identify, Some(StoreValue::Identified(who))) => {
                return Some(self.identified(who))
            }
            // A store that failed or did not answer in time checked nothing: the keys may well
            // be right, so this is no failure; the flow asks the caller to call again later.
            (Waiting::Identify, _) => return Some(unavailable()),
            (Waiting::StartReport(mut report, patient, question, value, at), started) => {
                match started {
                    Some(StoreValue::Report(id)) => report.id = Some(id),
                    _ => {
                        let call_id = Some(self.setup.call_id.as_str());
                        let entry = JournalEntry::start(
                            &report.key,
                            patient,
                            self.setup.channel,
                            call_id,
                            self.setup.slot,
                            cx.wall,
                        );
                        journal(cx, entry);
                    }
                }
                self.report = Some(report);
                self.queue.push_front(Op::Answer {
                    question,
                    value,
                    at,
                });
            }
            (Waiting::Answer(report, question, _, _), Some(StoreValue::Assessed(assessment))) => {
                tracing::info!(
                    question = question.as_str(),
                    flag = assessment.flag.label(),
                    "answer stored"
                );
                if let (Flag::Red, Some(id)) = (assessment.flag, report.id) {
                    self.follow_with(Op::Alert(id));
                }
            }
            (Waiting::Answer(report, question, value, at), _) => {
                journal(
                    cx,
                    JournalEntry::answer(report.journal_ref(), question.as_str(), value, at),
                );
            }
            (Waiting::Complete(report, _), Some(_)) => {
                tracing::info!("report complete");
                // SPEC §4: a report on any channel cancels the slot calls it answers.
                // (Missed here, the scheduler's last check before dialling sees the report.)
                if let Some(patient) = self.patient {
                    self.queue.push_front(Op::CancelAttempts(patient));
                }
                if let Some(id) = report.id {
                    self.follow_with(Op::Alert(id));
                }
            }
            (Waiting::Complete(report, at), None) => {
                journal(cx, JournalEntry::complete(report.journal_ref(), at));
            }
            (Waiting::CancelAttempts, Some(StoreValue::Count(n @ 1..))) => {
                tracing::info!(cancelled = n, "automatic calls cancelled by the report");
            }
            (Waiting::Alert(report), None) => {
                journal(
                    cx,
                    JournalEntry::Alert {
                        report: ReportRef::Id(report.0),
                    },
                );
            }
            (Waiting::SlowDown(hersys_id, mmdd), _) => self.send_identify(hersys_id, mmdd, cx),
            (Waiting::CancelAttempts | Waiting::Alert(_) | Waiting::Record, _) => {}
        }
        None
    }

    fn identified(&mut self, who: crate::store::Identification) -> Identification {
        match who {
            crate::store::Identification::Patient(p) => {
                tracing::info!("caller identified");
                self.patient = Some(p.id);
                self.report = None;
                Identification::Confirmed
            }
            other => {
                let locked = matches!(other, crate::store::Identification::Locked);
                tracing::info!(locked, "caller not identified");
                Identification::NotConfirmed
            }
        }
    }

    /// Queues a red-alert check right after the request that found the report red (the
    /// alert worker decides whether it is red; nothing goes out with alerts disabled).
    fn follow_with(&mut self, alert: Op) {
        if self.setup.alerts {
            self.queue.push_front(alert);
        }
    }
}

/// Identification the store could not carry out (failed, or no answer by the write timeout).
fn unavailable() -> Identification {
    tracing::warn!("caller could not be identified: report store unavailable");
    Identification::Unavailable
}
