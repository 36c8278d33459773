//! The flow simulator over a real WebSocket: a small axum server on 127.0.0.1 with the
//! simulator's socket and audio handlers, and a minimal RFC 6455 client written here on raw
//! tokio TCP (axum has no WebSocket client; the few lines below avoid a dependency).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use carecall::config::Config;
use carecall::report::FlagRules;
use carecall::runtime::Assets;
use carecall::simulator::{ws, SimContext};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

/// A WebSocket client: the opening handshake, masked text frames out, unmasked frames in.
struct WsClient {
    tcp: TcpStream,
}

impl WsClient {
    async fn connect(addr: std::net::SocketAddr, path: &str) -> WsClient {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        // RFC 6455 §1.3's example key has this accept value.
        assert!(
            head.to_ascii_lowercase()
                .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
            "{head}"
        );
        WsClient { tcp }
    }

    async fn send(&mut self, message: Value) {
        let payload = message.to_string().into_bytes();
        let mask: [u8; 4] = rand::random();
        let mut frame = vec![0x81];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.tcp.write_all(&frame).await.unwrap();
    }

    async fn recv(&mut self) -> Value {
        let read = async {
            let mut head = [0u8; 2];
            self.tcp.read_exact(&mut head).await.unwrap();
            assert_eq!(head[0], 0x81, "one unfragmented text frame per event");
            assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
            let len = match head[1] & 0x7f {
                126 => u64::from(self.tcp.read_u16().await.unwrap()),
                127 => self.tcp.read_u64().await.unwrap(),
                n => u64::from(n),
            };
            let mut payload = vec![0u8; len as usize];
            self.tcp.read_exact(&mut payload).await.unwrap();
            serde_json::from_slice(&payload).unwrap()
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("an event within 5 s")
    }

    /// Events up to and including the next `status`.
    async fn batch(&mut self) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.recv().await;
            let last = matches!(event["type"].as_str(), Some("status" | "error"));
            events.push(event);
            if last {
                return events;
            }
        }
    }
}

async fn read_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    String::from_utf8(head).unwrap()
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let head = read_head(&mut tcp).await;
    let mut body = Vec::new();
    tcp.read_to_end(&mut body).await.unwrap();
    (head, body)
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
