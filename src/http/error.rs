//! API errors as JSON: `{"error": CODE, "message": TEXT}`, and for invalid fields also
//! `"fields": {FIELD: TEXT}` and `"codes": {FIELD: PROBLEM_CODE}` (see [`Problem`]).
//!
//! Messages name fields and lines, never a submitted or stored value. Client mistakes are 4xx
//! with a stable `error` code each; server faults are 500 `internal`: a store failure is logged
//! (its text carries no values) and counted in `carecall_store_errors_total`, any other
//! [`Fault`] is logged by its kind alone and counted in `carecall_http_faults_total`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// The body is not JSON, or not the JSON this endpoint takes (400 `malformed_body`).
    #[error("the request body is not valid JSON for this request")]
    MalformedBody,
    /// The body is not declared `Content-Type: application/json` (415 `not_json`).
    #[error("the request body must be sent as application/json")]
    NotJson,
    /// The body is larger than the API takes (413 `body_too_large`).
    #[error("the request body is too large")]
    BodyTooLarge,
    /// A query parameter is missing or malformed (400 `malformed_query`).
    #[error("a query parameter is missing or malformed")]
    MalformedQuery,
    /// A path segment is malformed, e.g. an id that is not a number (400 `malformed_path`).
    #[error("a path segment is malformed")]
    MalformedPath,
    /// Fields are invalid (422), each named.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// The change conflicts with stored data (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many failed logins (429).
    #[error("too many failed logins; try again later")]
    TooManyAttempts(Duration),
    /// The store failed (500 `internal`).
    #[error("internal error")]
    Store(#[from] StoreError),
    /// The server failed otherwise (500 `internal`).
    #[error("internal error")]
    Internal(Fault),
}

/// A server fault that is not the store's: the client cannot fix it by asking differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// An export (CSV or JSON) could not be written into the response.
    #[error("export could not be written")]
    Export,
    /// A password could not be hashed, or the hashing thread was lost.
    #[error("password hashing failed")]
    PasswordHash,
    /// A route's handler asks for a path parameter the route does not have.
    #[error("route and handler disagree on path parameters")]
    Route,
}

/// Server faults other than the store's seen by the staff API (`carecall_http_faults_total`).
pub static HTTP_FAULTS: AtomicU64 = AtomicU64::new(0);

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
            ApiError::MalformedBody => (StatusCode::BAD_REQUEST, "malformed_body"),
            ApiError::NotJson => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_json"),
            ApiError::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::MalformedQuery => (StatusCode::BAD_REQUEST, "malformed_query"),
            ApiError::MalformedPath => (StatusCode::BAD_REQUEST, "malformed_path"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::Store(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            ApiError::Store(e) => {
                super::metrics::HTTP_STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "staff API: store failure");
            }
            ApiError::Internal(fault) => {
                HTTP_FAULTS.fetch_add(1, Ordering::Relaxed);
                tracing::error!(fault = %fault, "staff API: server fault");
            }
            _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn answer(e: ApiError) -> (StatusCode, serde_json::Value) {
        let response = e.into_response();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_server_fault_is_500_internal_and_counted_not_400() {
        let before = HTTP_FAULTS.load(Ordering::Relaxed);
        for fault in [Fault::Export, Fault::PasswordHash, Fault::Route] {
            let (status, body) = answer(ApiError::Internal(fault)).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{fault}");
            assert_eq!(
                body,
                json!({"error": "internal", "message": "internal error"})
            );
        }
        assert!(HTTP_FAULTS.load(Ordering::Relaxed) >= before + 3);
    }

    #[tokio::test]
    async fn client_mistakes_are_4xx_with_a_stable_code() {
        let cases = [
            (ApiError::MalformedBody, 400, "malformed_body"),
            (ApiError::NotJson, 415, "not_json"),
            (ApiError::BodyTooLarge, 413, "body_too_large"),
            (ApiError::MalformedQuery, 400, "malformed_query"),
            (ApiError::MalformedPath, 400, "malformed_path"),
        ];
        for (e, status, code) in cases {
            let (s, body) = answer(e).await;
            assert_eq!((s.as_u16(), body["error"].as_str()), (status, Some(code)));
        }
    }

    #[test]
    fn every_error_code_is_in_the_openapi_document_and_the_page_has_words_for_it() {
        let doc: serde_json::Value = serde_json::from_str(super::super::openapi::DOCUMENT).unwrap();
        let listed: Vec<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]
            ["enum"]
            .as_array()
            .expect("Error.error enum in openapi.json")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let every = [
            ApiError::Unauthenticated,
            ApiError::Forbidden("x"),
            ApiError::NotFound,
            ApiError::MalformedBody,
            ApiError::NotJson,
            ApiError::BodyTooLarge,
            ApiError::MalformedQuery,
            ApiError::MalformedPath,
            ApiError::Invalid(FieldErrors::new()),
            ApiError::Conflict("x".into()),
            ApiError::TooManyAttempts(Duration::from_secs(1)),
            ApiError::Internal(Fault::Export),
        ];
        let codes: Vec<&str> = every.iter().map(|e| e.status_and_code().1).collect();
        let page = super::super::pages::STAFF_TEXT_JS;
        let start = page
            .find("const ERRORS = {")
            .expect("ERRORS in web/staff-text.js");
        let block = &page[start..];
        let block = &block[..block.find("\n  };").expect("the block ends")];
        for code in &codes {
            assert!(
                listed.contains(code),
                "{code} missing from the Error schema"
            );
            assert_eq!(
                block.matches(&format!(" {code}: \"")).count(),
                2,
                "web/staff-text.js ERRORS needs {code} in Japanese and English"
            );
        }
        for code in listed {
            assert!(
                codes.contains(&code),
                "the Error schema lists {code}, which nothing uses"
            );
        }
    }
}
