//! The operator's command line, from outside: the real `carecall` binary on real files —
//! `check` naming every configuration mistake, `patients import` naming every bad field,
//! `--json` results, commands refusing to run without a store, `staff add` refusing an unknown
//! centre, the data files' modes, and call records exported after real SIPp calls.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::process::{bin, carecall, carecall_split, create_store, temp_dir, Serve};
use common::{free_port, health_call_rfc4733, root, rt};

const HEADER: &str = "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n";

/// A configuration in `dir` on its own ports and SQLite file.
fn write_config(dir: &Path, extra: &str) -> (PathBuf, u16) {
    let (sip, http) = (free_port(), free_port());
    let config = dir.join("carecall.toml");
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n[rtp]\nport_min = 52000\nport_max = 52999\n[calls]\nautomatic_calls = false\n[store]\nurl = \"sqlite://{db}\"\n[prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n{extra}",
        db = dir.join("carecall.db").display(),
        root = root().display(),
    );
    std::fs::write(&config, text).unwrap();
    (config, sip)
}

#[test]
fn check_names_every_mistake_of_the_file_in_one_run() {
    let dir = temp_dir("cli", "check");
    let (config, _) = write_config(&dir, "");
    let mut text = std::fs::read_to_string(&config).unwrap();
    // Line 2 [sip] listn, line 5 [rtp] port_mni (unknown keys), [calls] max_concurrent = 0.
    text = text.replacen("listen", "listn", 1);
    text = text.replacen("port_min", "port_mni", 1);
    text = text.replacen(
        "automatic_calls = false",
        "automatic_calls = false\nmax_concurrent = 0\nring_timeout_ms = \"long\"",
        1,
    );
    std::fs::write(&config, &text).unwrap();
    let line = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let file = config.display().to_string();

    let (ok, out, err) = carecall_split(&config, &["check"]);
    assert!(!ok, "check fails: {out}{err}");
    for expected in [
        format!("{file}:{}: [sip] listn: unknown key", line("listn")),
        format!("{file}:{}: [rtp] port_mni: unknown key", line("port_mni")),
        format!(
            "{file}:{}: [calls] max_concurrent: expected a positive integer",
            line("max_concurrent")
        ),
        format!(
            "{file}:{}: [calls] ring_timeout_ms: expected a non-negative integer, found a string",
            line("ring_timeout_ms")
        ),
    ] {
        assert!(out.contains(&expected), "{expected:?} missing from:\n{out}");
    }
    assert!(err.contains("4 problem(s)"), "{err}");

    let (ok, out, _) = carecall_split(&config, &["check", "--json"]);
    assert!(!ok);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("check --json prints JSON");
    assert_eq!(doc["ok"], false);
    let problems: Vec<(u64, &str, &str)> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["file"], file.as_str());
            (
                p["line"].as_u64().unwrap(),
                p["field"].as_str().unwrap(),
                p["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (line("listn") as u64, "sip.listn", "unknown key"),
            (line("port_mni") as u64, "rtp.port_mni", "unknown key"),
            (
                line("max_concurrent") as u64,
                "calls.max_concurrent",
                "expected a positive integer"
            ),
            (
                line("ring_timeout_ms") as u64,
                "calls.ring_timeout_ms",
                "expected a non-negative integer, found a string"
            ),
        ]
    );

    // serve refuses to start, naming them all.
    let (ok, out) = carecall(&config, &["serve"]);
    assert!(!ok);
    assert!(
        out.contains("listn") && out.contains("port_mni") && out.contains("max_concurrent"),
        "{out}"
    );

    // A good file: ok, and an empty list.
    let (config, _) = write_config(&dir, "");
    let (ok, out, err) = carecall_split(&config, &["check", "--json"]);
    assert!(ok, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc, serde_json::json!({ "ok": true, "problems": [] }));
}

#[test]
fn import_names_every_bad_field_of_every_bad_row_and_writes_nothing() {
    let dir = temp_dir("cli", "import");
    let (config, _) = write_config(&dir, "");
    create_store(&config);
    let good = "73920561,Yamada Hanako,1950-04-15,0311112222,ja,09:00,2026-11-01,2026-12-31,true,Minato,\n";
    let csv = format!(
        "{HEADER}{good}\
         64810372,Maria Silva,1988-07-02,call me,fr,11:00,2026-11-01,2026-12-31,true,Minato,\n\
         55702183,John Smith,1979-12-24,08055556666,en,16:00,2026-11-01,2026-12-31,maybe,Minato,\n"
    );
    let file = dir.join("patients.csv");
    std::fs::write(&file, &csv).unwrap();
    let path = file.to_str().unwrap();
    let (ok, _, err) = carecall_split(&config, &["patients", "import", path]);
    assert!(!ok, "{err}");
    for expected in [
        format!("{path}: line 3: field phone: expected a phone number"),
        format!("{path}: line 3: field language: expected one of"),
        format!("{path}: line 4: field auto_call: expected true or false"),
        format!("{path}: nothing imported"),
    ] {
        assert!(err.contains(&expected), "{expected:?} missing from:\n{err}");
    }
    assert!(!err.contains("call me"), "values are not repeated: {err}");

    let (ok, out, _) = carecall_split(&config, &["patients", "import", "--json", path]);
    assert!(!ok);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(doc["ok"], false);
    let named: Vec<(u64, &str)> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["field"].as_str().unwrap()))
        .collect();
    assert_eq!(named, [(3, "phone"), (3, "language"), (4, "auto_call")]);

    // Nothing was written: the good row is new when imported alone.
    std::fs::write(&file, format!("{HEADER}{good}")).unwrap();
    let (ok, out, err) = carecall_split(&config, &["patients", "import", "--json", path]);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({ "ok": true, "file": path, "inserted": 1, "updated": 0 })
    );
}

#[test]
fn calls_plan_prints_json() {
    let dir = temp_dir("cli", "plan");
    let (config, _) = write_config(&dir, "");
    create_store(&config);
    let file = dir.join("patients.csv");
    std::fs::write(
        &file,
        format!("{HEADER}73920561,Yamada Hanako,1950-04-15,0311112222,ja,09:00;14:00,2026-11-01,2026-12-31,true,Minato,\n"),
    )
    .unwrap();
    let (ok, out) = carecall(&config, &["patients", "import", file.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out, err) = carecall_split(
        &config,
        &["calls", "plan", "--date", "2026-12-03", "--json"],
    );
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("calls plan --json is JSON");
    assert_eq!(doc["date"], "2026-12-03");
    assert_eq!(doc["time_zone"], "Asia/Tokyo");
    let slots = doc["slots"].as_array().unwrap();
    let names: Vec<&str> = slots.iter().map(|s| s["slot"].as_str().unwrap()).collect();
    assert!(names.contains(&"2026-12-03 09:00"), "{doc}");
    let nine = slots
        .iter()
        .find(|s| s["slot"] == "2026-12-03 09:00")
        .unwrap();
    assert_eq!(nine["window_end"], "2026-12-03T10:00:00+09:00", "{nine}");
    assert!(
        nine["calls"].is_u64() && nine["overruns"].is_boolean(),
        "{nine}"
    );
    assert!(doc["attempts"].is_array(), "{doc}");
}

#[test]
fn commands_without_a_store_fail_naming_it_and_create_nothing() {
    let dir = temp_dir("cli", "nostore");
    let csv = dir.join("patients.csv");
    std::fs::write(&csv, HEADER).unwrap();
    let expected = format!(
        "no report store at {} (carecall serve creates it; or pass --config)",
        dir.join("carecall.db").display()
    );
    let commands: [&[&str]; 8] = [
        &["reports", "export"],
        &["patients", "import", "patients.csv"],
        &["patients", "unlock", "73920561"],
        &["calls", "plan"],
        &["calls", "now", "73920561", "--wait", "0"],
        &["calls", "records", "export"],
        &["staff", "add", "--username", "chief", "--role", "admin"],
        &["reports", "export", "--format", "csv"],
    ];
    for args in commands {
        // No --config, no carecall.toml: the built-in defaults, ./carecall.db.
        let out = Command::new(bin())
            .args(args)
            .current_dir(&dir)
            .env("CARECALL_STAFF_PASSWORD", "a long admin password")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} fails");
        assert!(err.contains(&expected), "{args:?}: {err}");
        assert_eq!(out.stdout, b"", "{args:?} prints no empty result");
    }
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["patients.csv"], "no store was created");
}

#[test]
fn staff_add_refuses_an_unknown_centre_naming_the_existing_ones() {
    let dir = temp_dir("cli", "staff");
    let (config, _) = write_config(&dir, "");
    create_store(&config);
    let add = |extra: &[&str]| {
        let out = Command::new(bin())
            .args(["staff", "add", "--role", "staff"])
            .args(extra)
            .arg("--config")
            .arg(&config)
            .env("CARECALL_STAFF_PASSWORD", "a long staff password")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = add(&[
        "--username",
        "sato",
        "--centre",
        "Minato",
        "--create-centre",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("created health centre Minato"), "{out}");
    let (ok, out) = add(&["--username", "suzuki", "--centre", "Minat"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(
            "no health centre named \"Minat\"; existing centres: Minato; add --create-centre"
        ),
        "{out}"
    );
    let (ok, out) = add(&["--username", "suzuki", "--centre", "Minato"]);
    assert!(ok, "an existing centre needs no flag: {out}");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Real calls against `carecall serve`: its database files are 0600 while it runs, and
/// `calls records export` holds the calls with their disposition (numbers only on request);
/// `reports export --format csv` gives local times with their offset.
#[test]
fn records_export_after_real_calls_and_private_data_files() {
    let dir = temp_dir("cli", "records");
    let (config, sip) = write_config(&dir, "");
    let serve = Serve::start(&config, dir.join("engine.log"), "carecall=debug,info");
    let db = dir.join("carecall.db");
    for file in [
        db.clone(),
        dir.join("carecall.db-wal"),
        dir.join("carecall.db-shm"),
    ] {
        assert_eq!(
            mode(&file),
            0o600,
            "{} is the service's alone",
            file.display()
        );
    }
    let patients = dir.join("patients.csv");
    std::fs::write(
        &patients,
        format!("{HEADER}73920561,Yamada Hanako,1950-04-15,0311112222,ja,09:00,2026-01-01,2099-12-31,false,Minato,\n"),
    )
    .unwrap();
    let (ok, out) = carecall(&config, &["patients", "import", patients.to_str().unwrap()]);
    assert!(ok, "{out}");
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], sip));
    let limit = Duration::from_secs(60);
    // Identified, temperature 36.5 confirmed, SpO2 not measured, then the caller hangs up.
    let call = "3:1,7:73920561#,11:0415,16:365,20:1,23:#";
    let (a, b) = rt().block_on(async {
        tokio::join!(
            health_call_rfc4733(target, &dir, "rec-a", call, 30_000, limit),
            health_call_rfc4733(target, &dir, "rec-b", "3:1", 8_000, limit),
        )
    });
    assert!(a.0, "{}", a.1);
    assert!(b.0, "{}", b.1);
    // Records are written at hang-up; give the engine a moment.
    let mut records = serde_json::Value::Null;
    for _ in 0..50 {
        let (ok, out, err) =
            carecall_split(&config, &["calls", "records", "export", "--format", "json"]);
        assert!(ok, "{err}");
        records = serde_json::from_str(&out).expect("JSON");
        if records.as_array().is_some_and(|r| r.len() >= 2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let list = records.as_array().unwrap();
    assert_eq!(list.len(), 2, "{records}");
    for r in list {
        assert_eq!(r["direction"], "inbound", "{r}");
        assert_eq!(r["disposition"], "answered", "{r}");
        assert_eq!(r["sip_status"], 200, "{r}");
        assert_eq!(r["dialplan"], "health_call", "{r}");
        assert!(r["started_at"].as_str().unwrap().ends_with("+09:00"), "{r}");
        assert!(r["duration_ms"].as_i64().unwrap() > 1000, "{r}");
        assert!(
            r.get("caller").is_none() && r.get("called").is_none(),
            "no numbers: {r}"
        );
    }
    let (ok, csv, err) = carecall_split(&config, &["calls", "records", "export", "--with-numbers"]);
    assert!(ok, "{err}");
    let head = csv.lines().next().unwrap();
    assert!(head.starts_with("call_id,sip_call_id,direction,trunk,started_at,answered_at,ended_at,duration_ms,disposition,sip_status,dialplan,dialplan_version,last_step,slot,attempt,caller,called"), "{head}");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains(",answered,200,health_call,"), "{csv}");
    let (ok, csv, _) = carecall_split(
        &config,
        &["calls", "records", "export", "--since", "2099-01-01"],
    );
    assert!(ok);
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");

    let (ok, reports, err) = carecall_split(&config, &["reports", "export", "--format", "csv"]);
    assert!(ok, "{err}");
    let row = reports
        .lines()
        .find(|l| l.contains(",73920561,"))
        .unwrap_or_else(|| panic!("the report is exported: {reports}"));
    let started = row.split(',').nth(3).unwrap();
    assert!(
        started.len() == 25 && started.ends_with("+09:00"),
        "local time with offset: {row}"
    );
    assert!(
        row.contains(",36.5,not_measured,"),
        "not measured is told apart: {row}"
    );
    drop(serve);
}

/// The real-call benchmark keeps working: a short `carecall loadgen` run of whole Health
/// Calls identifies every caller, stores their answers and loses no digit.
#[test]
fn loadgen_runs_whole_health_calls_and_loses_no_digit() {
    let out = Command::new(bin())
        .current_dir(root())
        .args([
            "loadgen",
            "--calls",
            "4",
            "--hold",
            "22",
            "--call-seconds",
            "30",
        ])
        .output()
        .expect("carecall runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let line = |start: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}` line in:\n{stdout}"))
            .to_owned()
    };
    let number_before = |line: &str, word: &str| -> u64 {
        let words: Vec<&str> = line
            .split([' ', ',', '(', ')'])
            .filter(|w| !w.is_empty())
            .collect();
        let at = words
            .iter()
            .position(|w| *w == word)
            .unwrap_or_else(|| panic!("{word} in {line}"));
        words[at - 1]
            .parse()
            .unwrap_or_else(|_| panic!("a number before {word} in {line}"))
    };
    let calls = line("calls:");
    assert_eq!(number_before(&calls, "answered"), 4, "{stdout}");
    assert_eq!(number_before(&calls, "refused"), 0, "{stdout}");
    let digits = line("digits:");
    assert!(digits.ends_with("lost 0"), "{stdout}");
    assert!(
        number_before(&digits.replace("sent ", "sent: "), "reported") >= 4 * 15,
        "{stdout}"
    );
    let store = line("store:");
    assert_eq!(
        number_before(&store, "reports"),
        4,
        "every caller identified: {stdout}"
    );
    assert!(
        number_before(&store, "answers") >= 4,
        "temperatures stored: {stdout}"
    );
}
