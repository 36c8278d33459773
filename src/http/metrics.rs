//! `/metrics` (Prometheus text format, SPEC §13 names), `/healthz` and `/readyz`.
//!
//! Call figures come from the engine's call events (a task folds them into counters);
//! store failures and scheduler figures from the runtime's counters. Labels are of low
//! cardinality only: direction, disposition, DTMF method, route template, status class.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;

use crate::call::Direction;
use crate::clock;
use crate::rtp::DigitMethod;
use crate::runtime::CallEvent;
use crate::sip::outcome::Disposition;

use super::AppState;

/// Store failures seen by the staff API (added to `carecall_store_errors_total`).
pub static HTTP_STORE_ERRORS: AtomicU64 = AtomicU64::new(0);

/// Call duration histogram bounds, seconds.
const DURATION_BOUNDS: [f64; 9] = [1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0];

/// Call and HTTP figures folded from events and requests.
#[derive(Debug, Default)]
pub struct CallMetrics {
    inner: Mutex<Figures>,
}

#[derive(Debug, Default)]
struct Figures {
    /// Calls started and not yet ended: direction and start.
    active: HashMap<u64, (Direction, Instant)>,
    calls: BTreeMap<(&'static str, &'static str), u64>,
    digits: BTreeMap<&'static str, u64>,
    duration_buckets: [u64; DURATION_BOUNDS.len()],
    duration_count: u64,
    duration_sum: f64,
    http: BTreeMap<(String, &'static str, &'static str), u64>,
    lagged: u64,
}

/// Folds the engine's call events into the metrics until the engine stops.
pub(super) async fn collect(state: AppState, mut events: broadcast::Receiver<CallEvent>) {
    loop {
        match events.recv().await {
            Ok(event) => state.inner.metrics.record(event, clock::now()),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                if let Ok(mut f) = state.inner.metrics.inner.lock() {
                    f.lagged += n;
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

impl CallMetrics {
    fn record(&self, event: CallEvent, now: Instant) {
        let Ok(mut f) = self.inner.lock() else { return };
        match event {
            CallEvent::Started { call, direction } => {
                f.active.insert(call, (direction, now));
            }
            CallEvent::Answered { .. } => {}
            CallEvent::Digit { digit, .. } => {
                *f.digits.entry(digit.method.label()).or_default() += 1;
            }
            CallEvent::Ended {
                call, disposition, ..
            } => {
                let Some((direction, started)) = f.active.remove(&call) else {
                    return;
                };
                *f.calls
                    .entry((direction.label(), disposition.label()))
                    .or_default() += 1;
                let secs = now.duration_since(started).as_secs_f64();
                for (i, bound) in DURATION_BOUNDS.iter().enumerate() {
                    if secs <= *bound {
                        f.duration_buckets[i] += 1;
                    }
                }
                f.duration_count += 1;
                f.duration_sum += secs;
            }
        }
    }
}

/// Counts each request by route template, method and status class.
pub(super) async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PATCH" => "PATCH",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        _ => "other",
    };
    let response = next.run(request).await;
    let class = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    tracing::debug!(route = %route, method, status = response.status().as_u16(), "staff API request");
    if let Ok(mut f) = state.inner.metrics.inner.lock() {
        *f.http.entry((route, method, class)).or_default() += 1;
    }
    response
}

/// `GET /healthz`: the process serves HTTP.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: 200 when the engine has started and the store answers, else 503.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if !state.inner.ready.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "engine not started\n").into_response();
    }
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            HTTP_STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, "readiness: store unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable\n").into_response()
        }
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = render(&state);
    text.push_str(&backlog(&state).await);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `carecall_slot_backlog_calls{slot}`: today's slot calls whose next attempt has not
/// started (a store query per scrape; a failure is counted and leaves the family empty).
async fn backlog(state: &AppState) -> String {
    let mut out = String::from(
        "# HELP carecall_slot_backlog_calls Calls of today's slots whose next attempt has not started.\n\
         # TYPE carecall_slot_backlog_calls gauge\n",
    );
    let now = clock::wall_now();
    let today = state.config().schedule.local(now).0;
    match crate::runtime::scheduler::day_plan(state.store(), state.config(), today, now).await {
        Ok((_, slots)) => {
            for b in slots {
                let _ = writeln!(
                    out,
                    "carecall_slot_backlog_calls{{slot=\"{}\"}} {}",
                    b.slot.time, b.not_started
                );
            }
        }
        Err(e) => {
            HTTP_STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %e, "metrics: slot backlog unavailable");
        }
    }
    out
}

fn render(state: &AppState) -> String {
    let mut out = String::new();
    let family = |name: &str, kind: &str, help: &str, out: &mut String| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        "carecall_build_info",
        "gauge",
        "Build version and git revision.",
        &mut out,
    );
    let _ = writeln!(
        out,
        "carecall_build_info{{version=\"{}\",revision=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        env!("CARECALL_GIT_REVISION")
    );
    family(
        "carecall_up_ready",
        "gauge",
        "1 when the engine has started (see /readyz).",
        &mut out,
    );
    let ready = state.inner.ready.load(Ordering::SeqCst);
    let _ = writeln!(out, "carecall_up_ready {}", u8::from(ready));
    if let Ok(f) = state.inner.metrics.inner.lock() {
        family(
            "carecall_calls_active",
            "gauge",
            "Calls up or being set up.",
            &mut out,
        );
        for direction in [Direction::Inbound, Direction::Outbound] {
            let n = f.active.values().filter(|(d, _)| *d == direction).count();
            let _ = writeln!(
                out,
                "carecall_calls_active{{direction=\"{}\"}} {n}",
                direction.label()
            );
        }
        family(
            "carecall_calls_total",
            "counter",
            "Call legs ended, by direction and disposition.",
            &mut out,
        );
        for direction in [Direction::Inbound, Direction::Outbound].map(Direction::label) {
            for disposition in Disposition::ALL.map(Disposition::label) {
                let n = f.calls.get(&(direction, disposition)).copied().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "carecall_calls_total{{direction=\"{direction}\",disposition=\"{disposition}\"}} {n}"
                );
            }
        }
        family(
            "carecall_call_duration_seconds",
            "histogram",
            "Call leg duration.",
            &mut out,
        );
        for (bound, n) in DURATION_BOUNDS.iter().zip(f.duration_buckets) {
            let _ = writeln!(
                out,
                "carecall_call_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "carecall_call_duration_seconds_bucket{{le=\"+Inf\"}} {}\ncarecall_call_duration_seconds_sum {}\ncarecall_call_duration_seconds_count {}",
            f.duration_count, f.duration_sum, f.duration_count
        );
        family(
            "carecall_dtmf_digits_total",
            "counter",
            "Digits received, by method.",
            &mut out,
        );
        let methods = [
            DigitMethod::Rfc4733,
            DigitMethod::SipInfo,
            DigitMethod::Inband,
        ];
        for method in methods.map(DigitMethod::label) {
            let n = f.digits.get(method).copied().unwrap_or(0);
            let _ = writeln!(out, "carecall_dtmf_digits_total{{method=\"{method}\"}} {n}");
        }
        family(
            "carecall_call_events_lagged_total",
            "counter",
            "Call events the metrics missed (figures above may undercount).",
            &mut out,
        );
        let _ = writeln!(out, "carecall_call_events_lagged_total {}", f.lagged);
        family(
            "carecall_http_requests_total",
            "counter",
            "Staff API requests, by route, method and status class.",
            &mut out,
        );
        for ((route, method, class), n) in &f.http {
            let _ = writeln!(
                out,
                "carecall_http_requests_total{{route=\"{route}\",method=\"{method}\",class=\"{class}\"}} {n}"
            );
        }
    }
    let store_errors = crate::runtime::STORE_ERRORS.load(Ordering::Relaxed)
        + HTTP_STORE_ERRORS.load(Ordering::Relaxed)
        + crate::runtime::scheduler::STATS
            .store_errors
            .load(Ordering::Relaxed);
    family(
        "carecall_store_errors_total",
        "counter",
        "Report store operations that failed.",
        &mut out,
    );
    let _ = writeln!(out, "carecall_store_errors_total {store_errors}");
    family(
        "carecall_http_faults_total",
        "counter",
        "Staff API requests answered 500 for a server fault other than the store's.",
        &mut out,
    );
    let faults = super::error::HTTP_FAULTS.load(Ordering::Relaxed);
    let _ = writeln!(out, "carecall_http_faults_total {faults}");
    let stats = &crate::runtime::scheduler::STATS;
    for (name, help, counter) in [
        (
            "carecall_attempts_claimed_total",
            "Automatic-call attempts claimed by this node.",
            &stats.claimed,
        ),
        (
            "carecall_attempts_dialled_total",
            "Automatic-call attempts dialled by this node.",
            &stats.dialled,
        ),
        (
            "carecall_attempts_cancelled_total",
            "Claimed attempts cancelled by the last check.",
            &stats.cancelled,
        ),
        (
            "carecall_attempts_released_total",
            "Claimed attempts given back (quiet hours, no trunk).",
            &stats.released,
        ),
        (
            "carecall_attempts_missed_total",
            "Attempts whose window closed before they started.",
            &stats.missed,
        ),
        (
            "carecall_journal_appends_total",
            "Report entries the store did not take in time, journalled on this node.",
            &crate::store::JOURNAL_APPENDS,
        ),
        (
            "carecall_journal_replayed_total",
            "Journalled entries written to the store.",
            &crate::store::JOURNAL_REPLAYED,
        ),
        (
            "carecall_journal_rejected_total",
            "Journalled entries the store refused for good, set aside in <journal>.rejected.",
            &crate::store::JOURNAL_REJECTED,
        ),
        (
            "carecall_journal_unreadable_total",
            "Journal lines that could not be read back (cut short by a crash mid-append).",
            &crate::store::JOURNAL_UNREADABLE,
        ),
    ] {
        family(name, "counter", help, &mut out);
        let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
    }
    let alerts = &crate::alert::ALERT_COUNTERS;
    family(
        "carecall_alert_attempts_total",
        "counter",
        "Red-report webhook deliveries attempted, by result.",
        &mut out,
    );
    for (result, counter) in [("delivered", &alerts.delivered), ("failed", &alerts.failed)] {
        let n = counter.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "carecall_alert_attempts_total{{result=\"{result}\"}} {n}"
        );
    }
    family(
        "carecall_alerts_given_up_total",
        "counter",
        "Red-report alerts whose last allowed delivery failed.",
        &mut out,
    );
    let n = alerts.given_up.load(Ordering::Relaxed);
    let _ = writeln!(out, "carecall_alerts_given_up_total {n}");
    super::metrics_engine::render(state.engine(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::{Digit, DigitEvent};
    use std::time::Duration;

    #[test]
    fn call_events_fold_into_active_totals_digits_and_durations() {
        let m = CallMetrics::default();
        let t0 = Instant::now();
        m.record(
            CallEvent::Started {
                call: 1,
                direction: Direction::Inbound,
            },
            t0,
        );
        m.record(
            CallEvent::Started {
                call: 2,
                direction: Direction::Outbound,
            },
            t0,
        );
        let digit = DigitEvent {
            digit: Digit::Num(5),
            method: DigitMethod::Rfc4733,
        };
        m.record(CallEvent::Digit { call: 1, digit }, t0);
        {
            let f = m.inner.lock().unwrap();
            assert_eq!(f.active.len(), 2);
            assert_eq!(f.digits.get("rfc4733"), Some(&1));
        }
        let ended = CallEvent::Ended {
            call: 1,
            disposition: Disposition::Answered,
            sip_status: 200,
        };
        m.record(ended.clone(), t0 + Duration::from_secs(42));
        m.record(ended, t0 + Duration::from_secs(43));
        let f = m.inner.lock().unwrap();
        assert_eq!(
            f.active.len(),
            1,
            "an ended call is no longer active; a repeat is ignored"
        );
        assert_eq!(f.calls.get(&("inbound", "answered")), Some(&1));
        assert_eq!((f.duration_count, f.duration_sum), (1, 42.0));
        assert_eq!(
            f.duration_buckets[..5],
            [0, 0, 0, 0, 1],
            "42 s falls in le=60 and above"
        );
    }
}
