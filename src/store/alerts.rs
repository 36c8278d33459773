//! The red-report alert outbox (issue 6): a report that turns red is enqueued once; the alert
//! worker (`crate::alert`) claims due alerts, posts them to the health centre's webhook and
//! records every attempt here, so an alert survives a restart and its delivery can be shown.
//!
//! A claim pushes the alert's `next_attempt_at` one lease ahead: on PostgreSQL the claim skips
//! rows another node holds (`FOR UPDATE SKIP LOCKED`), and an alert whose node died before
//! recording the attempt is claimed again when the lease runs out (delivery is at least once).

use std::time::{Duration, SystemTime};

use sqlx::Row;

use crate::pii::Redacted;
use crate::report::date::from_epoch_millis;
use crate::report::{Channel, Flag};

use super::{corrupt, millis, AlertId, BeginWrite, ReportId, Store, StoreError};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// The webhook answered 2xx.
    Delivered,
    /// Every allowed attempt failed; no more are made.
    Failed,
}

impl AlertStatus {
    /// The stored label.
    pub fn label(self) -> &'static str {
        match self {
            AlertStatus::Pending => "pending",
            AlertStatus::Delivered => "delivered",
            AlertStatus::Failed => "failed",
        }
    }

    fn from_label(label: &str) -> Option<AlertStatus> {
        [
            AlertStatus::Pending,
            AlertStatus::Delivered,
            AlertStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.label() == label)
    }
}

/// An alert claimed for delivery, with what its webhook body says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAlert {
    /// The alert.
    pub id: AlertId,
    /// The red report.
    pub report: ReportId,
    /// The number of this attempt (1 for the first).
    pub attempt: u32,
    /// When the report turned red (the alert was enqueued).
    pub created_at: SystemTime,
    /// The patient's HER-SYS ID (goes in the body; never in a log line).
    pub hersys_id: Redacted<String>,
    /// The patient's health centre.
    pub health_center: String,
    /// How the report was taken.
    pub channel: Channel,
    /// The report's flag now (red, unless an answer was corrected since).
    pub flag: Flag,
    /// The reason codes behind the flag, red ones first.
    pub flag_reasons: Vec<String>,
    /// Whether the report is complete.
    pub complete: bool,
}

/// How one delivery attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The webhook answered with this 2xx status.
    Delivered {
        /// The HTTP status.
        http_status: u16,
    },
    /// No 2xx answer.
    Failed {
        /// The HTTP status, when the webhook answered at all.
        http_status: Option<u16>,
        /// What went wrong (no personal data: a status, a timeout, a connection error).
        error: String,
        /// When to try again; `None` gives up (the alert becomes [`AlertStatus::Failed`]).
        retry_at: Option<SystemTime>,
    },
}

/// An alert as stored, for tests and the staff API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    /// The alert.
    pub id: AlertId,
    /// The red report.
    pub report: ReportId,
    /// Where it stands.
    pub status: AlertStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the report turned red.
    pub created_at: SystemTime,
    /// The last attempt's error, if it failed.
    pub last_error: Option<String>,
    /// When the webhook accepted it.
    pub delivered_at: Option<SystemTime>,
    /// Every attempt, first first: (attempt number, time, HTTP status, error).
    pub deliveries: Vec<DeliveryAttempt>,
}

/// One recorded POST to the webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// When it was made.
    pub at: SystemTime,
    /// The HTTP status, when the webhook answered.
    pub http_status: Option<u16>,
    /// The error, when it failed.
    pub error: Option<String>,
}

const CLAIM_POSTGRES: &str = "UPDATE alert_outbox SET next_attempt_at = $1 \
     WHERE id IN (SELECT id FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
       ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
     RETURNING id, report_id, attempts, created_at";

const CLAIM_SQLITE: &str = "UPDATE alert_outbox SET next_attempt_at = $1 \
     WHERE id IN (SELECT id FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
       ORDER BY next_attempt_at, id LIMIT $3) \
     RETURNING id, report_id, attempts, created_at";

const REPORT_FACTS: &str = "SELECT p.hersys_id, h.name AS health_center, r.channel, r.flag, \
     r.flag_reasons, r.complete FROM reports r JOIN patients p ON p.id = r.patient_id \
     JOIN health_centers h ON h.id = p.health_center_id WHERE r.id = $1";

impl Store {
    /// Enqueues an alert for `report` if its flag is red now and it has none yet; call it
    /// after an answer is stored and when the report completes (a later call for the same
    /// report does nothing). Returns the new alert, or `None` when the report is not red or
    /// already has an alert. An unknown report is [`StoreError::UnknownReport`].
    pub async fn enqueue_alert_if_red(
        &self,
        report: ReportId,
        now: SystemTime,
    ) -> Result<Option<AlertId>, StoreError> {
        let at = millis(now)?;
        on_pool!(self, pool => {
            let inserted = sqlx::query(
                "INSERT INTO alert_outbox (report_id, created_at, next_attempt_at) \
                 SELECT id, $2, $2 FROM reports WHERE id = $1 AND flag = 'red' \
                 ON CONFLICT (report_id) DO NOTHING RETURNING id",
            )
            .bind(report.0)
            .bind(at)
            .fetch_optional(pool)
            .await?;
            if let Some(row) = inserted {
                return Ok(Some(AlertId(row.try_get("id")?)));
            }
            let exists = sqlx::query("SELECT id FROM reports WHERE id = $1")
                .bind(report.0)
                .fetch_optional(pool)
                .await?;
            match exists {
                Some(_) => Ok(None),
                None => Err(StoreError::UnknownReport(report)),
            }
        })
    }

    /// Claims up to `limit` pending alerts due at `now`, oldest due first, and hides them from
    /// other claims until `now + lease`. The caller must record each attempt with
    /// [`Store::record_alert_attempt`] before the lease runs out, or the alert is claimed
    /// again.
    pub async fn claim_due_alerts(
        &self,
        now: SystemTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<DueAlert>, StoreError> {
        let sql = match self.backend {
            super::Backend::Postgres(_) => CLAIM_POSTGRES,
            super::Backend::Sqlite(_) => CLAIM_SQLITE,
        };
        let mut due = Vec::new();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let rows = sqlx::query(sql)
                .bind(millis(now + lease)?)
                .bind(millis(now)?)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                let report: i64 = row.try_get("report_id")?;
                let facts = sqlx::query(REPORT_FACTS).bind(report).fetch_one(&mut *tx).await?;
                let reasons: String = facts.try_get("flag_reasons")?;
                let made: i64 = row.try_get("attempts")?;
                due.push(DueAlert {
                    id: AlertId(row.try_get("id")?),
                    report: ReportId(report),
                    attempt: narrow(made.saturating_add(1), "attempts")?,
                    created_at: from_epoch_millis(row.try_get("created_at")?),
                    hersys_id: Redacted::new(facts.try_get("hersys_id")?),
                    health_center: facts.try_get("health_center")?,
                    channel: Channel::from_label(facts.try_get("channel")?)
                        .ok_or(corrupt("reports", "channel"))?,
                    flag: Flag::from_label(facts.try_get("flag")?).ok_or(corrupt("reports", "flag"))?,
                    flag_reasons: reasons.split(';').filter(|r| !r.is_empty()).map(String::from).collect(),
                    complete: facts.try_get("complete")?,
                });
            }
            tx.commit().await?;
        });
        due.sort_by_key(|d| d.id);
        Ok(due)
    }

    /// Records attempt `attempt` of alert `id`, made at `at`, and moves the alert on: to
    /// delivered, to pending until `retry_at`, or to failed. Both the attempt row and the
    /// alert change are written in one transaction. An attempt number recorded before (a
    /// second node's late answer) is [`StoreError::Database`] and changes nothing.
    pub async fn record_alert_attempt(
        &self,
        id: AlertId,
        attempt: u32,
        at: SystemTime,
        result: &AttemptResult,
    ) -> Result<(), StoreError> {
        let at_ms = millis(at)?;
        let (status, http_status, error, next, delivered) = match result {
            AttemptResult::Delivered { http_status } => (
                AlertStatus::Delivered,
                Some(*http_status),
                None,
                at_ms,
                Some(at_ms),
            ),
            AttemptResult::Failed {
                http_status,
                error,
                retry_at,
            } => {
                let status = match retry_at {
                    Some(_) => AlertStatus::Pending,
                    None => AlertStatus::Failed,
                };
                let next = retry_at.map(millis).transpose()?.unwrap_or(at_ms);
                (status, *http_status, Some(error.as_str()), next, None)
            }
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO alert_deliveries (alert_id, attempt, at, http_status, error) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.0)
            .bind(i64::from(attempt))
            .bind(at_ms)
            .bind(http_status.map(i64::from))
            .bind(error)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE alert_outbox SET status = $1, attempts = $2, last_attempt_at = $3, \
                 last_error = $4, next_attempt_at = $5, delivered_at = $6 WHERE id = $7",
            )
            .bind(status.label())
            .bind(i64::from(attempt))
            .bind(at_ms)
            .bind(error)
            .bind(next)
            .bind(delivered)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The earliest `next_attempt_at` of a pending alert (the worker sleeps until then).
    pub async fn next_alert_due(&self) -> Result<Option<SystemTime>, StoreError> {
        let next: Option<i64> = on_pool!(self, pool => {
            sqlx::query("SELECT MIN(next_attempt_at) AS next FROM alert_outbox WHERE status = 'pending'")
                .fetch_one(pool)
                .await?
                .try_get("next")?
        });
        Ok(next.map(from_epoch_millis))
    }

    /// The alert of `report` with every delivery attempt, or `None` if it has none.
    pub async fn alert_for_report(
        &self,
        report: ReportId,
    ) -> Result<Option<AlertRecord>, StoreError> {
        on_pool!(self, pool => {
            let Some(row) = sqlx::query(
                "SELECT id, status, attempts, created_at, last_error, delivered_at \
                 FROM alert_outbox WHERE report_id = $1",
            )
            .bind(report.0)
            .fetch_optional(pool)
            .await?
            else {
                return Ok(None);
            };
            let id: i64 = row.try_get("id")?;
            let attempts = sqlx::query(
                "SELECT attempt, at, http_status, error FROM alert_deliveries \
                 WHERE alert_id = $1 ORDER BY attempt",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let mut deliveries = Vec::with_capacity(attempts.len());
            for a in attempts {
                let status: Option<i64> = a.try_get("http_status")?;
                deliveries.push(DeliveryAttempt {
                    attempt: narrow(a.try_get("attempt")?, "attempt")?,
                    at: from_epoch_millis(a.try_get("at")?),
                    http_status: status.and_then(|s| u16::try_from(s).ok()),
                    error: a.try_get("error")?,
                });
            }
            let status: String = row.try_get("status")?;
            Ok(Some(AlertRecord {
                id: AlertId(id),
                report,
                status: AlertStatus::from_label(&status).ok_or(corrupt("alert_outbox", "status"))?,
                attempts: narrow(row.try_get("attempts")?, "attempts")?,
                created_at: from_epoch_millis(row.try_get("created_at")?),
                last_error: row.try_get("last_error")?,
                delivered_at: row.try_get::<Option<i64>, _>("delivered_at")?.map(from_epoch_millis),
                deliveries,
            }))
        })
    }
}

fn narrow(n: i64, column: &'static str) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| corrupt("alert_outbox", column))
}
