//! Carries out a call session's report-store requests and journal appends. What to write, in
//! which order, how long to wait and what goes to the journal instead is the session's
//! ([`crate::call::Session`]); this module only runs each [`StoreCall`] against the store or
//! the alert outbox and appends journal entries (synced before the call goes on).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::alert::Alerts;
use crate::call::{StoreCall, StoreValue};
use crate::store::{Journal, JournalEntry, Store, StoreError};

/// Failures of the store seen by calls (the `carecall_store_errors_total` metric).
pub static STORE_ERRORS: AtomicU64 = AtomicU64::new(0);

/// Runs one store call to its end (the session may have given up on it by then: its reply
/// is then ignored, and what it wrote is idempotent with the journal's replay).
pub(super) async fn run(
    store: Store,
    alerts: Alerts,
    call: StoreCall,
) -> Result<StoreValue, StoreError> {
    match call {
        StoreCall::CountCallerFailures { caller, at, window } => store
            .caller_failures_recent(&caller, at, window)
            .await
            .map(|n| StoreValue::Count(n.into())),
        StoreCall::Identify {
            hersys_id,
            mmdd,
            caller,
            call_id,
            at,
        } => store
            .identify(&hersys_id, &mmdd, &caller, &call_id, at)
            .await
            .map(StoreValue::Identified),
        StoreCall::StartReport {
            key,
            patient,
            channel,
            call_id,
            slot,
            at,
        } => store
            .start_report_keyed(&key, patient, channel, Some(&call_id), slot, at)
            .await
            .map(StoreValue::Report),
        StoreCall::StoreAnswer {
            report,
            question,
            value,
            at,
        } => store
            .store_answer(report, question.as_str(), value, at)
            .await
            .map(StoreValue::Assessed),
        StoreCall::CompleteReport { report, at } => store
            .complete_report(report, at)
            .await
            .map(|()| StoreValue::Done),
        StoreCall::CancelAttempts { patient, at } => store
            .cancel_attempts_after_report(patient, at)
            .await
            .map(StoreValue::Count),
        StoreCall::Alert { report } => alerts.notify(report).await.map(|_| StoreValue::Done),
        StoreCall::CallRecord(record) => store
            .insert_call_record(&record)
            .await
            .map(|()| StoreValue::Done),
    }
}

/// Appends `entry` to the journal (synced before returning); a failure is counted and
/// logged: the entry is lost, which is what the journal exists to prevent.
pub(super) async fn append_journal(journal: Option<Journal>, entry: JournalEntry) {
    let Some(journal) = journal else {
        tracing::error!("no journal: an answer the store did not take is lost");
        return;
    };
    // What was journalled, for operators and tests: the entry's kind and, for an answer,
    // the question id (never the value).
    let (kind, question) = match &entry {
        JournalEntry::Start { .. } => ("report start", String::new()),
        JournalEntry::Answer { question, .. } => ("answer", question.clone()),
        JournalEntry::Complete { .. } => ("report completion", String::new()),
        JournalEntry::Alert { .. } => ("alert", String::new()),
    };
    let appended = tokio::task::spawn_blocking(move || journal.append(&entry)).await;
    match appended {
        Ok(Ok(())) => tracing::warn!(
            entry = kind,
            question = %question,
            "written to the journal for the report store later"
        ),
        Ok(Err(e)) => {
            STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "journal failed: an answer is lost");
        }
        Err(_) => tracing::error!("journal task failed: an answer is lost"),
    }
}

pub(super) fn store_error(what: &str, e: &crate::store::StoreError) {
    STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
    tracing::error!(operation = what, error = %e, "report store failed");
}
