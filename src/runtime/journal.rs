//! The node's journal in the engine (SPEC §11): what calls could not write to the report store
//! in time waits in [`crate::store::Journal`]; this loop writes it to the store once the store
//! answers again (at start, every `[store] journal_retry_ms` while entries wait, and once more
//! at shutdown) and posts the red-report alerts of the reports it wrote.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::alert::Alerts;
use crate::store::{Journal, JournalError, Store};

/// Starts the replay loop; it ends when `stop` turns true.
pub(super) fn spawn(
    store: Store,
    journal: Journal,
    alerts: Alerts,
    retry: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Warn once when the store refuses the journal, not at every retry of an outage.
        let mut refused = false;
        loop {
            if journal.has_entries() {
                match replay(&store, &journal, &alerts).await {
                    Ok(()) => refused = false,
                    Err(e) if !refused => {
                        tracing::warn!(error = %e, "journal not written yet; trying again");
                        refused = true;
                    }
                    Err(e) => tracing::debug!(error = %e, "journal still not written"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
    })
}

/// Writes what the journal holds to the store and enqueues the alerts of the reports written;
/// the error when the store refused (the entries stay for the next try).
pub(super) async fn replay(
    store: &Store,
    journal: &Journal,
    alerts: &Alerts,
) -> Result<(), JournalError> {
    let reports = store.replay_journal(journal).await?;
    tracing::info!(
        reports = reports.len(),
        "journal written to the report store"
    );
    for report in reports {
        if let Err(e) = alerts.notify(report).await {
            super::reports::store_error("enqueue red alert", &e);
        }
    }
    Ok(())
}
