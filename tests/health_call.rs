//! Health Call end to end, from outside: the real `carecall` binary with the real prompts and
//! dialplans on an embedded store, patients imported with `carecall patients import`, SIPp
//! dialling in with RFC 4733 or SIP INFO digits, and `carecall reports export` read back.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::process::{carecall, temp_dir, Serve};
use common::{dtmf_pcap, free_port, health_call_rfc4733, root, rt, schedule, sipp, uac};

const LIMIT: Duration = Duration::from_secs(120);

const PATIENTS: &str = "\
hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk
73920561,Yamada Hanako,1950-04-15,0311112222,ja,09:00;14:00,2026-11-01,2026-12-31,true,Minato,age65
64810372,Maria Silva,1988-07-02,09033334444,pt,11:00,2026-11-01,2026-12-31,true,Minato,
55702183,John Smith,1979-12-24,08055556666,en,16:00,2026-11-01,2026-12-31,false,Minato,
46693294,Sato Ichiro,1960-02-29,07077778888,ja,09:00,2026-11-01,2026-12-31,false,Minato,
";

/// A running `carecall serve` on its own ports and SQLite file, killed on drop.
struct Engine {
    serve: Serve,
    dir: PathBuf,
    config: PathBuf,
    sip: u16,
}

/// Writes a configuration for a test engine in `dir` and imports the patients.
fn prepare(name: &str, extra: &str) -> (PathBuf, PathBuf, u16) {
    let dir = temp_dir("hc", name);
    let sip = free_port();
    let http = free_port();
    let config = dir.join("carecall.toml");
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n[rtp]\nport_min = 42000\nport_max = 49999\n# SIPp's SIP INFO caller sends no RTP: no media timeout during these calls.\nmedia_timeout_ms = 120000\n[calls]\nautomatic_calls = false\n[store]\nurl = \"sqlite://{db}\"\n[prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n{extra}",
        db = dir.join("carecall.db").display(),
        root = root().display(),
    );
    std::fs::write(&config, text).unwrap();
    let csv = dir.join("patients.csv");
    std::fs::write(&csv, PATIENTS).unwrap();
    common::process::create_store(&config);
    let out = carecall(&config, &["patients", "import", csv.to_str().unwrap()]);
    assert!(out.0, "import failed: {}", out.1);
    (dir, config, sip)
}

/// Starts `carecall serve`, with logs to `log` (at `rust_log`), and waits until it is ready.
fn serve(name: &str, extra: &str, rust_log: &str) -> Engine {
    let (dir, config, sip) = prepare(name, extra);
    let serve = Serve::start(&config, dir.join("engine.log"), rust_log);
    Engine {
        serve,
        dir,
        config,
        sip,
    }
}

impl Engine {
    fn target(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.sip))
    }

    fn export(&self) -> serde_json::Value {
        let (ok, out) = carecall(&self.config, &["reports", "export", "--format", "json"]);
        assert!(ok, "export failed: {out}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("export is JSON ({e}): {out}"))
    }

    fn log(&self) -> String {
        self.serve.log_text()
    }
}

/// A Health Call with RFC 4733 digits at `schedule` (dtmf_pcap.py syntax) to `engine`.
async fn rfc4733_call(engine: &Engine, name: &str, schedule: &str, max_ms: u64) -> (bool, String) {
    health_call_rfc4733(engine.target(), &engine.dir, name, schedule, max_ms, LIMIT).await
}

fn report_for<'a>(reports: &'a serde_json::Value, hersys_id: &str) -> Vec<&'a serde_json::Value> {
    reports
        .as_array()
        .expect("an array of reports")
        .iter()
        .filter(|r| r["hersys_id"] == hersys_id)
        .collect()
}

#[test]
fn health_calls_in_japanese_portuguese_and_with_sip_info_reach_the_report_store() {
    rt().block_on(async {
        let engine = serve("complete", "", "info");
        // Japanese: 38.2 °C confirmed, SpO2 not measured, no symptoms, no callback.
        let ja = schedule(
            "1",
            "73920561",
            "0415",
            &[
                "382", "1", "#", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
            ],
        );
        // Portuguese: 36.5 °C, SpO2 94 confirmed, breathless yes, nothing else.
        let pt = schedule(
            "8",
            "64810372",
            "0702",
            &[
                "365", "1", "94#", "1", "2", "2", "1", "2", "2", "2", "2", "2", "2", "2",
            ],
        );
        let (ja, pt, info) = tokio::join!(
            rfc4733_call(&engine, "hc-ja", &ja, 90_000),
            rfc4733_call(&engine, "hc-pt", &pt, 90_000),
            info_call(
                &engine,
                "2",
                "55702183",
                "1224",
                &["369", "1", "98#", "1", "2", "1", "2", "2", "2", "2", "2", "2", "2", "1"]
            ),
        );
        assert!(ja.0, "Japanese call:\n{}", ja.1);
        assert!(pt.0, "Portuguese call:\n{}", pt.1);
        assert!(info.0, "SIP INFO call:\n{}", info.1);

        let reports = engine.export();
        let ja = report_for(&reports, "73920561");
        assert_eq!(ja.len(), 1, "{reports:#}");
        let ja = ja[0];
        assert_eq!(ja["channel"], "health_call");
        assert_eq!(ja["complete"], true);
        assert_eq!(ja["answers"]["temperature"].to_string(), "38.2");
        assert!(ja["answers"]["spo2"].is_null(), "not measured is null");
        assert_eq!(ja["answers"]["face"], "no");
        assert_eq!(ja["answers"]["callback"], "no");
        assert_eq!(ja["flag"], "red", "38.2 °C is red");

        let pt = report_for(&reports, "64810372")[0];
        assert_eq!(pt["complete"], true);
        assert_eq!(
            pt["answers"]["temperature"].to_string(),
            "36.5",
            "36.5 stays 36.5"
        );
        assert_eq!(pt["answers"]["spo2"], 94);
        assert_eq!(pt["answers"]["breath"], "yes");
        assert_eq!(pt["flag"], "red", "SpO2 94 with breathlessness is red");

        let en = report_for(&reports, "55702183")[0];
        assert_eq!(en["complete"], true);
        assert_eq!(en["answers"]["temperature"].to_string(), "36.9");
        assert_eq!(en["answers"]["spo2"], 98);
        assert_eq!(en["answers"]["face"], "no");
        assert_eq!(en["answers"]["cough"], "yes");
        assert_eq!(en["answers"]["breath"], "no");
        assert_eq!(en["answers"]["callback"], "yes");
        assert_eq!(en["flag"], "red", "callback requested is red: {en:#}");
    });
}

/// A Health Call whose digits come as SIP INFO (`application/dtmf-relay`), one key per INFO.
async fn info_call(
    engine: &Engine,
    menu: &str,
    id: &str,
    mmdd: &str,
    answers: &[&str],
) -> (bool, String) {
    let mut keys: Vec<(u64, char)> = Vec::new();
    let mut push = |at_ms: u64, group: &str| {
        for (i, c) in group.chars().enumerate() {
            keys.push((at_ms + 300 * i as u64, c));
        }
    };
    push(3000, menu);
    push(7000, &format!("{id}#"));
    push(11000, mmdd);
    let mut t = 16000;
    for a in answers {
        push(t, a);
        t += if a.len() > 1 { 4000 } else { 2000 };
    }
    let scenario = info_scenario(&keys);
    let path =
        std::env::temp_dir().join(format!("carecall-info-{}-{}.xml", id, std::process::id()));
    std::fs::write(&path, scenario).unwrap();
    let rtp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rtp.local_addr().unwrap().port().to_string();
    let mut args = uac(
        engine.target(),
        "tests/sipp/listen.xml",
        &["-set", "rtp_port", &port, "-set", "hold_ms", "40000"],
    );
    let at = args.iter().position(|a| a == "-sf").unwrap();
    args[at + 1] = path.display().to_string();
    sipp(args, LIMIT).await
}

/// A SIPp UAC scenario: INVITE, then one INFO per key at its time, then wait for the BYE.
fn info_scenario(keys: &[(u64, char)]) -> String {
    let base = std::fs::read_to_string(root().join("tests/sipp/listen.xml")).unwrap();
    let mut infos = String::new();
    let mut now = 0;
    for (i, (at, key)) in keys.iter().enumerate() {
        infos.push_str(&format!(
            "  <pause milliseconds=\"{}\" />\n  <send retrans=\"500\">\n    <![CDATA[\n      INFO [next_url] SIP/2.0\n      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n      [routes]\n      From: \"Patient\" <sip:patient@[local_ip]:[local_port]>;tag=[pid]L[call_number]\n      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\n      Call-ID: [call_id]\n      CSeq: {} INFO\n      Max-Forwards: 70\n      Content-Type: application/dtmf-relay\n      Content-Length: [len]\n\n      Signal={key}\n      Duration=160\n    ]]>\n  </send>\n  <recv response=\"200\" />\n",
            at.saturating_sub(now),
            i + 2
        ));
        now = *at;
    }
    // After the last key the engine closes the call; the caller waits `hold_ms` for its BYE.
    base.replace(
        "<pause variable=\"hold\" />",
        &format!("{infos}\n  <pause variable=\"hold\" />"),
    )
    .replace("CSeq: 2 BYE", &format!("CSeq: {} BYE", keys.len() + 2))
}

#[test]
fn three_wrong_birthdays_end_the_call_and_repeated_failures_lock_the_id() {
    rt().block_on(async {
        let engine = serve("lock", "", "info");
        // One call, three wrong birthdays: the engine ends it (BYE) with the contact message.
        let started = Instant::now();
        let three = "3:1,7:73920561#,11:0101,17:73920561#,21:0202,27:73920561#,31:0303";
        let (ok, out) = rfc4733_call(&engine, "wrong3", three, 100_000).await;
        assert!(ok, "{out}");
        assert!(
            started.elapsed() < Duration::from_secs(80),
            "the engine hung up, not the caller"
        );

        // Four more calls with one wrong birthday each: five failed calls lock the ID.
        let one = "3:1,7:73920561#,11:0909";
        let (a, b, c, d) = tokio::join!(
            rfc4733_call(&engine, "wrong-a", one, 16_000),
            rfc4733_call(&engine, "wrong-b", one, 16_000),
            rfc4733_call(&engine, "wrong-c", one, 16_000),
            rfc4733_call(&engine, "wrong-d", one, 16_000),
        );
        for r in [a, b, c, d] {
            assert!(r.0, "{}", r.1);
        }
        // The right ID and birthday are now refused: no report appears.
        let right = schedule("1", "73920561", "0415", &["365", "1", "#"]);
        let (ok, out) = rfc4733_call(&engine, "locked", &right, 40_000).await;
        assert!(ok, "{out}");
        assert!(
            report_for(&engine.export(), "73920561").is_empty(),
            "a locked ID reports nothing"
        );

        let (ok, out) = carecall(&engine.config, &["patients", "unlock", "73920561"]);
        assert!(ok, "unlock: {out}");
        let (ok, out) = rfc4733_call(&engine, "unlocked", &right, 60_000).await;
        assert!(ok, "{out}");
        let reports = engine.export();
        let reports = report_for(&reports, "73920561");
        assert_eq!(reports.len(), 1, "after unlock the report is stored");
        assert_eq!(reports[0]["answers"]["temperature"].to_string(), "36.5");
    });
}

#[test]
fn a_caller_who_hangs_up_after_the_temperature_leaves_an_incomplete_report() {
    rt().block_on(async {
        let engine = serve("incomplete", "", "info");
        let keys = schedule("1", "73920561", "0415", &["371", "1"]);
        // Hang up 3 s after confirming the temperature (keys end at 18 s).
        let (ok, out) = rfc4733_call(&engine, "hangup", &keys, 21_000).await;
        assert!(ok, "{out}");
        let reports = engine.export();
        let r = report_for(&reports, "73920561");
        assert_eq!(r.len(), 1, "{reports:#}");
        assert_eq!(r[0]["complete"], false);
        assert_eq!(r[0]["answers"]["temperature"].to_string(), "37.1");
        assert!(r[0]["answers"]["spo2"].is_null());
    });
}

#[test]
fn no_personal_data_reaches_the_log_at_the_most_verbose_level() {
    rt().block_on(async {
        let engine = serve("pii", "", "trace");
        let keys = schedule(
            "1",
            "46693294",
            "0229",
            &[
                "365", "1", "97#", "1", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
            ],
        );
        let pcap = dtmf_pcap("pii", &["--schedule", &keys]);
        let pcap = pcap.display().to_string();
        // The caller's number is the From user part.
        let scenario = std::fs::read_to_string(root().join("tests/peers/sipp/health_call.xml"))
            .unwrap()
            .replace("sip:patient@", "sip:09061234987@");
        let path = engine.dir.join("health_call_from.xml");
        std::fs::write(&path, scenario).unwrap();
        let mut args = uac(
            engine.target(),
            "tests/peers/sipp/health_call.xml",
            &["-key", "dtmf_pcap", &pcap, "-set", "max_call_ms", "90000"],
        );
        let at = args.iter().position(|a| a == "-sf").unwrap();
        args[at + 1] = path.display().to_string();
        let (ok, out) = sipp(args, LIMIT).await;
        assert!(ok, "{out}");
        let reports = engine.export();
        assert_eq!(
            report_for(&reports, "46693294").len(),
            1,
            "the call really reported"
        );

        let log = engine.log();
        assert!(log.lines().count() > 50, "trace logging was on");
        assert!(log.contains("\"level\":\"TRACE\"") || log.contains("\"level\":\"DEBUG\""));
        for line in log.lines() {
            for secret in ["46693294", "09061234987", "0229", "1960-02-29", "Sato"] {
                assert!(
                    !contains_standalone(line, secret),
                    "personal data {secret:?} in log line: {line}"
                );
            }
        }
    });
}

/// Whether `secret` occurs in `line` not as part of a longer run of digits, hex or letters
/// (timestamps, durations and hex ids are full of short digit strings).
fn contains_standalone(line: &str, secret: &str) -> bool {
    let bytes = line.as_bytes();
    line.match_indices(secret).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + secret.len()).copied();
        let joins = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
        !joins(before) && !joins(after)
    })
}

#[test]
fn contains_standalone_ignores_digits_inside_other_numbers() {
    assert!(contains_standalone(r#"{"mmdd":"0229"}"#, "0229"));
    assert!(contains_standalone("birthday 0229.", "0229"));
    assert!(!contains_standalone(
        r#"{"elapsed_secs":0.000022926}"#,
        "0229"
    ));
    assert!(!contains_standalone(r#"{"id":"1a1f0229c07"}"#, "0229"));
}

#[test]
fn check_names_every_problem_of_a_broken_dialplan_and_serve_refuses_it() {
    let dir = temp_dir("hc", "broken");
    let plans = dir.join("dialplans");
    std::fs::create_dir_all(&plans).unwrap();
    for f in ["questions.toml", "automatic_call.toml"] {
        std::fs::copy(root().join("dialplans").join(f), plans.join(f)).unwrap();
    }
    let good = std::fs::read_to_string(root().join("dialplans/health_call.toml")).unwrap();
    let broken = good
        .replacen("next = \"enter_birthday\"", "nxet = \"enter_birthday\"", 1)
        .replacen(
            "on_confirmed = \"questions\"",
            "on_confirmed = \"questionz\"",
            1,
        )
        .replacen("prompts = [\"hc_welcome\"]", "prompts = [\"hc_welcom\"]", 1);
    assert_ne!(good, broken);
    std::fs::write(plans.join("health_call.toml"), &broken).unwrap();
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let config = dir.join("carecall.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n[prompts]\ndir = \"{}/prompts\"\n[dialplans]\ndir = \"dialplans\"\n",
            dir.join("x.db").display(),
            root().display()
        ),
    )
    .unwrap();

    let (ok, out) = carecall(&config, &["check"]);
    assert!(!ok, "check must fail:\n{out}");
    let file = plans.join("health_call.toml").display().to_string();
    for (needle, step, field) in [
        ("nxet", "enter_id", "nxet"),
        ("questionz", "identify", "on_confirmed"),
        ("hc_welcom", "welcome", "prompts"),
    ] {
        let expected = format!("{file}:{}: step `{step}`, field `{field}`", line_of(needle));
        assert!(out.contains(&expected), "expected {expected:?} in:\n{out}");
    }

    let started = Instant::now();
    let (ok, out) = carecall(&config, &["serve"]);
    assert!(!ok, "serve must refuse a broken dialplan:\n{out}");
    assert!(out.contains("hc_welcom"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
