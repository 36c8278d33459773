//! Store test harness: every test body runs once against SQLite (a fresh temporary file) and
//! once against PostgreSQL (a fresh schema in the database at `CARECALL_TEST_PG`, default
//! `postgres://postgres@127.0.0.1:5432/test`), and the database is removed afterwards even
//! when the body panics. An unreachable PostgreSQL fails the test; it is never skipped.
#![allow(dead_code)]

pub mod alert_cases;
pub mod attempt_cases;
pub mod claim_order_cases;
pub mod export_cases;
pub mod import_cases;
pub mod journal_cases;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use carecall::pii::Redacted;
use carecall::store::{Identification, PatientId, Store};

/// The PostgreSQL used when `CARECALL_TEST_PG` is not set.
pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which backend a test run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// What a test body gets: an open store and the URL it was opened with (to open another).
pub struct Db {
    pub store: Store,
    pub url: String,
    pub kind: Kind,
}

/// Runs `test` against a fresh database of `kind`, then drops the database and re-raises any
/// panic from the body.
pub async fn run<F, Fut>(kind: Kind, test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let name = format!("carecall_test_{:016x}", rand::random::<u64>());
    let (url, admin) = match kind {
        Kind::Sqlite => (format!("sqlite://{}", sqlite_path(&name).display()), None),
        Kind::Postgres => {
            let (url, admin) = pg_schema(&name).await;
            (url, Some(admin))
        }
    };
    let store = match Store::open(&url).await {
        Ok(store) => store,
        Err(e) => panic!("opening the {kind:?} store failed: {e}"),
    };
    let outcome = tokio::spawn(test(Db {
        store: store.clone(),
        url,
        kind,
    }))
    .await;
    store.close().await;
    match admin {
        Some(admin) => {
            let drop = format!("DROP SCHEMA {name} CASCADE");
            sqlx::query(&drop).execute(&admin).await.unwrap();
            admin.close().await;
        }
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", sqlite_path(&name).display()));
            }
        }
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn sqlite_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{name}.db"))
}

/// Creates schema `name` and returns a URL whose connections use it, and an admin pool.
pub async fn pg_schema(name: &str) -> (String, sqlx::PgPool) {
    let base = std::env::var("CARECALL_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.to_string());
    let connect = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&base);
    let admin = match connect.await {
        Ok(pool) => pool,
        Err(e) => panic!(
            "PostgreSQL is unreachable at {base}: {e}. The store tests need it: start \
             PostgreSQL, or set CARECALL_TEST_PG=postgres://USER@HOST:PORT/DATABASE to one \
             where USER may create schemas."
        ),
    };
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    (
        format!("{base}{sep}options=-c%20search_path%3D{name}"),
        admin,
    )
}

/// Declares `mod <test> { sqlite(), postgres() }` for each async `fn <test>(Db)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::common_store::{run, Kind};

            #[tokio::test]
            async fn sqlite() {
                run(Kind::Sqlite, super::$name).await
            }

            #[tokio::test]
            async fn postgres() {
                run(Kind::Postgres, super::$name).await
            }
        }
    )*};
}

/// A fixed instant: `secs` seconds after 2025-05-01T00:00:00Z.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_746_057_600 + secs)
}

/// Wraps a personal test value.
pub fn pii(s: &str) -> Redacted<String> {
    Redacted::new(s.to_string())
}

/// The SPEC §6a header line.
pub const HEADER: &str = "hersys_id,name,birthday,phone,language,call_times,observation_start,\
                          observation_end,auto_call,health_center,risk\n";

/// Three valid patients: 11110001 (ja, born 04-15), 11110002 (en, born 12-01, no auto calls),
/// 11110003 (pt, born 02-29).
pub const THREE_PATIENTS: &str = "\
11110001,Sato Hanako,1950-04-15,03-1111-0001,ja,09:00;14:00,2025-05-01,2025-05-10,true,Minato,age65
11110002,John Smith,1988-12-01,090-1111-0002,en,,2025-05-01,2025-05-14,false,Minato,
11110003,Ana Souza,1996-02-29,+81 80 1111 0003,pt,11:00,2025-05-02,2025-05-12,true,Shinjuku,pregnant
";

/// Imports [`THREE_PATIENTS`].
pub async fn import_three(store: &Store) {
    let csv = format!("{HEADER}{THREE_PATIENTS}");
    store.import_patients_csv(csv.as_bytes()).await.unwrap();
}

/// The id of an imported patient, found through Health Call identification.
pub async fn patient(store: &Store, id: &str, mmdd: &str) -> PatientId {
    match store
        .identify(&pii(id), &pii(mmdd), &pii("0311112222"), "setup", at(0))
        .await
    {
        Ok(Identification::Patient(p)) => p.id,
        other => panic!("patient {id} not identified: {other:?}"),
    }
}
