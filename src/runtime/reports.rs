//! One call's side of the report store: identification (with slow-down of repeated failures
//! from one caller), the current report, each answer committed the moment it is confirmed,
//! and the call record at hang-up.
//!
//! A store failure never ends a call: the caller hears the normal flow, the failure is
//! logged (without values) and counted. A report's start, answers and completion that the
//! store does not take within `[store] write_timeout_ms` go to the node's journal instead
//! (written to the store later, exactly once: `crate::store::Journal`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::call::{CallFlow, CallInput, Direction};
use crate::ivr::{Action, CallOutcome, Identification};
use crate::lang::Language;
use crate::pii::Redacted;
use crate::report::{Channel, Slot};
use crate::sip::outcome::Disposition;
use crate::store::{
    CallRecord, Journal, JournalEntry, PatientId, ReportId, ReportRef, Store, StoreError,
};

/// Failures of the store seen by calls (the `carecall_store_errors_total` metric).
pub static STORE_ERRORS: AtomicU64 = AtomicU64::new(0);

/// Who a call leg is with, for its call record.
pub(super) struct Leg {
    pub call_id: String,
    pub direction: Direction,
    pub trunk: Option<String>,
    pub caller: Redacted<String>,
    pub called: Redacted<String>,
    pub slot: Option<(Slot, u32)>,
}

/// The report-store state of one call.
pub(super) struct CallReports {
    store: Option<Store>,
    leg: Leg,
    sip_call_id: String,
    started_at: SystemTime,
    answered_at: Option<SystemTime>,
    language: Language,
    patient: Option<PatientId>,
    report: Option<CallReport>,
    wrong_number: bool,
    position: (String, u32, String),
    flow_outcome: Option<crate::ivr::CallOutcome>,
    alerts: crate::alert::Alerts,
    journal: Option<Journal>,
    write_timeout: Duration,
}

/// The report answers go to: its key, and its id once the store has it.
#[derive(Clone)]
struct CallReport {
    key: String,
    id: Option<ReportId>,
}

impl CallReport {
    /// The report as a journal entry names it.
    fn journal_ref(&self) -> ReportRef {
        match self.id {
            Some(id) => ReportRef::Id(id.0),
            None => ReportRef::Key(self.key.clone()),
        }
    }
}

impl CallReports {
    /// A call leg starting now; `patient` is known for automatic calls.
    pub(super) fn new(
        store: Option<Store>,
        leg: Leg,
        language: Language,
        patient: Option<PatientId>,
    ) -> Self {
        CallReports {
            store,
            leg,
            sip_call_id: String::new(),
            started_at: crate::clock::wall_now(),
            answered_at: None,
            language,
            patient,
            report: None,
            wrong_number: false,
            position: (String::new(), 0, String::new()),
            flow_outcome: None,
            alerts: crate::alert::Alerts::disabled(),
            journal: None,
            write_timeout: Duration::from_secs(2),
        }
    }

    /// Red reports from this call go out through the engine's alerts, and what the store
    /// does not take in time goes to the engine's journal.
    pub(super) fn attach(&mut self, shared: &super::Shared) {
        self.alerts = shared.alerts.clone();
        self.journal = shared.journal.clone();
        self.write_timeout = shared.config.journal.write_timeout;
    }

    /// `write` within the write timeout; `None` (the failure counted and logged) otherwise.
    async fn within<T>(
        &self,
        what: &str,
        write: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.write_timeout, write).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                store_error(what, &e);
                None
            }
            Err(_) => {
                STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
                tracing::error!(operation = what, "report store did not answer in time");
                None
            }
        }
    }

    /// Appends `entry` to the journal (synced before returning); a failure is counted and
    /// logged: the entry is lost, which is what the journal exists to prevent.
    async fn journal(&self, entry: JournalEntry) {
        let Some(journal) = self.journal.clone() else {
            tracing::error!("no journal: an answer the store did not take is lost");
            return;
        };
        let appended = tokio::task::spawn_blocking(move || journal.append(&entry)).await;
        match appended {
            Ok(Ok(())) => tracing::warn!("written to the journal for the report store later"),
            Ok(Err(e)) => {
                STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "journal failed: an answer is lost");
            }
            Err(_) => tracing::error!("journal task failed: an answer is lost"),
        }
    }

    /// Posts the report's alert when it is red (at most once per report).
    async fn alert_if_red(&self, report: ReportId) {
        let enqueued = self.within("enqueue red alert", self.alerts.notify(report));
        if enqueued.await.is_none() && self.alerts.is_enabled() {
            let entry = JournalEntry::Alert {
                report: ReportRef::Id(report.0),
            };
            self.journal(entry).await;
        }
    }

    /// carecall's call id of this leg.
    pub(super) fn call_id(&self) -> &str {
        &self.leg.call_id
    }

    /// The dialplan's outcome, once the flow finished.
    pub(super) fn flow_outcome(&self) -> Option<crate::ivr::CallOutcome> {
        self.flow_outcome
    }

    pub(super) fn set_sip_call_id(&mut self, id: String) {
        self.sip_call_id = id;
    }

    pub(super) fn answered(&mut self) {
        self.answered_at.get_or_insert_with(crate::clock::wall_now);
    }

    /// Inbound or outbound.
    pub(super) fn direction(&self) -> Direction {
        self.leg.direction
    }

    /// Carries out a store-side action; returns the input it produces for the flow, if any.
    pub(super) async fn carry_out(&mut self, action: Action) -> Option<CallInput> {
        match action {
            Action::SetLanguage(lang) => self.language = lang,
            Action::Identify {
                hersys_id,
                birthday,
            } => {
                let b = birthday.expose();
                let mmdd = Redacted::new(format!("{:02}{:02}", b.month(), b.day()));
                return Some(CallInput::Identified(self.identify(hersys_id, mmdd).await));
            }
            Action::StoreAnswer { question, value } => {
                let store = self.store.clone()?;
                let report = self.current_report().await?;
                let now = crate::clock::wall_now();
                let stored = match report.id {
                    Some(id) => {
                        let write = store.store_answer(id, question.as_str(), value, now);
                        self.within("store answer", write).await
                    }
                    None => None,
                };
                match (stored, report.id) {
                    (Some(assessment), Some(id)) => {
                        tracing::info!(
                            question = question.as_str(),
                            flag = assessment.flag.label(),
                            "answer stored"
                        );
                        if assessment.flag == crate::report::Flag::Red {
                            self.alert_if_red(id).await;
                        }
                    }
                    _ => {
                        let entry = JournalEntry::answer(
                            report.journal_ref(),
                            question.as_str(),
                            value,
                            now,
                        );
                        self.journal(entry).await;
                    }
                }
            }
            Action::ReportComplete => {
                if let (Some(store), Some(report)) = (self.store.clone(), self.report.as_ref()) {
                    let now = crate::clock::wall_now();
                    let (reference, id) = (report.journal_ref(), report.id);
                    let completed = match id {
                        Some(id) => {
                            self.within("complete report", store.complete_report(id, now))
                                .await
                        }
                        None => None,
                    };
                    let Some(report) = completed.and(id) else {
                        self.journal(JournalEntry::complete(reference, now)).await;
                        return None;
                    };
                    tracing::info!("report complete");
                    self.alert_if_red(report).await;
                    // SPEC §4: a report on any channel cancels the slot calls it answers.
                    // (Missed here, the scheduler's last check before dialling sees the report.)
                    if let Some(patient) = self.patient {
                        let cancel = store.cancel_attempts_after_report(patient, now);
                        match self.within("cancel attempts", cancel).await {
                            Some(0) | None => {}
                            Some(n) => tracing::info!(
                                cancelled = n,
                                "automatic calls cancelled by the report"
                            ),
                        }
                    }
                }
            }
            Action::NewReport => {
                // Another family member: a new identification, a new report.
                self.report = None;
                if self.leg.direction == Direction::Inbound {
                    self.patient = None;
                }
            }
            Action::WrongNumber => {
                self.wrong_number = true;
                tracing::info!("wrong number reported by the person called");
            }
            Action::Play(_) | Action::StopPlayback | Action::Hangup(_) => {}
        }
        None
    }

    async fn identify(
        &mut self,
        hersys_id: Redacted<String>,
        mmdd: Redacted<String>,
    ) -> Identification {
        let Some(store) = self.store.clone() else {
            tracing::warn!("no report store: caller cannot be identified");
            return Identification::NotConfirmed;
        };
        let now = crate::clock::wall_now();
        // Repeated failures from one number are slowed down: 1 s, 2 s, 4 s … up to 16 s.
        let recent = store.caller_failures_recent(&self.leg.caller, now, Duration::from_secs(3600));
        if let Some(n @ 1..) = self.within("count caller failures", recent).await {
            let delay = Duration::from_secs(1 << (n - 1).min(4));
            tracing::info!(
                failures = n,
                delay_s = delay.as_secs(),
                "identification slowed down"
            );
            tokio::time::sleep(delay).await;
        }
        // A store that does not answer in time cannot confirm anyone: the caller hears the
        // usual message rather than a long silence.
        let who = store.identify(&hersys_id, &mmdd, &self.leg.caller, &self.leg.call_id, now);
        match self.within("identify", who).await {
            Some(crate::store::Identification::Patient(p)) => {
                tracing::info!("caller identified");
                self.patient = Some(p.id);
                self.report = None;
                Identification::Confirmed
            }
            Some(other) => {
                let locked = matches!(other, crate::store::Identification::Locked);
                tracing::info!(locked, "caller not identified");
                Identification::NotConfirmed
            }
            None => Identification::NotConfirmed,
        }
    }

    /// The report answers go to, started on the first answer; a start the store does not
    /// take in time is journalled (the report then has a key and no id).
    async fn current_report(&mut self) -> Option<CallReport> {
        if let Some(r) = &self.report {
            return Some(r.clone());
        }
        let (store, patient) = (self.store.clone()?, self.patient?);
        let channel = match self.leg.direction {
            Direction::Inbound => Channel::HealthCall,
            Direction::Outbound => Channel::OutboundCall,
        };
        let slot = self.leg.slot.map(|(s, _)| s);
        let now = crate::clock::wall_now();
        let key = format!("{:032x}", rand::random::<u128>());
        let call_id = Some(self.leg.call_id.as_str());
        let start = store.start_report_keyed(&key, patient, channel, call_id, slot, now);
        let id = self.within("start report", start).await;
        if id.is_none() {
            let entry = JournalEntry::start(&key, patient, channel, call_id, slot, now);
            self.journal(entry).await;
        }
        let report = CallReport { key, id };
        self.report = Some(report.clone());
        Some(report)
    }

    /// Notes the flow's last position before the call record is written.
    pub(super) fn note_position(&mut self, flow: &dyn CallFlow) {
        self.position = flow.position();
        self.flow_outcome = flow.outcome();
        let outcome = match flow.outcome() {
            Some(CallOutcome::Completed) => "completed",
            Some(CallOutcome::Incomplete) => "incomplete",
            Some(CallOutcome::NoResponse) => "no response",
            Some(CallOutcome::WrongNumber) => "wrong number",
            Some(CallOutcome::NotIdentified) => "not identified",
            Some(CallOutcome::Abandoned) => "abandoned",
            None => "none",
        };
        tracing::info!(outcome, step = %self.position.2, "flow finished");
    }

    /// Writes the call record (one append-only row per leg).
    pub(super) async fn close(self, disposition: Disposition, sip_status: Option<u16>) {
        let Some(store) = &self.store else { return };
        let (dialplan, version, step) = self.position;
        let record = CallRecord {
            call_id: self.leg.call_id.clone(),
            sip_call_id: self.sip_call_id,
            direction: self.leg.direction,
            trunk: self.leg.trunk,
            caller: self.leg.caller,
            called: self.leg.called,
            started_at: self.started_at,
            answered_at: self.answered_at,
            ended_at: crate::clock::wall_now(),
            disposition,
            sip_status,
            dialplan_id: (!dialplan.is_empty()).then_some(dialplan),
            dialplan_version: (version > 0).then(|| version.to_string()),
            last_step: (!step.is_empty()).then_some(step),
            slot: self.leg.slot.map(|(s, _)| s),
            attempt: self.leg.slot.map(|(_, a)| a),
        };
        if let Err(e) = store.insert_call_record(&record).await {
            store_error("write call record", &e);
        }
    }
}

pub(super) fn store_error(what: &str, e: &crate::store::StoreError) {
    STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
    tracing::error!(operation = what, error = %e, "report store failed");
}
