//! Staff login sessions: keyed by a hash of their token (the store never holds a live token),
//! each with its kind (bearer token or page cookie), CSRF token and expiry.

use std::time::SystemTime;

use sqlx::Row;

use crate::report::date::from_epoch_millis;

use super::staff::{decode_account, StaffAccount, ACCOUNT_COLUMNS};
use super::{millis, StaffId, Store, StoreError};

/// How a session travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// `Authorization: Bearer …` (API clients).
    Token,
    /// The page's session cookie; state-changing requests need the CSRF token.
    Cookie,
}

impl SessionKind {
    fn label(self) -> &'static str {
        match self {
            SessionKind::Token => "token",
            SessionKind::Cookie => "cookie",
        }
    }
}

/// A live session and its account.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account (active).
    pub staff: StaffAccount,
    /// Token or cookie.
    pub kind: SessionKind,
    /// The CSRF token that cookie-authenticated state changes must echo.
    pub csrf_token: String,
    /// When it stops working.
    pub expires_at: SystemTime,
}

impl Store {
    /// Records a session keyed by `token_hash` (never the token itself), and deletes the
    /// sessions that expired before `now` (so reads stay read-only).
    pub async fn create_session(
        &self,
        token_hash: &str,
        staff: StaffId,
        kind: SessionKind,
        csrf_token: &str,
        now: SystemTime,
        expires_at: SystemTime,
    ) -> Result<(), StoreError> {
        let (at, until) = (millis(now)?, millis(expires_at)?);
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM staff_sessions WHERE expires_at <= $1")
                .bind(at)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO staff_sessions (token_hash, staff_id, kind, csrf_token, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_hash)
            .bind(staff.0)
            .bind(kind.label())
            .bind(csrf_token)
            .bind(at)
            .bind(until)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The live session for `token_hash` at `now`: `None` when unknown, expired, or its
    /// account is inactive. Read-only (expired rows go at the next login).
    pub async fn session(
        &self,
        token_hash: &str,
        now: SystemTime,
    ) -> Result<Option<Session>, StoreError> {
        let at = millis(now)?;
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS}, t.kind, t.csrf_token, t.expires_at \
             FROM staff_sessions t JOIN staff s ON s.id = t.staff_id \
             LEFT JOIN health_centers c ON c.id = s.health_center_id \
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND s.active"
        );
        let session = on_pool!(self, pool => {
            match sqlx::query(&sql).bind(token_hash).bind(at).fetch_optional(pool).await? {
                None => None,
                Some(r) => {
                    let kind = match r.try_get::<String, _>("kind")?.as_str() {
                        "cookie" => SessionKind::Cookie,
                        _ => SessionKind::Token,
                    };
                    Some(Session {
                        staff: decode_account(&r)?,
                        kind,
                        csrf_token: r.try_get("csrf_token")?,
                        expires_at: from_epoch_millis(r.try_get("expires_at")?),
                    })
                }
            }
        });
        Ok(session)
    }

    /// Ends the session keyed by `token_hash` (nothing when unknown).
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
