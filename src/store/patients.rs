//! Patient import: upsert a checked CSV file in one transaction.

use std::collections::HashMap;
use std::io;

use sqlx::Row;

use crate::pii::Redacted;

use super::error::ImportError;
use super::import::{parse_patients, PatientRow};
use super::{BeginWrite, Store};

/// What an import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Patients that were not in the store.
    pub inserted: usize,
    /// Patients that were, now overwritten with the file's values (their Health Call lock
    /// state is kept).
    pub updated: usize,
}

impl Store {
    /// Upserts the patients of a CSV file (SPEC §6a columns, see `store::import`) by
    /// `hersys_id`, creating health centres by name as needed.
    ///
    /// All or nothing: the file is parsed and checked first, then written in one transaction;
    /// any bad row, duplicate, or a phone number already used with automatic calls by a
    /// patient outside the file ([`ImportError::PhoneTaken`]) rolls everything back.
    pub async fn import_patients_csv<R: io::Read>(
        &self,
        reader: R,
    ) -> Result<ImportSummary, ImportError> {
        let rows = parse_patients(reader, &self.options.call_times)?;
        let mut summary = ImportSummary::default();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut centres: HashMap<String, i64> = HashMap::new();
            // Pass 1: every row with auto_call off, so no intermediate state can break the
            // one-phone-one-patient index while numbers move between patients.
            for row in &rows {
                let centre = match centres.get(&row.health_center) {
                    Some(id) => *id,
                    None => {
                        sqlx::query(
                            "INSERT INTO health_centers (name) VALUES ($1) \
                             ON CONFLICT (name) DO NOTHING",
                        )
                        .bind(&row.health_center)
                        .execute(&mut *tx)
                        .await?;
                        let id: i64 = sqlx::query("SELECT id FROM health_centers WHERE name = $1")
                            .bind(&row.health_center)
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get("id")?;
                        centres.insert(row.health_center.clone(), id);
                        id
                    }
                };
                let existing = sqlx::query("SELECT id FROM patients WHERE hersys_id = $1")
                    .bind(&row.hersys_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let sql = if existing.is_some() {
                    summary.updated += 1;
                    UPDATE_PATIENT
                } else {
                    summary.inserted += 1;
                    INSERT_PATIENT
                };
                bind_patient(sqlx::query(sql), row, centre).execute(&mut *tx).await?;
            }
            // Pass 2: turn automatic calls on where asked, refusing numbers held by others.
            for row in rows.iter().filter(|r| r.auto_call) {
                let holder = sqlx::query("SELECT hersys_id FROM patients WHERE phone = $1 AND auto_call")
                    .bind(&row.phone)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(holder) = holder {
                    let patient = Redacted::new(holder.try_get::<String, _>("hersys_id")?);
                    return Err(ImportError::PhoneTaken { line: row.line, patient });
                }
                sqlx::query("UPDATE patients SET auto_call = TRUE WHERE hersys_id = $1")
                    .bind(&row.hersys_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(summary)
    }
}

const INSERT_PATIENT: &str = "INSERT INTO patients (hersys_id, name, birthday, phone, language, \
     call_times, observation_start, observation_end, auto_call, health_center_id, risk, \
     call_start, call_end) \
     VALUES ($1, $2, date($3), $4, $5, $6, date($7), date($8), FALSE, $9, $10, date($11), date($12))";

const UPDATE_PATIENT: &str = "UPDATE patients SET name = $2, birthday = date($3), phone = $4, \
     language = $5, call_times = $6, observation_start = date($7), observation_end = date($8), \
     auto_call = FALSE, health_center_id = $9, risk = $10, call_start = date($11), \
     call_end = date($12) WHERE hersys_id = $1";

/// Binds `$1`–`$12` of [`INSERT_PATIENT`] / [`UPDATE_PATIENT`].
fn bind_patient<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    row: &'q PatientRow,
    centre: i64,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(row.hersys_id.as_str())
        .bind(row.name.as_str())
        .bind(row.birthday.to_string())
        .bind(row.phone.as_str())
        .bind(row.language.code())
        .bind(row.call_times.as_str())
        .bind(row.observation_start.to_string())
        .bind(row.observation_end.to_string())
        .bind(centre)
        .bind(row.risk.as_str())
        .bind(row.call_period.map(|(s, _)| s.to_string()))
        .bind(row.call_period.map(|(_, e)| e.to_string()))
}
