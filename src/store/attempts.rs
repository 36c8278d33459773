//! Automatic-call attempts and their leases (SPEC §11): every node claims due attempts with a
//! lease; on PostgreSQL the claim skips rows another node holds (`FOR UPDATE SKIP LOCKED`), so
//! no attempt is dialled twice, and an attempt whose lease ran out (its node died) is claimed
//! again. On SQLite one node does it all, inside `BEGIN IMMEDIATE`.

use std::time::{Duration, SystemTime};

use sqlx::Row;

use crate::lang::Language;
use crate::pii::Redacted;
use crate::report::date::from_epoch_millis;
use crate::report::Slot;

use super::reports::decode_slot;
use super::{millis, BeginWrite, PatientId, Store, StoreError};

/// An attempt's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptId(pub i64);

/// An attempt the planner wants made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttempt {
    /// Who to call.
    pub patient: PatientId,
    /// The slot it belongs to.
    pub slot: Slot,
    /// 1 for the first call of the slot, 2 and 3 for retries.
    pub attempt: u32,
    /// Not before this instant.
    pub due_at: SystemTime,
    /// Not after this instant (the slot's window).
    pub window_end: SystemTime,
    /// Higher first.
    pub priority: i32,
    /// The slot instant: a report at or after it cancels what is left of the slot.
    pub slot_at: SystemTime,
    /// A call staff asked for (`calls now`): one attempt, never retried.
    pub manual: bool,
}

/// An attempt this node now holds, with what it needs to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedAttempt {
    /// The attempt.
    pub id: AttemptId,
    /// Who to call.
    pub patient: PatientId,
    /// The patient's registered number (the only number carecall ever dials).
    pub phone: Redacted<String>,
    /// The call language.
    pub language: Language,
    /// The slot.
    pub slot: Slot,
    /// The attempt number.
    pub attempt: u32,
    /// When it was due.
    pub due_at: SystemTime,
    /// No attempt of the slot starts at or after this instant.
    pub window_end: SystemTime,
    /// The slot instant.
    pub slot_at: SystemTime,
    /// Its priority.
    pub priority: i32,
    /// A call staff asked for: never retried.
    pub manual: bool,
}

/// `INSERT … VALUES (…), … ON CONFLICT DO NOTHING` for `n` attempts, each bound with
/// [`bind_attempt`]; an attempt already stored (same patient, slot and number) is left as is.
pub(super) fn insert_attempts_sql(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let p: Vec<String> = (1..=9).map(|k| format!("${}", i * 9 + k)).collect();
            format!("({}, date({}), {})", p[0], p[1], p[2..].join(", "))
        })
        .collect();
    format!(
        "INSERT INTO call_attempts \
         (patient_id, slot_date, slot_time, attempt, due_at, window_end, priority, slot_at, manual) \
         VALUES {} ON CONFLICT DO NOTHING",
        rows.join(", ")
    )
}

/// Binds the nine values of one attempt, in [`insert_attempts_sql`]'s column order, after the
/// parameters already bound (several attempts go into one multi-row insert this way).
pub(super) fn bind_attempt<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    a: &NewAttempt,
) -> Result<sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>, StoreError>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    Ok(query
        .bind(a.patient.0)
        .bind(a.slot.date.to_string())
        .bind(a.slot.time.to_string())
        .bind(i64::from(a.attempt))
        .bind(millis(a.due_at)?)
        .bind(millis(a.window_end)?)
        .bind(i64::from(a.priority))
        .bind(millis(a.slot_at)?)
        .bind(a.manual))
}

const CLAIM: &str =
    "UPDATE call_attempts SET state = 'claimed', claimed_by = $1, lease_until = $2 \
     WHERE id IN (SELECT id FROM call_attempts \
       WHERE {which} AND window_end > $3 \
       ORDER BY {order} LIMIT $4 {lock}) \
     RETURNING id, patient_id, CAST(slot_date AS TEXT) AS slot_date, slot_time, attempt, \
       due_at, window_end, slot_at, priority, manual";

fn claim_sql(postgres: bool, expired: bool) -> String {
    let (which, order) = if expired {
        ("state = 'claimed' AND lease_until < $3", "lease_until")
    } else {
        (
            "state = 'pending' AND due_at <= $3",
            "priority DESC, due_at, id",
        )
    };
    CLAIM
        .replace("{which}", which)
        .replace("{order}", order)
        .replace(
            "{lock}",
            if postgres {
                "FOR UPDATE SKIP LOCKED"
            } else {
                ""
            },
        )
}

impl Store {
    /// Records planned attempts; one already recorded (same patient, slot and number) is left
    /// as it is. Returns how many were new.
    pub async fn enqueue_attempts(&self, attempts: &[NewAttempt]) -> Result<u64, StoreError> {
        let mut inserted = 0;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let sql = insert_attempts_sql(1);
            for a in attempts {
                let done = bind_attempt(sqlx::query(&sql), a)?
                    .execute(&mut *tx)
                    .await?;
                inserted += done.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(inserted)
    }

    /// Claims up to `limit` due attempts for `node` until `now + lease`, highest priority
    /// first: pending ones that are due, and claimed ones whose lease has run out. Attempts
    /// whose window has closed are never claimed.
    pub async fn claim_due_attempts(
        &self,
        node: &str,
        now: SystemTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedAttempt>, StoreError> {
        let at = millis(now)?;
        let until = millis(now + lease)?;
        let postgres = matches!(self.backend, super::Backend::Postgres(_));
        let queries = [claim_sql(postgres, true), claim_sql(postgres, false)];
        let mut claimed = Vec::new();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut rows = Vec::new();
            for sql in &queries {
                let left = i64::from(limit) - rows.len() as i64;
                if left <= 0 {
                    break;
                }
                rows.extend(
                    sqlx::query(sql)
                        .bind(node)
                        .bind(until)
                        .bind(at)
                        .bind(left)
                        .fetch_all(&mut *tx)
                        .await?,
                );
            }
            for row in rows {
                let patient: i64 = row.try_get("patient_id")?;
                let who = sqlx::query("SELECT phone, language FROM patients WHERE id = $1")
                    .bind(patient)
                    .fetch_one(&mut *tx)
                    .await?;
                let language: String = who.try_get("language")?;
                let slot = decode_slot(row.try_get("slot_date")?, row.try_get("slot_time")?, "call_attempts")?
                    .ok_or(StoreError::Corrupt { table: "call_attempts", column: "slot_date" })?;
                claimed.push(ClaimedAttempt {
                    id: AttemptId(row.try_get("id")?),
                    patient: PatientId(patient),
                    phone: Redacted::new(who.try_get("phone")?),
                    language: language
                        .parse()
                        .map_err(|_| StoreError::Corrupt { table: "patients", column: "language" })?,
                    slot,
                    attempt: u32::try_from(row.try_get::<i64, _>("attempt")?)
                        .map_err(|_| StoreError::Corrupt { table: "call_attempts", column: "attempt" })?,
                    due_at: from_epoch_millis(row.try_get("due_at")?),
                    window_end: from_epoch_millis(row.try_get("window_end")?),
                    slot_at: from_epoch_millis(row.try_get("slot_at")?),
                    priority: i32::try_from(row.try_get::<i64, _>("priority")?)
                        .map_err(|_| StoreError::Corrupt { table: "call_attempts", column: "priority" })?,
                    manual: row.try_get("manual")?,
                });
            }
            tx.commit().await?;
        });
        claimed.sort_by_key(|c| (std::cmp::Reverse(c.priority), c.due_at, c.id));
        Ok(claimed)
    }

    /// Marks an attempt this node holds as done with `outcome` (a disposition label). Returns
    /// false when the node no longer holds it (its lease ran out and another node took it).
    pub async fn finish_attempt(
        &self,
        id: AttemptId,
        node: &str,
        outcome: &str,
        call_id: Option<&str>,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let at = millis(now)?;
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE call_attempts SET state = 'done', outcome = $1, call_id = $2, finished_at = $3 \
                 WHERE id = $4 AND state = 'claimed' AND claimed_by = $5",
            )
            .bind(outcome)
            .bind(call_id)
            .bind(at)
            .bind(id.0)
            .bind(node)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Cancels a patient's attempts of `slot` that have not started (a report arrived, calls
    /// were turned off). Returns how many were cancelled.
    pub async fn cancel_pending_attempts(
        &self,
        patient: PatientId,
        slot: Slot,
    ) -> Result<u64, StoreError> {
        let cancelled = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE call_attempts SET state = 'cancelled' \
                 WHERE patient_id = $1 AND slot_date = date($2) AND slot_time = $3 AND state = 'pending'",
            )
            .bind(patient.0)
            .bind(slot.date.to_string())
            .bind(slot.time.to_string())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(cancelled)
    }
}
