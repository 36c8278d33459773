//! Staff accounts, health centres and login sessions for the staff API (issue 6).
//!
//! Passwords arrive here already hashed (Argon2id PHC strings, made in `http::secret`), and
//! sessions are keyed by a hash of their token: the store never holds a password or a live
//! token. A staff account belongs to one health centre; an admin may have none and then sees
//! every centre ([`CentreScope::All`]).

use std::time::SystemTime;

use sqlx::Row;

use crate::report::date::from_epoch_millis;

use super::{millis, CentreId, StaffId, Store, StoreError};

/// A health centre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Centre {
    /// Its row id.
    pub id: CentreId,
    /// Its unique name (the `health_center` column of the patients file).
    pub name: String,
}

/// Which patients an account may see: those of one centre, or (an admin without a centre)
/// every centre's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CentreScope {
    /// Every centre.
    All,
    /// One centre.
    Centre(CentreId),
}

impl CentreScope {
    /// The centre id to bind in SQL: `NULL` for all, which `($n IS NULL OR centre = $n)` reads.
    pub(crate) fn bind(self) -> Option<i64> {
        match self {
            CentreScope::All => None,
            CentreScope::Centre(c) => Some(c.0),
        }
    }
}

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Health-centre staff: their centre's patients and reports.
    Staff,
    /// Manages accounts and centres, reads the audit log.
    Admin,
}

impl Role {
    /// `staff` or `admin`, as stored and shown.
    pub fn label(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    /// The role for a label; `None` for any other text.
    pub fn from_label(label: &str) -> Option<Role> {
        [Role::Staff, Role::Admin]
            .into_iter()
            .find(|r| r.label() == label)
    }
}

/// A staff account (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    /// Its row id.
    pub id: StaffId,
    /// The login name.
    pub username: String,
    /// Staff or admin.
    pub role: Role,
    /// The centre it belongs to (`None` only for an admin of every centre).
    pub centre: Option<Centre>,
    /// Inactive accounts cannot log in and their sessions stop working.
    pub active: bool,
    /// When it was created.
    pub created_at: SystemTime,
}

impl StaffAccount {
    /// The patients this account may see.
    pub fn scope(&self) -> CentreScope {
        match &self.centre {
            Some(c) => CentreScope::Centre(c.id),
            None => CentreScope::All,
        }
    }
}

/// A new account; `password_hash` is a PHC string.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// The login name (unique).
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Staff or admin.
    pub role: Role,
    /// The centre; required for [`Role::Staff`].
    pub centre: Option<CentreId>,
}

/// A change to an account; `None` fields are kept.
#[derive(Debug, Clone, Default)]
pub struct StaffChange {
    /// A new password hash (ends every session of the account).
    pub password_hash: Option<String>,
    /// A new role.
    pub role: Option<Role>,
    /// A new centre (`Some(None)`: none, admins only).
    pub centre: Option<Option<CentreId>>,
    /// Activate or deactivate (deactivating ends every session).
    pub active: Option<bool>,
}

/// Why an account or centre change was refused.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// The username or centre name is taken.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// No centre with that id or name.
    #[error("no such health centre")]
    UnknownCentre,
    /// No account with that id.
    #[error("no such staff account")]
    UnknownStaff,
    /// A staff (non-admin) account must belong to a centre.
    #[error("a staff account needs a health centre")]
    CentreRequired,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StaffError {
    fn from(e: sqlx::Error) -> StaffError {
        StaffError::Store(StoreError::Database(e))
    }
}

pub(super) const ACCOUNT_COLUMNS: &str = "s.id, s.username, s.role, s.active, s.created_at, \
     s.health_center_id, c.name AS centre_name";

const ACCOUNT_FROM: &str = "FROM staff s LEFT JOIN health_centers c ON c.id = s.health_center_id";

impl Store {
    /// Checks that the database answers (`SELECT 1`), for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Every health centre, by name.
    pub async fn centres(&self) -> Result<Vec<Centre>, StoreError> {
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, name FROM health_centers ORDER BY name")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok(Centre { id: CentreId(r.try_get("id")?), name: r.try_get("name")? }))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }

    /// The centre called `name`, if any.
    pub async fn centre_named(&self, name: &str) -> Result<Option<Centre>, StoreError> {
        Ok(self.centres().await?.into_iter().find(|c| c.name == name))
    }

    /// Creates a centre; a taken name is [`StaffError::Duplicate`].
    pub async fn create_centre(&self, name: &str) -> Result<Centre, StaffError> {
        let inserted = on_pool!(self, pool => {
            sqlx::query("INSERT INTO health_centers (name) VALUES ($1) RETURNING id")
                .bind(name)
                .fetch_one(pool)
                .await
                .and_then(|r| r.try_get::<i64, _>("id"))
        });
        match inserted {
            Ok(id) => Ok(Centre {
                id: CentreId(id),
                name: name.to_string(),
            }),
            Err(e) if is_unique(&e) => Err(StaffError::Duplicate("health centre")),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates an account at `now`. A taken username is [`StaffError::Duplicate`]; a staff
    /// account without a centre is [`StaffError::CentreRequired`]; an unknown centre is
    /// [`StaffError::UnknownCentre`].
    pub async fn create_staff(
        &self,
        new: &NewStaff,
        now: SystemTime,
    ) -> Result<StaffAccount, StaffError> {
        if new.role == Role::Staff && new.centre.is_none() {
            return Err(StaffError::CentreRequired);
        }
        let at = millis(now)?;
        let inserted = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO staff (username, password_hash, role, health_center_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(&new.username)
            .bind(&new.password_hash)
            .bind(new.role.label())
            .bind(new.centre.map(|c| c.0))
            .bind(at)
            .fetch_one(pool)
            .await
            .and_then(|r| r.try_get::<i64, _>("id"))
        });
        let id = match inserted {
            Ok(id) => StaffId(id),
            Err(e) if is_unique(&e) => return Err(StaffError::Duplicate("username")),
            Err(e) if StoreError::is_foreign_key(&e) => return Err(StaffError::UnknownCentre),
            Err(e) => return Err(e.into()),
        };
        self.staff_account(id)
            .await?
            .ok_or(StaffError::UnknownStaff)
    }

    /// One account, if it exists.
    pub async fn staff_account(&self, id: StaffId) -> Result<Option<StaffAccount>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} {ACCOUNT_FROM} WHERE s.id = $1");
        let account = on_pool!(self, pool => {
            match sqlx::query(&sql).bind(id.0).fetch_optional(pool).await? {
                Some(r) => Some(decode_account(&r)?),
                None => None,
            }
        });
        Ok(account)
    }

    /// Every account, by username.
    pub async fn staff_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} {ACCOUNT_FROM} ORDER BY s.username");
        let accounts = on_pool!(self, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            rows.iter().map(decode_account).collect::<Result<Vec<_>, _>>()?
        });
        Ok(accounts)
    }

    /// The account called `username` and its password hash, for login; `None` when unknown.
    pub async fn staff_credentials(
        &self,
        username: &str,
    ) -> Result<Option<(StaffAccount, String)>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS}, s.password_hash {ACCOUNT_FROM} WHERE s.username = $1"
        );
        let found = on_pool!(self, pool => {
            match sqlx::query(&sql).bind(username).fetch_optional(pool).await? {
                Some(r) => Some((decode_account(&r)?, r.try_get::<String, _>("password_hash")?)),
                None => None,
            }
        });
        Ok(found)
    }

    /// Applies `change` to an account. A new password or deactivation ends the account's
    /// sessions in the same transaction.
    pub async fn update_staff(
        &self,
        id: StaffId,
        change: &StaffChange,
    ) -> Result<StaffAccount, StaffError> {
        let current = self
            .staff_account(id)
            .await?
            .ok_or(StaffError::UnknownStaff)?;
        let role = change.role.unwrap_or(current.role);
        let centre = match change.centre {
            Some(c) => c,
            None => current.centre.as_ref().map(|c| c.id),
        };
        if role == Role::Staff && centre.is_none() {
            return Err(StaffError::CentreRequired);
        }
        let active = change.active.unwrap_or(current.active);
        let end_sessions = change.password_hash.is_some() || !active;
        let result: Result<(), sqlx::Error> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "UPDATE staff SET role = $1, health_center_id = $2, active = $3, \
                     password_hash = COALESCE($4, password_hash) WHERE id = $5",
                )
                .bind(role.label())
                .bind(centre.map(|c| c.0))
                .bind(active)
                .bind(change.password_hash.as_deref())
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
                if end_sessions {
                    sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            .await
        });
        match result {
            Ok(()) => {}
            Err(e) if StoreError::is_foreign_key(&e) => return Err(StaffError::UnknownCentre),
            Err(e) => return Err(e.into()),
        }
        self.staff_account(id)
            .await?
            .ok_or(StaffError::UnknownStaff)
    }
}

/// Whether `e` is a unique-constraint violation.
pub(crate) fn is_unique(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

pub(super) fn decode_account<R>(r: &R) -> Result<StaffAccount, StoreError>
where
    R: Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = r.try_get("role")?;
    let centre = match (
        r.try_get::<Option<i64>, _>("health_center_id")?,
        r.try_get::<Option<String>, _>("centre_name")?,
    ) {
        (Some(id), Some(name)) => Some(Centre {
            id: CentreId(id),
            name,
        }),
        _ => None,
    };
    Ok(StaffAccount {
        id: StaffId(r.try_get("id")?),
        username: r.try_get("username")?,
        role: Role::from_label(&role).ok_or(StoreError::Corrupt {
            table: "staff",
            column: "role",
        })?,
        centre,
        active: r.try_get("active")?,
        created_at: from_epoch_millis(r.try_get("created_at")?),
    })
}
