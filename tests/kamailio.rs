//! Several nodes behind a real dispatcher, from outside: Kamailio (Debian's `kamailio`, its
//! dispatcher module, configured from deploy/kamailio.cfg with only the listen address and
//! the node list rewritten) in front of three `carecall serve` nodes on one PostgreSQL. SIPp
//! patients dial Kamailio; their Health Calls spread over the nodes. Node 2 is killed (-9)
//! in the middle of its calls; the calls placed after it go to the other two (Kamailio's
//! OPTIONS probes and failover on no answer). Every call that completed has exactly one
//! complete report; the calls node 2 died with have one incomplete report each; nothing is
//! doubled. Meanwhile the nodes place the automatic calls of a slot (through their trunk to a
//! SIPp phone, on a shortened plan, `attempt_lease_s = 10`): the attempts node 2 held when it
//! died are taken over by the others, and every automatically called patient ends with
//! exactly one complete report.

mod common;
mod common_store;

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use carecall::report::date::{Date, LocalTime};
use carecall::schedule::ScheduleConfig;
use carecall::store::{AttemptId, AttemptRow, Store};
use common::process::{carecall, temp_dir, Serve};
use common::{dtmf_pcap, free_port, health_call_rfc4733, root, rt, schedule, uas};
use serde_json::Value;

/// Calls placed before node 2 dies, and after.
const WAVE: usize = 6;
/// Patients called automatically in the slot.
const AUTOMATIC: usize = 6;

/// Kamailio in the foreground, killed on drop.
struct Kamailio {
    child: Child,
    log: PathBuf,
}

impl Drop for Kamailio {
    /// Kills Kamailio's main process and its children (one process group of its own).
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Kamailio {
    /// deploy/kamailio.cfg listening on `port`, dispatching to `nodes`.
    fn start(dir: &Path, port: u16, nodes: &[u16]) -> Kamailio {
        let list = dir.join("dispatcher.list");
        let lines: String = nodes
            .iter()
            .map(|p| format!("1 sip:127.0.0.1:{p} 0 0\n"))
            .collect();
        std::fs::write(&list, lines).unwrap();
        let sample = std::fs::read_to_string(root().join("deploy/kamailio.cfg")).unwrap();
        let cfg = sample
            .replace(
                "listen=udp:127.0.0.1:5060",
                &format!("listen=udp:127.0.0.1:{port}"),
            )
            .replace("/etc/kamailio/dispatcher.list", &list.display().to_string());
        assert_ne!(
            cfg, sample,
            "deploy/kamailio.cfg has the lines the test rewrites"
        );
        let path = dir.join("kamailio.cfg");
        std::fs::write(&path, cfg).unwrap();
        let log = dir.join("kamailio.log");
        let child = Command::new("kamailio")
            .process_group(0)
            .args(["-DD", "-E", "-m", "32", "-M", "8", "-f"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("kamailio is installed (scripts/test.sh installs Debian's kamailio)");
        Kamailio { child, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

#[test]
fn health_calls_through_kamailio_spread_over_nodes_and_survive_a_dead_node() {
    rt().block_on(async {
        let schema = format!("carecall_kamailio_{:016x}", rand::random::<u64>());
        let (url, admin) = common_store::pg_schema(&schema).await;
        let outcome = tokio::spawn(dispatched(url)).await;
        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await;
        admin.close().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}

async fn dispatched(url: String) {
    let dir = temp_dir("kamailio", "nodes");
    let sips: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let phone_port = free_port();
    let (date, time) = ScheduleConfig::default().local(SystemTime::now());
    let configs: Vec<PathBuf> = (0..3)
        .map(|i| node_config(&dir, i + 1, sips[i], &url, time, phone_port))
        .collect();
    import_patients(&dir, &configs[0], time);
    let _phones = patients_phones(phone_port, &dir);
    // The three start at once (each loads its prompts).
    let mut nodes: Vec<Serve> = (0..3)
        .map(|i| {
            let log = dir.join(format!("node-{}.log", i + 1));
            Serve::spawn(&configs[i], log, "info")
        })
        .collect();
    for node in &nodes {
        node.wait_log("carecall ready", Duration::from_secs(90))
            .await;
    }
    let port = free_port();
    let kamailio = Kamailio::start(&dir, port, &sips);
    let proxy = SocketAddr::from(([127, 0, 0, 1], port));
    // Every node answers the dispatcher's probes before the first call.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        kamailio.child.id() > 0 && !kamailio.log_text().contains("ERROR"),
        "{}",
        kamailio.log_text()
    );

    let first: Vec<_> = (0..WAVE).map(|i| spawn_call(proxy, &dir, i)).collect();
    // Node 2 dies once its calls are under way (two answers stored in each).
    let deadline = Instant::now() + Duration::from_secs(60);
    let store = Store::open(&url).await.unwrap();
    loop {
        let log = nodes[1].log_text();
        let calls = count(&log, "caller identified");
        let leased = held_by(&store.attempts_on(date).await.unwrap(), "node-2");
        if calls > 0 && inbound_stored(&log).iter().all(|&n| n >= 2) && !leased.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node 2 never had a call:\n{}",
            kamailio.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nodes[1].kill();
    let node2_log = nodes[1].log_text();
    let orphaned = held_by(&store.attempts_on(date).await.unwrap(), "node-2");
    let second: Vec<_> = (WAVE..2 * WAVE)
        .map(|i| spawn_call(proxy, &dir, i))
        .collect();
    let mut results = Vec::new();
    for call in first.into_iter().chain(second) {
        results.push(call.await.unwrap());
    }

    // Every call after the kill completed, on nodes 1 and 3.
    for (i, (ok, out)) in results.iter().enumerate().skip(WAVE) {
        assert!(
            ok,
            "call {i} after node 2 died:\n{out}\n{}",
            kamailio.log_text()
        );
    }
    let identified: Vec<usize> = nodes
        .iter()
        .map(|n| count(&n.log_text(), "caller identified"))
        .collect();
    assert!(
        identified.iter().all(|&n| n > 0),
        "calls on every node: {identified:?}"
    );
    assert_eq!(
        identified.iter().sum::<usize>(),
        2 * WAVE,
        "each call on one node: {identified:?}"
    );
    assert_eq!(
        count(&nodes[1].log_text(), "caller identified"),
        count(&node2_log, "caller identified"),
        "nothing reached node 2 after it died"
    );
    // Node 2's calls failed with it; every other call completed.
    let failed = results.iter().filter(|(ok, _)| !ok).count();
    assert_eq!(
        failed,
        count(&node2_log, "caller identified"),
        "only node 2's calls failed"
    );

    // Exactly one report per call: complete for the completed ones, incomplete for node 2's.
    let attempts = slot_finished(&store, date, &nodes[0]).await;
    let reports = store.export_reports(None).await.unwrap();
    store.close().await;
    for (i, (ok, _)) in results.iter().enumerate() {
        let id = hersys(i);
        let theirs: Vec<_> = reports
            .iter()
            .filter(|r| r.hersys_id.expose() == &id)
            .collect();
        assert_eq!(theirs.len(), 1, "call {i}: one report: {theirs:#?}");
        assert_eq!(theirs[0].complete, *ok, "call {i}: {:#?}", theirs[0]);
        if *ok {
            assert_eq!(theirs[0].answers.len(), 12, "call {i}");
        }
    }
    // The automatic calls: node 2's leased attempts were taken over by the others, and each
    // patient has exactly one complete report (and one incomplete one if node 2 died in their
    // call).
    for id in &orphaned {
        let r = attempts.iter().find(|r| r.id == *id).unwrap();
        assert_ne!(r.attempt.state.node(), Some("node-2"), "taken over: {r:#?}");
        assert!(
            matches!(
                r.attempt.state.outcome_label(),
                Some("completed" | "cancelled_report_received")
            ),
            "{r:#?}"
        );
    }
    for i in 0..AUTOMATIC {
        let id = automatic(i);
        let theirs: Vec<_> = reports
            .iter()
            .filter(|r| r.hersys_id.expose() == &id)
            .collect();
        let complete = theirs.iter().filter(|r| r.complete).count();
        assert_eq!(complete, 1, "automatic patient {i}: {theirs:#?}");
        assert!(theirs.len() <= 2, "automatic patient {i}: {theirs:#?}");
    }
    let kamailio_log = kamailio.log_text();
    drop(kamailio);
    drop(nodes);
    // Every INVITE went through the dispatcher (failed over from node 2 when it was tried
    // before the probes took it out).
    let dispatched = kamailio_log.matches("INVITE to node").count();
    assert_eq!(dispatched, 2 * WAVE, "{kamailio_log}");
}

/// The attempts `node` holds on the line.
fn held_by(rows: &[AttemptRow], node: &str) -> Vec<AttemptId> {
    rows.iter()
        .filter(|r| r.attempt.state.label() == "claimed" && r.attempt.state.node() == Some(node))
        .map(|r| r.id)
        .collect()
}

/// Waits until no attempt of the slot is pending or on the line; the slot's attempts.
async fn slot_finished(store: &Store, date: Date, node: &Serve) -> Vec<AttemptRow> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let rows = store.attempts_on(date).await.unwrap();
        let open = rows
            .iter()
            .filter(|r| {
                r.attempt.state.label() == "pending" || r.attempt.state.label() == "claimed"
            })
            .count();
        if open == 0 && rows.len() >= AUTOMATIC {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "slot not finished: {rows:#?}\n{}",
            node.log_text()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// SIPp as the automatically called patients' phones: each answers and keys a whole call.
fn patients_phones(port: u16, dir: &Path) -> tokio::process::Child {
    let mut parts = vec![
        "2:1".to_string(),
        "5:365".into(),
        "9:1".into(),
        "12:#".into(),
    ];
    parts.extend((0..10).map(|k| format!("{}:2", 15 + 2 * k)));
    let pcap = dtmf_pcap("kamailio-phones", &["--schedule", &parts.join(",")]);
    let mut args = uas(
        port,
        "tests/peers/sipp/patient_answers.xml",
        &[
            "-key",
            "dtmf_pcap",
            pcap.to_str().unwrap(),
            "-set",
            "answer_ms",
            "200",
            "-set",
            "max_call_ms",
            "60000",
        ],
    );
    if let Some(m) = args.iter().position(|a| a == "-m") {
        args[m + 1] = "100000".into();
    }
    let _ = dir;
    tokio::process::Command::new(common::sipp_bin())
        .args(&args)
        .arg("-nostdin")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("sipp starts")
}

fn automatic(i: usize) -> String {
    format!("{}", 62_000_000 + i)
}

fn hersys(i: usize) -> String {
    format!("{}", 61_000_000 + i)
}

/// A full Health Call of patient `i` through the proxy: 38.2 °C, SpO2 not measured, no
/// symptoms, no callback, nobody else to report for.
fn spawn_call(proxy: SocketAddr, dir: &Path, i: usize) -> tokio::task::JoinHandle<(bool, String)> {
    let mut answers = vec!["382", "1", "#"];
    answers.extend(["2"; 11]);
    let keys = schedule("1", &hersys(i), "0415", &answers);
    let dir = dir.to_path_buf();
    let limit = Duration::from_secs(120);
    tokio::spawn(async move {
        let name = format!("kamailio-{i}");
        health_call_rfc4733(proxy, &dir, &name, &keys, 90_000, limit).await
    })
}

fn node_config(dir: &Path, n: usize, sip: u16, url: &str, slot: LocalTime, phones: u16) -> PathBuf {
    let rtp = 20000 + 2 * (free_port() % 10000);
    let quiet = |h: u8| LocalTime::new((slot.hour() + h) % 24, 0).unwrap();
    let config = dir.join(format!("node-{n}.toml"));
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
         [rtp]\nport_min = {rtp}\nport_max = {rtp_max}\n\
         [calls]\nnode_id = \"node-{n}\"\nring_timeout_ms = 4000\nattempt_lease_s = 10\n\
         [store]\nurl = \"{url}\"\njournal = \"{journal}\"\n\
         [prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n\
         [schedule]\nslots = [\"{slot}\"]\nwindow_minutes = 300\n\
         retry_offsets_minutes = [0, 100, 200]\nincomplete_retry_minutes = 5\n\
         minute_seconds = 1\nquiet_hours = {{ start = \"{q1}\", end = \"{q2}\" }}\n\
         [[trunk]]\nname = \"carrier\"\nproxy = \"127.0.0.1:{phones}\"\n\
         caller_id = \"0300000000\"\nchannels = 2\n",
        q1 = quiet(3),
        q2 = quiet(4),
        http = free_port(),
        rtp_max = rtp + 399,
        journal = dir.join(format!("node-{n}.journal")).display(),
        root = root().display(),
    );
    std::fs::write(&config, text).unwrap();
    config
}

fn import_patients(dir: &Path, config: &Path, slot: LocalTime) {
    let mut csv = String::from("hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n");
    for i in 0..2 * WAVE {
        csv.push_str(&format!(
            "{},Test Patient,1950-04-15,031111{:04},ja,{slot},2026-01-01,2099-12-31,false,Minato,age65\n",
            hersys(i),
            i
        ));
    }
    for i in 0..AUTOMATIC {
        csv.push_str(&format!(
            "{},Test Patient,1950-04-15,0322{:06},ja,{slot},2026-01-01,2099-12-31,true,Minato,age65\n",
            automatic(i),
            i
        ));
    }
    let file = dir.join("patients.csv");
    std::fs::write(&file, csv).unwrap();
    common::process::create_store(config);
    let (ok, out) = carecall(config, &["patients", "import", file.to_str().unwrap()]);
    assert!(ok, "import: {out}");
}

/// How many events with `message` the log has.
fn count(log: &str, message: &str) -> usize {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["fields"]["message"] == message)
        .count()
}

/// The answers stored so far in each Health Call (a call with an identified caller) of the log.
fn inbound_stored(log: &str) -> Vec<usize> {
    let mut calls: std::collections::BTreeMap<u64, (bool, usize)> = Default::default();
    for e in log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let Some(call) = e["span"]["call"].as_u64() else {
            continue;
        };
        let entry = calls.entry(call).or_default();
        match e["fields"]["message"].as_str() {
            Some("caller identified") => entry.0 = true,
            Some("answer stored") => entry.1 += 1,
            _ => {}
        }
    }
    calls.into_values().filter(|c| c.0).map(|c| c.1).collect()
}
