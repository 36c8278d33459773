//! Issue 6 from outside, once on SQLite and once on PostgreSQL: the real `carecall serve` with
//! the real prompts and dialplans; staff accounts made with `carecall staff add` and the admin
//! API; patients imported through the API; a SIPp patient dialling the Health Call line with a
//! fever; a webhook receiver that refuses the first POST. Then, through the staff API with
//! bearer tokens: the Health Call's report is red and first in today's list, a silent patient
//! is a non-reporter, another centre's staff get 404, no credentials get 401, a red report
//! entered by staff reaches the webhook too, and the audit log holds every read. The engine's
//! log, at debug, holds none of the personal data.

mod common;
mod common_api;
mod common_store;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use common::process::{staff_add, temp_dir, Serve};
use common::{free_port, health_call_rfc4733, root, rt, schedule};
use common_api::{contains_standalone, ok, Api, Cred};
use common_store::Kind;

const ADMIN_PASSWORD: &str = "a long admin password";
const STAFF_PASSWORD: &str = "staff password 1";

/// The personal data of the patients below, which must not reach the engine's log.
const SECRETS: [&str; 12] = [
    "73920561",
    "Yamada",
    "1950-04-15",
    "0311112222",
    "64810372",
    "Silva",
    "09033334444",
    "55702183",
    "Smith",
    "08055556666",
    "48151623",
    "Kato",
];

#[test]
fn sqlite() {
    rt().block_on(health_call_to_staff_api_and_webhook(Kind::Sqlite));
}

#[test]
fn postgres() {
    rt().block_on(health_call_to_staff_api_and_webhook(Kind::Postgres));
}

/// Three Minato patients observed from yesterday for a week, and one in Shinjuku.
fn patients_csv(today: jiff::civil::Date) -> String {
    let start = today.yesterday().unwrap();
    let end = today.checked_add(jiff::Span::new().days(6)).unwrap();
    format!(
        "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n\
         73920561,Yamada Hanako,1950-04-15,03-1111-2222,ja,09:00;14:00,{start},{end},true,Minato,age65\n\
         64810372,Maria Silva,1988-07-02,090-3333-4444,pt,11:00,{start},{end},true,Minato,\n\
         55702183,John Smith,1979-12-24,080-5555-6666,en,16:00,{start},{end},false,Minato,\n\
         48151623,Kato Jiro,1955-03-03,0422-12-3456,ja,09:00,{start},{end},true,Shinjuku,\n"
    )
}

async fn health_call_to_staff_api_and_webhook(kind: Kind) {
    let name = format!("{kind:?}").to_lowercase();
    let dir = temp_dir("e2e", &name);
    let (url, pg_admin) = match kind {
        Kind::Sqlite => (
            format!("sqlite://{}", dir.join("carecall.db").display()),
            None,
        ),
        Kind::Postgres => {
            let schema = format!("carecall_e2e_{:016x}", rand::random::<u64>());
            let (url, admin) = common_store::pg_schema(&schema).await;
            (url, Some((schema, admin)))
        }
    };
    // The receiver refuses the first POST; the engine must try again.
    let (hook, posts) = receiver(vec![503]).await;
    let (config, sip, http) = write_config(&dir, &url, hook);
    staff_add(&config, "chief", "admin", None, ADMIN_PASSWORD);
    let serve = Serve::start(&config, dir.join("engine.log"), "carecall=debug,info");
    let run = Run {
        api: Api::new(([127, 0, 0, 1], http).into()),
        sip: ([127, 0, 0, 1], sip).into(),
        dir: dir.clone(),
        name: name.clone(),
        url,
        posts,
    };
    let outcome = tokio::spawn(run.scenario()).await;
    let log = serve.log_text();
    drop(serve);
    if let Some((schema, admin)) = pg_admin {
        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await;
        admin.close().await;
    }
    if let Err(e) = outcome {
        eprintln!("engine log:\n{log}");
        std::panic::resume_unwind(e.into_panic());
    }
    assert!(log.lines().count() > 20, "debug logging was on");
    for line in log.lines() {
        for secret in SECRETS {
            assert!(
                !contains_standalone(line, secret),
                "personal data {secret:?} in the engine's log: {line}"
            );
        }
    }
}

/// A running engine as the test sees it.
struct Run {
    api: Api,
    sip: SocketAddr,
    dir: std::path::PathBuf,
    /// The backend's name, for this run's files.
    name: String,
    url: String,
    posts: mpsc::UnboundedReceiver<Post>,
}

impl Run {
    async fn scenario(mut self) {
        let api = &self.api;
        // Accounts: the admin from `staff add` makes two centres and one staff account each.
        let admin = api.token("chief", ADMIN_PASSWORD).await;
        for centre in ["Minato", "Shinjuku"] {
            let r = api
                .post("/api/v1/admin/centres", &admin, &json!({ "name": centre }))
                .await;
            assert_eq!(r.status, 201, "{}", r.text());
        }
        for (username, centre) in [("sato", "Minato"), ("tanaka", "Shinjuku")] {
            let staff = json!({ "username": username, "password": STAFF_PASSWORD,
                                "role": "staff", "health_center": centre });
            let r = api.post("/api/v1/admin/staff", &admin, &staff).await;
            assert_eq!(r.status, 201, "{}", r.text());
        }
        let sato = api.token("sato", STAFF_PASSWORD).await;
        let tanaka = api.token("tanaka", STAFF_PASSWORD).await;
        let today = jiff::Timestamp::now().in_tz("Asia/Tokyo").unwrap().date();
        // Minato's staff import their three patients; Shinjuku's import theirs.
        let csv = patients_csv(today);
        let (minato_rows, shinjuku_rows): (Vec<&str>, Vec<&str>) =
            csv.lines().skip(1).partition(|l| l.contains(",Minato,"));
        let header = csv.lines().next().unwrap();
        for (cred, rows) in [(&sato, minato_rows), (&tanaka, shinjuku_rows)] {
            let file = format!("{header}\n{}\n", rows.join("\n"));
            ok(&api.post_csv("/api/v1/patients/import", cred, &file).await);
        }

        // Yamada dials in with 38.2 °C, no SpO2 reading, nothing else wrong.
        let keys = schedule(
            "1",
            "73920561",
            "0415",
            &[
                "382", "1", "#", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
            ],
        );
        let limit = Duration::from_secs(120);
        let name = format!("fever-{}", self.name);
        let call = health_call_rfc4733(self.sip, &self.dir, &name, &keys, 90_000, limit);
        let (first, (sipp_ok, sipp_out)) =
            tokio::join!(next_post(&mut self.posts, Duration::from_secs(60)), call);
        // The alert was posted within a second of the report turning red, during the call.
        assert_eq!(first.body["type"], "carecall.report.red");
        assert_eq!(first.body["hersys_id"], "73920561");
        assert_eq!(first.body["health_center"], "Minato");
        assert_eq!(first.body["channel"], "health_call");
        assert_eq!(first.body["flag_reasons"], json!(["fever"]));
        assert_eq!(first.body["attempt"], 1);
        let red_at = instant(&first.body["red_at"]);
        let delay = first.at.duration_since(red_at).unwrap_or_default();
        assert!(
            delay < Duration::from_secs(1),
            "first POST {delay:?} after red"
        );
        assert!(sipp_ok, "Health Call:\n{sipp_out}");
        // It was refused (503), so it came again, with the same idempotency key.
        let second = next_post(&mut self.posts, Duration::from_secs(5)).await;
        assert_eq!(
            second.key, first.key,
            "a retry carries the same Idempotency-Key"
        );
        assert_eq!(second.body["alert_id"], first.body["alert_id"]);
        assert_eq!(second.body["attempt"], 2);
        let gap = second.at.duration_since(first.at).unwrap_or_default();
        assert!(
            gap >= Duration::from_millis(290),
            "retried after first_retry_ms: {gap:?}"
        );

        // Today's list: Yamada first, red, with the temperature keyed on the phone.
        let list = api.get("/api/v1/reports/today", &sato).await;
        ok(&list);
        let list = list.json();
        let rows = list["patients"].as_array().unwrap();
        let ids: Vec<&str> = rows
            .iter()
            .map(|r| r["hersys_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 3, "Minato's three patients only: {ids:?}");
        assert_eq!(rows[0]["hersys_id"], "73920561", "red first: {list:#}");
        assert_eq!(rows[0]["flag"], "red");
        assert_eq!(rows[0]["temperature"]["value"], 38.2);
        assert!(rows[0]["spo2"].is_null() || rows[0]["spo2"]["value"].is_null());
        // Silva and Smith have not reported.
        let silent = api.get("/api/v1/reports/non-reporters", &sato).await.json();
        let mut silent: Vec<&str> = silent["patients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["hersys_id"].as_str().unwrap())
            .collect();
        silent.sort();
        assert_eq!(silent, ["55702183", "64810372"]);
        let yamada = patient_id(api, &sato, "73920561").await;
        let days = api
            .get(&format!("/api/v1/patients/{yamada}/reports"), &sato)
            .await
            .json();
        assert_eq!(days["reports"][0]["channel"], "health_call");
        assert_eq!(days["reports"][0]["complete"], true);
        assert_eq!(
            days["days"].as_array().unwrap().last().unwrap()["flag"],
            "red"
        );

        // Shinjuku's staff cannot see Yamada; nobody without credentials sees anything.
        let other = api
            .get(&format!("/api/v1/patients/{yamada}"), &tanaka)
            .await;
        assert_eq!(
            other.status,
            404,
            "another centre's patient: {}",
            other.text()
        );
        let other = api
            .get(&format!("/api/v1/patients/{yamada}/reports"), &tanaka)
            .await;
        assert_eq!(other.status, 404);
        for path in ["/api/v1/reports/today", "/api/v1/patients"] {
            assert_eq!(api.get(path, &Cred::None).await.status, 401, "{path}");
        }

        // Sato phones Silva, who wants a call back: a red staff report, alerted at once.
        let silva = patient_id(api, &sato, "64810372").await;
        let report = json!({ "answers": { "temperature": 36.8, "spo2": 97, "callback": "yes" },
                             "complete": true });
        let r = api
            .post(&format!("/api/v1/patients/{silva}/reports"), &sato, &report)
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["flag"], "red");
        let entered = SystemTime::now();
        let staff_alert = next_post(&mut self.posts, Duration::from_secs(1)).await;
        assert_eq!(staff_alert.body["hersys_id"], "64810372");
        assert_eq!(staff_alert.body["channel"], "staff");
        assert_ne!(staff_alert.key, first.key);
        let delay = staff_alert.at.duration_since(entered).unwrap_or_default();
        assert!(
            delay < Duration::from_secs(1),
            "staff alert {delay:?} after the report"
        );
        let non_reporters = api.get("/api/v1/reports/non-reporters", &sato).await.json();
        assert_eq!(
            non_reporters["patients"].as_array().unwrap().len(),
            1,
            "only Smith left"
        );

        // Every read of a patient's data is in the audit log, with who read it and what.
        let yamada_reads = audit_actions(api, &admin, &format!("patient_id={yamada}")).await;
        for read in ["report.today", "patient.list", "report.patient"] {
            assert!(
                yamada_reads.contains(&("sato".into(), read.into())),
                "no {read} of Yamada by sato in {yamada_reads:?}"
            );
        }
        assert!(
            !yamada_reads.iter().any(|(who, _)| who == "tanaka"),
            "a 404 shows nothing, so tanaka read nothing of Yamada's: {yamada_reads:?}"
        );
        let silva_reads = audit_actions(api, &admin, &format!("patient_id={silva}")).await;
        for read in ["report.non_reporters", "report.create"] {
            assert!(
                silva_reads.contains(&("sato".into(), read.into())),
                "no {read} of Silva by sato in {silva_reads:?}"
            );
        }
        let by_sato = audit_actions(api, &admin, "username=sato").await;
        assert!(by_sato.contains(&("sato".into(), "patient.import".into())));

        // The store recorded both delivery attempts of the Health Call's alert.
        let store = carecall::store::Store::open(&self.url).await.unwrap();
        let report_id = carecall::store::ReportId(first.body["report_id"].as_i64().unwrap());
        let record = store
            .alert_for_report(report_id)
            .await
            .unwrap()
            .expect("an alert");
        store.close().await;
        let statuses: Vec<Option<u16>> = record.deliveries.iter().map(|a| a.http_status).collect();
        assert_eq!(statuses, [Some(503), Some(200)], "{record:?}");
    }
}

/// The row id of the patient with `hersys_id`, as `cred` lists it.
async fn patient_id(api: &Api, cred: &Cred, hersys_id: &str) -> i64 {
    let list = api
        .get(&format!("/api/v1/patients?q={hersys_id}"), cred)
        .await
        .json();
    list["patients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["hersys_id"] == hersys_id)
        .unwrap_or_else(|| panic!("{hersys_id} not listed: {list}"))["id"]
        .as_i64()
        .unwrap()
}

/// (username, action) of the audit entries matching `query`, newest first.
async fn audit_actions(api: &Api, admin: &Cred, query: &str) -> Vec<(String, String)> {
    let audit = api
        .get(&format!("/api/v1/admin/audit?{query}"), admin)
        .await;
    ok(&audit);
    let audit = audit.json();
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            (text("username"), text("action"))
        })
        .collect()
}

/// The next POST the receiver got, waiting at most `within`.
async fn next_post(posts: &mut mpsc::UnboundedReceiver<Post>, within: Duration) -> Post {
    match tokio::time::timeout(within, posts.recv()).await {
        Ok(Some(post)) => post,
        _ => panic!("the webhook received nothing within {within:?}"),
    }
}

/// An RFC 3339 UTC instant of an alert body.
fn instant(v: &Value) -> SystemTime {
    let t: jiff::Timestamp = v.as_str().expect("a time").parse().expect("RFC 3339");
    SystemTime::from(t)
}

/// One POST the receiver got: when, its `Idempotency-Key` and its JSON body.
#[derive(Debug)]
struct Post {
    at: SystemTime,
    key: String,
    body: Value,
}

/// A webhook receiver on loopback answering `statuses` in turn, then 200; every POST is
/// sent on the channel.
async fn receiver(statuses: Vec<u16>) -> (SocketAddr, mpsc::UnboundedReceiver<Post>) {
    struct Shared {
        statuses: Mutex<Vec<u16>>,
        tx: mpsc::UnboundedSender<Post>,
    }
    async fn hook(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> StatusCode {
        let at = SystemTime::now();
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = serde_json::from_str(&body).unwrap_or(Value::Null);
        let _ = s.tx.send(Post { at, key, body });
        let next = {
            let mut statuses = s.statuses.lock().unwrap();
            (!statuses.is_empty()).then(|| statuses.remove(0))
        };
        StatusCode::from_u16(next.unwrap_or(200)).unwrap()
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        statuses: Mutex::new(statuses),
        tx,
    });
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx)
}

/// Writes the engine's configuration in `dir`: SIP and HTTP on free loopback ports, the store
/// at `url`, no automatic calls, alerts to `hook` with a short first retry.
fn write_config(dir: &Path, url: &str, hook: SocketAddr) -> (std::path::PathBuf, u16, u16) {
    let (sip, http) = (free_port(), free_port());
    let config = dir.join("carecall.toml");
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n\
         [rtp]\nport_min = 50000\nport_max = 54999\n[calls]\nautomatic_calls = false\n\
         [store]\nurl = \"{url}\"\njournal = \"{journal}\"\n[alert]\nwebhook_url = \"http://{hook}/hook\"\n\
         first_retry_ms = 300\nmax_attempts = 5\ntimeout_ms = 2000\n\
         [prompts]\ndir = \"{root}/prompts\"\n[dialplans]\ndir = \"{root}/dialplans\"\n",
        root = root().display(),
        journal = dir.join("carecall.journal").display(),
    );
    std::fs::write(&config, text).unwrap();
    (config, sip, http)
}
