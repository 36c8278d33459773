//! Health Call identification cannot be used as an oracle (SPEC §5, §12; docs/reliability.md
//! "Identification brute force"): a locked ID, an existing ID with a wrong birthday and an ID
//! that does not exist cost the store the same statements, and a caller hears the same prompts
//! and the same hang-up for each.

mod common;
mod common_store;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use carecall::store::Identification;
use common::process::{carecall, temp_dir, Serve};
use common::{free_port, health_call_rfc4733, root, rt};
use common_store::{at, import_three, pii, run, Db, Kind};
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// The two tests of this file take turns: the statement log is process-wide, and the other
/// test's in-process store set-up (migrations, a pool's connections) would land in it.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The SQL statements sqlx reports (target `sqlx::query`) while recording is on.
static STATEMENTS: Mutex<Option<Vec<String>>> = Mutex::new(None);

struct StatementLog;

impl<S: tracing::Subscriber> Layer<S> for StatementLog {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        struct Text(String);
        impl Visit for Text {
            fn record_str(&mut self, field: &Field, value: &str) {
                if matches!(field.name(), "summary" | "db.statement") {
                    self.0.push_str(value.trim());
                    self.0.push(' ');
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        // A pool opening a new connection runs its PRAGMA set-up; that is the pool's work,
        // not the identification's, and comes whenever the pool decides.
        if text.0.starts_with("PRAGMA") {
            return;
        }
        if let Some(list) = STATEMENTS.lock().unwrap().as_mut() {
            list.push(text.0);
        }
    }
}

fn install_statement_log() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(StatementLog);
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    });
}

/// The statements one identification runs, and its outcome.
async fn statements_of(db: &Db, id: &str, mmdd: &str, call: &str) -> (Vec<String>, Identification) {
    *STATEMENTS.lock().unwrap() = Some(Vec::new());
    let outcome = db
        .store
        .identify(&pii(id), &pii(mmdd), &pii("0399990000"), call, at(1000))
        .await
        .unwrap();
    let list = STATEMENTS.lock().unwrap().take().unwrap();
    (list, outcome)
}

async fn every_failure_costs_the_store_the_same_statements(db: Db) {
    import_three(&db.store).await;
    // 11110002 is locked by five failed calls; 11110001 has no failures yet.
    for n in 0..5 {
        let call = format!("lock{n}");
        let (id, mmdd, caller) = (pii("11110002"), pii("0101"), pii("0311"));
        let r = db.store.identify(&id, &mmdd, &caller, &call, at(900));
        assert_eq!(r.await.unwrap(), Identification::NoMatch);
    }
    let (wrong_birthday, a) = statements_of(&db, "11110001", "0101", "x1").await;
    let (unknown, b) = statements_of(&db, "19999999", "0415", "x2").await;
    let (locked, c) = statements_of(&db, "11110002", "1201", "x3").await;
    assert_eq!((a, b), (Identification::NoMatch, Identification::NoMatch));
    assert_eq!(
        c,
        Identification::Locked,
        "the right birthday of a locked ID is refused"
    );
    assert!(
        wrong_birthday.len() >= 4,
        "lookup, failure, count and lock statements: {wrong_birthday:?}"
    );
    assert_eq!(wrong_birthday, unknown, "an unknown ID does the same work");
    assert_eq!(wrong_birthday, locked, "a locked ID does the same work");
}

#[tokio::test]
async fn every_failure_costs_the_store_the_same_statements_on_both_backends() {
    let _turn = ONE_AT_A_TIME.lock().await;
    install_statement_log();
    run(
        Kind::Sqlite,
        every_failure_costs_the_store_the_same_statements,
    )
    .await;
    run(
        Kind::Postgres,
        every_failure_costs_the_store_the_same_statements,
    )
    .await;
}

const PATIENTS: &str = "\
hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk
73920561,Yamada Hanako,1950-04-15,0311112222,ja,09:00;14:00,2026-11-01,2026-12-31,true,Minato,age65
";

/// The steps each call went through, by call, from the engine's JSON log.
fn steps_by_call(log: &str) -> BTreeMap<String, Vec<String>> {
    let mut calls: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let fields = &line["fields"];
        let event = match fields["message"].as_str() {
            Some("step") => fields["step"].as_str().unwrap_or("?").to_string(),
            Some("caller not identified") => "not identified".to_string(),
            Some("caller identified") => "identified".to_string(),
            Some("dialog ended") => format!("ended {}", fields["reason"]),
            _ => continue,
        };
        let call = line["span"]["call"].to_string();
        calls.entry(call).or_default().push(event);
    }
    calls
}

#[test]
fn a_locked_id_and_an_unknown_id_hear_the_same_prompts_and_the_same_hang_up() {
    rt().block_on(async {
        let _turn = ONE_AT_A_TIME.lock().await;
        let dir = temp_dir("ident", "locked");
        let (sip, http) = (free_port(), free_port());
        let config = dir.join("carecall.toml");
        let text = format!(
            "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n[rtp]\nport_min = 42000\nport_max = 49999\n[calls]\nautomatic_calls = false\n[health_call]\nlock_after_failed_calls = 1\n[store]\nurl = \"sqlite://{db}\"\n[prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n",
            db = dir.join("carecall.db").display(),
            root = root().display(),
        );
        std::fs::write(&config, text).unwrap();
        std::fs::write(dir.join("patients.csv"), PATIENTS).unwrap();
        common::process::create_store(&config);
        let csv = dir.join("patients.csv");
        let out = carecall(&config, &["patients", "import", csv.to_str().unwrap()]);
        assert!(out.0, "import failed: {}", out.1);
        let engine = Serve::start(&config, dir.join("engine.log"), "info");
        let target = std::net::SocketAddr::from(([127, 0, 0, 1], sip));

        // The existing ID: one wrong birthday locks it (threshold 1), then the right birthday
        // is refused twice. The unknown ID: the same keys.
        let keys = |id: &str| format!("3:1,7:{id}#,11:0101,17:{id}#,21:0415,27:{id}#,31:0415");
        let started = Instant::now();
        let limit = Duration::from_secs(100);
        let (known_keys, unknown_keys) = (keys("73920561"), keys("19999999"));
        let (existing, unknown) = tokio::join!(
            health_call_rfc4733(target, &dir, "existing", &known_keys, 90_000, limit),
            health_call_rfc4733(target, &dir, "unknown", &unknown_keys, 90_000, limit),
        );
        assert!(existing.0, "{}", existing.1);
        assert!(unknown.0, "{}", unknown.1);
        assert!(
            started.elapsed() < Duration::from_secs(80),
            "the engine hung up both calls, not the callers"
        );
        let log = engine.log_text();
        let calls: Vec<Vec<String>> = steps_by_call(&log).into_values().collect();
        assert_eq!(calls.len(), 2, "{log}");
        assert_eq!(
            calls[0].iter().filter(|e| *e == "not identified").count(),
            3,
            "{:?}",
            calls[0]
        );
        assert!(
            calls[0].iter().any(|e| e == "hc_contact_centre" || e == "contact_centre"),
            "{:?}",
            calls[0]
        );
        assert_eq!(calls[0], calls[1], "the same steps for a locked and an unknown ID");
        for secret in ["73920561", "19999999"] {
            assert!(!log.contains(secret), "{secret} reached the log");
        }
    });
}
