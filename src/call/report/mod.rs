//! One call's side of the report store, sans-IO: identification (with slow-down of repeated
//! failures from one caller), the current report, each answer written the moment it is
//! confirmed, red alerts, and the call record at the end.
//!
//! Requests go out one at a time, in the order the flow asked for them, so a report's start,
//! answers and completion reach the store in order. A store failure never ends a call: the
//! failure is logged (without values) and counted. A request without a reply by
//! `[journal] write_timeout` is given up: what must not be lost (a report's start, answers,
//! completion, a red alert) becomes a journal entry, the flow goes on, and a late reply is
//! ignored. The flow waits only for identification.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

mod settle;

use super::io::{Output, SessionEvent, StoreCall, StoreRequestId, StoreValue};
use super::timers::{Timer, TimerTable};
use crate::ivr::{Identification, QuestionId};
use crate::pii::Redacted;
use crate::report::{AnswerValue, Channel, Slot};
use crate::store::{CallRecord, JournalEntry, PatientId, ReportId, ReportRef, StoreError};

/// How far back identification failures from one caller count.
const FAILURE_WINDOW: Duration = Duration::from_secs(3600);

/// Who the call's reports are for, fixed when the call starts.
#[derive(Debug, Clone)]
pub struct ReportSetup {
    /// carecall's call id.
    pub call_id: String,
    /// The calling number (identification slow-down, the identify audit).
    pub caller: Redacted<String>,
    /// Health Call (inbound) or automatic call (outbound).
    pub channel: Channel,
    /// The slot of an automatic call.
    pub slot: Option<Slot>,
    /// The patient of an automatic call.
    pub patient: Option<PatientId>,
    /// Reports' journal keys are this plus a counter, in hex (random per call).
    pub key_seed: u128,
    /// Whether there is a store at all (without one nothing is written, nobody identified).
    pub has_store: bool,
    /// Whether red alerts are enabled.
    pub alerts: bool,
    /// How long a store request may take before it is given up.
    pub write_timeout: Duration,
}

/// What the flow asked of the store, queued in order.
#[derive(Debug)]
enum Op {
    Identify {
        hersys_id: Redacted<String>,
        mmdd: Redacted<String>,
    },
    Answer {
        question: QuestionId,
        value: AnswerValue,
        at: SystemTime,
    },
    Complete {
        at: SystemTime,
    },
    NewReport,
    /// Follows a stored red answer or a completion.
    Alert(ReportId),
    /// Follows a completion.
    CancelAttempts(PatientId),
    Record(Box<CallRecord>),
}

/// The report answers go to: its key, and its id once the store has it.
#[derive(Debug, Clone)]
struct CallReport {
    key: String,
    id: Option<ReportId>,
}

impl CallReport {
    fn journal_ref(&self) -> ReportRef {
        match self.id {
            Some(id) => ReportRef::Id(id.0),
            None => ReportRef::Key(self.key.clone()),
        }
    }
}

/// What the request in flight is for, and what follows its reply.
#[derive(Debug)]
enum Waiting {
    CallerFailures(Redacted<String>, Redacted<String>),
    SlowDown(Redacted<String>, Redacted<String>),
    Identify,
    StartReport(CallReport, PatientId, QuestionId, AnswerValue, SystemTime),
    Answer(CallReport, QuestionId, AnswerValue, SystemTime),
    Complete(CallReport, SystemTime),
    CancelAttempts,
    Alert(ReportId),
    Record,
}

/// Where outputs go and timers are set while the desk works.
pub(super) struct Cx<'a> {
    pub out: &'a mut VecDeque<Output>,
    pub timers: &'a mut TimerTable,
    pub now: Instant,
    /// The wall-clock time matching `now`.
    pub wall: SystemTime,
}

/// The store side of one call.
pub(super) struct ReportDesk {
    setup: ReportSetup,
    patient: Option<PatientId>,
    report: Option<CallReport>,
    reports_started: u128,
    queue: VecDeque<Op>,
    in_flight: Option<(Option<StoreRequestId>, Waiting)>,
    next_id: u64,
}

impl ReportDesk {
    pub(super) fn new(setup: ReportSetup) -> Self {
        ReportDesk {
            patient: setup.patient,
            setup,
            report: None,
            reports_started: 0,
            queue: VecDeque::new(),
            in_flight: None,
            next_id: 1,
        }
    }

    /// Whether nothing is queued or in flight.
    pub(super) fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_none()
    }

    /// Queues the flow's identification request.
    pub(super) fn identify(&mut self, hersys_id: Redacted<String>, mmdd: Redacted<String>) {
        self.queue.push_back(Op::Identify { hersys_id, mmdd });
    }

    /// Queues a confirmed answer.
    pub(super) fn answer(&mut self, question: QuestionId, value: AnswerValue, at: SystemTime) {
        self.queue.push_back(Op::Answer {
            question,
            value,
            at,
        });
    }

    /// Queues the report's completion.
    pub(super) fn complete(&mut self, at: SystemTime) {
        self.queue.push_back(Op::Complete { at });
    }

    /// Another family member: the next identification starts a new report.
    pub(super) fn new_report(&mut self) {
        self.queue.push_back(Op::NewReport);
    }

    /// Queues the call record, the last request of a call.
    pub(super) fn record(&mut self, record: CallRecord) {
        self.queue.push_back(Op::Record(Box::new(record)));
    }

    /// Starts the next queued request if none is in flight; returns an identification
    /// result the flow waits for, when one is decided without the store.
    pub(super) fn pump(&mut self, cx: &mut Cx) -> Option<Identification> {
        while self.in_flight.is_none() {
            let op = self.queue.pop_front()?;
            if let Some(result) = self.begin(op, cx) {
                return Some(result);
            }
        }
        None
    }

    fn begin(&mut self, op: Op, cx: &mut Cx) -> Option<Identification> {
        if !self.setup.has_store {
            return match op {
                Op::Identify { .. } => {
                    tracing::warn!("no report store: caller cannot be identified");
                    Some(Identification::NotConfirmed)
                }
                _ => None,
            };
        }
        match op {
            Op::Identify { hersys_id, mmdd } => {
                let call = StoreCall::CountCallerFailures {
                    caller: self.setup.caller.clone(),
                    at: cx.wall,
                    window: FAILURE_WINDOW,
                };
                self.send(call, Waiting::CallerFailures(hersys_id, mmdd), cx);
            }
            Op::Answer {
                question,
                value,
                at,
            } => self.begin_answer(question, value, at, cx),
            Op::Complete { at } => {
                if let Some(report) = self.report.clone() {
                    match report.id {
                        Some(id) => {
                            let call = StoreCall::CompleteReport { report: id, at };
                            self.send(call, Waiting::Complete(report, at), cx);
                        }
                        None => journal(cx, JournalEntry::complete(report.journal_ref(), at)),
                    }
                }
            }
            Op::NewReport => {
                self.report = None;
                if self.setup.channel == Channel::HealthCall {
                    self.patient = None;
                }
            }
            Op::Alert(report) => self.send(StoreCall::Alert { report }, Waiting::Alert(report), cx),
            Op::CancelAttempts(patient) => {
                let call = StoreCall::CancelAttempts {
                    patient,
                    at: cx.wall,
                };
                self.send(call, Waiting::CancelAttempts, cx);
            }
            Op::Record(record) => self.send(StoreCall::CallRecord(record), Waiting::Record, cx),
        }
        None
    }

    /// An answer goes to the current report, which the first answer starts.
    fn begin_answer(
        &mut self,
        question: QuestionId,
        value: AnswerValue,
        at: SystemTime,
        cx: &mut Cx,
    ) {
        if let Some(report) = self.report.clone() {
            return match report.id {
                Some(id) => {
                    let call = StoreCall::StoreAnswer {
                        report: id,
                        question: question.clone(),
                        value,
                        at,
                    };
                    self.send(call, Waiting::Answer(report, question, value, at), cx);
                }
                None => {
                    let entry =
                        JournalEntry::answer(report.journal_ref(), question.as_str(), value, at);
                    journal(cx, entry);
                }
            };
        }
        let Some(patient) = self.patient else { return };
        let key = format!(
            "{:032x}",
            self.setup.key_seed.wrapping_add(self.reports_started)
        );
        self.reports_started += 1;
        let call = StoreCall::StartReport {
            key: key.clone(),
            patient,
            channel: self.setup.channel,
            call_id: self.setup.call_id.clone(),
            slot: self.setup.slot,
            at: cx.wall,
        };
        let report = CallReport { key, id: None };
        let waiting = Waiting::StartReport(report, patient, question, value, at);
        self.send(call, waiting, cx);
    }

    fn send(&mut self, call: StoreCall, waiting: Waiting, cx: &mut Cx) {
        let id = StoreRequestId(self.next_id);
        self.next_id += 1;
        cx.out.push_back(Output::Store { id, call });
        cx.timers
            .set(Timer::StoreWrite, cx.now + self.setup.write_timeout);
        self.in_flight = Some((Some(id), waiting));
    }

    /// A store reply. One for a request given up already (or unknown) is ignored.
    pub(super) fn reply(
        &mut self,
        id: StoreRequestId,
        reply: Result<StoreValue, StoreError>,
        cx: &mut Cx,
    ) -> Option<Identification> {
        if !matches!(self.in_flight, Some((Some(current), _)) if current == id) {
            tracing::debug!(request = id.0, "late store reply ignored");
            return None;
        }
        let (_, waiting) = self.in_flight.take()?;
        cx.timers.stop(Timer::StoreWrite);
        let value = match reply {
            Ok(value) => Some(value),
            Err(e) => {
                cx.out.push_back(Output::Event(SessionEvent::StoreError));
                tracing::error!(operation = label(&waiting), error = %e, "report store failed");
                None
            }
        };
        let result = self.settle(waiting, value, cx);
        result.or(self.pump(cx))
    }

    /// The store-write deadline or the slow-down passed.
    pub(super) fn on_timer(&mut self, timer: Timer, cx: &mut Cx) -> Option<Identification> {
        match (timer, self.in_flight.take()) {
            (Timer::IdentifySlowdown, Some((None, Waiting::SlowDown(hersys_id, mmdd)))) => {
                self.send_identify(hersys_id, mmdd, cx);
                None
            }
            (Timer::StoreWrite, Some((Some(_), waiting))) => {
                cx.out.push_back(Output::Event(SessionEvent::StoreError));
                tracing::error!(
                    operation = label(&waiting),
                    "report store did not answer in time"
                );
                let result = self.settle(waiting, None, cx);
                result.or(self.pump(cx))
            }
            (_, other) => {
                self.in_flight = other;
                None
            }
        }
    }

    fn send_identify(&mut self, hersys_id: Redacted<String>, mmdd: Redacted<String>, cx: &mut Cx) {
        let call = StoreCall::Identify {
            hersys_id,
            mmdd,
            caller: self.setup.caller.clone(),
            call_id: self.setup.call_id.clone(),
            at: cx.wall,
        };
        self.send(call, Waiting::Identify, cx);
    }
}

fn journal(cx: &mut Cx, entry: JournalEntry) {
    cx.out.push_back(Output::Journal(entry));
}

fn label(waiting: &Waiting) -> &'static str {
    match waiting {
        Waiting::CallerFailures(..) | Waiting::SlowDown(..) => "count caller failures",
        Waiting::Identify => "identify",
        Waiting::StartReport(..) => "start report",
        Waiting::Answer(..) => "store answer",
        Waiting::Complete(..) => "complete report",
        Waiting::CancelAttempts => "cancel attempts",
        Waiting::Alert(_) => "enqueue red alert",
        Waiting::Record => "write call record",
    }
}
