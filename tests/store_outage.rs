//! SPEC §11 from outside: nothing a patient confirms is lost to a database outage. The real
//! `carecall serve` reaches PostgreSQL through a TCP relay owned by this test; a SIPp patient
//! dials the Health Call line, and as soon as the engine has identified her the relay cuts
//! every connection and refuses new ones. The call goes on as normal, its answers go to the
//! node's journal, and once the relay lets connections through again the report is in the
//! store exactly once, complete and red, and the centre's webhook gets its alert.

mod common;
mod common_api;
mod common_store;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use common::process::{carecall, temp_dir, Serve};
use common::relay::Relay;
use common::{free_port, health_call_rfc4733, root, rt, schedule};

const SECRETS: [&str; 4] = ["73920561", "Yamada", "1950-04-15", "0311112222"];

#[test]
fn answers_confirmed_during_a_database_outage_reach_the_store_once_it_is_back() {
    rt().block_on(async {
        let schema = format!("carecall_outage_{:016x}", rand::random::<u64>());
        let (direct, admin) = common_store::pg_schema(&schema).await;
        let outcome = tokio::spawn(outage(direct)).await;
        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await;
        admin.close().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}

async fn outage(direct: String) {
    let dir = temp_dir("outage", "pg");
    let (relay, via_relay) = Relay::for_url(&direct).await;
    let (hook, mut alerts) = alert_receiver().await;
    let sip = free_port();
    let journal = dir.join("carecall.journal");
    let config = dir.join("carecall.toml");
    std::fs::write(
        &config,
        format!(
            "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
             [rtp]\nport_min = 55000\nport_max = 57999\n[calls]\nautomatic_calls = false\n\
             [store]\nurl = \"{via_relay}\"\njournal = \"{journal}\"\nwrite_timeout_ms = 800\n\
             journal_retry_ms = 300\n[alert]\nwebhook_url = \"http://{hook}/hook\"\n\
             [prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n",
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
    common::process::create_store(&config);
    let (ok, out) = carecall(&config, &["patients", "import", csv.to_str().unwrap()]);
    assert!(ok, "import: {out}");
    let serve = Serve::start(&config, dir.join("engine.log"), "carecall=debug,info");

    // 38.2 °C, SpO2 not measured, no symptoms, no callback.
    let keys = schedule(
        "1",
        "73920561",
        "0415",
        &[
            "382", "1", "#", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
        ],
    );
    let target = SocketAddr::from(([127, 0, 0, 1], sip));
    let limit = Duration::from_secs(120);
    let call = health_call_rfc4733(target, &dir, "outage", &keys, 90_000, limit);
    // The database goes away the moment the caller is identified, before any answer.
    let cut = async {
        let deadline = Instant::now() + Duration::from_secs(40);
        while !serve.log_text().contains("caller identified") {
            assert!(Instant::now() < deadline, "the caller was never identified");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        relay.cut();
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
        serve.log_text()
    );

    // The database is back: the report arrives once, complete, red; the alert follows.
    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    let reports = loop {
        let reports = store.export_reports(None).await.unwrap();
        if reports.iter().any(|r| r.complete) {
            break reports;
        }
        assert!(
            Instant::now() < deadline,
            "the journal was never written:\n{}",
            serve.log_text()
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

    let log = serve.log_text();
    drop(serve);
    assert!(log.contains("written to the journal"), "{log}");
    for line in log.lines() {
        for secret in SECRETS {
            assert!(
                !common_api::contains_standalone(line, secret),
                "personal data {secret:?} in the engine's log: {line}"
            );
        }
    }
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
