//! Crash safety from outside (SPEC §11): the real `carecall serve` is killed with SIGKILL at
//! four points of a SIPp Health Call — right after identification, after the temperature,
//! after the SpO2, during the last question — and started again on the same store and
//! journal. Four patients call one engine at once, each pressing keys only up to their kill
//! point (the next question then waits for input far longer than the test), and the engine
//! is killed when the fastest is in the last question. Every answer the engine confirmed
//! before the kill (logged as stored) is in the store exactly once with its value, the report
//! stays incomplete, and the journal neither loses nor doubles an entry. The same on SQLite
//! and on PostgreSQL, in parallel. On PostgreSQL a third engine is killed during a database
//! outage (its answers in the journal only), started again on a slow database and killed
//! while it replays the journal, and started a third time: the journal reaches the store once.

mod common;
mod common_api;
mod common_store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use carecall::report::{AnswerValue, ReportExport, Symptom};
use carecall::store::Store;
use common::process::{carecall, temp_dir, Serve};
use common::relay::Relay;
use common::{free_port, health_call_rfc4733, root, rt, schedule};
use serde_json::Value;

const SECRETS: [&str; 8] = [
    "73920561",
    "73920562",
    "73920563",
    "73920564",
    "Yamada",
    "1950-04-15",
    "0311112221",
    "0311112224",
];
/// How long one of several engines starting at once may take to be ready.
const START: Duration = Duration::from_secs(90);
/// How long SIPp may run.
const LIMIT: Duration = Duration::from_secs(150);

/// The questions of the Health Call, in the order they are asked.
const ORDER: [&str; 12] = [
    "temperature",
    "spo2",
    "face",
    "cough",
    "breath",
    "fatigue",
    "nausea",
    "diarrhea",
    "conscious",
    "eating",
    "urine",
    "callback",
];

/// Where the engine is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    /// The caller is identified; no answer yet.
    Identified,
    /// The temperature is confirmed.
    Temperature,
    /// The SpO2 is confirmed.
    Spo2,
    /// Every answer but the last one (the callback question is being asked).
    LastQuestion,
}

impl Point {
    fn name(self) -> &'static str {
        match self {
            Point::Identified => "identified",
            Point::Temperature => "temperature",
            Point::Spo2 => "spo2",
            Point::LastQuestion => "last",
        }
    }

    /// How many answers are confirmed once the point is reached.
    fn answers(self) -> usize {
        match self {
            Point::Identified => 0,
            Point::Temperature => 1,
            Point::Spo2 => 2,
            Point::LastQuestion => ORDER.len() - 1,
        }
    }
}

/// The keys each patient presses: through the answer of their kill point, then nothing (the
/// next question waits for input: a minute of prompts and no-input reprompts before it would
/// be stored as unanswered, far beyond the kill).
fn keys(id: &str, point: Point) -> String {
    // 38.2 °C confirmed, SpO2 not measured, then "no" to face … urine (callback not answered).
    let all = ["382", "1", "#", "2", "2", "2", "2", "2", "2", "2", "2", "2"];
    let n = match point {
        Point::Identified => 0,
        Point::Temperature => 2,
        Point::Spo2 => 3,
        Point::LastQuestion => all.len(),
    };
    schedule("1", id, "0415", &all[..n])
}

/// The patients: one per kill point.
const PATIENTS: [(&str, Point); 4] = [
    ("73920561", Point::Identified),
    ("73920562", Point::Temperature),
    ("73920563", Point::Spo2),
    ("73920564", Point::LastQuestion),
];

#[test]
fn kill_9_during_health_calls_loses_and_doubles_nothing_on_sqlite_and_postgres() {
    let cases: [(bool, MakeCase); 3] = [
        (false, |d, u| Box::pin(four_points(d, u)) as Case),
        (true, |d, u| Box::pin(four_points(d, u)) as Case),
        (true, |d, u| Box::pin(outage_then_replay(d, u)) as Case),
    ];
    let threads: Vec<_> = cases
        .into_iter()
        .enumerate()
        .map(|(i, (postgres, case))| {
            std::thread::spawn(move || rt().block_on(on_backend(postgres, i, case)))
        })
        .collect();
    let mut failed = None;
    for t in threads {
        if let Err(panic) = t.join() {
            failed.get_or_insert(panic);
        }
    }
    if let Some(panic) = failed {
        std::panic::resume_unwind(panic);
    }
}

type Case = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
/// A case's body, given its folder and store URL.
type MakeCase = fn(PathBuf, String) -> Case;

/// Runs `case` on a fresh SQLite file or PostgreSQL schema, removed afterwards.
async fn on_backend(postgres: bool, i: usize, case: MakeCase) {
    let backend = if postgres { "pg" } else { "sqlite" };
    let dir = temp_dir("crash", &format!("{backend}-{i}"));
    if !postgres {
        let url = format!("sqlite://{}", dir.join("carecall.db").display());
        return case(dir, url).await;
    }
    let schema = format!("carecall_crash_{:016x}", rand::random::<u64>());
    let (url, admin) = common_store::pg_schema(&schema).await;
    let outcome = tokio::spawn(case(dir, url)).await;
    let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await;
    admin.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Four patients call at once; the engine is killed when the fastest is in the last question,
/// the others then identified, after the temperature and after the SpO2.
async fn four_points(dir: PathBuf, url: String) {
    let sip = free_port();
    let journal = dir.join("carecall.journal");
    let config = write_config(&dir, sip, &url, &url, &journal);
    let mut serve = start(&config, dir.join("engine-1.log")).await;
    let target = SocketAddr::from(([127, 0, 0, 1], sip));
    let tag = if url.starts_with("sqlite") {
        "sq"
    } else {
        "pg"
    };
    let calls = futures_join(PATIENTS.map(|(id, point)| {
        let name = format!("crash-{tag}-{}", point.name());
        let dir = dir.clone();
        let keys = keys(id, point);
        async move { health_call_rfc4733(target, &dir, &name, &keys, 120_000, LIMIT).await }
    }));
    let kill = async {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let log = serve.log_text();
            if per_call(&log)
                .iter()
                .any(|c| c.stored.len() == ORDER.len() - 1)
            {
                serve.kill();
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no call reached the last question:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        out = calls => panic!("the calls ended before the kill:\n{out:?}"),
        () = kill => {}
    }
    // SIPp is stopped with the call futures. What the killed engine confirmed is in its log:
    // each call at its point.
    let killed_log = serve.log_text();
    let mut points: Vec<(bool, usize)> = per_call(&killed_log)
        .iter()
        .map(|c| (c.identified, c.stored.len()))
        .collect();
    points.sort();
    let expected: Vec<(bool, usize)> = PATIENTS.iter().map(|(_, p)| (true, p.answers())).collect();
    assert_eq!(
        points, expected,
        "the calls at their kill points:\n{killed_log}"
    );
    for c in per_call(&killed_log) {
        assert_eq!(c.stored, ORDER[..c.stored.len()], "answers in order");
    }
    // With the store up, answers normally go straight to it; one the store was too slow to
    // take (PostgreSQL under the whole suite's load) is in the journal, and the restarted
    // engine must write it exactly once like the rest (checked below and by `settled`).

    let restarted = start(&config, dir.join("engine-2.log")).await;
    let store = Store::open(&url).await.unwrap();
    let reports = store.export_reports(None).await.unwrap();
    for (id, point) in PATIENTS {
        let theirs: Vec<ReportExport> = reports
            .iter()
            .filter(|r| r.hersys_id.expose() == id)
            .cloned()
            .collect();
        let confirmed: Vec<String> = ORDER[..point.answers()]
            .iter()
            .map(|q| q.to_string())
            .collect();
        check_reports(point, &theirs, &confirmed);
    }
    settled(&store, &reports, &journal).await;
    store.close().await;
    no_secrets(&[killed_log, restarted.log_text()]);
}

/// PostgreSQL goes away as the caller is identified; the engine is killed in the last
/// question (every answer in the journal only); started again with the database back but slow,
/// it is killed while it replays the journal; started a third time, it writes the journal to
/// the store: once.
async fn outage_then_replay(dir: PathBuf, direct: String) {
    let (relay, url) = Relay::for_url(&direct).await;
    let sip = free_port();
    let journal = dir.join("carecall.journal");
    let config = write_config(&dir, sip, &url, &direct, &journal);
    let mut serve = start(&config, dir.join("engine-1.log")).await;
    let target = SocketAddr::from(([127, 0, 0, 1], sip));
    let (id, point) = PATIENTS[3];
    let keys = keys(id, point);
    let call = health_call_rfc4733(target, &dir, "crash-outage", &keys, 120_000, LIMIT);
    let kill = async {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let log = serve.log_text();
            if has_message(&log, "caller identified") {
                relay.cut();
            }
            // The report's start, then one entry per answer.
            if journalled(&log) == 1 + point.answers() {
                serve.kill();
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the answers never reached the journal:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        (ok, out) = call => panic!("the call ended before the kill (ok {ok}):\n{out}"),
        () = kill => {}
    }
    let killed_log = serve.log_text();
    assert!(
        stored(&killed_log).is_empty(),
        "stored during the outage:\n{killed_log}"
    );
    let waiting = journal_entries(&journal);
    assert_eq!(waiting.len(), 1 + point.answers(), "{waiting:#?}");

    let replay_log = killed_during_replay(&config, &dir, &relay, &direct).await;
    relay.restore();
    let restarted = start(&config, dir.join("engine-3.log")).await;
    wait_for(&restarted, "journal written to the report store").await;
    let store = Store::open(&direct).await.unwrap();
    let reports = store.export_reports(None).await.unwrap();
    let confirmed: Vec<String> = ORDER[..point.answers()]
        .iter()
        .map(|q| q.to_string())
        .collect();
    check_reports(point, &reports, &confirmed);
    settled(&store, &reports, &journal).await;
    store.close().await;
    no_secrets(&[killed_log, replay_log, restarted.log_text()]);
}

/// A while later nothing has changed in the store, and the journal is empty.
async fn settled(store: &Store, reports: &[ReportExport], journal: &Path) {
    tokio::time::sleep(Duration::from_millis(800)).await;
    let again = store.export_reports(None).await.unwrap();
    assert_eq!(
        format!("{again:?}"),
        format!("{reports:?}"),
        "the store changed after the restart"
    );
    assert!(
        journal_entries(journal).is_empty(),
        "entries left in the journal"
    );
    assert!(
        !journal.with_extension("journal.replaying").exists(),
        "the replayed file is removed"
    );
    assert!(
        !journal.with_extension("journal.rejected").exists(),
        "nothing was refused"
    );
}

fn no_secrets(logs: &[String]) {
    for line in logs.iter().flat_map(|l| l.lines()) {
        for secret in SECRETS {
            assert!(
                !common_api::contains_standalone(line, secret),
                "personal data {secret:?} in the engine's log: {line}"
            );
        }
    }
}

/// Waits for every future; their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(futures: [F; 4]) -> Vec<F::Output>
where
    F::Output: Send,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// One call as the log tells it.
#[derive(Debug, Default)]
struct LoggedCall {
    identified: bool,
    stored: Vec<String>,
}

/// The calls in the log, by their span's call number.
fn per_call(log: &str) -> Vec<LoggedCall> {
    let mut calls: std::collections::BTreeMap<u64, LoggedCall> = Default::default();
    for e in events(log) {
        let Some(call) = e["span"]["call"].as_u64() else {
            continue;
        };
        let entry = calls.entry(call).or_default();
        match e["fields"]["message"].as_str() {
            Some("caller identified") => entry.identified = true,
            // Confirmed: taken by the store, or (the store slow under load) by the journal.
            Some("answer stored") => {
                if let Some(q) = e["fields"]["question"].as_str() {
                    entry.stored.push(q.to_string());
                }
            }
            Some("written to the journal for the report store later")
                if e["fields"]["entry"] == "answer" =>
            {
                if let Some(q) = e["fields"]["question"].as_str() {
                    entry.stored.push(q.to_string());
                }
            }
            _ => {}
        }
    }
    calls.into_values().filter(|c| c.identified).collect()
}

/// Starts the engine with the database slow to answer (the replay takes seconds) and kills
/// it once the replay has written part of the journal; returns its log.
async fn killed_during_replay(config: &Path, dir: &Path, relay: &Relay, direct: &str) -> String {
    relay.restore_slowly(Duration::from_millis(150));
    let mut serve = Serve::spawn(config, dir.join("engine-2.log"), "info");
    let store = Store::open(direct).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let reports = store.export_reports(None).await.unwrap();
        if reports.first().is_some_and(|r| r.answers.len() >= 2) {
            serve.kill();
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replay never began:\n{}",
            serve.log_text()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reports = store.export_reports(None).await.unwrap();
    store.close().await;
    let log = serve.log_text();
    assert!(
        reports[0].answers.len() < ORDER.len() - 1,
        "the kill came after the whole replay: {:?}\n{log}",
        reports[0].answers
    );
    assert!(
        !has_message(&log, "journal written to the report store"),
        "{log}"
    );
    log
}

/// Exactly the confirmed answers, once each, with their values, in one incomplete report (no
/// report when nothing was answered).
fn check_reports(point: Point, reports: &[ReportExport], confirmed: &[String]) {
    if confirmed.is_empty() {
        assert!(
            reports.is_empty(),
            "{point:?}: a report without answers: {reports:#?}"
        );
        return;
    }
    assert_eq!(
        reports.len(),
        1,
        "{point:?}: exactly one report: {reports:#?}"
    );
    let report = &reports[0];
    assert!(!report.complete, "{point:?}: the report is incomplete");
    assert!(report.completed_at.is_none(), "{point:?}");
    let questions: Vec<&str> = report.answers.iter().map(|a| a.question.as_str()).collect();
    assert_eq!(
        questions, confirmed,
        "{point:?}: stored once each, in order"
    );
    for answer in &report.answers {
        let expected = match answer.question.as_str() {
            "temperature" => AnswerValue::TemperatureTenths(382),
            "spo2" => AnswerValue::Spo2(None),
            _ => AnswerValue::Symptom(Symptom::No),
        };
        assert!(
            answer.value == expected,
            "{point:?}: {} stored as {:?}",
            answer.question,
            answer.value
        );
    }
}

/// Starts the engine off the runtime's threads (the relay runs on them).
async fn start(config: &Path, log: PathBuf) -> Serve {
    let config = config.to_path_buf();
    tokio::task::spawn_blocking(move || Serve::start_within(&config, log, "info", START))
        .await
        .unwrap()
}

/// Writes the engine's configuration with store `url`, and imports the patients (through
/// `direct`, the store itself).
fn write_config(dir: &Path, sip: u16, url: &str, direct: &str, journal: &Path) -> PathBuf {
    let rtp = 20000 + 2 * (free_port() % 10000);
    let config = dir.join("carecall.toml");
    let text = |url: &str| {
        format!(
            "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
             [rtp]\nport_min = {rtp}\nport_max = {rtp_max}\n[calls]\nautomatic_calls = false\n\
             [store]\nurl = \"{url}\"\njournal = \"{journal}\"\nwrite_timeout_ms = 800\n\
             journal_retry_ms = 300\n\
             [prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n",
            http = free_port(),
            rtp_max = rtp + 399,
            journal = journal.display(),
            root = root().display(),
        )
    };
    std::fs::write(&config, text(direct)).unwrap();
    let csv = dir.join("patients.csv");
    std::fs::write(
        &csv,
        "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n\
         73920561,Yamada Hanako,1950-04-15,0311112221,ja,09:00,2026-01-01,2099-03-31,false,Minato,age65\n\
         73920562,Yamada Taro,1950-04-15,0311112222,ja,09:00,2026-01-01,2099-03-31,false,Minato,age65\n\
         73920563,Yamada Jiro,1950-04-15,0311112223,ja,09:00,2026-01-01,2099-03-31,false,Minato,age65\n\
         73920564,Yamada Saburo,1950-04-15,0311112224,ja,09:00,2026-01-01,2099-03-31,false,Minato,age65\n",
    )
    .unwrap();
    common::process::create_store(&config);
    let (ok, out) = carecall(&config, &["patients", "import", csv.to_str().unwrap()]);
    assert!(ok, "import: {out}");
    std::fs::write(&config, text(url)).unwrap();
    config
}

/// The engine's log events (JSON lines).
fn events(log: &str) -> impl Iterator<Item = Value> + '_ {
    log.lines().filter_map(|l| serde_json::from_str(l).ok())
}

fn has_message(log: &str, message: &str) -> bool {
    events(log).any(|e| e["fields"]["message"] == message)
}

/// The questions logged as stored, in order.
fn stored(log: &str) -> Vec<String> {
    events(log)
        .filter(|e| e["fields"]["message"] == "answer stored")
        .filter_map(|e| e["fields"]["question"].as_str().map(String::from))
        .collect()
}

/// How many entries the log says went to the journal.
fn journalled(log: &str) -> usize {
    events(log)
        .filter(|e| {
            e["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("written to the journal"))
        })
        .count()
}

/// The entries waiting in the journal (its file and one being replayed).
fn journal_entries(journal: &Path) -> Vec<String> {
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let text = read(journal.to_path_buf()) + &read(journal.with_extension("journal.replaying"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

async fn wait_for(serve: &Serve, message: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !has_message(&serve.log_text(), message) {
        assert!(
            Instant::now() < deadline,
            "no `{message}` in the log:\n{}",
            serve.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
