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

impl Store {
    /// Records a failed login of `username` from `address` at `now`, and prunes failures
    /// older than `window` (they no longer count anywhere).
    pub async fn record_login_failure(
        &self,
        username: &str,
        address: IpAddr,
        now: SystemTime,
        window: Duration,
    ) -> Result<(), StoreError> {
        let (at, cutoff) = (millis(now)?, millis_before(now, window)?);
        let address = address.to_string();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM login_failures WHERE at < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO login_failures (kind, key, at) \
                 VALUES ('username', $1, $3), ('address', $2, $3)",
            )
            .bind(username)
            .bind(address.as_str())
            .bind(at)
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

    /// Forgets `username`'s failures after it logged in (its address keeps its own).
    pub async fn clear_login_failures(&self, username: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM login_failures WHERE kind = 'username' AND key = $1")
                .bind(username)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
