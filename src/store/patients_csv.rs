//! Patients files for the staff API: a CSV import scoped to the caller's health centre, and
//! the export that `patients import` reads back unchanged.

use std::collections::HashMap;
use std::io;

use sqlx::Row;

use super::error::ImportError;
use super::import::{parse_patients, COLUMNS, OPTIONAL_COLUMNS};
use super::patients_api::{FieldValues, PatientRecord};
use super::staff::CentreScope;
use super::{ImportSummary, Store, StoreError};

/// Why a scoped CSV import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScopedImportError {
    /// The file itself was refused (see [`ImportError`]).
    #[error(transparent)]
    Import(#[from] ImportError),
    /// A row names another health centre than the caller's.
    #[error("line {0}: field health_center: not your health centre")]
    OtherCentre(u64),
    /// A row's HER-SYS ID belongs to a patient of another centre.
    #[error("line {0}: field hersys_id: registered at another health centre")]
    OtherCentresPatient(u64),
}

impl Store {
    /// Imports a patients CSV file like [`Store::import_patients_csv`], but for a caller of
    /// `scope` with centre name `centre`: every row must name that centre, and no row may
    /// take over a patient of another centre. All or nothing.
    pub async fn import_patients_csv_scoped(
        &self,
        scope: CentreScope,
        centre: Option<&str>,
        csv: &[u8],
    ) -> Result<ImportSummary, ScopedImportError> {
        let rows = parse_patients(csv, &self.options.call_times)?;
        if let (CentreScope::Centre(own), Some(name)) = (scope, centre) {
            let ids: Vec<&str> = rows.iter().map(|r| r.hersys_id.as_str()).collect();
            let elsewhere = self.centres_of(&ids).await.map_err(ImportError::from)?;
            for row in &rows {
                if row.health_center != name {
                    return Err(ScopedImportError::OtherCentre(row.line));
                }
                if elsewhere.get(&row.hersys_id).is_some_and(|c| *c != own.0) {
                    return Err(ScopedImportError::OtherCentresPatient(row.line));
                }
            }
        }
        Ok(self.import_patients_csv(csv).await?)
    }

    /// The centre id of each existing patient among `hersys_ids`.
    async fn centres_of(&self, hersys_ids: &[&str]) -> Result<HashMap<String, i64>, StoreError> {
        let wanted: std::collections::HashSet<&str> = hersys_ids.iter().copied().collect();
        let mut out = HashMap::new();
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT hersys_id, health_center_id FROM patients")
                .fetch_all(pool)
                .await?;
            for r in rows {
                let id: String = r.try_get("hersys_id")?;
                if wanted.contains(id.as_str()) {
                    out.insert(id, r.try_get("health_center_id")?);
                }
            }
        });
        Ok(out)
    }
}

/// Writes `records` as a patients file `patients import` reads back unchanged: the required
/// columns, then `call_start` and `call_end`.
pub fn write_patients_csv<W: io::Write>(records: &[PatientRecord], out: W) -> csv::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(COLUMNS.iter().chain(OPTIONAL_COLUMNS.iter()))?;
    for r in records {
        let f = &r.fields;
        let v = FieldValues::of(f);
        csv.write_record([
            f.hersys_id.as_str(),
            f.name.as_str(),
            &v.birthday,
            f.phone.as_str(),
            f.language.code(),
            &v.call_times,
            &v.obs_start,
            &v.obs_end,
            if f.auto_call { "true" } else { "false" },
            r.centre.name.as_str(),
            f.risk.as_str(),
            v.call_start.as_deref().unwrap_or(""),
            v.call_end.as_deref().unwrap_or(""),
        ])?;
    }
    csv.flush()?;
    Ok(())
}
