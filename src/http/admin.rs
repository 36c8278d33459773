//! Admin handlers: health centres, staff accounts and the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock;
use crate::report::date::Date;
use crate::store::{AuditFilter, CentreId, NewStaff, PatientId, Role, StaffChange, StaffId};

use super::auth::{staff_json, AdminAuth};
use super::error::Fault;
use super::extract::{JsonBody, Path, Query};
use super::secret::{hash_password, SecretError};
use super::{utc, ApiError, AppState, Problem};

/// `GET /api/v1/admin/centres`.
pub async fn centres(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Value>, ApiError> {
    let centres = state.store().centres().await?;
    let items: Vec<Value> = centres
        .iter()
        .map(|c| json!({ "id": c.id.0, "name": c.name }))
        .collect();
    Ok(Json(json!({ "centres": items })))
}

/// Body of `POST /api/v1/admin/centres`.
#[derive(Debug, Deserialize)]
pub struct NewCentre {
    name: String,
}

/// `POST /api/v1/admin/centres`.
pub async fn create_centre(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    JsonBody(body): JsonBody<NewCentre>,
) -> Result<Response, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field("name", Problem::CENTRE_NAME_LENGTH));
    }
    let centre = state.store().create_centre(name).await?;
    auth.audit(
        &state,
        "centre.create",
        &[],
        &format!("centre {}", centre.id.0),
    )
    .await?;
    let out = json!({ "id": centre.id.0, "name": centre.name });
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `GET /api/v1/admin/staff`.
pub async fn staff(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<Value>, ApiError> {
    let accounts = state.store().staff_accounts().await?;
    let items: Vec<Value> = accounts.iter().map(staff_json).collect();
    Ok(Json(json!({ "staff": items })))
}

/// Body of `POST /api/v1/admin/staff` and `PATCH /api/v1/admin/staff/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffBody {
    username: Option<String>,
    password: Option<String>,
    role: Option<String>,
    /// A centre name; `null` on PATCH removes the centre (admins only).
    #[serde(default, with = "double_option")]
    health_center: Option<Option<String>>,
    active: Option<bool>,
}

/// `POST /api/v1/admin/staff`.
pub async fn create_staff(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    JsonBody(body): JsonBody<StaffBody>,
) -> Result<Response, ApiError> {
    let username = body.username.as_deref().map(str::trim).unwrap_or_default();
    if !valid_username(username) {
        return Err(ApiError::field("username", Problem::USERNAME));
    }
    let role = role(body.role.as_deref().unwrap_or("staff"))?;
    let centre = centre(&state, body.health_center.flatten()).await?;
    let password = body
        .password
        .ok_or_else(|| ApiError::field("password", Problem::REQUIRED))?;
    let new = NewStaff {
        username: username.to_string(),
        password_hash: hash(password).await?,
        role,
        centre,
    };
    let account = state.store().create_staff(&new, clock::wall_now()).await?;
    auth.audit(
        &state,
        "staff.create",
        &[],
        &format!("staff {}", account.id.0),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(staff_json(&account))).into_response())
}

/// `PATCH /api/v1/admin/staff/{id}`: password, role, centre, active.
pub async fn update_staff(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<StaffBody>,
) -> Result<Json<Value>, ApiError> {
    if body.username.is_some() {
        return Err(ApiError::field("username", Problem::IMMUTABLE));
    }
    let change = StaffChange {
        password_hash: match body.password {
            Some(p) => Some(hash(p).await?),
            None => None,
        },
        role: body.role.as_deref().map(role).transpose()?,
        centre: match body.health_center {
            Some(name) => Some(centre(&state, name).await?),
            None => None,
        },
        active: body.active,
    };
    let account = state.store().update_staff(StaffId(id), &change).await?;
    auth.audit(&state, "staff.update", &[], &format!("staff {id}"))
        .await?;
    Ok(Json(staff_json(&account)))
}

/// Query of `GET /api/v1/admin/audit`.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    patient_id: Option<i64>,
    username: Option<String>,
    since: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/admin/audit`: newest first.
pub async fn audit(
    State(state): State<AppState>,
    AdminAuth(auth): AdminAuth,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let since = match q.since.as_deref() {
        Some(d) => Some(
            d.parse::<Date>()
                .map_err(|_| ApiError::field("since", Problem::DATE))?
                .start_utc(),
        ),
        None => None,
    };
    let filter = AuditFilter {
        patient: q.patient_id.map(PatientId),
        username: q.username,
        since,
        limit: q.limit,
    };
    let rows = state.store().audit_log(&filter).await?;
    let patients: Vec<PatientId> = {
        let mut ids: Vec<PatientId> = rows.iter().filter_map(|r| r.patient).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    auth.audit(
        &state,
        "audit.read",
        &patients,
        &format!("{} rows", rows.len()),
    )
    .await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "at": utc(r.at),
                "staff_id": r.staff.map(|s| s.0),
                "username": r.username,
                "action": r.action,
                "patient_id": r.patient.map(|p| p.0),
                "hersys_id": r.hersys_id.as_ref().map(|h| h.expose()),
                "detail": r.detail,
            })
        })
        .collect();
    Ok(Json(json!({ "entries": items })))
}

fn valid_username(u: &str) -> bool {
    (1..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

fn role(label: &str) -> Result<Role, ApiError> {
    Role::from_label(label).ok_or_else(|| ApiError::field("role", Problem::ROLE))
}

async fn centre(state: &AppState, name: Option<String>) -> Result<Option<CentreId>, ApiError> {
    match name {
        None => Ok(None),
        Some(n) => state
            .store()
            .centre_named(n.trim())
            .await?
            .map(|c| Some(c.id))
            .ok_or_else(|| ApiError::field("health_center", Problem::CENTRE_UNKNOWN)),
    }
}

async fn hash(password: String) -> Result<String, ApiError> {
    let hashed = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::Internal(Fault::PasswordHash))?;
    hashed.map_err(|e| match e {
        SecretError::TooShort => {
            ApiError::field("password", Problem::password_short(e.to_string()))
        }
        SecretError::Hash => ApiError::Internal(Fault::PasswordHash),
    })
}

/// `Option<Option<T>>` from JSON: absent → `None`, `null` → `Some(None)`.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}
