//! Reload from outside: SIGHUP during a live call reloads a changed prompt and flag rules
//! while the call goes on, a broken set is refused; a reload that passed changes the flags
//! of reports staff enter and of flow simulator sessions, not only of new calls.

use std::path::Path;

use serde_json::{json, Value};

use super::common::process::{carecall, temp_dir};
use super::common::ws::WsClient;
use super::common::{health_call_rfc4733, root, rt, schedule};
use super::common_api::Cred;
use super::{ja_schedule, start, value, wait_listed, Node, LIMIT, PASSWORD};

/// Copies `from` into `to` recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// For each call of the engine's log (JSON lines), in order, the seconds from its "closing"
/// step to its "call ended" line: how long its closing prompt played before the BYE.
fn closing_seconds(log: &str) -> Vec<f64> {
    let mut calls: Vec<(u64, Option<f64>, Option<f64>)> = Vec::new();
    for line in log.lines() {
        let Ok(line) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(call) = line["span"]["call"].as_u64() else {
            continue;
        };
        let at = line["timestamp"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond() as f64 / 1000.0);
        let closing = line["fields"]["message"] == "step" && line["fields"]["step"] == "closing";
        let ended = line["fields"]["message"] == "call ended";
        if !calls.iter().any(|c| c.0 == call) {
            calls.push((call, None, None));
        }
        let entry = calls.iter_mut().find(|c| c.0 == call).unwrap();
        if closing {
            entry.1 = at;
        } else if ended {
            entry.2 = at;
        }
    }
    calls
        .into_iter()
        .filter_map(|(_, closing, ended)| Some(ended? - closing?))
        .collect()
}

#[test]
fn sighup_reloads_a_changed_prompt_during_a_call_and_a_broken_set_is_refused() {
    rt().block_on(async {
        let assets = temp_dir("ops", "assets");
        copy_dir(&root().join("prompts"), &assets.join("prompts"));
        copy_dir(&root().join("dialplans"), &assets.join("dialplans"));
        let node = start("reload", &assets);

        let (dir, target) = (node.dir.clone(), node.target());
        let first = tokio::spawn(async move {
            health_call_rfc4733(target, &dir, "ops-reload-1", &ja_schedule(), 90_000, LIMIT).await
        });
        wait_listed(&node).await;
        // A different (shorter) recording for the closing prompt, while the call is up.
        for lang in ["ja", "en"] {
            let prompts = assets.join("prompts").join(lang);
            std::fs::copy(prompts.join("hc_welcome.wav"), prompts.join("closing.wav")).unwrap();
        }
        // And a lower fever threshold: 36.5 °C (this call's temperature) is red for new calls
        // only; the call in progress keeps the rules it started with.
        let mut config = std::fs::read_to_string(&node.config).unwrap();
        config.push_str("[flags]\nfever_celsius = 36.5\n");
        std::fs::write(&node.config, config).unwrap();
        node.sighup();
        node.wait_log(
            "reload: new calls get the new dialplans, prompts and flag rules",
            LIMIT,
        )
        .await;
        assert_eq!(
            value(
                &node.metrics().await,
                "carecall_reloads_total{result=\"ok\"}"
            ),
            1.0
        );
        let (ok, out) = first.await.unwrap();
        assert!(ok, "the call in progress goes on to its end:\n{out}");
        let reports = node.export();
        let report = &reports.as_array().unwrap()[0];
        assert_eq!(report["complete"], true, "{reports:#}");
        assert_eq!(report["answers"]["temperature"].to_string(), "36.5");
        assert_eq!(report["answers"]["callback"], "no");
        assert_eq!(
            report["flag"], "none",
            "old rules for the call in progress: {report:#}"
        );

        // A broken dialplan: SIGHUP and `carecall reload` both keep the running set.
        let plan = assets.join("dialplans/health_call.toml");
        let text = std::fs::read_to_string(&plan).unwrap();
        std::fs::write(&plan, text.replacen("[steps.closing]", "[steps.closing", 1)).unwrap();
        node.sighup();
        node.wait_log(
            "reload refused: the running dialplans and prompts stay",
            LIMIT,
        )
        .await;
        let (ok, out) = carecall(&node.config, &["reload"]);
        assert!(!ok, "a refused reload fails: {out}");
        assert!(
            out.contains("reload refused") && out.contains("health_call.toml"),
            "says why, naming the file: {out}"
        );
        let metrics = node.metrics().await;
        assert_eq!(
            value(&metrics, "carecall_reloads_total{result=\"failed\"}"),
            2.0
        );
        assert_eq!(
            value(&metrics, "carecall_reloads_total{result=\"ok\"}"),
            1.0
        );

        let (dir, target) = (node.dir.clone(), node.target());
        let schedule = schedule(
            "2",
            "55702183",
            "1224",
            &[
                "369", "1", "98#", "1", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
            ],
        );
        let (ok, out) =
            health_call_rfc4733(target, &dir, "ops-reload-2", &schedule, 90_000, LIMIT).await;
        assert!(ok, "the next call still works:\n{out}");
        let reports = node.export();
        let en: Vec<&Value> = reports
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["hersys_id"] == "55702183")
            .collect();
        assert_eq!(en.len(), 1, "{reports:#}");
        assert_eq!(en[0]["complete"], true, "{reports:#}");
        assert_eq!(
            en[0]["flag"], "red",
            "the reloaded fever threshold (36.5) makes 36.9 red: {reports:#}"
        );
        // The closing prompt each call played, from its "closing" step to its end: the call in
        // progress at the reload kept the old recording (ja 13.6 s), the next call played the
        // reloaded one (en hc_welcome's 3.5 s instead of en closing's 9.7 s).
        let played = closing_seconds(&node.serve.log_text());
        assert_eq!(
            played.len(),
            2,
            "two calls reached their closing: {played:?}"
        );
        assert!(
            played[0] > 12.0,
            "the call in progress keeps the closing prompt it started with: {played:?}"
        );
        assert!(
            played[1] < 6.0,
            "the next call plays the reloaded closing prompt: {played:?}"
        );
        let _ = std::fs::remove_dir_all(&assets);
    });
}

/// The flag shown for a report staff enter by phone with 37.8 °C for the patient `hersys_id`,
/// and the fever line of the patient page's charts.
async fn staff_report_at_37_8(node: &Node, token: &Cred, hersys_id: &str) -> (String, f64) {
    let found = node
        .api
        .get(&format!("/api/v1/patients?q={hersys_id}"), token)
        .await
        .json();
    let id = found["patients"][0]["id"]
        .as_i64()
        .expect("the patient is found");
    let path = format!("/api/v1/patients/{id}/reports");
    let body = json!({ "answers": { "temperature": 37.8, "spo2": 98, "callback": "no" } });
    let r = node.api.post(&path, token, &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let days = node.api.get(&path, token).await.json();
    let fever = days["thresholds"]["fever_celsius"].as_f64().unwrap();
    (r.json()["flag"].as_str().unwrap().to_owned(), fever)
}

/// The fever line the simulator's `hello` announces, and the flag of 37.8 °C in an automatic
/// call simulated over the engine's own WebSocket (1 to start, 378, 1 to confirm).
async fn simulated_37_8(node: &Node) -> (u64, String) {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], node.http));
    let mut page = WsClient::connect(addr, "/api/v1/simulator/ws").await;
    let hello = page.recv().await;
    let fever = hello["thresholds"]["fever_tenths"]
        .as_u64()
        .unwrap_or_else(|| panic!("no fever line in hello: {hello}"));
    page.send(json!({"type": "start", "dialplan": "automatic_call", "language": "ja"}))
        .await;
    let (mut keys, mut play) = ("13781".chars(), 0);
    for _ in 0..50 {
        let events = page.batch().await;
        for e in &events {
            match e["type"].as_str() {
                Some("play") => play = e["play"].as_u64().unwrap(),
                Some("answer") if e["question"] == "temperature" => {
                    page.send(json!({"type": "hangup"})).await;
                    return (fever, e["flag"].as_str().unwrap().to_owned());
                }
                Some("error") => panic!("{e}"),
                _ => {}
            }
        }
        let status: &Value = events.last().unwrap();
        let message = if status["playing"] == true {
            json!({"type": "playback_done", "play": play})
        } else {
            let key = keys.next().expect("no more keys asked for than scripted");
            json!({"type": "key", "key": key.to_string()})
        };
        page.send(message).await;
    }
    panic!("no temperature answer from the simulator");
}

/// One source of truth for the flag rules: after a reload that passed (`[flags]
/// fever_celsius` from 37.5 to 38.0), a report staff enter and a simulator session are
/// assessed with the reloaded rule, as new calls are; 37.8 °C turns from red to none.
#[test]
fn a_passed_reload_changes_the_flags_of_staff_reports_and_of_the_simulator() {
    rt().block_on(async {
        let node = start("rules", &root());
        let token = node.api.token("operator", PASSWORD).await;
        assert_eq!(
            staff_report_at_37_8(&node, &token, "55702183").await,
            ("red".to_owned(), 37.5),
            "the configured fever line (37.5) before the reload"
        );
        assert_eq!(simulated_37_8(&node).await, (375, "red".to_owned()));

        let mut config = std::fs::read_to_string(&node.config).unwrap();
        config.push_str("[flags]\nfever_celsius = 38.0\n");
        std::fs::write(&node.config, config).unwrap();
        let (ok, out) = carecall(&node.config, &["reload"]);
        assert!(ok, "the reload passes: {out}");

        assert_eq!(
            staff_report_at_37_8(&node, &token, "73920561").await,
            ("none".to_owned(), 38.0),
            "a report staff enter after the reload is assessed with the reloaded rule"
        );
        assert_eq!(
            simulated_37_8(&node).await,
            (380, "none".to_owned()),
            "a simulator session after the reload is assessed with the reloaded rule"
        );
    });
}
