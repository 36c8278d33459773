//! The report store: the only module with SQL (SQLite and PostgreSQL).
//!
//! Owns: the database connection pool, the schema (`migrations/sqlite`, `migrations/postgres`,
//! run at open), patients and their CSV import, Health Call identification and its lockout,
//! reports and answers, call records, automatic-call attempts and their leases, the red-report
//! alert outbox, and for the staff API: health centres, staff accounts and their sessions, the
//! audit log, patients and reports within a centre's scope. Must not touch: the clock (every time is an argument),
//! sockets other than the database's, logging of personal data (values travel in
//! `crate::pii::Redacted`; errors name tables, lines and fields, never values).
//!
//! # One store, two backends: an enum of two pools, not `sqlx::Any`
//!
//! `Store` holds either a `SqlitePool` or a `PgPool`; the private `on_pool!` macro expands a
//! query body once per backend, so each SQL text is written once and compiled against each
//! driver's native types. `sqlx::Any` was the alternative and was rejected because in sqlx
//! 0.8 it refuses SQLite `BOOLEAN` and `DATE` columns outright ("Any driver does not support
//! the SQLite type") and cannot decode a SQLite integer as `bool`, so the schema would have to
//! give up real booleans and dates on PostgreSQL; it also hides backend-specific SQL such as
//! SQLite's `BEGIN IMMEDIATE` (used here so a write transaction waits for the lock instead of
//! failing on upgrade) and PostgreSQL's `FOR UPDATE SKIP LOCKED` (needed for slot leases).
//!
//! SQL is written in the dialect both accept: `$n` placeholders, `ON CONFLICT`, `RETURNING`,
//! `date($n)` to write a `YYYY-MM-DD` text into a `DATE` column and `CAST(col AS TEXT)` to read
//! it back (sqlx sets PostgreSQL's `DateStyle` to ISO). Instants are `BIGINT` milliseconds
//! since the Unix epoch, UTC. Each answer is committed in its own transaction before
//! `store_answer` returns.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Transaction;

use crate::report::date::epoch_millis;
use crate::report::FlagRules;

pub use crate::domain::{AlertId, AttemptId, CentreId, PatientId, ReportId, StaffId};
pub use crate::report::{AnswerValue, Channel, Symptom};

/// Runs `$body` with `$pool` bound to the concrete pool of the store's backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to `&mut` a connection for the whole body: on SQLite the
/// call path's own (`call_conn.rs`: given back only if the body finishes), on PostgreSQL one
/// from the pool. Statements take `&mut *$conn`.
macro_rules! on_call_conn {
    ($store:expr, $conn:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite(_) => {
                let mut held = $store.call_conn.hold().await?;
                let out = {
                    let $conn = &mut held.conn;
                    $body
                };
                held.keep();
                out
            }
            $crate::store::Backend::Postgres(pool) => {
                let mut pooled = pool.acquire().await?;
                let $conn = &mut *pooled;
                $body
            }
        }
    };
}

mod alerts;
mod attempts;
mod audit;
mod call_conn;
mod calls;
mod error;
mod identify;
mod import;
mod journal;
mod journal_replay;
mod listings;
mod login_failures;
mod patients;
mod patients_api;
mod patients_csv;
mod reports;
mod requests;
mod schedule;
mod sessions;
mod staff;
mod staff_reports;

pub use crate::domain::{Attempt, AttemptState, Claim};
pub use alerts::{AlertRecord, AlertStatus, AttemptResult, DeliveryAttempt, DueAlert};
pub use audit::{Actor, AuditFilter, AuditRow};
pub use calls::CallRecord;
pub use error::{FieldProblem, ImportError, StoreError};
pub use identify::{Identification, PatientRef};
pub use import::{parse_patients, PatientRow};
pub use journal::{
    Entry as JournalEntry, Journal, JournalError, ReportRef, JOURNAL_APPENDS, JOURNAL_REJECTED,
    JOURNAL_REPLAYED, JOURNAL_UNREADABLE,
};
pub use listings::AttemptRow;
pub use login_failures::{LoginAttempt, RecentFailures};
pub use patients::ImportSummary;
pub use patients_api::{PatientFields, PatientFilter, PatientRecord, PatientWriteError};
pub use patients_csv::{write_patients_csv, ScopedImportError};
pub use schedule::PatientState;
pub use sessions::{Session, SessionKind};
pub use staff::{Centre, CentreScope, NewStaff, Role, StaffAccount, StaffChange, StaffError};
pub use staff_reports::{Day, DayRow, Reading};

pub(crate) use import::normalise_phone;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Store settings that come from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Lock a HER-SYS ID for Health Call after failed identifications in this many distinct
    /// calls within [`StoreOptions::lock_window`] (default 5).
    pub lock_after_failed_calls: u32,
    /// The window in which failed calls are counted (default 24 h).
    pub lock_window: Duration,
    /// The flag rules applied each time an answer is stored (SPEC defaults).
    pub flag_rules: FlagRules,
    /// The call times a patient may choose: the configured slots (SPEC default 09:00, 11:00,
    /// 14:00, 16:00).
    pub call_times: Vec<crate::report::date::LocalTime>,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            lock_after_failed_calls: 5,
            lock_window: Duration::from_secs(14 * 24 * 3600),
            flag_rules: FlagRules::default(),
            call_times: import::CALL_TIMES
                .iter()
                .filter_map(|t| t.parse().ok())
                .collect(),
        }
    }
}

/// The report store, shared by every call and the staff API. Cheap to clone (pools are
/// reference-counted); every method takes `&self`.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    call_conn: call_conn::CallConn,
    options: StoreOptions,
}

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    /// The same store (same pools) assessing answers stored through it with `rules`: what a
    /// reload gives the calls that start after it, while calls in progress keep their own.
    pub fn with_flag_rules(&self, rules: FlagRules) -> Store {
        let mut store = self.clone();
        store.options.flag_rules = rules;
        store
    }

    /// The flag rules answers stored through this handle are assessed with.
    pub fn flag_rules(&self) -> &FlagRules {
        &self.options.flag_rules
    }

    /// Opens the store at `url` with default options; see [`Store::open_with`].
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// Opens the store at `url` and brings its schema up to date.
    ///
    /// `sqlite://path` creates the file if missing (mode 0600: only the service's user may
    /// read it; SQLite gives its `-wal` and `-shm` files the same mode) and uses WAL, `synchronous=FULL` and
    /// foreign keys. `postgres://…` (or `postgresql://…`) connects to an existing database;
    /// URL parameters such as `options=-c search_path=…` are honoured. Any other scheme is
    /// [`StoreError::UnsupportedUrl`]; an unreachable database is [`StoreError::Connect`]; a
    /// failed or inconsistent migration is [`StoreError::Migrate`].
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let mut call_conn = call_conn::CallConn::default();
        let backend = if url.starts_with("sqlite:") {
            if let Some(file) = sqlite_file(url) {
                create_private(&file).map_err(|e| StoreError::Connect(sqlx::Error::Io(e)))?;
            }
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(StoreError::Connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                // A connection to a local file cannot go stale; sqlx's default ping before
                // every acquire would be one more hand-off to the connection's thread.
                .test_before_acquire(false)
                .connect_with(connect.clone())
                .await
                .map_err(StoreError::Connect)?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            call_conn = call_conn::CallConn::sqlite(connect);
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect = PgConnectOptions::from_str(url).map_err(StoreError::Connect)?;
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .before_acquire(ping_if_idle)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(connect)
                .await
                .map_err(StoreError::Connect)?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            Backend::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        Ok(Store {
            backend,
            call_conn,
            options,
        })
    }

    /// `sqlite` or `postgres`, for logs and metrics labels.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Closes every connection, waiting for those in use. Later calls on any clone fail with
    /// [`StoreError::Database`].
    pub async fn close(&self) {
        self.call_conn.close().await;
        on_pool!(self, pool => pool.close().await)
    }
}

/// The file a `sqlite:` URL names (`sqlite://carecall.db?mode=rwc` → `carecall.db`, relative
/// to the working directory); `None` for an in-memory database or another scheme.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    (!file.is_empty() && !file.starts_with(":memory:")).then(|| std::path::PathBuf::from(file))
}

/// Creates `file` empty with mode 0600 unless it exists (an empty file is an empty SQLite
/// database), so the database is never readable by others, whatever the umask.
fn create_private(file: &std::path::Path) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// A stored value that does not decode: names the table and column, never the value.
pub(crate) fn corrupt(table: &'static str, column: &'static str) -> StoreError {
    StoreError::Corrupt { table, column }
}

/// `patients.call_times` as stored (`09:00;14:00`) → the local times.
pub(crate) fn decode_call_times(
    text: &str,
) -> Result<Vec<crate::report::date::LocalTime>, StoreError> {
    text.split(';')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().map_err(|_| corrupt("patients", "call_times")))
        .collect()
}

/// Begins a transaction that will write. On SQLite this is `BEGIN IMMEDIATE`, which takes the
/// write lock at once (waiting up to the busy timeout) instead of failing when a read
/// transaction later tries to upgrade.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;

    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;

    async fn begin_write(&self) -> Result<Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// A pooled PostgreSQL connection idle for longer than this is pinged before it is used, so a
/// database restart or a cut connection is found there, not by a patient's request. sqlx's
/// default pings before every use: one more database round trip for every request.
const PING_IF_IDLE: Duration = Duration::from_secs(2);

type PingFuture<'c> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, sqlx::Error>> + Send + 'c>>;

/// `before_acquire` of the PostgreSQL pool: a connection idle for [`PING_IF_IDLE`] is pinged
/// (a failed ping discards it and the pool opens another).
fn ping_if_idle(
    conn: &mut sqlx::PgConnection,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> PingFuture<'_> {
    Box::pin(async move {
        if meta.idle_for >= PING_IF_IDLE {
            sqlx::Connection::ping(conn).await?;
        }
        Ok(true)
    })
}

/// `t` as stored: milliseconds since the Unix epoch.
pub(crate) fn millis(t: SystemTime) -> Result<i64, StoreError> {
    epoch_millis(t).ok_or(StoreError::TimeOutOfRange)
}

/// `t` minus `d` as stored milliseconds, saturating.
pub(crate) fn millis_before(t: SystemTime, d: Duration) -> Result<i64, StoreError> {
    let d = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    Ok(millis(t)?.saturating_sub(d))
}

#[cfg(test)]
mod tests;
