//! API errors as JSON: `{"error": CODE, "message": TEXT}`, and for invalid fields also
//! `"fields": {FIELD: TEXT}` and `"codes": {FIELD: PROBLEM_CODE}` (see [`Problem`]).
//!
//! Messages name fields and lines, never a submitted or stored value. A store failure is
//! logged (its text carries no values) and counted, and the client gets a bare 500.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::problem::Problem;
use crate::store::{PatientWriteError, ScopedImportError, StaffError, StoreError};

/// Per-field problems, by field name.
pub type FieldErrors = BTreeMap<String, Problem>;

/// A failed API request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session or token (401).
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated but not allowed, or a missing CSRF token (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such thing in the caller's scope (404).
    #[error("not found")]
    NotFound,
    /// The body or query is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// Fields are invalid (422), each named.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// The change conflicts with stored data (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many failed logins (429).
    #[error("too many failed logins; try again later")]
    TooManyAttempts(Duration),
    /// The store failed (500).
    #[error("internal error")]
    Store(#[from] StoreError),
}

impl ApiError {
    /// One invalid field.
    pub fn field(name: &str, problem: Problem) -> ApiError {
        ApiError::Invalid(BTreeMap::from([(name.to_string(), problem)]))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Store(e) = &self {
            super::metrics::HTTP_STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "staff API: store failure");
        }
        let mut body = json!({ "error": code, "message": self.to_string() });
        if let ApiError::Invalid(fields) = &self {
            let texts: BTreeMap<&str, &str> = fields
                .iter()
                .map(|(f, p)| (f.as_str(), p.message()))
                .collect();
            let codes: BTreeMap<&str, &str> =
                fields.iter().map(|(f, p)| (f.as_str(), p.code())).collect();
            body["fields"] = json!(texts);
            body["codes"] = json!(codes);
        }
        let mut response = (status, Json(body)).into_response();
        match self {
            ApiError::TooManyAttempts(wait) => {
                let secs = wait.as_secs().max(1).to_string();
                if let Ok(v) = HeaderValue::from_str(&secs) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::Unauthenticated => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"carecall\""),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<PatientWriteError> for ApiError {
    fn from(e: PatientWriteError) -> ApiError {
        match e {
            PatientWriteError::DuplicateId => ApiError::field("hersys_id", Problem::DUPLICATE_ID),
            PatientWriteError::PhoneTaken => ApiError::field("phone", Problem::PHONE_TAKEN),
            PatientWriteError::NotFound => ApiError::NotFound,
            PatientWriteError::Store(e) => ApiError::Store(e),
        }
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> ApiError {
        match e {
            StaffError::Duplicate(what) => ApiError::Conflict(format!("{what} already exists")),
            StaffError::UnknownCentre => ApiError::field("health_center", Problem::CENTRE_UNKNOWN),
            StaffError::UnknownStaff => ApiError::NotFound,
            StaffError::CentreRequired => {
                ApiError::field("health_center", Problem::CENTRE_REQUIRED)
            }
            StaffError::Store(e) => ApiError::Store(e),
        }
    }
}

impl From<ScopedImportError> for ApiError {
    fn from(e: ScopedImportError) -> ApiError {
        match e {
            ScopedImportError::Import(crate::store::ImportError::Store(e)) => ApiError::Store(e),
            other => ApiError::field("file", Problem::import_file(other.to_string())),
        }
    }
}
