//! Request extractors whose rejections are [`ApiError`]s: a malformed JSON body, query string
//! or path segment gets the API's JSON error with a stable code (`malformed_body`,
//! `not_json`, `body_too_large`, `malformed_query`, `malformed_path`) rather than axum's plain
//! text. The texts are fixed: the parser's own message can quote the value sent, and a value
//! may be personal data.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::{ApiError, Fault};

/// A JSON request body of type `T` (`Content-Type: application/json`).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::NotJson),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::BodyTooLarge),
            Err(_) => Err(ApiError::MalformedBody),
        }
    }
}

/// The query string as `T`.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|_| ApiError::MalformedQuery)
    }
}

/// The route's path parameters as `T`.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            // The route itself lacks the parameter: our fault, not the client's.
            Err(PathRejection::MissingPathParams(_)) => Err(ApiError::Internal(Fault::Route)),
            Err(_) => Err(ApiError::MalformedPath),
        }
    }
}
