//! Patient handlers: list with search and filters, create, read, update (call settings
//! included), CSV import and export in the `patients import` columns, Health Call lock.
//! Each one audits what it reads or changes before answering.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::clock;
use crate::lang::Language;
use crate::pii::Redacted;
use crate::report::date::Date;
use crate::store::{
    write_patients_csv, CentreId, CentreScope, PatientFilter, PatientId, PatientRecord,
};

use super::auth::Auth;
use super::error::Fault;
use super::extract::{JsonBody, Path, Query};
use super::patient_input::{check_new, check_update};
use super::{utc, ApiError, AppState, Problem};

/// Query of `GET /api/v1/patients`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    language: Option<String>,
    auto_call: Option<bool>,
    observed_on: Option<String>,
    locked: Option<bool>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// `GET /api/v1/patients`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let mut errors = BTreeMap::new();
    let language = match q.language.as_deref().map(str::parse::<Language>) {
        Some(Err(_)) => {
            errors.insert("language".to_string(), Problem::LANGUAGE);
            None
        }
        other => other.and_then(Result::ok),
    };
    let observed_on = match q.observed_on.as_deref().map(str::parse::<Date>) {
        Some(Err(_)) => {
            errors.insert("observed_on".to_string(), Problem::DATE);
            None
        }
        other => other.and_then(Result::ok),
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let filter = PatientFilter {
        search: q.q.filter(|s| !s.trim().is_empty()),
        language,
        auto_call: q.auto_call,
        observed_on,
        locked: q.locked,
        limit: q.limit,
        offset: q.offset,
    };
    let records = state.store().patient_records(auth.scope(), &filter).await?;
    let ids: Vec<PatientId> = records.iter().map(|r| r.id).collect();
    auth.audit(
        &state,
        "patient.list",
        &ids,
        &format!("{} shown", ids.len()),
    )
    .await?;
    let items: Vec<Value> = records.iter().map(patient_json).collect();
    Ok(Json(json!({ "patients": items })))
}

/// `POST /api/v1/patients`.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let today = today(&state);
    let checked =
        check_new(&body, &state.store().options().call_times, today).map_err(ApiError::Invalid)?;
    let centre = centre_for(&state, &auth, checked.centre.as_deref()).await?;
    let id = state
        .store()
        .create_patient(centre, &checked.fields)
        .await?;
    auth.audit(&state, "patient.create", &[id], "").await?;
    let record = state
        .store()
        .patient_record(auth.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(patient_json(&record))).into_response())
}

/// `GET /api/v1/patients/{id}`.
pub async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let record = find(&state, &auth, id).await?;
    auth.audit(&state, "patient.read", &[record.id], "").await?;
    Ok(Json(patient_json(&record)))
}

/// `PATCH /api/v1/patients/{id}`: any subset of the fields, call settings included.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let record = find(&state, &auth, id).await?;
    let checked = check_update(
        &record.fields,
        &body,
        &state.store().options().call_times,
        today(&state),
    )
    .map_err(ApiError::Invalid)?;
    let centre = match checked.centre.as_deref() {
        Some(name) if name != record.centre.name => {
            Some(centre_for(&state, &auth, Some(name)).await?)
        }
        _ => None,
    };
    state
        .store()
        .update_patient(auth.scope(), record.id, &checked.fields, centre)
        .await?;
    let changed: Vec<&str> = body.keys().map(String::as_str).collect();
    auth.audit(&state, "patient.update", &[record.id], &changed.join(","))
        .await?;
    let record = find(&state, &auth, id).await?;
    Ok(Json(patient_json(&record)))
}

/// `GET /api/v1/patients/export`: every patient in scope as CSV.
pub async fn export(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let records = state.store().all_patient_records(auth.scope()).await?;
    let mut out = Vec::new();
    write_patients_csv(&records, &mut out).map_err(|_| ApiError::Internal(Fault::Export))?;
    let ids: Vec<PatientId> = records.iter().map(|r| r.id).collect();
    auth.audit(
        &state,
        "patient.export",
        &ids,
        &format!("{} exported", ids.len()),
    )
    .await?;
    Ok(csv_response(out, "patients.csv"))
}

/// `POST /api/v1/patients/import`: a CSV body; all rows or none.
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let centre = auth.staff.centre.as_ref().map(|c| c.name.clone());
    let summary = state
        .store()
        .import_patients_csv_scoped(auth.scope(), centre.as_deref(), &body)
        .await?;
    let detail = format!("{} inserted, {} updated", summary.inserted, summary.updated);
    auth.audit(&state, "patient.import", &[], &detail).await?;
    Ok(Json(
        json!({ "inserted": summary.inserted, "updated": summary.updated }),
    ))
}

/// `GET /api/v1/patients/{id}/lock`.
pub async fn lock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let record = find(&state, &auth, id).await?;
    auth.audit(&state, "patient.lock.read", &[record.id], "")
        .await?;
    Ok(Json(lock_json(&record)))
}

/// `POST /api/v1/patients/{id}/unlock`.
pub async fn unlock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let record = find(&state, &auth, id).await?;
    let hersys_id = Redacted::new(record.fields.hersys_id.clone());
    let was_locked = state.store().unlock(&hersys_id, clock::wall_now()).await?;
    auth.audit(
        &state,
        "patient.unlock",
        &[record.id],
        if was_locked {
            "was locked"
        } else {
            "was not locked"
        },
    )
    .await?;
    let record = find(&state, &auth, id).await?;
    let mut out = lock_json(&record);
    out["was_locked"] = json!(was_locked);
    Ok(Json(out))
}

/// The patient `id` in the caller's scope, else 404.
pub(super) async fn find(
    state: &AppState,
    auth: &Auth,
    id: i64,
) -> Result<PatientRecord, ApiError> {
    state
        .store()
        .patient_record(auth.scope(), PatientId(id))
        .await?
        .ok_or(ApiError::NotFound)
}

/// The centre a write goes to: the caller's own (staff may name only it), or for an admin of
/// every centre the named one, which must exist.
async fn centre_for(
    state: &AppState,
    auth: &Auth,
    name: Option<&str>,
) -> Result<CentreId, ApiError> {
    match (auth.scope(), &auth.staff.centre, name) {
        (CentreScope::Centre(_), Some(c), Some(n)) if n != c.name => {
            Err(ApiError::field("health_center", Problem::CENTRE_NOT_YOURS))
        }
        (CentreScope::Centre(own), _, _) => Ok(own),
        (CentreScope::All, _, Some(n)) => state
            .store()
            .centre_named(n)
            .await?
            .map(|c| c.id)
            .ok_or_else(|| ApiError::field("health_center", Problem::CENTRE_UNKNOWN)),
        (CentreScope::All, _, None) => Err(ApiError::field("health_center", Problem::REQUIRED)),
    }
}

/// Today in the schedule's time zone.
pub(super) fn today(state: &AppState) -> Date {
    state.config().schedule.local(clock::wall_now()).0
}

/// A patient as JSON.
pub(super) fn patient_json(r: &PatientRecord) -> Value {
    let f = &r.fields;
    let times: Vec<String> = f.call_times.iter().map(ToString::to_string).collect();
    json!({
        "id": r.id.0,
        "hersys_id": f.hersys_id,
        "name": f.name,
        "birthday": f.birthday.to_string(),
        "phone": f.phone,
        "language": f.language.code(),
        "call_times": times,
        "observation_start": f.observation.0.to_string(),
        "observation_end": f.observation.1.to_string(),
        "call_start": f.call_period.map(|p| p.0.to_string()),
        "call_end": f.call_period.map(|p| p.1.to_string()),
        "auto_call": f.auto_call,
        "risk": f.risk,
        "health_center": r.centre.name,
        "health_call_locked": r.locked_at.is_some(),
        "number_blocked": r.number_blocked,
    })
}

fn lock_json(r: &PatientRecord) -> Value {
    json!({
        "locked": r.locked_at.is_some(),
        "locked_at": r.locked_at.map(utc),
    })
}

/// A CSV download.
pub(super) fn csv_response(body: Vec<u8>, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
