//! The call path's own SQLite connection: what a call writes and reads while it is up (caller
//! failures, identification, report start, answers, completion, call record) goes through one
//! long-lived connection, taken in turn, instead of a connection from the pool per statement.
//!
//! Why: sqlx runs each SQLite connection on a thread of its own and hands it every statement,
//! and a connection handed back to sqlx's pool is pinged (one more hand-off) on a task spawned
//! for it. A Health Call's store work was ~50 such thread hand-offs, each a wake-up of the
//! connection's thread and of the call runtime, and they were the store's cost (profile in
//! docs/benchmarks.md, "The store's hand-offs"). Held here, a statement is one hand-off, and the
//! writes of all calls queue in order on one mutex instead of in SQLite's busy handler (which
//! sleeps 1–100 ms between retries). SQLite takes one writer at a time anyway.
//!
//! A body that does not finish (an error it returns early with, a cancelled future) drops the
//! connection instead of giving it back, so a statement or transaction it left half-done can
//! never reach the next call: the next one opens a new connection (what sqlx's pool does with a
//! connection whose release ping fails). PostgreSQL keeps its pool: a connection per method.

use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;
use tokio::sync::{Mutex, MutexGuard};

/// The call path's connection, shared by every clone of a SQLite [`super::Store`]; empty for
/// PostgreSQL.
#[derive(Clone, Default)]
pub(crate) struct CallConn {
    shared: Option<Arc<Shared>>,
}

struct Shared {
    options: SqliteConnectOptions,
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    conn: Option<SqliteConnection>,
    closed: bool,
}

/// The connection, held by one store method until [`Held::keep`] gives it back.
pub(crate) struct Held<'a> {
    slot: MutexGuard<'a, Slot>,
    pub(crate) conn: SqliteConnection,
}

impl CallConn {
    /// A call connection to the database `options` opens (connected on first use).
    pub(crate) fn sqlite(options: SqliteConnectOptions) -> CallConn {
        CallConn {
            shared: Some(Arc::new(Shared {
                options,
                slot: Mutex::default(),
            })),
        }
    }

    /// Waits for the connection, opening it if there is none (first use, or the last holder
    /// did not give it back). After [`CallConn::close`], or without a SQLite database, fails
    /// as a closed pool does.
    pub(crate) async fn hold(&self) -> Result<Held<'_>, sqlx::Error> {
        let shared = self.shared.as_ref().ok_or(sqlx::Error::PoolClosed)?;
        let mut slot = shared.slot.lock().await;
        if slot.closed {
            return Err(sqlx::Error::PoolClosed);
        }
        let conn = match slot.conn.take() {
            Some(conn) => conn,
            None => SqliteConnection::connect_with(&shared.options).await?,
        };
        Ok(Held { slot, conn })
    }

    /// Closes the connection once its holder is done; later [`CallConn::hold`]s fail.
    pub(crate) async fn close(&self) {
        let Some(shared) = &self.shared else {
            return;
        };
        let mut slot = shared.slot.lock().await;
        slot.closed = true;
        if let Some(conn) = slot.conn.take() {
            let _ = conn.close().await;
        }
    }
}

impl Held<'_> {
    /// Gives the connection back for the next holder (only after a body that finished).
    pub(crate) fn keep(self) {
        let Held { mut slot, conn } = self;
        slot.conn = Some(conn);
    }
}

/// Whether a connection runs a query string of several statements, each with the same `$n`
/// arguments, in one go (sqlx's SQLite driver does; PostgreSQL's prepared statements take one).
pub(crate) trait StatementLists {
    const STATEMENT_LISTS: bool;
}

impl StatementLists for SqliteConnection {
    const STATEMENT_LISTS: bool = true;
}

impl StatementLists for sqlx::PgConnection {
    const STATEMENT_LISTS: bool = false;
}

/// [`StatementLists::STATEMENT_LISTS`] of `conn`'s type.
pub(crate) fn runs_statement_lists<C: StatementLists>(_conn: &C) -> bool {
    C::STATEMENT_LISTS
}
