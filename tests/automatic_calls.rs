//! Automatic calls end to end, from outside: the real `carecall serve` places the slot calls of
//! imported patients through a trunk answered by SIPp as the patient's phone (the shared peers'
//! `patient_answers.xml`, `patient_busy.xml`, `patient_no_answer.xml`), on a shortened plan
//! (`minute_seconds = 1`: a 150-"minute" window lasts 150 s, retries at +10 s and +20 s). The
//! store is read back through the library and `carecall reports export` / `calls plan`.

mod common;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use carecall::report::date::{Date, LocalTime};
use carecall::schedule::ScheduleConfig;
use carecall::store::{AttemptRow, Store};
use common::process::{carecall, carecall_split, temp_dir, Serve};
use common::{dtmf_pcap, free_port, sipp, uas};

/// Offsets of the shortened plan, in (1-second) minutes.
const OFFSETS: [u64; 3] = [0, 10, 20];

/// The local slot (current minute in Tokyo) and quiet hours far from now.
fn slot_now() -> (Date, LocalTime, String) {
    let (date, time) = ScheduleConfig::default().local(SystemTime::now());
    let quiet = |h: u8| LocalTime::new((time.hour() + h) % 24, 0).unwrap();
    let quiet = format!("{{ start = \"{}\", end = \"{}\" }}", quiet(3), quiet(4));
    (date, time, quiet)
}

struct Setup {
    dir: PathBuf,
    config: PathBuf,
    store_url: String,
    date: Date,
    time: LocalTime,
    quiet: String,
    uas_port: u16,
    /// Window and attempt offsets, in (1-second) minutes.
    plan: (u64, [u64; 3]),
}

/// A configuration whose one slot is the current minute, one trunk to SIPp on `uas_port`,
/// and the patients (`phone` numbers given) imported.
fn setup(
    name: &str,
    uas_port: u16,
    store_url: Option<String>,
    patients: &[(String, String)],
    extra: &str,
) -> Setup {
    let dir = temp_dir("ac", name);
    let (date, time, quiet) = slot_now();
    let store_url =
        store_url.unwrap_or_else(|| format!("sqlite://{}", dir.join("carecall.db").display()));
    let mut s = Setup {
        config: PathBuf::new(),
        dir,
        store_url,
        date,
        time,
        quiet,
        uas_port,
        plan: (150, OFFSETS),
    };
    if name == "nodes" {
        // A wide window: the slot's 240 calls must all fit even on a loaded machine.
        s.plan = (300, [0, 100, 200]);
    }
    s.config = s.node_config("carecall", extra);
    let mut csv = String::from("hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n");
    for (id, phone) in patients {
        csv.push_str(&format!(
            "{id},Test Patient,1950-04-15,{phone},ja,{time},2026-01-01,2099-12-31,true,Minato,age65\n"
        ));
    }
    let file = s.dir.join("patients.csv");
    std::fs::write(&file, csv).unwrap();
    common::process::create_store(&s.config);
    let (ok, out) = carecall(&s.config, &["patients", "import", file.to_str().unwrap()]);
    assert!(ok, "import: {out}");
    s
}

fn one(id: &str, phone: &str) -> [(String, String); 1] {
    [(id.to_string(), phone.to_string())]
}

impl Setup {
    /// Writes `NAME.toml`: this setup's store, slot and trunk with SIP and RTP ports of its
    /// own (one per node).
    fn node_config(&self, name: &str, extra: &str) -> PathBuf {
        let rtp = 20000 + 2 * (free_port() % 10000);
        let config = self.dir.join(format!("{name}.toml"));
        let journal = self
            .dir
            .join(format!("{name}.journal"))
            .display()
            .to_string();
        let text = format!(
            "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
             [rtp]\nport_min = {rtp}\nport_max = {rtp_max}\n\
             [calls]\nring_timeout_ms = 4000\nattempt_lease_s = 10\n{extra}\n\
             [store]\nurl = \"{store_url}\"\njournal = \"{journal}\"\n\
             [prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n\
             [schedule]\nslots = [\"{time}\"]\nwindow_minutes = {window}\n\
             retry_offsets_minutes = [{o0}, {o1}, {o2}]\nincomplete_retry_minutes = 5\n\
             minute_seconds = 1\nquiet_hours = {quiet}\n\
             [[trunk]]\nname = \"carrier\"\nproxy = \"127.0.0.1:{uas_port}\"\ncaller_id = \"0300000000\"\nchannels = 40\n",
            sip = free_port(),
            http = free_port(),
            rtp_max = rtp + 3999,
            store_url = self.store_url,
            time = self.time,
            quiet = self.quiet,
            uas_port = self.uas_port,
            root = common::root().display(),
            window = self.plan.0,
            o0 = self.plan.1[0],
            o1 = self.plan.1[1],
            o2 = self.plan.1[2],
        );
        std::fs::write(&config, text).unwrap();
        config
    }

    fn serve(&self, name: &str) -> Serve {
        Serve::start(&self.config, self.dir.join(format!("{name}.log")), "info")
    }

    async fn attempts(&self) -> Vec<AttemptRow> {
        let store = Store::open(&self.store_url).await.unwrap();
        store.attempts_on(self.date).await.unwrap()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The patient keys: 1 at the greeting, 36.5 °C confirmed, SpO2 not measured, ten "no".
fn completing_keys() -> String {
    let mut parts = vec![
        "2:1".to_string(),
        "5:365".into(),
        "9:1".into(),
        "12:#".into(),
    ];
    let mut t = 15;
    for _ in 0..10 {
        parts.push(format!("{t}:2"));
        t += 2;
    }
    parts.join(",")
}

/// SIPp on `port` as a patient who answers once and keys `keys` (dtmf_pcap.py schedule),
/// hanging up after `max_call_s` unless the engine does first.
fn answering_patient(
    port: u16,
    name: &str,
    keys: &str,
    max_call_s: u64,
) -> tokio::task::JoinHandle<(bool, String)> {
    let pcap = dtmf_pcap(name, &["--schedule", keys]);
    let max_call_ms = (max_call_s * 1000).to_string();
    let args = uas(
        port,
        "tests/peers/sipp/patient_answers.xml",
        &[
            "-key",
            "dtmf_pcap",
            &pcap.display().to_string(),
            "-set",
            "answer_ms",
            "300",
            "-set",
            "max_call_ms",
            &max_call_ms,
        ],
    );
    tokio::spawn(sipp(args, Duration::from_secs(max_call_s + 30)))
}

fn ms(t: SystemTime) -> i64 {
    carecall::report::date::epoch_millis(t).unwrap()
}

#[test]
fn a_patient_answers_and_the_completed_report_is_exported() {
    rt().block_on(async {
        let port = free_port();
        let s = setup("answers", port, None, &one("81230001", "0311110001"), "");
        let patient = answering_patient(port, "ac-answers", &completing_keys(), 90);
        let engine = s.serve("engine");
        let (ok, out) = patient.await.unwrap();
        assert!(ok, "SIPp patient:\n{out}\n{}", engine.log_text());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rows = s.attempts().await;
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(rows[0].attempt.state.label(), "done");
        assert_eq!(rows[0].attempt.state.outcome_label(), Some("completed"));
        let (ok, out, err) = carecall_split(&s.config, &["reports", "export", "--format", "json"]);
        assert!(ok, "{out}{err}");
        let reports: serde_json::Value = serde_json::from_str(&out).unwrap();
        let reports = reports.as_array().unwrap();
        assert_eq!(reports.len(), 1, "{out}");
        let r = &reports[0];
        assert_eq!(r["hersys_id"], "81230001", "{r:#}");
        assert_eq!(r["channel"], "outbound_call", "{r:#}");
        assert_eq!(r["complete"], true, "{r:#}");
        assert!(r["slot"].as_str().is_some_and(|s| !s.is_empty()), "{r:#}");
        assert!(out.contains("36.5"), "{out}");
        // No personal data in the engine's log (timestamps and generated ids left out: `365`
        // may be a timestamp's microseconds).
        let log = engine.log_values();
        for secret in ["81230001", "0311110001", "Test Patient", "36.5", "365"] {
            assert!(!log.contains(secret), "{secret} in the log");
        }
    });
}

/// Runs a patient that never answers as a person (`scenario`, `args`) for three attempts and
/// checks that the retries followed the configured offsets.
async fn retried_three_times(name: &str, scenario: &str, args: &[&str], outcome: &str) {
    let port = free_port();
    let s = setup(name, port, None, &one("81230002", "0311110002"), "");
    let mut sipp_args = uas(port, scenario, args);
    if let Some(m) = sipp_args.iter().position(|a| a == "-m") {
        sipp_args[m + 1] = "3".into();
    }
    let patient = tokio::spawn(sipp(sipp_args, Duration::from_secs(100)));
    let engine = s.serve("engine");
    let (ok, out) = patient.await.unwrap();
    assert!(ok, "SIPp patient:\n{out}\n{}", engine.log_text());
    // Nothing further: wait past where a fourth attempt would be, then read the store.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rows = s.attempts().await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let slot_at = rows[0].attempt.slot_at;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.attempt.number as usize, i + 1);
        assert_eq!(r.attempt.state.label(), "done", "{r:#?}");
        assert_eq!(r.attempt.state.outcome_label(), Some(outcome), "{r:#?}");
    }
    // Attempt n is due no earlier than slot + offset n nor than the previous end + the gap,
    // and is not later than that (the plan is followed, not just retried).
    for n in 1..3 {
        let prev_end = ms(rows[n - 1].attempt.state.finished_at().unwrap());
        let gap = 1000 * (OFFSETS[n] - OFFSETS[n - 1]) as i64;
        let expected = (ms(slot_at) + 1000 * OFFSETS[n] as i64).max(prev_end + gap);
        let due = ms(rows[n].attempt.due_at);
        assert_eq!(due, expected, "attempt {} due", n + 1);
    }
    let (ok, plan) = carecall(&s.config, &["calls", "plan"]);
    assert!(ok, "{plan}");
    assert!(plan.contains("1 unreached"), "{plan}");
}

#[test]
fn a_busy_patient_is_called_again_at_the_configured_offsets() {
    rt().block_on(retried_three_times(
        "busy",
        "tests/peers/sipp/patient_busy.xml",
        &[],
        "busy",
    ));
}

#[test]
fn an_unanswered_patient_is_called_again_at_the_configured_offsets() {
    rt().block_on(retried_three_times(
        "noanswer",
        "tests/peers/sipp/patient_no_answer.xml",
        &["-set", "ring_ms", "1000"],
        "no_answer",
    ));
}

#[test]
fn the_wrong_number_key_stops_every_call_to_that_number() {
    rt().block_on(async {
        let port = free_port();
        let s = setup("wrong", port, None, &one("81230003", "0311110003"), "");
        let patient = answering_patient(port, "ac-wrong", "2:9", 30);
        let engine = s.serve("engine");
        let (ok, out) = patient.await.unwrap();
        assert!(ok, "SIPp patient:\n{out}\n{}", engine.log_text());
        // Past the second offset: no retry was made.
        tokio::time::sleep(Duration::from_secs(12)).await;
        let rows = s.attempts().await;
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert_eq!(rows[0].attempt.state.outcome_label(), Some("wrong_number"));
        let store = Store::open(&s.store_url).await.unwrap();
        assert!(store.number_blocked(rows[0].attempt.patient).await.unwrap());
        // Even a call staff ask for is not placed to that number.
        let (ok, out) = carecall(&s.config, &["calls", "now", "81230003", "--wait", "20"]);
        assert!(ok, "{out}");
        assert!(out.contains("cancelled: cancelled_wrong_number"), "{out}");
    });
}

#[path = "common_store/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod common_store;

/// Counts the INVITEs per dialled number in a SIPp message trace.
fn invites_per_number(trace: &std::path::Path) -> std::collections::HashMap<String, usize> {
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    let mut counts = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("INVITE sip:") {
            let number = rest.split('@').next().unwrap_or("").to_string();
            *counts.entry(number).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn three_nodes_on_one_postgresql_share_a_slot_and_survive_a_killed_node() {
    rt().block_on(async {
        const PATIENTS: usize = 240;
        let schema = format!("carecall_ac_{:08x}", rand::random::<u32>());
        let (url, admin) = common_store::pg_schema(&schema).await;
        let port = free_port();
        let patients: Vec<(String, String)> = (0..PATIENTS)
            .map(|i| (format!("{}", 82000000 + i), format!("0322{:06}", i)))
            .collect();
        let s = setup(
            "nodes",
            port,
            Some(url.clone()),
            &patients,
            "node_id = \"node-1\"",
        );
        let configs = [
            s.config.clone(),
            s.node_config("node-2", "node_id = \"node-2\""),
            s.node_config("node-3", "node_id = \"node-3\""),
        ];
        let pcap = dtmf_pcap("ac-nodes", &["--schedule", &completing_keys()]);
        let trace = s.dir.join("sipp-messages.log");
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
                "-trace_msg",
                "-message_file",
                trace.to_str().unwrap(),
            ],
        );
        if let Some(m) = args.iter().position(|a| a == "-m") {
            args[m + 1] = "100000".into();
        }
        let mut sipp = tokio::process::Command::new(common::sipp_bin())
            .args(&args)
            .arg("-nostdin")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("sipp starts");
        let mut nodes: Vec<Serve> = configs
            .iter()
            .enumerate()
            .map(|(i, c)| Serve::start(c, s.dir.join(format!("node-{}.log", i + 1)), "info"))
            .collect();
        let store = Store::open(&url).await.unwrap();
        // Mid-slot, with calls on the line: kill node 2 as a crash would.
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            let rows = store.attempts_on(s.date).await.unwrap();
            let on_line = rows
                .iter()
                .filter(|r| {
                    r.attempt.state.label() == "claimed" && r.attempt.state.node() == Some("node-2")
                })
                .count();
            let done = rows
                .iter()
                .filter(|r| r.attempt.state.label() == "done")
                .count();
            if on_line >= 5 && done >= 20 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "node 2 never had calls: {rows:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        nodes[1].kill();
        let orphaned: Vec<_> = store
            .attempts_on(s.date)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| {
                r.attempt.state.label() == "claimed" && r.attempt.state.node() == Some("node-2")
            })
            .map(|r| r.id)
            .collect();
        assert!(!orphaned.is_empty());
        // The others finish the slot, taking node 2's attempts over when their leases end.
        let deadline = std::time::Instant::now() + Duration::from_secs(240);
        let rows = loop {
            let rows = store.attempts_on(s.date).await.unwrap();
            let open = rows
                .iter()
                .filter(|r| {
                    r.attempt.state.label() == "pending" || r.attempt.state.label() == "claimed"
                })
                .count();
            if open == 0 && rows.len() >= PATIENTS {
                break rows;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "slot not finished: {open} open of {}\n{}",
                rows.len(),
                nodes[0].log_text()
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        // Every patient ends completed. A patient is called again only by the plan (an
        // unfinished report on a loaded machine is retried) or because node 2 died with the
        // attempt; an attempt node 2 died with whose patient had already completed is
        // cancelled by the last check instead of being dialled again.
        let mut last: std::collections::HashMap<_, &AttemptRow> = std::collections::HashMap::new();
        for r in &rows {
            if last
                .get(&r.attempt.patient)
                .is_none_or(|l| l.attempt.number < r.attempt.number)
            {
                last.insert(r.attempt.patient, r);
            }
        }
        assert_eq!(last.len(), PATIENTS, "every patient has attempts");
        for r in last.values() {
            let outcome = r.attempt.state.outcome_label();
            if orphaned.contains(&r.id) && outcome == Some("cancelled_report_received") {
                continue;
            }
            assert_eq!(outcome, Some("completed"), "{r:#?}");
        }
        for r in rows.iter().filter(|r| r.attempt.number > 1) {
            let before = rows
                .iter()
                .find(|p| {
                    p.attempt.patient == r.attempt.patient
                        && p.attempt.number == r.attempt.number - 1
                })
                .unwrap();
            let retried = matches!(
                before.attempt.state.outcome_label(),
                Some("incomplete" | "no_response" | "no_answer" | "failed")
            );
            assert!(retried, "attempt {} follows {before:#?}", r.attempt.number);
        }
        let mut by_node = std::collections::HashMap::new();
        for r in &rows {
            *by_node
                .entry(r.attempt.state.node().unwrap_or_default().to_string())
                .or_insert(0) += 1;
        }
        assert!(
            by_node.get("node-1").copied().unwrap_or(0) > 0,
            "{by_node:?}"
        );
        assert!(
            by_node.get("node-3").copied().unwrap_or(0) > 0,
            "{by_node:?}"
        );
        for id in &orphaned {
            let r = rows.iter().find(|r| r.id == *id).unwrap();
            assert_ne!(r.attempt.state.node(), Some("node-2"), "taken over: {r:#?}");
        }
        // Dialled exactly once per attempt: once more only for an attempt node 2 died with.
        let _ = sipp.kill().await;
        let invites = invites_per_number(&trace);
        let phone_of = |r: &AttemptRow| {
            let i: usize = r.hersys_id.expose().parse::<usize>().unwrap() - 82000000;
            patients[i].1.clone()
        };
        let mut dialled: std::collections::HashMap<String, (usize, usize)> =
            std::collections::HashMap::new();
        for r in &rows {
            let entry = dialled.entry(phone_of(r)).or_default();
            entry.0 += usize::from(r.attempt.state.label() == "done");
            entry.1 += usize::from(orphaned.contains(&r.id));
        }
        for (_, phone) in &patients {
            let n = invites.get(phone).copied().unwrap_or(0);
            let (done, orphans) = dialled.get(phone).copied().unwrap_or_default();
            assert!(
                (done..=done + orphans).contains(&n) && n >= 1,
                "{phone}: {n} INVITEs for {done} dialled attempts ({orphans} taken over)"
            );
        }
        // Exactly one complete report per patient.
        let (ok, out, err) =
            carecall_split(&configs[0], &["reports", "export", "--format", "json"]);
        assert!(ok, "{out}{err}");
        let reports: serde_json::Value = serde_json::from_str(&out).unwrap();
        let complete = reports
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["complete"] == true)
            .count();
        assert_eq!(complete, PATIENTS);
        drop(nodes);
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await
            .unwrap();
    });
}
