//! The automatic-call side of the store: the patients the planner reads, each slot planned
//! once across nodes, what an attempt's end changes (retry), cancellations, lease renewal and
//! the sweep of attempts whose window closed (blocked numbers and calls staff ask for are in
//! `requests.rs`, the listings in `listings.rs`).
//!
//! Attempt states, read back as [`crate::domain::AttemptState`]: `pending` (waiting for its
//! due time), `claimed` (a node holds it), `done` (dialled; `outcome` says how it ended, as
//! `domain::AttemptOutcome::label`) and `cancelled` (never dialled; `outcome` says why, as
//! `domain::Finish::label`: `cancelled_report_received`, `cancelled_auto_call_off`,
//! `cancelled_observation_ended`, `cancelled_not_scheduled`, `cancelled_wrong_number`,
//! `unreached`, `missed_capacity`, `missed_quiet_hours`).

use std::time::{Duration, SystemTime};

use sqlx::Row;

use crate::domain::{Attempt, AttemptId, AttemptOutcome, Finish};
use crate::domain::{PatientSettings, Period, RiskFactors};
use crate::lang::Language;
use crate::pii::Redacted;
use crate::report::date::{from_epoch_millis, Date};
use crate::report::Slot;

use super::attempts::{bind_attempt, insert_attempts_sql};
use super::{millis, BeginWrite, PatientId, Store, StoreError};

/// Rows per multi-row INSERT when a slot is planned (9 values each: far below both backends'
/// bind limits).
const PLAN_CHUNK: usize = 500;

/// What the last check before dialling needs to know about a patient now.
#[derive(Debug, Clone)]
pub struct PatientState {
    /// Current call settings.
    pub settings: PatientSettings,
    /// The latest complete report on any channel.
    pub last_complete_report: Option<SystemTime>,
    /// The registered number was blocked by the wrong-number key.
    pub number_blocked: bool,
    /// The registered number (the only number ever dialled).
    pub phone: Redacted<String>,
    /// The call language.
    pub language: Language,
}

const PATIENT_SETTINGS: &str =
    "SELECT id, call_times, CAST(observation_start AS TEXT) AS obs_start, \
     CAST(observation_end AS TEXT) AS obs_end, CAST(call_start AS TEXT) AS call_start, \
     CAST(call_end AS TEXT) AS call_end, auto_call, risk, CAST(birthday AS TEXT) AS birthday \
     FROM patients";

/// [`PATIENT_SETTINGS`] of one patient (`$1`) with what the last check before dialling adds:
/// number, language, latest complete report, whether the number is blocked.
static PATIENT_CHECK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    PATIENT_SETTINGS.replace(
        " FROM patients",
        ", phone, language, \
         (SELECT MAX(r.completed_at) FROM reports r WHERE r.patient_id = patients.id AND r.complete) AS last_report, \
         EXISTS (SELECT 1 FROM blocked_numbers b WHERE b.phone = patients.phone) AS blocked \
         FROM patients WHERE id = $1",
    )
});

impl Store {
    /// Every patient's call settings, for planning a day.
    pub async fn schedule_patients(&self) -> Result<Vec<PatientSettings>, StoreError> {
        let mut out = Vec::new();
        on_pool!(self, pool => {
            let rows = sqlx::query(PATIENT_SETTINGS).fetch_all(pool).await?;
            for row in rows {
                out.push(decode_settings(&row)?);
            }
        });
        Ok(out)
    }

    /// The patient as the last check before dialling sees them; `None` when unknown. One
    /// statement: this runs before every automatic call.
    pub async fn patient_state(&self, id: PatientId) -> Result<Option<PatientState>, StoreError> {
        on_pool!(self, pool => {
            let Some(row) = sqlx::query(&PATIENT_CHECK).bind(id.0).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let settings = decode_settings(&row)?;
            let language: String = row.try_get("language")?;
            Ok(Some(PatientState {
                settings,
                last_complete_report: row
                    .try_get::<Option<i64>, _>("last_report")?
                    .map(from_epoch_millis),
                number_blocked: row.try_get("blocked")?,
                phone: Redacted::new(row.try_get("phone")?),
                language: language
                    .parse()
                    .map_err(|_| corrupt("language"))?,
            }))
        })
    }

    /// Plans `slot` with `attempts` (first attempts), unless another node planned it less
    /// than `replan_after` ago. The slot's marker row and the attempts are written in one
    /// transaction, so a node that dies while planning leaves nothing half-planned; attempts
    /// already stored are kept as they are. Returns the number of new attempts, or `None`
    /// when the slot was planned recently (by this node or another).
    pub async fn plan_slot(
        &self,
        node: &str,
        slot: Slot,
        attempts: &[Attempt],
        now: SystemTime,
        replan_after: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let at = millis(now)?;
        let stale = super::millis_before(now, replan_after)?;
        let calls = i64::try_from(attempts.len()).unwrap_or(i64::MAX);
        let mut inserted = 0;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let fresh = sqlx::query(
                "INSERT INTO slot_plans (slot_date, slot_time, planned_at, planned_by, calls) \
                 VALUES (date($1), $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(slot.date.to_string())
            .bind(slot.time.to_string())
            .bind(at)
            .bind(node)
            .bind(calls)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if fresh == 0 {
                let taken = sqlx::query(
                    "UPDATE slot_plans SET planned_at = $3, planned_by = $4, calls = $5 \
                     WHERE slot_date = date($1) AND slot_time = $2 AND planned_at <= $6",
                )
                .bind(slot.date.to_string())
                .bind(slot.time.to_string())
                .bind(at)
                .bind(node)
                .bind(calls)
                .bind(stale)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if taken == 0 {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
            for chunk in attempts.chunks(PLAN_CHUNK) {
                let sql = insert_attempts_sql(chunk.len());
                let mut q = sqlx::query(&sql);
                for a in chunk {
                    q = bind_attempt(q, a)?;
                }
                inserted += q.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(Some(inserted))
    }

    /// Extends the leases of attempts this node holds (calls still on the line) to `until`.
    /// Returns how many it still held.
    pub async fn renew_leases(
        &self,
        node: &str,
        ids: &[AttemptId],
        until: SystemTime,
    ) -> Result<u64, StoreError> {
        let until = millis(until)?;
        let mut renewed = 0;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for id in ids {
                renewed += sqlx::query(
                    "UPDATE call_attempts SET lease_until = $1 \
                     WHERE id = $2 AND state = 'claimed' AND claimed_by = $3",
                )
                .bind(until)
                .bind(id.0)
                .bind(node)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
        });
        Ok(renewed)
    }

    /// Gives a claimed attempt back, due again at `due` (quiet hours, no free trunk).
    pub async fn release_attempt(
        &self,
        id: AttemptId,
        node: &str,
        due: SystemTime,
    ) -> Result<bool, StoreError> {
        let due = millis(due)?;
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE call_attempts SET state = 'pending', claimed_by = NULL, lease_until = NULL, \
                 due_at = $1 WHERE id = $2 AND state = 'claimed' AND claimed_by = $3",
            )
            .bind(due)
            .bind(id.0)
            .bind(node)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Cancels a claimed attempt that was never dialled, with the reason as its outcome.
    pub async fn cancel_claimed_attempt(
        &self,
        id: AttemptId,
        node: &str,
        reason: Finish,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let at = millis(now)?;
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE call_attempts SET state = 'cancelled', outcome = $1, finished_at = $2 \
                 WHERE id = $3 AND state = 'claimed' AND claimed_by = $4",
            )
            .bind(reason.label())
            .bind(at)
            .bind(id.0)
            .bind(node)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Ends an attempt this node dialled with `outcome` and, in the same transaction, plans
    /// the next attempt when there is one. Returns false (and writes nothing) when the node
    /// no longer holds it.
    pub async fn finish_attempt_then(
        &self,
        id: AttemptId,
        node: &str,
        (outcome, call_id): (AttemptOutcome, Option<&str>),
        next: Option<&Attempt>,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let Some(next) = next else {
            // One statement needs no transaction: one round trip, not three.
            return self.finish_attempt(id, node, outcome, call_id, now).await;
        };
        let at = millis(now)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE call_attempts SET state = 'done', outcome = $1, call_id = $2, finished_at = $3 \
                 WHERE id = $4 AND state = 'claimed' AND claimed_by = $5",
            )
            .bind(outcome.label())
            .bind(call_id)
            .bind(at)
            .bind(id.0)
            .bind(node)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            bind_attempt(sqlx::query(&insert_attempts_sql(1)), next)?
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// A complete report at `at`: cancels the patient's pending slot attempts whose slot
    /// instant is at or before it (SPEC §4). Calls staff asked for are left alone.
    pub async fn cancel_attempts_after_report(
        &self,
        patient: PatientId,
        at: SystemTime,
    ) -> Result<u64, StoreError> {
        let at = millis(at)?;
        let n = on_call_conn!(self, conn => {
            sqlx::query(
                "UPDATE call_attempts SET state = 'cancelled', outcome = 'cancelled_report_received', finished_at = $2 \
                 WHERE patient_id = $1 AND state = 'pending' AND NOT manual AND slot_at <= $2",
            )
            .bind(patient.0)
            .bind(at)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(n)
    }

    /// Attempts whose window closed before they could start become `cancelled` /
    /// `missed_capacity`: pending ones, and claimed ones whose node died and whose lease ran
    /// out after the window. Returns how many.
    pub async fn sweep_missed_attempts(&self, now: SystemTime) -> Result<u64, StoreError> {
        let at = millis(now)?;
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE call_attempts SET state = 'cancelled', outcome = 'missed_capacity', finished_at = $1 \
                 WHERE window_end <= $1 AND (state = 'pending' OR (state = 'claimed' AND lease_until < $1))",
            )
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }
}

fn corrupt(column: &'static str) -> StoreError {
    super::corrupt("patients", column)
}

fn decode_settings<R>(row: &R) -> Result<PatientSettings, StoreError>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let date = |column: &'static str| -> Result<Date, StoreError> {
        row.try_get::<String, _>(column)?
            .parse()
            .map_err(|_| corrupt(column))
    };
    let call_times = super::decode_call_times(&row.try_get::<String, _>("call_times")?)?;
    let call_period = match (
        row.try_get::<Option<String>, _>("call_start")?,
        row.try_get::<Option<String>, _>("call_end")?,
    ) {
        (Some(s), Some(e)) => Some(Period {
            start: s.parse().map_err(|_| corrupt("call_start"))?,
            end: e.parse().map_err(|_| corrupt("call_end"))?,
        }),
        _ => None,
    };
    let risk: String = row.try_get("risk")?;
    Ok(PatientSettings {
        id: PatientId(row.try_get("id")?),
        call_times,
        observation: Period {
            start: date("obs_start")?,
            end: date("obs_end")?,
        },
        call_period,
        auto_call: row.try_get("auto_call")?,
        risk: RiskFactors::parse(&risk),
        birthday: Redacted::new(date("birthday")?),
    })
}
