//! Health Call identification (SPEC §5, §12): HER-SYS ID plus birthday MMDD, with failures
//! recorded, IDs locked after repeated failed calls, and per-caller failure counts.

use std::time::{Duration, SystemTime};

use sqlx::Row;

use crate::lang::Language;
use crate::pii::Redacted;
use crate::report::Date;

use super::{millis, millis_before, PatientId, Store, StoreError};

/// The outcome of one identification attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identification {
    /// The ID exists, is not locked and the birthday matches.
    Patient(PatientRef),
    /// The ID does not exist or the birthday is wrong; deliberately one outcome, so neither
    /// the store nor the caller can tell which.
    NoMatch,
    /// The ID is locked for Health Call until staff unlock it; refused even with the right
    /// birthday. Callers must play the same message as for [`Identification::NoMatch`].
    Locked,
}

/// The identified patient, as much as a call needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRef {
    /// The patient's row id, for `start_report`.
    pub id: PatientId,
    /// The patient's call language.
    pub language: Language,
}

impl Store {
    /// Identifies a Health Call caller by HER-SYS ID and birthday `MMDD`.
    ///
    /// Any failure (unknown ID, wrong birthday, locked ID) is recorded with the ID tried, the
    /// caller number and `call_id`, committed before returning. When an existing, unlocked ID
    /// has failed in `lock_after_failed_calls` distinct calls within `lock_window` (counting
    /// only failures since its last unlock), it is locked from the next attempt on.
    pub async fn identify(
        &self,
        hersys_id: &Redacted<String>,
        mmdd: &Redacted<String>,
        caller: &Redacted<String>,
        call_id: &str,
        now: SystemTime,
    ) -> Result<Identification, StoreError> {
        let at = millis(now)?;
        let window_start = millis_before(now, self.options.lock_window)?;
        let threshold = i64::from(self.options.lock_after_failed_calls);
        let id = hersys_id.expose().as_str();
        let outcome = on_call_conn!(self, conn => {
            let row = sqlx::query(
                "SELECT id, CAST(birthday AS TEXT) AS birthday, language, hc_locked_at, \
                 hc_unlocked_at FROM patients WHERE hersys_id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            let found = match row {
                None => None,
                Some(r) => Some(StoredPatient {
                    id: r.try_get("id")?,
                    birthday: r.try_get("birthday")?,
                    language: r.try_get("language")?,
                    locked: r.try_get::<Option<i64>, _>("hc_locked_at")?.is_some(),
                    unlocked_at: r.try_get("hc_unlocked_at")?,
                }),
            };
            match found.as_ref().filter(|p| !p.locked && p.birthday_is(mmdd)) {
                Some(p) => Identification::Patient(p.reference()?),
                None => {
                    // Every failure runs the same statements, whether the ID exists, is locked
                    // or is unknown: the store's work (and so its timing) tells a caller nothing.
                    let since = match &found {
                        Some(p) => window_start.max(p.unlocked_at.unwrap_or(i64::MIN)),
                        None => window_start,
                    };
                    // Deferred: the insert, its first statement, takes the write lock.
                    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                    sqlx::query("INSERT INTO id_failures (hersys_id, caller, call_id, at) VALUES ($1, $2, $3, $4)")
                        .bind(id)
                        .bind(caller.expose().as_str())
                        .bind(call_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    let calls: i64 = sqlx::query(
                        "SELECT COUNT(DISTINCT call_id) AS calls FROM id_failures \
                         WHERE hersys_id = $1 AND at > $2",
                    )
                    .bind(id)
                    .bind(since)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("calls")?;
                    // Locks an existing, unlocked ID at the threshold; no row changes otherwise.
                    sqlx::query(
                        "UPDATE patients SET hc_locked_at = $1 \
                         WHERE hersys_id = $2 AND hc_locked_at IS NULL AND $3",
                    )
                    .bind(at)
                    .bind(id)
                    .bind(calls >= threshold)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    match found {
                        Some(p) if p.locked => Identification::Locked,
                        _ => Identification::NoMatch,
                    }
                }
            }
        });
        Ok(outcome)
    }

    /// Unlocks a HER-SYS ID for Health Call; failures before `now` no longer count towards the
    /// next lock. Returns whether the ID was locked (false for an unlocked or unknown ID).
    pub async fn unlock(
        &self,
        hersys_id: &Redacted<String>,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let at = millis(now)?;
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE patients SET hc_locked_at = NULL, hc_unlocked_at = $1 \
                 WHERE hersys_id = $2 AND hc_locked_at IS NOT NULL",
            )
            .bind(at)
            .bind(hersys_id.expose().as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// How many failed identifications came from `caller` in the `window` before `now`, so the
    /// runtime can slow that number down.
    pub async fn caller_failures_recent(
        &self,
        caller: &Redacted<String>,
        now: SystemTime,
        window: Duration,
    ) -> Result<u32, StoreError> {
        let since = millis_before(now, window)?;
        let count: i64 = on_call_conn!(self, conn => {
            sqlx::query("SELECT COUNT(*) AS failures FROM id_failures WHERE caller = $1 AND at > $2")
                .bind(caller.expose().as_str())
                .bind(since)
                .fetch_one(&mut *conn)
                .await?
                .try_get("failures")?
        });
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}

struct StoredPatient {
    id: i64,
    birthday: String,
    language: String,
    locked: bool,
    unlocked_at: Option<i64>,
}

impl StoredPatient {
    fn birthday_is(&self, mmdd: &Redacted<String>) -> bool {
        self.birthday
            .parse::<Date>()
            .is_ok_and(|d| d.mmdd() == *mmdd.expose())
    }

    fn reference(&self) -> Result<PatientRef, StoreError> {
        let language = self.language.parse().map_err(|_| StoreError::Corrupt {
            table: "patients",
            column: "language",
        })?;
        Ok(PatientRef {
            id: PatientId(self.id),
            language,
        })
    }
}
