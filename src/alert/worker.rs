//! The outbox worker: one tokio task that claims due alerts from the store, posts them and
//! records each attempt; and [`Alerts`], the handle calls use to enqueue a red report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::client::WebhookClient;
use super::retry::RetryPolicy;
use crate::config::AlertConfig;
use crate::store::{AlertId, AttemptResult, DueAlert, ReportId, Store, StoreError};

/// Alerts claimed per round.
const BATCH: u32 = 16;
/// The longest sleep between looks at the outbox (another node may have enqueued alerts).
const POLL: Duration = Duration::from_secs(5);
/// The pause after the store failed.
const STORE_BACKOFF: Duration = Duration::from_secs(2);

/// Delivery counters for `/metrics`: `carecall_alert_attempts_total{result="delivered"}` and
/// `{result="failed"}`, and `carecall_alerts_given_up_total`.
pub struct AlertCounters {
    /// Attempts the webhook answered with 2xx.
    pub delivered: AtomicU64,
    /// Attempts that failed (status, timeout or connection).
    pub failed: AtomicU64,
    /// Alerts whose last allowed attempt failed.
    pub given_up: AtomicU64,
}

/// This process's delivery counters.
pub static ALERT_COUNTERS: AlertCounters = AlertCounters {
    delivered: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    given_up: AtomicU64::new(0),
};

/// The handle calls use: enqueue a report if it is red, and wake the worker. Cheap to clone.
/// A disabled handle (no webhook configured) does nothing.
#[derive(Clone)]
pub struct Alerts {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    store: Store,
    wake: Notify,
    stop: watch::Sender<bool>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Alerts {
    /// A handle that enqueues nothing (no `[alert] webhook_url`).
    pub fn disabled() -> Alerts {
        Alerts { inner: None }
    }

    /// Starts the worker on the current tokio runtime when `config` names a webhook; returns
    /// a disabled handle otherwise. Alerts left pending by an earlier run are delivered first.
    pub fn spawn(store: Store, config: &AlertConfig) -> Alerts {
        let Some(url) = config.webhook.clone() else {
            return Alerts::disabled();
        };
        let (stop, stopped) = watch::channel(false);
        let inner = Arc::new(Inner {
            store,
            wake: Notify::new(),
            stop,
            task: std::sync::Mutex::new(None),
        });
        let worker = Worker {
            inner: inner.clone(),
            client: WebhookClient::new(url, config.timeout, config.token.as_ref()),
            policy: RetryPolicy {
                first_retry: config.first_retry,
                max_attempts: config.max_attempts,
            },
            lease: config.timeout * 2 + Duration::from_secs(10),
        };
        let task = tokio::spawn(worker.run(stopped));
        if let Ok(mut slot) = inner.task.lock() {
            *slot = Some(task);
        }
        Alerts { inner: Some(inner) }
    }

    /// Whether a webhook is configured.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Enqueues `report` if it is red and has no alert yet, and wakes the worker so it is
    /// posted at once. Call it after each stored answer and when the report completes; extra
    /// calls are harmless. Returns the new alert, `None` when nothing was enqueued (not red,
    /// already enqueued, or alerts disabled). Store errors are returned, not logged.
    pub async fn notify(&self, report: ReportId) -> Result<Option<AlertId>, StoreError> {
        let Some(inner) = &self.inner else {
            return Ok(None);
        };
        let enqueued = inner
            .store
            .enqueue_alert_if_red(report, crate::clock::wall_now())
            .await?;
        if let Some(id) = enqueued {
            tracing::info!(
                alert = id.0,
                report = report.0,
                "red report: alert enqueued"
            );
            inner.wake.notify_one();
        }
        Ok(enqueued)
    }

    /// Stops the worker after the attempt in progress (if any) and waits for it. Pending
    /// alerts stay in the outbox for the next start.
    pub async fn shutdown(&self) {
        let Some(inner) = &self.inner else { return };
        let _ = inner.stop.send(true);
        let task = inner.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

struct Worker {
    inner: Arc<Inner>,
    client: WebhookClient,
    policy: RetryPolicy,
    lease: Duration,
}

impl Worker {
    async fn run(self, mut stopped: watch::Receiver<bool>) {
        tracing::info!("alert worker started");
        while !*stopped.borrow() {
            let pause = match self.round().await {
                Ok(Some(pause)) => pause,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "alert outbox: store failed");
                    STORE_BACKOFF
                }
            };
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => {}
            }
        }
        tracing::info!("alert worker stopped");
    }

    /// Delivers every due alert; returns how long to sleep, or `None` to look again at once
    /// (a full batch was claimed).
    async fn round(&self) -> Result<Option<Duration>, StoreError> {
        let store = &self.inner.store;
        let now = crate::clock::wall_now();
        let due = store.claim_due_alerts(now, self.lease, BATCH).await?;
        let full = due.len() == BATCH as usize;
        for alert in due {
            self.deliver(alert).await?;
        }
        if full {
            return Ok(None);
        }
        let next = store.next_alert_due().await?;
        let now = crate::clock::wall_now();
        Ok(Some(sleep_until(next, now)))
    }

    async fn deliver(&self, alert: DueAlert) -> Result<(), StoreError> {
        let body = super::body::json(&alert);
        let key = format!("carecall-alert-{}", alert.id.0);
        let posted = self.client.post(body, &key).await;
        let at = crate::clock::wall_now();
        let result = match posted {
            Ok(status) => {
                ALERT_COUNTERS.delivered.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    alert = alert.id.0,
                    report = alert.report.0,
                    attempt = alert.attempt,
                    http_status = status,
                    "alert delivered"
                );
                AttemptResult::Delivered {
                    http_status: status,
                }
            }
            Err(e) => {
                let retry_at = self.policy.retry_at(alert.attempt, at);
                ALERT_COUNTERS.failed.fetch_add(1, Ordering::Relaxed);
                if retry_at.is_none() {
                    ALERT_COUNTERS.given_up.fetch_add(1, Ordering::Relaxed);
                }
                tracing::warn!(
                    alert = alert.id.0,
                    report = alert.report.0,
                    attempt = alert.attempt,
                    error = %e,
                    retry_in_ms = retry_at.map(|r| millis_between(at, r)),
                    "alert delivery failed"
                );
                AttemptResult::Failed {
                    http_status: e.http_status(),
                    error: e.to_string(),
                    retry_at,
                }
            }
        };
        self.inner
            .store
            .record_alert_attempt(alert.id, alert.attempt, at, &result)
            .await
    }
}

/// How long to sleep until `next` (a pending alert's due time), at most [`POLL`].
fn sleep_until(next: Option<SystemTime>, now: SystemTime) -> Duration {
    next.map_or(POLL, |t| t.duration_since(now).unwrap_or(Duration::ZERO))
        .min(POLL)
}

fn millis_between(a: SystemTime, b: SystemTime) -> u64 {
    b.duration_since(a)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_until_the_next_due_alert_but_never_longer_than_the_poll() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(sleep_until(None, now), POLL);
        let soon = now + Duration::from_millis(250);
        assert_eq!(sleep_until(Some(soon), now), Duration::from_millis(250));
        assert_eq!(
            sleep_until(Some(now - Duration::from_secs(1)), now),
            Duration::ZERO
        );
        assert_eq!(sleep_until(Some(now + Duration::from_secs(60)), now), POLL);
    }
}
