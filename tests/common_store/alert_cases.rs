//! Red-report alerts on both backends: the outbox in the store, and the worker posting to a
//! real HTTP receiver on 127.0.0.1 (an axum server, which is hyper's).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use carecall::alert::{Alerts, WebhookUrl};
use carecall::config::AlertConfig;
use carecall::report::Flag;
use carecall::store::{
    AlertStatus, AnswerValue, AttemptResult, Channel, ReportId, Store, StoreError,
};
use tokio::sync::mpsc;

use super::{at, import_three, patient, Db};

/// A report of 11110001 (Minato) on Health Call; with a fever when `red`.
async fn report(store: &Store, red: bool) -> ReportId {
    let p = patient(store, "11110001", "0415").await;
    let r = store
        .start_report(p, Channel::HealthCall, Some("call-1"), None, at(100))
        .await
        .unwrap();
    let tenths = if red { 384 } else { 365 };
    store
        .store_answer(
            r,
            "temperature",
            AnswerValue::TemperatureTenths(tenths),
            at(110),
        )
        .await
        .unwrap();
    r
}

pub async fn red_reports_are_enqueued_once_and_every_attempt_is_recorded(db: Db) {
    import_three(&db.store).await;
    let store = &db.store;
    let calm = report(store, false).await;
    assert_eq!(
        store.enqueue_alert_if_red(calm, at(111)).await.unwrap(),
        None
    );
    assert_eq!(store.alert_for_report(calm).await.unwrap(), None);
    let missing = store.enqueue_alert_if_red(ReportId(99_999), at(111)).await;
    assert!(
        matches!(missing, Err(StoreError::UnknownReport(_))),
        "{missing:?}"
    );

    let red = report(store, true).await;
    let id = store
        .enqueue_alert_if_red(red, at(120))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.enqueue_alert_if_red(red, at(121)).await.unwrap(),
        None,
        "one alert per report"
    );
    assert_eq!(store.next_alert_due().await.unwrap(), Some(at(120)));

    let lease = Duration::from_secs(30);
    let due = store.claim_due_alerts(at(120), lease, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let a = &due[0];
    assert_eq!((a.id, a.report, a.attempt), (id, red, 1));
    assert_eq!(a.hersys_id.expose(), "11110001");
    assert_eq!(
        (a.health_center.as_str(), a.channel),
        ("Minato", Channel::HealthCall)
    );
    assert_eq!(
        (a.flag, a.flag_reasons.clone()),
        (Flag::Red, vec!["fever".to_string()])
    );
    assert_eq!((a.created_at, a.complete), (at(120), false));
    assert!(
        store
            .claim_due_alerts(at(121), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "held by the lease"
    );

    let failed = AttemptResult::Failed {
        http_status: Some(500),
        error: "HTTP 500".into(),
        retry_at: Some(at(125)),
    };
    store
        .record_alert_attempt(id, 1, at(122), &failed)
        .await
        .unwrap();
    let again = store.record_alert_attempt(id, 1, at(122), &failed).await;
    assert!(again.is_err(), "an attempt is recorded once");
    assert!(store
        .claim_due_alerts(at(124), lease, 10)
        .await
        .unwrap()
        .is_empty());
    let due = store.claim_due_alerts(at(125), lease, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.attempt).collect::<Vec<_>>(), [2]);
    let delivered = AttemptResult::Delivered { http_status: 204 };
    store
        .record_alert_attempt(id, 2, at(126), &delivered)
        .await
        .unwrap();

    // Another store instance (after a restart) sees the whole history.
    let other = Store::open(&db.url).await.unwrap();
    let record = other.alert_for_report(red).await.unwrap().unwrap();
    other.close().await;
    assert_eq!(
        (record.id, record.status, record.attempts),
        (id, AlertStatus::Delivered, 2)
    );
    assert_eq!(
        (record.delivered_at, record.last_error),
        (Some(at(126)), None)
    );
    let tried: Vec<_> = record
        .deliveries
        .iter()
        .map(|d| (d.attempt, d.at, d.http_status, d.error.as_deref()))
        .collect();
    assert_eq!(
        tried,
        [
            (1, at(122), Some(500), Some("HTTP 500")),
            (2, at(126), Some(204), None)
        ]
    );
    assert_eq!(store.next_alert_due().await.unwrap(), None);
    assert!(store
        .claim_due_alerts(at(999), lease, 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn an_alert_whose_node_died_is_claimed_again_and_a_last_failure_gives_up(db: Db) {
    import_three(&db.store).await;
    let red = report(&db.store, true).await;
    let id = db
        .store
        .enqueue_alert_if_red(red, at(120))
        .await
        .unwrap()
        .unwrap();
    let lease = Duration::from_secs(30);
    assert_eq!(
        db.store
            .claim_due_alerts(at(120), lease, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    // The node dies without recording; after the lease another one takes the alert.
    let other = Store::open(&db.url).await.unwrap();
    assert!(other
        .claim_due_alerts(at(149), lease, 1)
        .await
        .unwrap()
        .is_empty());
    let retaken = other.claim_due_alerts(at(150), lease, 1).await.unwrap();
    assert_eq!(
        retaken
            .iter()
            .map(|d| (d.id, d.attempt))
            .collect::<Vec<_>>(),
        [(id, 1)]
    );
    let last = AttemptResult::Failed {
        http_status: None,
        error: "connection refused".into(),
        retry_at: None,
    };
    other
        .record_alert_attempt(id, 1, at(151), &last)
        .await
        .unwrap();
    other.close().await;
    let record = db.store.alert_for_report(red).await.unwrap().unwrap();
    assert_eq!(record.status, AlertStatus::Failed);
    assert_eq!(record.last_error.as_deref(), Some("connection refused"));
    assert_eq!(record.delivered_at, None);
    assert!(db
        .store
        .claim_due_alerts(at(9999), lease, 1)
        .await
        .unwrap()
        .is_empty());
}

/// What the receiver saw: the body, the `Idempotency-Key` and `Authorization` headers.
type Received = (serde_json::Value, String, String);

/// An HTTP receiver on 127.0.0.1 that answers `statuses` in turn (200 once they are used up)
/// and sends every request it gets down the channel.
async fn receiver(statuses: &[u16]) -> (WebhookUrl, mpsc::UnboundedReceiver<Received>) {
    type Shared = (Mutex<Vec<u16>>, mpsc::UnboundedSender<Received>);
    async fn hook(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> StatusCode {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
        let _ =
            s.1.send((json, header("idempotency-key"), header("authorization")));
        let next = s.0.lock().unwrap().pop().unwrap_or(200);
        StatusCode::from_u16(next).unwrap()
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let queue: Vec<u16> = statuses.iter().rev().copied().collect();
    let shared = Arc::new((Mutex::new(queue), tx));
    let app = axum::Router::new()
        .route("/hooks/red", axum::routing::post(hook))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = WebhookUrl::parse(&format!("http://{addr}/hooks/red")).unwrap();
    (url, rx)
}

fn config(url: WebhookUrl, max_attempts: u32) -> AlertConfig {
    AlertConfig {
        webhook: Some(url),
        timeout: Duration::from_secs(2),
        max_attempts,
        first_retry: Duration::from_millis(200),
        token: None,
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>, within: Duration) -> Received {
    match tokio::time::timeout(within, rx.recv()).await {
        Ok(Some(r)) => r,
        _ => panic!("the receiver got nothing within {within:?}"),
    }
}

/// Waits (up to 5 s) until the report's alert is no longer pending.
async fn settled(store: &Store, report: ReportId) -> carecall::store::AlertRecord {
    let start = Instant::now();
    loop {
        let record = store.alert_for_report(report).await.unwrap();
        match record {
            Some(r) if r.status != AlertStatus::Pending => return r,
            _ if start.elapsed() > Duration::from_secs(5) => panic!("still pending: {record:?}"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

pub async fn the_webhook_receives_a_red_report_within_a_second(db: Db) {
    capture_logs();
    import_three(&db.store).await;
    let (url, mut rx) = receiver(&[]).await;
    let with_token = AlertConfig {
        token: Some(carecall::pii::Redacted::new("s3cret-token".into())),
        ..config(url, 3)
    };
    let alerts = Alerts::spawn(db.store.clone(), &with_token);
    assert!(alerts.is_enabled());
    let calm = report(&db.store, false).await;
    assert_eq!(
        alerts.notify(calm).await.unwrap(),
        None,
        "not red: no alert"
    );
    let red = report(&db.store, true).await;
    let started = Instant::now();
    let id = alerts.notify(red).await.unwrap().unwrap();
    let (body, key, auth) = next(&mut rx, Duration::from_secs(1)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(auth, "Bearer s3cret-token");
    assert_eq!(body["type"], "carecall.report.red");
    assert_eq!(
        (body["alert_id"].as_i64(), body["report_id"].as_i64()),
        (Some(id.0), Some(red.0))
    );
    assert_eq!(
        (&body["hersys_id"], &body["health_center"]),
        (&"11110001".into(), &"Minato".into())
    );
    assert_eq!(
        (&body["flag"], &body["flag_reasons"]),
        (&"red".into(), &serde_json::json!(["fever"]))
    );
    assert_eq!(body["attempt"], 1);
    assert!(
        body["red_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{body}"
    );
    assert_eq!(key, format!("carecall-alert-{}", id.0));
    assert_eq!(alerts.notify(red).await.unwrap(), None, "enqueued once");

    let record = settled(&db.store, red).await;
    assert_eq!(
        (record.status, record.attempts),
        (AlertStatus::Delivered, 1)
    );
    assert_eq!(record.deliveries[0].http_status, Some(200));
    alerts.shutdown().await;
    assert!(rx.try_recv().is_err(), "posted once");
    assert_no_personal_data_logged();
}

pub async fn a_failed_delivery_is_retried_until_the_receiver_accepts(db: Db) {
    capture_logs();
    import_three(&db.store).await;
    let (url, mut rx) = receiver(&[500, 503]).await;
    let alerts = Alerts::spawn(db.store.clone(), &config(url, 5));
    let red = report(&db.store, true).await;
    alerts.notify(red).await.unwrap().unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (body, key, auth) = next(&mut rx, Duration::from_secs(3)).await;
        assert_eq!(auth, "", "no token configured: no Authorization header");
        seen.push((
            body["attempt"].as_u64().unwrap(),
            body["report_id"].as_i64(),
            key,
        ));
    }
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(
        seen.iter().all(|s| s.1 == Some(red.0) && s.2 == seen[0].2),
        "the same alert"
    );
    let record = settled(&db.store, red).await;
    assert_eq!(
        (record.status, record.attempts),
        (AlertStatus::Delivered, 3)
    );
    let statuses: Vec<_> = record.deliveries.iter().map(|d| d.http_status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
    assert_eq!(record.deliveries[0].error.as_deref(), Some("HTTP 500"));
    let gap = record.deliveries[2]
        .at
        .duration_since(record.deliveries[1].at)
        .unwrap();
    assert!(
        gap >= Duration::from_millis(390),
        "backoff doubles: {gap:?}"
    );
    alerts.shutdown().await;
    assert_no_personal_data_logged();
}

pub async fn an_unreachable_webhook_is_given_up_after_the_last_attempt(db: Db) {
    capture_logs();
    import_three(&db.store).await;
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let url = WebhookUrl::parse(&format!("http://{addr}/hook")).unwrap();
    let alerts = Alerts::spawn(db.store.clone(), &config(url, 2));
    let red = report(&db.store, true).await;
    alerts.notify(red).await.unwrap().unwrap();
    let record = settled(&db.store, red).await;
    assert_eq!((record.status, record.attempts), (AlertStatus::Failed, 2));
    let given_up = carecall::alert::ALERT_COUNTERS
        .given_up
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(given_up >= 1, "counted for /metrics");
    assert!(record.deliveries.iter().all(|d| d.http_status.is_none()));
    let error = record.last_error.unwrap_or_default();
    assert!(error.contains("onnect"), "{error}");
    alerts.shutdown().await;
    assert_no_personal_data_logged();
}

pub async fn alerts_left_pending_are_delivered_after_a_restart(db: Db) {
    import_three(&db.store).await;
    let red = report(&db.store, true).await;
    // Enqueued by a run that stopped before delivering.
    db.store
        .enqueue_alert_if_red(red, at(120))
        .await
        .unwrap()
        .unwrap();
    let (url, mut rx) = receiver(&[]).await;
    let alerts = Alerts::spawn(db.store.clone(), &config(url, 3));
    let (body, _, _) = next(&mut rx, Duration::from_secs(1)).await;
    assert_eq!(body["report_id"].as_i64(), Some(red.0));
    assert_eq!(body["red_at"], "2025-05-01T00:02:00.000Z");
    assert_eq!(settled(&db.store, red).await.status, AlertStatus::Delivered);
    alerts.shutdown().await;

    let disabled = Alerts::disabled();
    assert_eq!(disabled.notify(red).await.unwrap(), None);
    disabled.shutdown().await;
}

/// Every log line of this test binary, kept to check no personal data reached one.
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends every log line (all levels) to [`LOGS`].
fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = LogBuffer(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    });
}

fn assert_no_personal_data_logged() {
    let logs = LOGS
        .get()
        .map(|l| l.lock().unwrap().clone())
        .unwrap_or_default();
    let logs = String::from_utf8_lossy(&logs);
    assert!(
        logs.contains("alert delivered") || logs.contains("alert delivery failed"),
        "{logs}"
    );
    for secret in [
        "11110001",
        "11110002",
        "11110003",
        "Sato Hanako",
        "s3cret-token",
    ] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
}
