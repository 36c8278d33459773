//! Automatic-call attempts and their leases (SPEC §11): every node claims due attempts with a
//! lease; on PostgreSQL the claim skips rows another node holds (`FOR UPDATE SKIP LOCKED`), so
//! no attempt is dialled twice, and an attempt whose lease ran out (its node died) is claimed
//! again. On SQLite one node does it all, inside `BEGIN IMMEDIATE`.

use std::time::{Duration, SystemTime};

use sqlx::Row;

use crate::domain::{Attempt, AttemptId, AttemptOutcome, AttemptState, Claim, Finish, Priority};
use crate::pii::Redacted;
use crate::report::date::from_epoch_millis;
use crate::report::Slot;

use super::reports::decode_slot;
use super::{millis, BeginWrite, PatientId, Store, StoreError};

/// The `call_attempts` columns of the plan, which [`decode_planned`] reads: what a claim
/// returns (the claim itself says the state).
const PLAN_COLUMNS: &str =
    "id, patient_id, CAST(slot_date AS TEXT) AS slot_date, slot_time, attempt, due_at, \
     window_end, slot_at, priority, manual";

/// Every `call_attempts` column [`decode_attempt`] reads: the plan and the state.
pub(super) const ATTEMPT_COLUMNS: &str =
    "id, patient_id, CAST(slot_date AS TEXT) AS slot_date, slot_time, attempt, due_at, \
     window_end, slot_at, priority, manual, state, claimed_by, lease_until, outcome, call_id, \
     finished_at";

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
/// parameters already bound (several attempts go into one multi-row insert this way). The
/// attempt's state is not written: a new attempt is `pending`.
pub(super) fn bind_attempt<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    a: &Attempt,
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
        .bind(i64::from(a.number))
        .bind(millis(a.due_at)?)
        .bind(millis(a.window_end)?)
        .bind(i64::from(a.rank()))
        .bind(millis(a.slot_at)?)
        .bind(a.manual))
}

/// The claim of one kind of due attempt: lease-expired takeovers or due pending ones. The
/// order mirrors `schedule::claim_order` (checked against it on both backends by
/// `tests/common_store/claim_order_cases.rs`); the pending order is the partial index
/// `call_attempts_start_order` of migration 0008.
const CLAIM: &str =
    "UPDATE call_attempts SET state = 'claimed', claimed_by = $1, lease_until = $2 \
     WHERE id IN (SELECT id FROM call_attempts \
       WHERE {which} AND window_end > $3 \
       ORDER BY {order} LIMIT $4 {lock}) \
     RETURNING {columns}";

/// Pending attempts start in this order: higher rank, earlier due, lower patient, lower id.
pub(super) const PENDING_ORDER: &str = "priority DESC, due_at, patient_id, id";
/// Attempts whose lease ran out are taken over oldest lease first.
pub(super) const EXPIRED_ORDER: &str = "lease_until, id";

fn claim_sql(postgres: bool, expired: bool) -> String {
    let (which, order) = if expired {
        ("state = 'claimed' AND lease_until < $3", EXPIRED_ORDER)
    } else {
        ("state = 'pending' AND due_at <= $3", PENDING_ORDER)
    };
    CLAIM
        .replace("{which}", which)
        .replace("{order}", order)
        .replace("{columns}", PLAN_COLUMNS)
        .replace(
            "{lock}",
            if postgres {
                "FOR UPDATE SKIP LOCKED"
            } else {
                ""
            },
        )
}

/// Patients looked up per statement when a claim is read (far below both backends' bind
/// limits).
const LOOKUP_CHUNK: usize = 500;

/// `id, phone, language` of the `n` patients bound as `$1`…`$n` (ids may repeat).
fn patients_by_id_sql(n: usize) -> String {
    let list: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!(
        "SELECT id, phone, language FROM patients WHERE id IN ({})",
        list.join(", ")
    )
}

/// The dial order within one claim: takeovers first, then the rest, each group by rank
/// (higher first), due time, patient and id (RETURNING keeps no order of its own).
fn start_key(c: &Claim) -> (std::cmp::Reverse<i32>, SystemTime, PatientId, AttemptId) {
    let a = &c.attempt;
    (std::cmp::Reverse(a.rank()), a.due_at, a.patient, c.id)
}

impl Store {
    /// Records planned attempts as `pending` (their `state` is not read); one already recorded (same patient, slot and number) is left
    /// as it is. Returns how many were new.
    pub async fn enqueue_attempts(&self, attempts: &[Attempt]) -> Result<u64, StoreError> {
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

    /// Claims up to `limit` due attempts for `node` until `now + lease`: first claimed ones
    /// whose lease has run out (oldest lease first), then pending ones that are due, in start
    /// order (higher rank, earlier due, lower patient id, lower attempt id). Attempts whose
    /// window has closed are never claimed. Returned in dial order: takeovers, then the rest,
    /// each in start order. This is the SQL of `schedule::claim_order`.
    pub async fn claim_due_attempts(
        &self,
        node: &str,
        now: SystemTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError> {
        let at = millis(now)?;
        let until = millis(now + lease)?;
        let postgres = matches!(self.backend, super::Backend::Postgres(_));
        let queries = [claim_sql(postgres, true), claim_sql(postgres, false)];
        let mut claimed = Vec::new();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut rows = Vec::new();
            let mut takeovers = 0;
            for (i, sql) in queries.iter().enumerate() {
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
                if i == 0 {
                    takeovers = rows.len();
                }
            }
            let mut planned = Vec::with_capacity(rows.len());
            for row in &rows {
                let held = AttemptState::Claimed {
                    node: node.to_string(),
                    lease_until: from_epoch_millis(until),
                };
                planned.push((AttemptId(row.try_get("id")?), decode_planned(row, held)?));
            }
            // Each claimed patient's number and language: one statement per claim (per
            // `LOOKUP_CHUNK` attempts), not one per attempt.
            let mut who = std::collections::HashMap::with_capacity(planned.len());
            for chunk in planned.chunks(LOOKUP_CHUNK) {
                let sql = patients_by_id_sql(chunk.len());
                let mut query = sqlx::query(&sql);
                for (_, a) in chunk {
                    query = query.bind(a.patient.0);
                }
                for row in query.fetch_all(&mut *tx).await? {
                    let language: String = row.try_get("language")?;
                    let language: crate::lang::Language = language
                        .parse()
                        .map_err(|_| StoreError::Corrupt { table: "patients", column: "language" })?;
                    let phone: String = row.try_get("phone")?;
                    who.insert(row.try_get::<i64, _>("id")?, (phone, language));
                }
            }
            for (id, attempt) in planned {
                let Some((phone, language)) = who.get(&attempt.patient.0) else {
                    // The foreign key makes this unreachable.
                    return Err(StoreError::Corrupt { table: "call_attempts", column: "patient_id" });
                };
                claimed.push(Claim {
                    id,
                    attempt,
                    phone: Redacted::new(phone.clone()),
                    language: *language,
                });
            }
            tx.commit().await?;
            claimed[..takeovers].sort_by_key(start_key);
            claimed[takeovers..].sort_by_key(start_key);
        });
        Ok(claimed)
    }

    /// Marks an attempt this node holds as done with `outcome`. Returns false when the node
    /// no longer holds it (its lease ran out and another node took it).
    pub async fn finish_attempt(
        &self,
        id: AttemptId,
        node: &str,
        outcome: AttemptOutcome,
        call_id: Option<&str>,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let at = millis(now)?;
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE call_attempts SET state = 'done', outcome = $1, call_id = $2, finished_at = $3 \
                 WHERE id = $4 AND state = 'claimed' AND claimed_by = $5",
            )
            .bind(outcome.label())
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
    /// were turned off) with `why` as their outcome. Returns how many were cancelled.
    pub async fn cancel_pending_attempts(
        &self,
        patient: PatientId,
        slot: Slot,
        why: Finish,
        now: SystemTime,
    ) -> Result<u64, StoreError> {
        let at = millis(now)?;
        let cancelled = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE call_attempts SET state = 'cancelled', outcome = $4, finished_at = $5 \
                 WHERE patient_id = $1 AND slot_date = date($2) AND slot_time = $3 AND state = 'pending'",
            )
            .bind(patient.0)
            .bind(slot.date.to_string())
            .bind(slot.time.to_string())
            .bind(why.label())
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(cancelled)
    }
}

/// A `call_attempts` row (the columns of [`ATTEMPT_COLUMNS`]) as the domain's attempt. A
/// state whose columns do not fit it (a claim without a node or lease, an outcome label that
/// names nothing) is [`StoreError::Corrupt`].
pub(super) fn decode_attempt<R>(row: &R) -> Result<Attempt, StoreError>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let bad = |column| super::corrupt("call_attempts", column);
    let node: Option<String> = row.try_get("claimed_by")?;
    let outcome: Option<String> = row.try_get("outcome")?;
    let finished_at = row
        .try_get::<Option<i64>, _>("finished_at")?
        .map(from_epoch_millis);
    let state = match row.try_get::<String, _>("state")?.as_str() {
        "pending" => AttemptState::Pending,
        "claimed" => AttemptState::Claimed {
            node: node.ok_or(bad("claimed_by"))?,
            lease_until: from_epoch_millis(
                row.try_get::<Option<i64>, _>("lease_until")?
                    .ok_or(bad("lease_until"))?,
            ),
        },
        "done" => AttemptState::Done {
            node: node.ok_or(bad("claimed_by"))?,
            outcome: outcome
                .as_deref()
                .and_then(AttemptOutcome::from_label)
                .ok_or(bad("outcome"))?,
            call_id: row.try_get("call_id")?,
            finished_at: finished_at.ok_or(bad("finished_at"))?,
        },
        "cancelled" => AttemptState::Cancelled {
            finish: outcome
                .as_deref()
                .and_then(Finish::from_label)
                .ok_or(bad("outcome"))?,
            node,
            finished_at: finished_at.ok_or(bad("finished_at"))?,
        },
        _ => return Err(bad("state")),
    };
    decode_planned(row, state)
}

/// The plan columns of a `call_attempts` row ([`PLAN_COLUMNS`]) as an attempt in `state`.
fn decode_planned<R>(row: &R, state: AttemptState) -> Result<Attempt, StoreError>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let bad = |column| super::corrupt("call_attempts", column);
    let slot = decode_slot(
        row.try_get("slot_date")?,
        row.try_get("slot_time")?,
        "call_attempts",
    )?
    .ok_or(bad("slot_date"))?;
    let rank = i32::try_from(row.try_get::<i64, _>("priority")?).map_err(|_| bad("priority"))?;
    Ok(Attempt {
        patient: PatientId(row.try_get("patient_id")?),
        slot,
        number: u32::try_from(row.try_get::<i64, _>("attempt")?).map_err(|_| bad("attempt"))?,
        due_at: from_epoch_millis(row.try_get("due_at")?),
        window_end: from_epoch_millis(row.try_get("window_end")?),
        slot_at: from_epoch_millis(row.try_get("slot_at")?),
        priority: Priority::from_rank(rank),
        manual: row.try_get("manual")?,
        state,
    })
}
