//! Operators' tools from outside (issue 11): the real `carecall serve` with a SIPp Health
//! Call. While the call is up it is in `carecall calls list --json` (the real binary, through
//! the control socket) and in `GET /api/v1/calls/active`, with its direction and dialplan
//! step; after BYE it is gone. `/metrics` of the fresh engine has every series at zero, and
//! the SIP response and RTP counters move with the call. SIGHUP during a live call reloads a
//! changed prompt while the call goes on to its normal end; a broken dialplan is refused
//! (SIGHUP and `carecall reload`, which says why) and the next call still works. A reload
//! that passed changes the flags of reports staff enter and of the flow simulator too
//! ([`reload`]). SIGTERM drains: a call coming in meanwhile gets 503, logged; the systemd
//! unit sends these signals and sets `UMask=0077`.

mod common;
mod common_api;
mod common_store;
#[path = "operator/reload.rs"]
mod reload;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::process::{carecall, carecall_split, create_store, staff_add, temp_dir, Serve};
use common::{free_port, health_call_rfc4733, root, rt, schedule, sipp, uac};
use common_api::{Api, Cred};

const LIMIT: Duration = Duration::from_secs(120);
const PASSWORD: &str = "operator password 1";

const PATIENTS: &str = "\
hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk
73920561,Yamada Hanako,1950-04-15,0311112222,ja,09:00;14:00,2026-11-01,2026-12-31,true,Minato,age65
55702183,John Smith,1979-12-24,08055556666,en,16:00,2026-11-01,2026-12-31,false,Minato,
";

/// A running engine on its own ports, SQLite file and control socket.
struct Node {
    serve: Serve,
    dir: PathBuf,
    config: PathBuf,
    sip: u16,
    http: u16,
    api: Api,
}

/// Starts `carecall serve` in a fresh folder with prompts and dialplans from `assets` (the
/// crate root, or a copy), patients imported and an admin account made.
fn start(name: &str, assets: &Path) -> Node {
    let dir = temp_dir("ops", name);
    let (sip, http) = (free_port(), free_port());
    let config = dir.join("carecall.toml");
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n[rtp]\nport_min = 42000\nport_max = 49999\n[calls]\nautomatic_calls = false\ndrain_limit_s = 10\nnode_id = \"ops-{name}\"\n[store]\nurl = \"sqlite://{db}\"\n[prompts]\ndir = \"{assets}/prompts\"\n[dialplans]\ndir = \"{assets}/dialplans\"\n",
        db = dir.join("carecall.db").display(),
        assets = assets.display(),
    );
    std::fs::write(&config, text).unwrap();
    let csv = dir.join("patients.csv");
    std::fs::write(&csv, PATIENTS).unwrap();
    create_store(&config);
    let out = carecall(&config, &["patients", "import", csv.to_str().unwrap()]);
    assert!(out.0, "import failed: {}", out.1);
    staff_add(&config, "operator", "admin", None, PASSWORD);
    let serve = Serve::start(&config, dir.join("engine.log"), "info");
    let api = Api::new(std::net::SocketAddr::from(([127, 0, 0, 1], http)));
    Node {
        serve,
        dir,
        config,
        sip,
        http,
        api,
    }
}

impl Node {
    fn target(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.sip))
    }

    /// `carecall calls list --json`, parsed.
    async fn calls_list(&self) -> Value {
        let config = self.config.clone();
        let (ok, out, err) = tokio::task::spawn_blocking(move || {
            carecall_split(&config, &["calls", "list", "--json"])
        })
        .await
        .unwrap();
        assert!(ok, "calls list failed: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("calls list is JSON ({e}): {out}"))
    }

    async fn metrics(&self) -> String {
        let r = self.api.get("/metrics", &Cred::None).await;
        assert_eq!(r.status, 200);
        r.text()
    }

    /// Waits until the engine's log contains `needle`.
    async fn wait_log(&self, needle: &str, limit: Duration) {
        self.serve.wait_log(needle, limit).await;
    }

    fn sighup(&self) {
        let pid = self.serve.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn export(&self) -> Value {
        let (ok, out) = carecall(&self.config, &["reports", "export", "--format", "json"]);
        assert!(ok, "export failed: {out}");
        serde_json::from_str(&out).unwrap()
    }
}

/// The value of the series `series` (name and labels exactly) in a /metrics text.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in /metrics:\n{text}"))
}

/// A complete Japanese Health Call: 36.5 °C, SpO2 not measured, no symptoms, no callback.
fn ja_schedule() -> String {
    schedule(
        "1",
        "73920561",
        "0415",
        &[
            "365", "1", "#", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
        ],
    )
}

/// Polls `calls list --json` until a call is listed answered and at a step; returns it.
async fn wait_listed(node: &Node) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = node.calls_list().await;
        if let Some(call) = list["calls"]
            .as_array()
            .and_then(|calls| calls.first())
            .filter(|c| c["answered"] == true && c["step"].is_string())
        {
            return call.clone();
        }
        assert!(Instant::now() < deadline, "no live call listed: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn a_live_call_is_listed_by_the_cli_and_the_api_and_gone_after_bye() {
    rt().block_on(async {
        let node = start("list", &root());
        let fresh = node.metrics().await;
        for series in [
            "carecall_sip_responses_total{method=\"INVITE\",class=\"2xx\"}",
            "carecall_sip_responses_total{method=\"BYE\",class=\"2xx\"}",
            "carecall_rtp_packets_total{direction=\"in\"}",
            "carecall_rtp_packets_total{direction=\"out\"}",
            "carecall_rtp_late_frames_total",
            "carecall_calls_total{direction=\"inbound\",disposition=\"answered\"}",
            "carecall_calls_total{direction=\"outbound\",disposition=\"busy\"}",
            "carecall_dtmf_digits_total{method=\"rfc4733\"}",
            "carecall_dtmf_digits_total{method=\"inband\"}",
            "carecall_reloads_total{result=\"ok\"}",
            "carecall_reloads_total{result=\"failed\"}",
        ] {
            assert_eq!(value(&fresh, series), 0.0, "{series} starts at zero");
        }
        for series in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_start_time_seconds",
        ] {
            assert!(value(&fresh, series) > 0.0, "{series}");
        }
        let revision = env!("CARGO_PKG_VERSION");
        assert!(
            fresh.contains(&format!(
                "carecall_build_info{{version=\"{revision}\",revision=\""
            )),
            "{fresh}"
        );

        let token = node.api.token("operator", PASSWORD).await;
        let idle = node.api.get("/api/v1/calls/active", &token).await;
        assert_eq!(idle.status, 200, "{}", idle.text());
        assert_eq!(idle.json()["node_id"], "ops-list");
        assert_eq!(idle.json()["calls"], serde_json::json!([]));
        let anonymous = node.api.get("/api/v1/calls/active", &Cred::None).await;
        assert_eq!(anonymous.status, 401, "staff only");

        let (dir, target) = (node.dir.clone(), node.target());
        let call = tokio::spawn(async move {
            health_call_rfc4733(target, &dir, "ops-list", &ja_schedule(), 90_000, LIMIT).await
        });
        let listed = wait_listed(&node).await;
        assert_eq!(listed["direction"], "inbound", "{listed}");
        assert_eq!(listed["dialplan"], "health_call", "{listed}");
        // The built-in `local` trunk takes calls from this machine.
        assert_eq!(listed["trunk"], "local", "{listed}");
        assert!(listed["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
        let api = node.api.get("/api/v1/calls/active", &token).await.json();
        let in_api = &api["calls"][0];
        assert_eq!(in_api["id"], listed["id"], "{api}");
        assert_eq!(in_api["direction"], "inbound");
        assert!(in_api["step"].is_string() && in_api["duration_s"].is_u64());
        let table = carecall(&node.config, &["calls", "list"]).1;
        assert!(
            table.contains("health_call") && table.contains("inbound"),
            "{table}"
        );

        let (ok, out) = call.await.unwrap();
        assert!(ok, "the call completes:\n{out}");
        let after = node.calls_list().await;
        assert_eq!(after["calls"], serde_json::json!([]), "gone after BYE");
        let api = node.api.get("/api/v1/calls/active", &token).await.json();
        assert_eq!(api["calls"], serde_json::json!([]));

        let moved = node.metrics().await;
        for series in [
            "carecall_sip_responses_total{method=\"INVITE\",class=\"2xx\"}",
            "carecall_sip_responses_total{method=\"BYE\",class=\"2xx\"}",
            "carecall_rtp_packets_total{direction=\"in\"}",
            "carecall_rtp_packets_total{direction=\"out\"}",
        ] {
            assert!(value(&moved, series) > 0.0, "{series} moved:\n{moved}");
        }

        let log = node.serve.log_text();
        let lines: Vec<Value> = log
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let message = |m: &str| {
            lines
                .iter()
                .filter(|l| l["fields"]["message"] == m)
                .collect::<Vec<_>>()
        };
        let starting = message("carecall starting");
        assert_eq!(starting.len(), 1, "{log}");
        assert_eq!(starting[0]["fields"]["store"], "sqlite");
        assert_eq!(starting[0]["fields"]["version"], revision);
        assert!(starting[0]["fields"]["config"]
            .as_str()
            .is_some_and(|c| c.ends_with("carecall.toml")));
        let started = message("call started");
        assert_eq!(started.len(), 1, "{log}");
        let f = &started[0]["fields"];
        assert_eq!(
            (&f["direction"], &f["dialplan"], &f["trunk"]),
            (&"inbound".into(), &"health_call".into(), &"local".into())
        );
        let steps: Vec<&str> = message("step")
            .iter()
            .filter_map(|l| l["fields"]["step"].as_str())
            .collect();
        assert!(
            steps.contains(&"welcome") && steps.contains(&"closing"),
            "{steps:?}"
        );
        for line in &lines {
            if let Some(span) = line["span"].as_object() {
                assert!(!span.contains_key("id"), "one call id per span: {line}");
            }
        }
        assert!(
            !log.contains("Some("),
            "no Debug strings in the log:\n{log}"
        );
        for secret in ["73920561", "0311112222", "Yamada", "1950-04-15"] {
            assert!(!log.contains(secret), "{secret} reached the log");
        }
    });
}

/// SIGTERM starts the drain: a call coming in meanwhile gets 503 (the unit's `KillSignal`),
/// and the log says so, with the number of calls still active.
#[test]
fn a_call_during_the_drain_gets_503_and_the_log_says_so() {
    rt().block_on(async {
        let node = start("drain", &root());
        let (dir, target) = (node.dir.clone(), node.target());
        let first = tokio::spawn(async move {
            health_call_rfc4733(target, &dir, "ops-drain", &ja_schedule(), 90_000, LIMIT).await
        });
        wait_listed(&node).await;
        let pid = node.serve.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        node.wait_log("stopping: draining calls", LIMIT).await;
        let (ok, out) = sipp(uac(target, "tests/sipp/expect_503.xml", &[]), LIMIT).await;
        assert!(ok, "a call during the drain gets 503:\n{out}");
        node.wait_log("draining: new call refused with 503", LIMIT)
            .await;
        let refused = node
            .serve
            .log_text()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["fields"]["message"] == "draining: new call refused with 503")
            .unwrap();
        assert_eq!(refused["fields"]["active"], 1, "{refused}");
        // The call in progress is ended at the drain limit; its SIPp is not waited for.
        first.abort();
    });
}

/// The systemd unit: `systemctl reload` sends SIGHUP (the reload above), stopping sends SIGTERM
/// (the drain), readiness is notified, and files the service creates are its own (0077).
#[test]
fn the_unit_reloads_with_sighup_drains_on_sigterm_and_keeps_its_files_private() {
    let unit = std::fs::read_to_string(root().join("deploy/carecall.service")).unwrap();
    let lines: Vec<&str> = unit.lines().map(str::trim).collect();
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillSignal=SIGTERM",
        "UMask=0077",
    ] {
        assert!(lines.contains(&line), "the unit has {line}:\n{unit}");
    }
}

#[test]
fn calls_list_without_a_running_engine_names_the_socket() {
    let dir = temp_dir("ops", "unreachable");
    let config = dir.join("carecall.toml");
    let socket = dir.join("nobody.ctl");
    std::fs::write(
        &config,
        format!("[calls]\ncontrol_socket = \"{}\"\n", socket.display()),
    )
    .unwrap();
    for args in [&["calls", "list"][..], &["reload"][..]] {
        let (ok, out) = carecall(&config, args);
        assert!(!ok, "{args:?} fails: {out}");
        assert!(
            out.contains(&socket.display().to_string()) && out.contains("carecall serve"),
            "{args:?} names the socket: {out}"
        );
    }
}
