//! Replaying the journal into the store: every entry in order, idempotently (reports by
//! their key, answers as upserts, a completion keeping its first time); an entry the store
//! refuses for good is set aside (see `journal.rs` for the file and its guarantees).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::journal::{
    reject, Entry, Journal, JournalError, ReportRef, JOURNAL_REJECTED, JOURNAL_REPLAYED,
};
use crate::report::date::from_epoch_millis;
use crate::report::{Channel, Slot};

use super::reports::decode;
use super::{PatientId, ReportId, Store, StoreError};

/// Whether the store refused `e` for good (the entry's own data), not for now (a lost
/// connection, a busy database, a server shutting down): such an entry is set aside.
fn refused_for_good(e: &StoreError) -> bool {
    match e {
        StoreError::Corrupt { .. } => true,
        StoreError::Database(db) => StoreError::is_constraint(db),
        _ => false,
    }
}

impl Store {
    /// Writes every entry waiting in `journal` to the store, in order, and removes them once
    /// all are written. Returns the reports written to (for the red-report alerts), or the
    /// first failure, leaving the entries for the next try (which writes them again,
    /// harmlessly). Blocking file I/O runs on the blocking pool.
    pub async fn replay_journal(&self, journal: &Journal) -> Result<Vec<ReportId>, JournalError> {
        let _only_one = journal.replay_turn().await;
        let mut touched = Vec::new();
        loop {
            let j = journal.clone();
            let taken = tokio::task::spawn_blocking(move || j.take())
                .await
                .unwrap_or(Ok(None))?;
            let Some((file, entries)) = taken else {
                return Ok(touched);
            };
            let mut keys: HashMap<String, ReportId> = HashMap::new();
            for entry in &entries {
                match self.apply(entry, &mut keys).await {
                    Ok(Some(report)) if !touched.contains(&report) => touched.push(report),
                    Ok(_) => {}
                    Err(e) if refused_for_good(&e) => {
                        tracing::error!(error = %e, "journal entry refused by the store: set aside");
                        JOURNAL_REJECTED.fetch_add(1, Ordering::Relaxed);
                        reject(journal.path(), entry).map_err(|source| JournalError::Io {
                            path: journal.path().to_owned(),
                            source,
                        })?;
                    }
                    Err(e) => return Err(e.into()),
                }
                JOURNAL_REPLAYED.fetch_add(1, Ordering::Relaxed);
            }
            std::fs::remove_file(&file)
                .map_err(|source| JournalError::Io { path: file, source })?;
        }
    }

    /// Writes one entry; returns its report (`None` for an entry whose report is gone).
    async fn apply(
        &self,
        entry: &Entry,
        keys: &mut HashMap<String, ReportId>,
    ) -> Result<Option<ReportId>, StoreError> {
        match entry {
            Entry::Start {
                key,
                patient,
                channel,
                call_id,
                slot,
                at,
            } => {
                let channel = Channel::from_label(channel).unwrap_or(Channel::HealthCall);
                let slot = slot.as_ref().and_then(|(d, t)| {
                    Some(Slot {
                        date: d.parse().ok()?,
                        time: t.parse().ok()?,
                    })
                });
                let started = self
                    .start_report_keyed(
                        key,
                        PatientId(*patient),
                        channel,
                        call_id.as_deref(),
                        slot,
                        from_epoch_millis(*at),
                    )
                    .await;
                match started {
                    Ok(id) => {
                        keys.insert(key.clone(), id);
                        Ok(Some(id))
                    }
                    // The patient was deleted since: nothing to attach the report to.
                    Err(StoreError::UnknownPatient(_)) => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Entry::Answer {
                report,
                question,
                value: (kind, num, text),
                at,
            } => {
                let Some(id) = self.resolve(report, keys).await? else {
                    return Ok(None);
                };
                let value = decode(kind.clone(), *num, text.clone())?;
                match self
                    .store_answer(id, question, value, from_epoch_millis(*at))
                    .await
                {
                    Ok(_) => Ok(Some(id)),
                    Err(StoreError::UnknownReport(_)) => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Entry::Alert { report } => self.resolve(report, keys).await,
            Entry::Complete { report, at } => {
                let Some(id) = self.resolve(report, keys).await? else {
                    return Ok(None);
                };
                match self.complete_report(id, from_epoch_millis(*at)).await {
                    Ok(_) => Ok(Some(id)),
                    Err(StoreError::UnknownReport(_)) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }

    async fn resolve(
        &self,
        report: &ReportRef,
        keys: &HashMap<String, ReportId>,
    ) -> Result<Option<ReportId>, StoreError> {
        match report {
            ReportRef::Id(id) => Ok(Some(ReportId(*id))),
            ReportRef::Key(key) => match keys.get(key) {
                Some(id) => Ok(Some(*id)),
                None => self.report_by_key(key).await,
            },
        }
    }
}
