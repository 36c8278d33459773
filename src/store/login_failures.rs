//! Failed staff logins, shared by every node on the store so the login rate limit
//! (`crate::http::LoginLimits`) holds across a cluster, not per process. Usernames are staff
//! account names and addresses are staff PCs' IP addresses: neither is a patient's data.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use sqlx::Row;

use crate::report::date::from_epoch_millis;

use super::{millis, millis_before, BeginWrite, Store, StoreError};

/// The most recent failures of one username and of one address, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentFailures {
    /// Of the username, within the window asked for, at most the number asked for.
    pub username: Vec<SystemTime>,
    /// Of the address, likewise.
    pub address: Vec<SystemTime>,
}

/// A login attempt as recorded before its password is checked: it counts as a failure until
/// [`Store::login_succeeded`] removes it, so parallel guesses cannot all pass the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    rows: Vec<i64>,
}

impl Store {
    /// Records a login attempt of `username` from `address` at `now` (counted as a failure
    /// until it succeeds), and prunes failures older than `window`.
    pub async fn record_login_attempt(
        &self,
        username: &str,
        address: IpAddr,
        now: SystemTime,
        window: Duration,
    ) -> Result<LoginAttempt, StoreError> {
        let (at, cutoff) = (millis(now)?, millis_before(now, window)?);
        let address = address.to_string();
        let rows = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM login_failures WHERE at < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?;
            let rows = sqlx::query(
                "INSERT INTO login_failures (kind, key, at) \
                 VALUES ('username', $1, $3), ('address', $2, $3) RETURNING id",
            )
            .bind(username)
            .bind(address.as_str())
            .bind(at)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            let mut ids = Vec::with_capacity(rows.len());
            for row in rows {
                ids.push(row.try_get::<i64, _>("id")?);
            }
            ids
        });
        Ok(LoginAttempt { rows })
    }

    /// The attempt succeeded: removes it, and forgets `username`'s failures (its address
    /// keeps its own).
    pub async fn login_succeeded(
        &self,
        username: &str,
        attempt: &LoginAttempt,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for id in &attempt.rows {
                sqlx::query("DELETE FROM login_failures WHERE id = $1")
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM login_failures WHERE kind = 'username' AND key = $1")
                .bind(username)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The failures of `username` and of `address` after `now - window`, newest first, at
    /// most `per_username` and `per_address` of them: enough to tell whether a limit is
    /// reached and when the oldest counted failure ages out.
    pub async fn recent_login_failures(
        &self,
        username: &str,
        address: IpAddr,
        now: SystemTime,
        window: Duration,
        (per_username, per_address): (usize, usize),
    ) -> Result<RecentFailures, StoreError> {
        let cutoff = millis_before(now, window)?;
        let address = address.to_string();
        let limit = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let (username, address) = on_pool!(self, pool => {
            let sql = "SELECT at FROM login_failures WHERE kind = $1 AND key = $2 AND at > $3 \
                       ORDER BY at DESC LIMIT $4";
            let mut out = Vec::with_capacity(2);
            for (kind, key, n) in [
                ("username", username, per_username),
                ("address", address.as_str(), per_address),
            ] {
                let rows = sqlx::query(sql)
                    .bind(kind)
                    .bind(key)
                    .bind(cutoff)
                    .bind(limit(n))
                    .fetch_all(pool)
                    .await?;
                let mut times = Vec::with_capacity(rows.len());
                for r in rows {
                    times.push(from_epoch_millis(r.try_get("at")?));
                }
                out.push(times);
            }
            let address = out.pop().unwrap_or_default();
            (out.pop().unwrap_or_default(), address)
        });
        Ok(RecentFailures { username, address })
    }
}
