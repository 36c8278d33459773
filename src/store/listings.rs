//! Attempt listings behind `calls plan`, `calls now` and the staff page: stored attempts as
//! domain [`Attempt`]s with their patient's HER-SYS ID.

use sqlx::Row;

use crate::domain::{Attempt, AttemptId};
use crate::pii::Redacted;
use crate::report::date::Date;

use super::attempts::decode_attempt;
use super::{PatientId, Store, StoreError};

/// One attempt as stored, for listings: the attempt and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// The attempt's row id.
    pub id: AttemptId,
    /// The patient's HER-SYS ID (personal data: shown to staff, never logged).
    pub hersys_id: Redacted<String>,
    /// The attempt, with where it stands.
    pub attempt: Attempt,
}

/// The listing columns: every attempt column ([`super::attempts::ATTEMPT_COLUMNS`], of `a`)
/// and the patient's HER-SYS ID.
fn listing_columns() -> String {
    let attempt: Vec<String> = super::attempts::ATTEMPT_COLUMNS
        .split(", ")
        .map(|c| format!("a.{}", c.trim()))
        .collect();
    format!("{}, p.hersys_id", attempt.join(", ")).replace("a.CAST(slot_date", "CAST(a.slot_date")
}

impl Store {
    /// One attempt, if it exists.
    pub async fn attempt(&self, id: AttemptId) -> Result<Option<AttemptRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM call_attempts a JOIN patients p ON p.id = a.patient_id \
             WHERE a.id = $1",
            listing_columns()
        );
        let mut rows = on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(id.0).fetch_all(pool).await?;
            rows.iter().map(decode_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows.pop())
    }

    /// Every attempt of slots on `date` (local), by slot, priority and patient.
    pub async fn attempts_on(&self, date: Date) -> Result<Vec<AttemptRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM call_attempts a JOIN patients p ON p.id = a.patient_id \
             WHERE a.slot_date = date($1) \
             ORDER BY a.slot_time, a.priority DESC, a.patient_id, a.attempt",
            listing_columns()
        );
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(date.to_string()).fetch_all(pool).await?;
            rows.iter().map(decode_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// A patient's attempts, newest first, at most `limit`.
    pub async fn patient_attempts(
        &self,
        patient: PatientId,
        limit: u32,
    ) -> Result<Vec<AttemptRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM call_attempts a JOIN patients p ON p.id = a.patient_id \
             WHERE a.patient_id = $1 ORDER BY a.due_at DESC, a.id DESC LIMIT $2",
            listing_columns()
        );
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(patient.0)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(decode_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }
}

fn decode_row<R>(row: &R) -> Result<AttemptRow, StoreError>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(AttemptRow {
        id: AttemptId(row.try_get("id")?),
        hersys_id: Redacted::new(row.try_get("hersys_id")?),
        attempt: decode_attempt(row)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_read_every_attempt_column_of_the_attempts_table() {
        let columns = listing_columns();
        assert!(columns.starts_with("a.id, a.patient_id, CAST(a.slot_date AS TEXT) AS slot_date"));
        for c in [
            "a.state",
            "a.claimed_by",
            "a.lease_until",
            "a.finished_at",
            "p.hersys_id",
        ] {
            assert!(columns.contains(c), "{columns}");
        }
    }
}
