//! The flow simulator over a real WebSocket: a small axum server on 127.0.0.1 with the
//! simulator's socket and audio handlers, and the minimal RFC 6455 client of
//! `tests/common/ws.rs` on raw tokio TCP.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::get;
use carecall::config::Config;
use carecall::report::FlagRules;
use carecall::runtime::Assets;
use carecall::simulator::{ws, SimContext};
use serde_json::json;

use common::ws::{http_get, WsClient};

async fn server() -> std::net::SocketAddr {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut config = Config::defaults();
    config.prompts_dir = root.join("prompts");
    config.dialplans_dir = root.join("dialplans");
    let assets = Assets::load(&config).unwrap_or_else(|e| panic!("{e}"));
    let ctx = Arc::new(SimContext::new(&assets, FlagRules::default(), "/sim/audio"));
    let app = axum::Router::new()
        .route("/sim/ws", get(ws::socket_route))
        .route("/sim/audio/{lang}/{file}", get(ws::prompt_audio))
        .with_state(ctx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Acts like the page: plays every prompt to its end, presses the next scripted key when the
/// flow waits for one, and lets the timer run out once the script is used up.
#[tokio::test]
async fn a_whole_health_call_over_a_real_websocket() {
    let addr = server().await;
    let mut page = WsClient::connect(addr, "/sim/ws").await;
    let hello = page.recv().await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["dialplans"], json!(["automatic_call", "health_call"]));
    let demo = &hello["demo_identity"];
    let (id, birthday) = (
        demo["hersys_id"].as_str().unwrap(),
        demo["birthday"].as_str(),
    );
    let id_keys = format!("{id}#");
    let mut script: Vec<&str> = vec!["1", &id_keys, birthday.unwrap(), "372", "1", "98#", "1"];
    script.extend(["2"; 10]);
    let mut keys = script.concat().chars().collect::<Vec<_>>().into_iter();

    page.send(json!({"type": "start", "dialplan": "health_call", "language": "ja"}))
        .await;
    let (mut play, mut prompts, mut answers) = (0, Vec::new(), Vec::new());
    let mut outcome = None;
    let mut audio = None;
    for _ in 0..200 {
        let events = page.batch().await;
        for e in &events {
            match e["type"].as_str() {
                Some("play") => {
                    play = e["play"].as_u64().unwrap();
                    for p in e["prompts"].as_array().unwrap() {
                        prompts.push(p["id"].as_str().unwrap().to_string());
                        assert!(!p["text"].as_str().unwrap().is_empty(), "{p}");
                        audio.get_or_insert_with(|| p["audio"].as_str().unwrap().to_string());
                    }
                }
                Some("answer") => answers.push((e["question"].clone(), e["value"].clone())),
                Some("hangup") => outcome = Some(e["outcome"].clone()),
                Some("error") => panic!("{e}"),
                _ => {}
            }
        }
        let status = events.last().unwrap();
        if status["ended"] == true {
            break;
        }
        let message = if status["playing"] == true {
            json!({"type": "playback_done", "play": play})
        } else if let Some(k) = keys.next() {
            json!({"type": "key", "key": k.to_string()})
        } else {
            assert!(status["timeout_ms"].as_u64().is_some(), "{status}");
            json!({"type": "timeout"})
        };
        page.send(message).await;
    }
    assert_eq!(outcome, Some(json!("completed")));
    assert_eq!(answers.len(), 12, "{answers:?}");
    assert_eq!(answers[0], (json!("temperature"), json!("37.2")));
    assert_eq!(answers[1], (json!("spo2"), json!("98")));
    assert_eq!(prompts.first().map(String::as_str), Some("hc_welcome"));
    assert_eq!(prompts.last().map(String::as_str), Some("closing"));
    assert!(prompts.contains(&"hc_recorded".to_string()));

    let audio = audio.unwrap();
    assert_eq!(audio, "/sim/audio/ja/hc_welcome.wav");
    let (head, wav) = http_get(addr, &audio).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: audio/wav"),
        "{head}"
    );
    assert_eq!(&wav[0..4], b"RIFF");
    let (head, _) = http_get(addr, "/sim/audio/ja/no_such_prompt.wav").await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let (head, _) = http_get(addr, "/sim/audio/xx/hc_welcome.wav").await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
}

#[tokio::test]
async fn bad_messages_get_an_error_and_the_connection_stays_usable() {
    let addr = server().await;
    let mut page = WsClient::connect(addr, "/sim/ws").await;
    assert_eq!(page.recv().await["type"], "hello");
    page.send(json!({"type": "key", "key": "1"})).await;
    assert_eq!(page.batch().await[0]["type"], "error");
    page.send(json!({"type": "start", "dialplan": "x", "language": "ja"}))
        .await;
    let error = page.batch().await;
    assert!(error[0]["message"]
        .as_str()
        .unwrap()
        .contains("no dialplan"));
    page.send(json!({"type": "start", "dialplan": "automatic_call", "language": "pt"}))
        .await;
    let events = page.batch().await;
    assert_eq!(events[0]["type"], "play");
    assert_eq!(events[0]["prompts"][0]["lang"], "pt");
    page.send(json!({"type": "hangup"})).await;
    let events = page.batch().await;
    assert_eq!(events[0], json!({"type": "hangup", "outcome": "abandoned"}));
    assert_eq!(events[1]["ended"], true);
}
