//! The audit log: one append-only row per read or change of a patient's personal data through
//! the staff API (who, what, which patient, when), and the admin's view of it.
//!
//! A list read writes one row per patient shown, all in one transaction, so "who saw patient
//! X" is one query. `detail` holds no personal data: counts, filter names, field names.

use std::time::SystemTime;

use sqlx::Row;

use crate::pii::Redacted;
use crate::report::date::from_epoch_millis;

use super::StaffId;
use super::{millis, BeginWrite, PatientId, Store, StoreError};

/// Rows per multi-row INSERT (6 values each).
const CHUNK: usize = 500;

/// Who did something, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The account (`None` for an unauthenticated attempt, such as a failed login).
    pub staff: Option<StaffId>,
    /// The username as given.
    pub username: String,
}

/// One audit row as stored.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Its row id (increasing).
    pub id: i64,
    /// When.
    pub at: SystemTime,
    /// The account, if there was one.
    pub staff: Option<StaffId>,
    /// The username.
    pub username: String,
    /// What, such as `patient.read` or `report.create`.
    pub action: String,
    /// Which patient, if one.
    pub patient: Option<PatientId>,
    /// That patient's HER-SYS ID (personal data: shown to admins, never logged).
    pub hersys_id: Option<Redacted<String>>,
    /// Counts, filters or field names; never personal data.
    pub detail: String,
}

/// Which audit rows to read; `None` fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this patient.
    pub patient: Option<PatientId>,
    /// Only this username.
    pub username: Option<String>,
    /// Only rows at or after this instant.
    pub since: Option<SystemTime>,
    /// At most this many rows, newest first (default and maximum 1000).
    pub limit: Option<u32>,
}

impl Store {
    /// Appends one row per patient in `patients` (one row with no patient when empty), all in
    /// one transaction, committed before returning.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        patients: &[PatientId],
        detail: &str,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let at = millis(now)?;
        let targets: Vec<Option<i64>> = if patients.is_empty() {
            vec![None]
        } else {
            patients.iter().map(|p| Some(p.0)).collect()
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in targets.chunks(CHUNK) {
                let sql = insert_sql(chunk.len());
                let mut q = sqlx::query(&sql);
                for patient in chunk {
                    q = q
                        .bind(at)
                        .bind(actor.staff.map(|s| s.0))
                        .bind(actor.username.as_str())
                        .bind(action)
                        .bind(*patient)
                        .bind(detail);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Audit rows matching `filter`, newest first.
    pub async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
        let since = filter.since.map(millis).transpose()?.unwrap_or(i64::MIN);
        let limit = i64::from(filter.limit.unwrap_or(1000).clamp(1, 1000));
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT a.id, a.at, a.staff_id, a.username, a.action, a.patient_id, \
                 p.hersys_id, a.detail FROM audit_log a LEFT JOIN patients p ON p.id = a.patient_id \
                 WHERE a.at >= $1 AND ($2 IS NULL OR a.patient_id = $2) \
                 AND ($3 IS NULL OR a.username = $3) ORDER BY a.id DESC LIMIT $4",
            )
            .bind(since)
            .bind(filter.patient.map(|p| p.0))
            .bind(filter.username.as_deref())
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(AuditRow {
                    id: r.try_get("id")?,
                    at: from_epoch_millis(r.try_get("at")?),
                    staff: r.try_get::<Option<i64>, _>("staff_id")?.map(StaffId),
                    username: r.try_get("username")?,
                    action: r.try_get("action")?,
                    patient: r.try_get::<Option<i64>, _>("patient_id")?.map(PatientId),
                    hersys_id: r.try_get::<Option<String>, _>("hersys_id")?.map(Redacted::new),
                    detail: r.try_get("detail")?,
                });
            }
            out
        });
        Ok(rows)
    }
}

/// `INSERT INTO audit_log … VALUES (…), (…)` for `n` rows.
fn insert_sql(n: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO audit_log (at, staff_id, username, action, patient_id, detail) VALUES ",
    );
    for i in 0..n {
        let b = i * 6;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6
        ));
    }
    sql
}
