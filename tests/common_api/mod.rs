//! Staff API test harness: the real HTTP server (`carecall::http::HttpServer`) on a loopback
//! socket over a fresh store of each backend (see tests/common_store), a small HTTP client,
//! accounts of two health centres and an admin, and every log line of the process captured
//! at `trace` so a test can assert that no personal data reached it.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use carecall::config::Config;
use carecall::http::secret::hash_password;
use carecall::http::{EngineLinks, HttpServer};
use carecall::report::Date;
use carecall::store::{NewStaff, Role, Store};

use crate::common_store::Db;

/// The password of every test account.
pub const PASSWORD: &str = "correct horse battery";

/// A running API over a test store, with a token per account.
pub struct Env {
    pub store: Store,
    pub server: HttpServer,
    pub api: Api,
    pub config: Config,
    /// Bearer token of `admin` (every centre).
    pub admin: Cred,
    /// Bearer token of `minato` (staff of Minato).
    pub minato: Cred,
    /// Bearer token of `shinjuku` (staff of Shinjuku).
    pub shinjuku: Cred,
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Cred {
    None,
    Bearer(String),
    Cookie {
        session: String,
        csrf: Option<String>,
    },
}

/// A response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A plain HTTP/1 client for one server.
pub struct Api {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Api {
    pub fn new(addr: std::net::SocketAddr) -> Api {
        Api {
            base: format!("http://{addr}"),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends `method path` with `cred` and an optional body of `content_type`.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        cred: &Cred,
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(format!("{}{path}", self.base));
        match cred {
            Cred::None => {}
            Cred::Bearer(t) => req = req.header("authorization", format!("Bearer {t}")),
            Cred::Cookie { session, csrf } => {
                req = req.header("cookie", format!("carecall_session={session}"));
                if let Some(c) = csrf {
                    req = req.header("x-csrf-token", c);
                }
            }
        }
        let bytes = match body {
            Some((ctype, b)) => {
                req = req.header("content-type", ctype);
                b
            }
            None => Vec::new(),
        };
        let response = self
            .client
            .request(req.body(Full::new(Bytes::from(bytes))).unwrap())
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, cred: &Cred) -> Resp {
        self.send("GET", path, cred, None).await
    }

    pub async fn post(&self, path: &str, cred: &Cred, body: &Value) -> Resp {
        let b = serde_json::to_vec(body).unwrap();
        self.send("POST", path, cred, Some(("application/json", b)))
            .await
    }

    pub async fn patch(&self, path: &str, cred: &Cred, body: &Value) -> Resp {
        let b = serde_json::to_vec(body).unwrap();
        self.send("PATCH", path, cred, Some(("application/json", b)))
            .await
    }

    pub async fn post_csv(&self, path: &str, cred: &Cred, csv: &str) -> Resp {
        self.send(
            "POST",
            path,
            cred,
            Some(("text/csv", csv.as_bytes().to_vec())),
        )
        .await
    }

    /// Logs in for a bearer token.
    pub async fn token(&self, username: &str, password: &str) -> Cred {
        let body = serde_json::json!({ "username": username, "password": password });
        let r = self.post("/api/v1/auth/token", &Cred::None, &body).await;
        assert_eq!(r.status, 200, "login {username}: {}", r.text());
        Cred::Bearer(r.json()["token"].as_str().unwrap().to_string())
    }
}

/// Starts the API over `db` with accounts `admin` (every centre), `minato` and `shinjuku`.
pub async fn env(db: &Db) -> Env {
    capture_logs();
    let text = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\n[store]\nurl = \"{}\"\n",
        db.url.replace('"', "\\\"")
    );
    let config = Config::parse(&text, Path::new("api-test.toml")).expect("test config");
    let store = db.store.clone();
    let hash = tokio::task::spawn_blocking(|| hash_password(PASSWORD).unwrap())
        .await
        .unwrap();
    let minato = store.create_centre("Minato").await.unwrap();
    let shinjuku = store.create_centre("Shinjuku").await.unwrap();
    for (username, role, centre) in [
        ("admin", Role::Admin, None),
        ("minato", Role::Staff, Some(minato.id)),
        ("shinjuku", Role::Staff, Some(shinjuku.id)),
    ] {
        let new = NewStaff {
            username: username.into(),
            password_hash: hash.clone(),
            role,
            centre,
        };
        store
            .create_staff(&new, carecall::clock::wall_now())
            .await
            .unwrap();
    }
    let server = HttpServer::start(config.clone(), store.clone(), EngineLinks::default())
        .await
        .expect("HTTP server starts");
    server.set_ready(true);
    let api = Api::new(server.local_addr());
    let admin = api.token("admin", PASSWORD).await;
    let minato = api.token("minato", PASSWORD).await;
    let shinjuku = api.token("shinjuku", PASSWORD).await;
    Env {
        store,
        server,
        api,
        config,
        admin,
        minato,
        shinjuku,
    }
}

impl Env {
    /// Today in the schedule's zone, shifted by `days`.
    pub fn day(&self, days: i64) -> Date {
        let today = self.config.schedule.local(carecall::clock::wall_now()).0;
        Date::from_days_since_epoch(today.days_since_epoch() + days).unwrap()
    }

    /// The id of the patient with this HER-SYS ID, as `token` lists it.
    pub async fn patient_id(&self, cred: &Cred, hersys_id: &str) -> i64 {
        let r = self
            .api
            .get(&format!("/api/v1/patients?q={hersys_id}"), cred)
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let list = r.json();
        let found = list["patients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["hersys_id"] == hersys_id)
            .unwrap_or_else(|| panic!("patient not listed: {list}"));
        found["id"].as_i64().unwrap()
    }
}

static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a JSON subscriber at `trace` (with the engine's own caps) writing into a buffer.
pub fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_writer(|| Capture)
            .with_env_filter(carecall::runtime::telemetry::filter(Some("trace"), "trace"))
            .try_init();
    });
}

/// Every log line captured so far in this process.
pub fn log_lines() -> Vec<String> {
    String::from_utf8_lossy(&LOG.lock().unwrap())
        .lines()
        .map(String::from)
        .collect()
}

/// Fails if any captured log line holds one of `secrets` as a standalone token.
pub fn assert_no_personal_data(secrets: &[&str]) {
    let lines = log_lines();
    assert!(!lines.is_empty(), "logging was captured");
    for line in &lines {
        for secret in secrets {
            assert!(
                !contains_standalone(line, secret),
                "personal data {secret:?} in log line: {line}"
            );
        }
    }
}

/// Whether `secret` occurs in `line` not inside a longer run of letters or digits.
pub fn contains_standalone(line: &str, secret: &str) -> bool {
    let bytes = line.as_bytes();
    line.match_indices(secret).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + secret.len()).copied();
        let joins = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
        !joins(before) && !joins(after)
    })
}

/// Checks `r` is a 2xx, showing the body otherwise.
pub fn ok(r: &Resp) {
    assert!(
        (200..300).contains(&r.status),
        "status {}: {}",
        r.status,
        r.text()
    );
}

/// The value of header `name`.
pub fn header<'a>(r: &'a Resp, name: &str) -> Option<&'a str> {
    r.headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
}
