//! Who is asking: login (bearer token or page session cookie), logout, the authenticated
//! account as an extractor, CSRF on cookie-authenticated changes, login rate limits, and the
//! audit helper every personal-data handler calls.
//!
//! A request is authenticated by `Authorization: Bearer TOKEN` (a token session) or by the
//! `carecall_session` cookie (a cookie session, `HttpOnly; SameSite=Strict`). A cookie
//! session's `POST`/`PUT`/`PATCH`/`DELETE` must carry `X-CSRF-Token` equal to the token
//! returned at login (and by `GET /api/v1/auth/me`). Anything else is 401.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock;
use crate::store::{Actor, CentreScope, PatientId, Role, SessionKind, StaffAccount};

use super::extract::JsonBody;
use super::secret::{new_token, token_digest, verify_dummy, verify_password};
use super::{utc, ApiError, AppState};

/// The page's session cookie.
pub const SESSION_COOKIE: &str = "carecall_session";

/// The header a cookie session's state-changing requests must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session or token lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The authenticated account of a request.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The account.
    pub staff: StaffAccount,
    /// How the request authenticated.
    pub kind: SessionKind,
    csrf_token: String,
    token_hash: String,
    expires_at: SystemTime,
}

impl Auth {
    /// The patients this account may see.
    pub fn scope(&self) -> CentreScope {
        self.staff.scope()
    }

    /// Writes the audit rows for `action` on `patients` (one row without a patient when
    /// empty). Call it before returning personal data: if the audit cannot be written, the
    /// data is not returned.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        patients: &[PatientId],
        detail: &str,
    ) -> Result<(), ApiError> {
        let actor = Actor {
            staff: Some(self.staff.id),
            username: self.staff.username.clone(),
        };
        state
            .store()
            .audit(&actor, action, patients, detail, clock::wall_now())
            .await?;
        Ok(())
    }
}

/// An authenticated admin.
#[derive(Debug, Clone)]
pub struct AdminAuth(pub Auth);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let (token, via_cookie) = match bearer(&parts.headers) {
            Some(t) => (t, false),
            None => (
                cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?,
                true,
            ),
        };
        let token_hash = token_digest(&token);
        let session = state
            .store()
            .session(&token_hash, clock::wall_now())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let expected = if via_cookie {
            SessionKind::Cookie
        } else {
            SessionKind::Token
        };
        if session.kind != expected {
            return Err(ApiError::Unauthenticated);
        }
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if session.kind == SessionKind::Cookie && !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !sent.is_some_and(|s| constant_time_eq(s, &session.csrf_token)) {
                return Err(ApiError::Forbidden("missing or wrong CSRF token"));
            }
        }
        Ok(Auth {
            staff: session.staff,
            kind: session.kind,
            csrf_token: session.csrf_token,
            token_hash,
            expires_at: session.expires_at,
        })
    }
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<AdminAuth, ApiError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        if auth.staff.role != Role::Admin {
            return Err(ApiError::Forbidden("admin role required"));
        }
        Ok(AdminAuth(auth))
    }
}

/// A login request.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `POST /api/v1/auth/token`: a bearer token for API clients.
pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    let (staff, token, _csrf, expires) = login(&state, peer, &body, SessionKind::Token).await?;
    let out = json!({ "token": token, "expires_at": utc(expires), "staff": staff_json(&staff) });
    Ok(Json(out).into_response())
}

/// `POST /api/v1/auth/login`: a session cookie for the page, and its CSRF token.
pub async fn cookie_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Response, ApiError> {
    let (staff, token, csrf, expires) = login(&state, peer, &body, SessionKind::Cookie).await?;
    let out =
        json!({ "csrf_token": csrf, "expires_at": utc(expires), "staff": staff_json(&staff) });
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes() == b"https");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_LIFETIME.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    let mut response = Json(out).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `POST /api/v1/auth/logout`: ends the session of the request and clears the cookie.
pub async fn logout(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    state.store().delete_session(&auth.token_hash).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `GET /api/v1/auth/me`: the account, and the CSRF token of a cookie session.
pub async fn me(auth: Auth) -> Json<Value> {
    let csrf = (auth.kind == SessionKind::Cookie).then_some(auth.csrf_token.as_str());
    Json(json!({
        "staff": staff_json(&auth.staff),
        "csrf_token": csrf,
        "expires_at": utc(auth.expires_at),
    }))
}

/// Checks the password under the rate limits and opens a session of `kind`; returns the
/// account, the token, the CSRF token and the expiry.
async fn login(
    state: &AppState,
    peer: SocketAddr,
    body: &Credentials,
    kind: SessionKind,
) -> Result<(StaffAccount, String, String, SystemTime), ApiError> {
    let (username, ip) = (body.username.trim(), peer.ip());
    let limits = state.inner.limits;
    let now = clock::wall_now();
    let recent = state
        .store()
        .recent_login_failures(
            username,
            ip,
            now,
            limits.window,
            (limits.per_username, limits.per_address),
        )
        .await?;
    if let Err(wait) = limits.check(&recent, now) {
        return Err(ApiError::TooManyAttempts(wait));
    }
    // Counted as a failure before the password is checked, so parallel guesses all count.
    let attempt = state
        .store()
        .record_login_attempt(username, ip, now, limits.window)
        .await?;
    let found = state.store().staff_credentials(username).await?;
    let password = body.password.clone();
    let candidate = found.clone();
    let ok = tokio::task::spawn_blocking(move || match &candidate {
        Some((account, hash)) => account.active && verify_password(&password, hash),
        None => {
            verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    let now = clock::wall_now();
    let actor = Actor {
        staff: found.as_ref().map(|(a, _)| a.id),
        username: username.to_string(),
    };
    let Some((account, _)) = found.filter(|_| ok) else {
        state
            .store()
            .audit(&actor, "login.failed", &[], "", now)
            .await?;
        tracing::info!(route = "login", "failed staff login");
        return Err(ApiError::Unauthenticated);
    };
    state.store().login_succeeded(username, &attempt).await?;
    let (token, csrf) = (new_token(), new_token());
    let expires = now + SESSION_LIFETIME;
    state
        .store()
        .create_session(&token_digest(&token), account.id, kind, &csrf, now, expires)
        .await?;
    state.store().audit(&actor, "login", &[], "", now).await?;
    Ok((account, token, csrf, expires))
}

/// An account as JSON (never its password hash).
pub fn staff_json(s: &StaffAccount) -> Value {
    json!({
        "id": s.id.0,
        "username": s.username,
        "role": s.role.label(),
        "health_center": s.centre.as_ref().map(|c| c.name.as_str()),
        "active": s.active,
        "created_at": utc(s.created_at),
    })
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_from_bearer_or_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("lang=ja; carecall_session=xyz"),
        );
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "other"), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        assert!(constant_time_eq("abc", "abc") && !constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
