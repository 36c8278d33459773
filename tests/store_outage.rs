//! SPEC §11 from outside: nothing a patient confirms is lost to a database outage. The real
//! `carecall serve` reaches PostgreSQL through a TCP relay owned by this test; a SIPp patient
//! dials the Health Call line, and as soon as the engine has identified her the relay cuts
//! every connection and refuses new ones. The call goes on as normal, its answers go to the
//! node's journal, and once the relay lets connections through again the report is in the
//! store exactly once, complete and red, and the centre's webhook gets its alert.
//!
//! And an outage that comes just before identification: the caller keyed the right ID and
//! birthday, so she must not hear "not confirmed" nor count a failure; she hears
//! `service_busy` and the call ends as `store_unavailable`.

mod common;
mod common_api;
mod common_store;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tokio::net::TcpListener;

use common::process::{carecall, temp_dir, Serve};
use common::relay::Relay;
use common::{free_port, health_call_rfc4733, root, rt, schedule};

const SECRETS: [&str; 4] = ["73920561", "Yamada", "1950-04-15", "0311112222"];

#[test]
fn answers_confirmed_during_a_database_outage_reach_the_store_once_it_is_back() {
    on_fresh_schema("carecall_outage", outage);
}

#[test]
fn an_identification_the_database_cannot_answer_asks_the_caller_to_call_again_later() {
    on_fresh_schema("carecall_busy", identification_outage);
}

#[test]
fn a_pooled_connection_cut_while_idle_is_replaced_before_a_request_meets_it() {
    on_fresh_schema("carecall_idle_cut", idle_cut);
}

/// The store's PostgreSQL pool pings a connection idle for 2 s or more before handing it out
/// (and only then: a ping per request would be a round trip per request). A connection the
/// network cut while it sat in the pool is found by that ping and replaced, so the next
/// request succeeds instead of failing on the dead socket.
async fn idle_cut(direct: String) {
    let (relay, via_relay) = Relay::for_url(&direct).await;
    let store = carecall::store::Store::open(&via_relay).await.unwrap();
    assert!(store.export_reports(None).await.unwrap().is_empty());
    relay.cut();
    relay.restore();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    store
        .export_reports(None)
        .await
        .expect("the cut connection was pinged, dropped and replaced");
}

/// Runs `case` with the URL of a fresh PostgreSQL schema, dropped afterwards (also when the
/// case panics, whose panic is then passed on).
fn on_fresh_schema<F, Fut>(prefix: &str, case: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    rt().block_on(async {
        let schema = format!("{prefix}_{:016x}", rand::random::<u64>());
        let (direct, admin) = common_store::pg_schema(&schema).await;
        let outcome = tokio::spawn(case(direct)).await;
        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await;
        admin.close().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}

/// A `carecall serve` whose store is PostgreSQL through a relay this test owns, with one
/// patient (HER-SYS ID 73920561, born 15 April) imported.
struct Node {
    relay: Relay,
    serve: Serve,
    sip: SocketAddr,
    journal: PathBuf,
    dir: PathBuf,
}

impl Node {
    /// Starts one; `extra` is TOML appended to the configuration (whole sections).
    async fn start(direct: &str, name: &str, extra: &str) -> Node {
        let dir = temp_dir("outage", name);
        let (relay, via_relay) = Relay::for_url(direct).await;
        let sip = free_port();
        let journal = dir.join("carecall.journal");
        let config = dir.join("carecall.toml");
        std::fs::write(
            &config,
            format!(
                "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
                 [rtp]\nport_min = 55000\nport_max = 57999\n[calls]\nautomatic_calls = false\n\
                 [store]\nurl = \"{via_relay}\"\njournal = \"{journal}\"\nwrite_timeout_ms = 800\n\
                 journal_retry_ms = 300\n\
                 [prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n{extra}",
                http = free_port(),
                journal = journal.display(),
                root = root().display(),
            ),
        )
        .unwrap();
        let csv = dir.join("patients.csv");
        std::fs::write(
            &csv,
            "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n\
             73920561,Yamada Hanako,1950-04-15,0311112222,ja,09:00,2026-01-01,2026-03-31,false,Minato,age65\n",
        )
        .unwrap();
        // Off the runtime's threads: the relay's task must keep running meanwhile.
        let log = dir.join("engine.log");
        let serve = tokio::task::spawn_blocking(move || {
            common::process::create_store(&config);
            let (ok, out) = carecall(&config, &["patients", "import", csv.to_str().unwrap()]);
            assert!(ok, "import: {out}");
            Serve::start(&config, log, "carecall=debug,info")
        })
        .await
        .unwrap();
        Node {
            relay,
            serve,
            sip: SocketAddr::from(([127, 0, 0, 1], sip)),
            journal,
            dir,
        }
    }

    /// Drops the engine and asserts that no line of its log holds personal data.
    fn stop_and_check_log(self) -> String {
        let log = self.serve.log_text();
        drop(self.serve);
        for line in log.lines() {
            for secret in SECRETS {
                assert!(
                    !common_api::contains_standalone(line, secret),
                    "personal data {secret:?} in the engine's log: {line}"
                );
            }
        }
        log
    }
}

async fn outage(direct: String) {
    let (hook, mut alerts) = alert_receiver().await;
    let alert = format!("[alert]\nwebhook_url = \"http://{hook}/hook\"\n");
    let node = Node::start(&direct, "pg", &alert).await;
    let journal = node.journal.clone();

    // 38.2 °C, SpO2 not measured, no symptoms, no callback.
    let keys = schedule(
        "1",
        "73920561",
        "0415",
        &[
            "382", "1", "#", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
        ],
    );
    let limit = Duration::from_secs(120);
    let call = health_call_rfc4733(node.sip, &node.dir, "outage", &keys, 90_000, limit);
    // The database goes away the moment the caller is identified, before any answer.
    let cut = async {
        node.serve
            .wait_log("caller identified", Duration::from_secs(40))
            .await;
        node.relay.cut();
    };
    let ((sipp_ok, sipp_out), ()) = tokio::join!(call, cut);
    assert!(
        sipp_ok,
        "the call went on as normal during the outage:\n{sipp_out}"
    );

    // Nothing reached the store; everything waits in the journal.
    let store = carecall::store::Store::open(&direct).await.unwrap();
    assert!(store.export_reports(None).await.unwrap().is_empty());
    let waiting = std::fs::read_to_string(&journal).unwrap_or_default()
        + &std::fs::read_to_string(journal.with_extension("journal.replaying")).unwrap_or_default();
    assert_eq!(
        waiting.lines().count(),
        14,
        "the start, 12 answers and the completion are journalled:\n{}",
        node.serve.log_text()
    );

    // The database is back: the report arrives once, complete, red; the alert follows.
    node.relay.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    let reports = loop {
        let reports = store.export_reports(None).await.unwrap();
        if reports.iter().any(|r| r.complete) {
            break reports;
        }
        assert!(
            Instant::now() < deadline,
            "the journal was never written:\n{}",
            node.serve.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reports.len(), 1, "exactly one report");
    let report = &reports[0];
    assert_eq!(report.channel, carecall::store::Channel::HealthCall);
    assert_eq!(report.flag, carecall::report::Flag::Red);
    assert_eq!(
        report.answers.len(),
        12,
        "every answer the caller confirmed"
    );
    let alert = tokio::time::timeout(Duration::from_secs(10), alerts.recv())
        .await
        .expect("the red alert after the outage")
        .expect("receiver open");
    assert_eq!(alert["report_id"], report.report_id);
    // Later replays change nothing.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(store.export_reports(None).await.unwrap().len(), 1);
    assert!(!journal.exists() || std::fs::metadata(&journal).unwrap().len() == 0);
    assert!(
        !journal.with_extension("journal.replaying").exists(),
        "the replayed file is removed"
    );
    store.close().await;

    let log = node.stop_and_check_log();
    assert!(log.contains("written to the journal"), "{log}");
}

/// The database goes away while the caller keys her birthday (right ID, right birthday):
/// the store cannot identify her, so she hears `service_busy` and the engine hangs up with the
/// `store_unavailable` outcome; no "not confirmed", no failure recorded against her ID or her
/// number. The call record, written once the database is back, names the step.
async fn identification_outage(direct: String) {
    let node = Node::start(&direct, "busy", "").await;
    let started = SystemTime::now();
    // English (key 2): the shortest service_busy; no answers, the call should end by itself.
    let keys = schedule("2", "73920561", "0415", &[]);
    let limit = Duration::from_secs(60);
    let call = health_call_rfc4733(node.sip, &node.dir, "busy", &keys, 50_000, limit);
    let outage = async {
        node.serve
            .wait_log("\"step\":\"enter_birthday\"", Duration::from_secs(30))
            .await;
        node.relay.cut();
        node.serve
            .wait_log("report store unavailable", Duration::from_secs(20))
            .await;
        node.relay.restore();
    };
    let t0 = Instant::now();
    let ((sipp_ok, sipp_out), ()) = tokio::join!(call, outage);
    assert!(sipp_ok, "the engine ended the call:\n{sipp_out}");
    assert!(
        t0.elapsed() < Duration::from_secs(45),
        "the engine hung up, not the caller"
    );

    let log = node.serve.log_text();
    // From the birthday on: identification, then straight to service_busy (no "not
    // confirmed", no second go at the ID, no contact-centre message).
    let steps = steps_of(&log);
    let from_id = steps.iter().position(|s| s == "enter_id").unwrap_or(0);
    assert_eq!(
        steps[from_id..],
        ["enter_id", "enter_birthday", "identify", "service_busy"],
        "{log}"
    );
    let finished = events(&log, "flow finished");
    assert_eq!(finished.len(), 1, "{log}");
    assert_eq!(finished[0]["outcome"], "store unavailable");
    assert_eq!(finished[0]["step"], "service_busy");
    assert!(!log.contains("caller not identified"), "{log}");

    // The database back: the call record names the step; nothing counts against her.
    let store = carecall::store::Store::open(&direct).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let records = loop {
        let records = store.call_records(started).await.unwrap();
        if !records.is_empty() {
            break records;
        }
        assert!(Instant::now() < deadline, "no call record:\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].last_step.as_deref(), Some("service_busy"));
    assert_eq!(records[0].dialplan_id.as_deref(), Some("health_call"));
    let failures = store
        .caller_failures_recent(
            &records[0].caller,
            SystemTime::now(),
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
    assert_eq!(failures, 0, "no failed identification from her number");
    store.close().await;
    node.stop_and_check_log();
}

/// The `fields` of every log line whose message is `message`, in order.
fn events(log: &str, message: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|line| line["fields"].clone())
        .filter(|fields| fields["message"] == message)
        .collect()
}

/// The steps the (only) call went through, from the log's step events.
fn steps_of(log: &str) -> Vec<String> {
    let steps = events(log, "step").into_iter();
    steps
        .filter_map(|f| f["step"].as_str().map(str::to_owned))
        .collect()
}

/// A webhook receiver that accepts every POST and passes its JSON body on.
async fn alert_receiver() -> (
    SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<serde_json::Value>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(serde_json::from_str(&body).unwrap_or_default());
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx)
}
