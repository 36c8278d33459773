//! Patients as the staff API sees them: one patient or a filtered list within a centre scope,
//! create and update from checked fields, CSV export in the `patients import` columns, and an
//! import that cannot touch another centre's patients.
//!
//! Every query takes a [`CentreScope`]: a patient outside it does not exist for the caller.
//! Values are checked before they get here (`http::patient_input`); the store still enforces
//! one automatic-call phone per patient with its unique index and reports it as
//! [`PatientWriteError::PhoneTaken`].

use std::time::SystemTime;

use sqlx::Row;

use crate::lang::Language;
use crate::report::date::{from_epoch_millis, Date, LocalTime};

use super::staff::{is_unique, Centre, CentreScope};
use super::CentreId;
use super::{BeginWrite, PatientId, Store, StoreError};

/// A patient with everything staff see and edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRecord {
    /// The row id (used in API paths instead of the HER-SYS ID).
    pub id: PatientId,
    /// The checked fields.
    pub fields: PatientFields,
    /// The health centre.
    pub centre: Centre,
    /// When the Health Call lock was set, if the ID is locked.
    pub locked_at: Option<SystemTime>,
    /// The registered number was blocked by the wrong-number key.
    pub number_blocked: bool,
}

/// A patient's editable fields, already checked (see `http::patient_input`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientFields {
    /// 4–16 digits.
    pub hersys_id: String,
    /// Full name.
    pub name: String,
    /// Birthday.
    pub birthday: Date,
    /// Normalised phone number (digits, optional leading `+`).
    pub phone: String,
    /// Call language.
    pub language: Language,
    /// Chosen call times in day order, each a configured slot.
    pub call_times: Vec<LocalTime>,
    /// Observation period (first and last day).
    pub observation: (Date, Date),
    /// Call period inside it, when narrower.
    pub call_period: Option<(Date, Date)>,
    /// Automatic calls on.
    pub auto_call: bool,
    /// Risk factors, free text separated by `;`.
    pub risk: String,
}

/// Which patients a list shows; `None` fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct PatientFilter {
    /// HER-SYS ID prefix or part of the name (case-insensitive for ASCII).
    pub search: Option<String>,
    /// Only this call language.
    pub language: Option<Language>,
    /// Only with automatic calls on (or off).
    pub auto_call: Option<bool>,
    /// Only patients whose observation period contains this day.
    pub observed_on: Option<Date>,
    /// Only locked (or unlocked) Health Call IDs.
    pub locked: Option<bool>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

/// Why a patient could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PatientWriteError {
    /// Another patient has this HER-SYS ID.
    #[error("hersys_id is already registered")]
    DuplicateId,
    /// Another patient with automatic calls on has this phone number (SPEC §4).
    #[error("phone is already used for automatic calls by another patient")]
    PhoneTaken,
    /// No such patient in the caller's scope.
    #[error("no such patient")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PatientWriteError {
    fn from(e: sqlx::Error) -> PatientWriteError {
        PatientWriteError::Store(StoreError::Database(e))
    }
}

const SELECT_PATIENT: &str =
    "SELECT p.id, p.hersys_id, p.name, CAST(p.birthday AS TEXT) AS birthday, \
     p.phone, p.language, p.call_times, CAST(p.observation_start AS TEXT) AS obs_start, \
     CAST(p.observation_end AS TEXT) AS obs_end, CAST(p.call_start AS TEXT) AS call_start, \
     CAST(p.call_end AS TEXT) AS call_end, p.auto_call, p.risk, p.hc_locked_at, \
     p.health_center_id, c.name AS centre_name, \
     EXISTS (SELECT 1 FROM blocked_numbers b WHERE b.phone = p.phone) AS blocked \
     FROM patients p JOIN health_centers c ON c.id = p.health_center_id";

impl Store {
    /// The patient `id` if it is in `scope`.
    pub async fn patient_record(
        &self,
        scope: CentreScope,
        id: PatientId,
    ) -> Result<Option<PatientRecord>, StoreError> {
        let sql =
            format!("{SELECT_PATIENT} WHERE p.id = $1 AND ($2 IS NULL OR p.health_center_id = $2)");
        let found = on_pool!(self, pool => {
            match sqlx::query(&sql).bind(id.0).bind(scope.bind()).fetch_optional(pool).await? {
                Some(r) => Some(decode_patient(&r)?),
                None => None,
            }
        });
        Ok(found)
    }

    /// The patients in `scope` matching `filter`, by HER-SYS ID.
    pub async fn patient_records(
        &self,
        scope: CentreScope,
        filter: &PatientFilter,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        let sql = format!(
            "{SELECT_PATIENT} WHERE ($1 IS NULL OR p.health_center_id = $1) \
             AND ($2 IS NULL OR p.hersys_id LIKE $3 OR LOWER(p.name) LIKE $4) \
             AND ($5 IS NULL OR p.language = $5) AND ($6 IS NULL OR p.auto_call = $6) \
             AND ($7 IS NULL OR (p.observation_start <= date($7) AND p.observation_end >= date($7))) \
             AND ($8 IS NULL OR (p.hc_locked_at IS NOT NULL) = $8) \
             ORDER BY p.hersys_id LIMIT $9 OFFSET $10"
        );
        let search = filter.search.as_deref().map(|s| escape_like(s.trim()));
        let limit = i64::from(filter.limit.unwrap_or(100).clamp(1, 1000));
        let offset = i64::from(filter.offset.unwrap_or(0));
        let records = on_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(scope.bind())
                .bind(search.is_some().then_some(1_i64))
                .bind(search.as_ref().map(|s| format!("{s}%")))
                .bind(search.as_ref().map(|s| format!("%{}%", s.to_lowercase())))
                .bind(filter.language.map(|l| l.code()))
                .bind(filter.auto_call)
                .bind(filter.observed_on.map(|d| d.to_string()))
                .bind(filter.locked)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            rows.iter().map(decode_patient).collect::<Result<Vec<_>, _>>()?
        });
        Ok(records)
    }

    /// Every patient in `scope`, for export.
    pub async fn all_patient_records(
        &self,
        scope: CentreScope,
    ) -> Result<Vec<PatientRecord>, StoreError> {
        let sql = format!(
            "{SELECT_PATIENT} WHERE ($1 IS NULL OR p.health_center_id = $1) ORDER BY p.hersys_id"
        );
        let records = on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(scope.bind()).fetch_all(pool).await?;
            rows.iter().map(decode_patient).collect::<Result<Vec<_>, _>>()?
        });
        Ok(records)
    }

    /// Registers a patient at `centre`.
    pub async fn create_patient(
        &self,
        centre: CentreId,
        fields: &PatientFields,
    ) -> Result<PatientId, PatientWriteError> {
        let sql = "INSERT INTO patients (hersys_id, name, birthday, phone, language, call_times, \
             observation_start, observation_end, call_start, call_end, auto_call, risk, \
             health_center_id) VALUES ($1, $2, date($3), $4, $5, $6, date($7), date($8), \
             date($9), date($10), $11, $12, $13) RETURNING id";
        let inserted = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin_write().await?;
                let exists = sqlx::query("SELECT id FROM patients WHERE hersys_id = $1")
                    .bind(&fields.hersys_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_some() {
                    return Err(PatientWriteError::DuplicateId);
                }
                if fields.auto_call && phone_taken!(&mut *tx, &fields.phone, None::<PatientId>)? {
                    return Err(PatientWriteError::PhoneTaken);
                }
                let v = FieldValues::of(fields);
                let id: i64 = sqlx::query(sql)
                    .bind(&fields.hersys_id).bind(&fields.name).bind(v.birthday).bind(&fields.phone)
                    .bind(fields.language.code()).bind(v.call_times).bind(v.obs_start).bind(v.obs_end)
                    .bind(v.call_start).bind(v.call_end).bind(fields.auto_call).bind(&fields.risk)
                    .bind(centre.0)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(write_error)?
                    .try_get("id")?;
                tx.commit().await?;
                Ok(id)
            }
            .await
        })?;
        Ok(PatientId(inserted))
    }

    /// Overwrites the fields of patient `id` in `scope` (its HER-SYS ID is kept: `hersys_id`
    /// in `fields` is ignored), and moves it to `centre` when given.
    pub async fn update_patient(
        &self,
        scope: CentreScope,
        id: PatientId,
        fields: &PatientFields,
        centre: Option<CentreId>,
    ) -> Result<(), PatientWriteError> {
        let sql = "UPDATE patients SET name = $1, birthday = date($2), phone = $3, language = $4, \
             call_times = $5, observation_start = date($6), observation_end = date($7), \
             call_start = date($8), call_end = date($9), auto_call = $10, risk = $11, \
             health_center_id = COALESCE($12, health_center_id) \
             WHERE id = $13 AND ($14 IS NULL OR health_center_id = $14)";
        on_pool!(self, pool => {
            async {
                let mut tx = pool.begin_write().await?;
                if fields.auto_call && phone_taken!(&mut *tx, &fields.phone, Some(id))? {
                    return Err(PatientWriteError::PhoneTaken);
                }
                let v = FieldValues::of(fields);
                let changed = sqlx::query(sql)
                    .bind(&fields.name).bind(v.birthday).bind(&fields.phone)
                    .bind(fields.language.code()).bind(v.call_times).bind(v.obs_start).bind(v.obs_end)
                    .bind(v.call_start).bind(v.call_end).bind(fields.auto_call).bind(&fields.risk)
                    .bind(centre.map(|c| c.0)).bind(id.0).bind(scope.bind())
                    .execute(&mut *tx)
                    .await
                    .map_err(write_error)?
                    .rows_affected();
                if changed == 0 {
                    return Err(PatientWriteError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }
            .await
        })
    }
}

/// The fields as stored text.
pub(super) struct FieldValues {
    pub(super) birthday: String,
    pub(super) call_times: String,
    pub(super) obs_start: String,
    pub(super) obs_end: String,
    pub(super) call_start: Option<String>,
    pub(super) call_end: Option<String>,
}

impl FieldValues {
    pub(super) fn of(f: &PatientFields) -> FieldValues {
        let times: Vec<String> = f.call_times.iter().map(ToString::to_string).collect();
        FieldValues {
            birthday: f.birthday.to_string(),
            call_times: times.join(";"),
            obs_start: f.observation.0.to_string(),
            obs_end: f.observation.1.to_string(),
            call_start: f.call_period.map(|p| p.0.to_string()),
            call_end: f.call_period.map(|p| p.1.to_string()),
        }
    }
}

/// Whether another patient (not `except`) has automatic calls on with `phone`, on `$conn`.
macro_rules! phone_taken {
    ($conn:expr, $phone:expr, $except:expr) => {
        sqlx::query("SELECT id FROM patients WHERE phone = $1 AND auto_call AND id <> $2")
            .bind($phone)
            .bind($except.map_or(0, |p: PatientId| p.0))
            .fetch_optional($conn)
            .await
            .map(|row| row.is_some())
    };
}
use phone_taken;

/// A unique violation on write is the auto-call phone index or the HER-SYS ID (the only two
/// unique keys of `patients`).
fn write_error(e: sqlx::Error) -> PatientWriteError {
    if is_unique(&e) {
        let on_id = e.as_database_error().is_some_and(|d| {
            d.message().contains("hersys_id") || d.constraint() == Some("patients_hersys_id_key")
        });
        return if on_id {
            PatientWriteError::DuplicateId
        } else {
            PatientWriteError::PhoneTaken
        };
    }
    e.into()
}

/// `s` with `%`, `_` and `\` taken literally in a `LIKE` pattern… by removing them: a search
/// for HER-SYS IDs and names has no use for them.
fn escape_like(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect()
}

fn corrupt(column: &'static str) -> StoreError {
    super::corrupt("patients", column)
}

fn decode_patient<R>(r: &R) -> Result<PatientRecord, StoreError>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let date = |column: &'static str| -> Result<Date, StoreError> {
        r.try_get::<String, _>(column)?
            .parse()
            .map_err(|_| corrupt(column))
    };
    let optional_date = |column: &'static str| -> Result<Option<Date>, StoreError> {
        r.try_get::<Option<String>, _>(column)?
            .map(|d| d.parse().map_err(|_| corrupt(column)))
            .transpose()
    };
    let call_times = super::decode_call_times(&r.try_get::<String, _>("call_times")?)?;
    let call_period = match (optional_date("call_start")?, optional_date("call_end")?) {
        (Some(s), Some(e)) => Some((s, e)),
        _ => None,
    };
    let language: String = r.try_get("language")?;
    Ok(PatientRecord {
        id: PatientId(r.try_get("id")?),
        fields: PatientFields {
            hersys_id: r.try_get("hersys_id")?,
            name: r.try_get("name")?,
            birthday: date("birthday")?,
            phone: r.try_get("phone")?,
            language: language.parse().map_err(|_| corrupt("language"))?,
            call_times,
            observation: (date("obs_start")?, date("obs_end")?),
            call_period,
            auto_call: r.try_get("auto_call")?,
            risk: r.try_get("risk")?,
        },
        centre: Centre {
            id: CentreId(r.try_get("health_center_id")?),
            name: r.try_get("centre_name")?,
        },
        locked_at: r
            .try_get::<Option<i64>, _>("hc_locked_at")?
            .map(from_epoch_millis),
        number_blocked: r.try_get("blocked")?,
    })
}
