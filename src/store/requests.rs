//! What people ask of the automatic calls: the wrong-number key (the patient's number
//! blocked, their pending attempts cancelled) and a call staff ask for now.

use std::time::{Duration, SystemTime};

use sqlx::Row;

use crate::domain::AttemptId;
use crate::pii::Redacted;
use crate::report::Slot;

use super::{millis, BeginWrite, PatientId, Store, StoreError};

impl Store {
    /// The wrong-number key: blocks the patient's registered number for automatic calls and
    /// cancels every attempt of the patient not yet dialled. Returns the cancelled count.
    pub async fn block_number(
        &self,
        patient: PatientId,
        call_id: Option<&str>,
        now: SystemTime,
    ) -> Result<u64, StoreError> {
        let at = millis(now)?;
        let cancelled = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO blocked_numbers (phone, patient_id, blocked_at, call_id) \
                 SELECT phone, id, $2, $3 FROM patients WHERE id = $1 ON CONFLICT DO NOTHING",
            )
            .bind(patient.0)
            .bind(at)
            .bind(call_id)
            .execute(&mut *tx)
            .await?;
            let n = sqlx::query(
                "UPDATE call_attempts SET state = 'cancelled', outcome = 'cancelled_wrong_number', finished_at = $2 \
                 WHERE patient_id = $1 AND state = 'pending'",
            )
            .bind(patient.0)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            n
        });
        Ok(cancelled)
    }

    /// True when the patient's registered number is blocked.
    pub async fn number_blocked(&self, patient: PatientId) -> Result<bool, StoreError> {
        let blocked = on_pool!(self, pool => {
            sqlx::query(
                "SELECT EXISTS (SELECT 1 FROM blocked_numbers b JOIN patients p ON p.phone = b.phone \
                 WHERE p.id = $1) AS blocked",
            )
            .bind(patient.0)
            .fetch_one(pool)
            .await?
            .try_get("blocked")?
        });
        Ok(blocked)
    }

    /// A call staff asked for (`carecall calls now`): one attempt for `patient`, due now,
    /// ahead of every slot call, open for `window`. `slot` is the local minute it was asked
    /// at. Returns its id.
    pub async fn request_call_now(
        &self,
        patient: PatientId,
        slot: Slot,
        now: SystemTime,
        window: Duration,
    ) -> Result<AttemptId, StoreError> {
        let at = millis(now)?;
        let end = millis(now + window)?;
        let id = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let next: i64 = sqlx::query(
                "SELECT COALESCE(MAX(attempt), 0) + 1 AS next FROM call_attempts \
                 WHERE patient_id = $1 AND slot_date = date($2) AND slot_time = $3",
            )
            .bind(patient.0)
            .bind(slot.date.to_string())
            .bind(slot.time.to_string())
            .fetch_one(&mut *tx)
            .await?
            .try_get("next")?;
            let id: i64 = sqlx::query(
                "INSERT INTO call_attempts \
                 (patient_id, slot_date, slot_time, attempt, due_at, window_end, priority, slot_at, manual) \
                 VALUES ($1, date($2), $3, $4, $5, $6, $7, $5, TRUE) RETURNING id",
            )
            .bind(patient.0)
            .bind(slot.date.to_string())
            .bind(slot.time.to_string())
            .bind(next)
            .bind(at)
            .bind(end)
            .bind(i64::from(i32::MAX))
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
            tx.commit().await?;
            id
        });
        Ok(AttemptId(id))
    }

    /// The patient with this HER-SYS ID, if any.
    pub async fn patient_by_hersys_id(
        &self,
        hersys_id: &Redacted<String>,
    ) -> Result<Option<PatientId>, StoreError> {
        let id: Option<i64> = on_pool!(self, pool => {
            sqlx::query("SELECT id FROM patients WHERE hersys_id = $1")
                .bind(hersys_id.expose())
                .fetch_optional(pool)
                .await?
                .map(|r| r.try_get("id"))
                .transpose()?
        });
        Ok(id.map(PatientId))
    }
}
