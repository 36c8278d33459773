//! Call handlers over the scheduler's store API: ask for a call now, a patient's call
//! history (every attempt and its outcome), the day's slot backlog, and this node's live
//! calls.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock;
use crate::report::date::Date;
use crate::report::Slot;
use crate::runtime::scheduler::{day_plan, CALL_NOW_WINDOW};
use crate::runtime::LiveList;
use crate::store::AttemptRow;

use super::auth::Auth;
use super::extract::{Path, Query};
use super::patients::{find, today};
use super::{utc, ApiError, AppState, Problem};

/// `POST /api/v1/patients/{id}/calls`: one call now, ahead of slot calls, placed by a node
/// with `automatic_calls` on within 15 minutes (the scheduler's last check still applies:
/// calling off, outside the periods or a blocked number cancel it).
pub async fn call_now(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let record = find(&state, &auth, id).await?;
    let now = clock::wall_now();
    let (date, time) = state.config().schedule.local(now);
    let attempt = state
        .store()
        .request_call_now(record.id, Slot { date, time }, now, CALL_NOW_WINDOW)
        .await?;
    auth.audit(
        &state,
        "call.request",
        &[record.id],
        &format!("attempt {}", attempt.0),
    )
    .await?;
    let out = json!({
        "attempt_id": attempt.0,
        "state": "pending",
        "open_until": utc(now + CALL_NOW_WINDOW),
    });
    Ok((StatusCode::ACCEPTED, Json(out)).into_response())
}

/// `?limit=N` (default 100, at most 1000).
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    limit: Option<u32>,
}

/// `GET /api/v1/patients/{id}/calls`: attempts, newest first.
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let record = find(&state, &auth, id).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state.store().patient_attempts(record.id, limit).await?;
    auth.audit(
        &state,
        "call.history",
        &[record.id],
        &format!("{} attempts", rows.len()),
    )
    .await?;
    let items: Vec<Value> = rows.iter().map(attempt_json).collect();
    Ok(Json(
        json!({ "patient_id": record.id.0, "attempts": items }),
    ))
}

/// `?date=YYYY-MM-DD` (local; default today).
#[derive(Debug, Default, Deserialize)]
pub struct BacklogQuery {
    date: Option<String>,
}

/// `GET /api/v1/calls/backlog`: each slot of the day with its progress and expected finish
/// (counts only, across every centre: the trunks are shared).
pub async fn backlog(
    State(state): State<AppState>,
    _auth: Auth,
    Query(q): Query<BacklogQuery>,
) -> Result<Json<Value>, ApiError> {
    let date = match q.date.as_deref() {
        Some(d) => d
            .parse::<Date>()
            .map_err(|_| ApiError::field("date", Problem::DATE))?,
        None => today(&state),
    };
    let (_, slots) = day_plan(state.store(), state.config(), date, clock::wall_now()).await?;
    let items: Vec<Value> = slots
        .iter()
        .map(|b| {
            json!({
                "slot": b.slot.time.to_string(),
                "at": utc(b.at),
                "window_end": utc(b.window_end),
                "calls": b.calls,
                "not_started": b.not_started,
                "never_called": b.never_called,
                "active": b.active,
                "completed": b.completed,
                "cancelled": b.cancelled,
                "unreached": b.unreached,
                "missed": b.missed,
                "expected_finish": b.expected_finish.map(utc),
                "expected_missed": b.expected_missed,
                "overruns": b.overruns(),
            })
        })
        .collect();
    Ok(Json(json!({
        "date": date.to_string(),
        "time_zone": state.config().schedule.time_zone_name(),
        "call_times": state.store().options().call_times.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "slots": items,
    })))
}

/// `GET /api/v1/calls/active`: this node's live calls (direction, dialplan, step, trunk,
/// answered, start, duration; no personal data), for any logged-in staff member.
pub async fn active(State(state): State<AppState>, _auth: Auth) -> Json<LiveList> {
    Json(match state.engine() {
        Some(engine) => engine.live_calls(),
        None => LiveList {
            node_id: state.config().calls.node_id.clone(),
            calls: Vec::new(),
        },
    })
}

fn attempt_json(r: &AttemptRow) -> Value {
    json!({
        "attempt_id": r.id.0,
        "slot_date": r.attempt.slot.date.to_string(),
        "slot_time": r.attempt.slot.time.to_string(),
        "attempt": r.attempt.number,
        "manual": r.attempt.manual,
        "due_at": utc(r.attempt.due_at),
        "state": r.attempt.state.label(),
        "outcome": r.attempt.state.outcome_label(),
        "call_id": r.attempt.state.call_id(),
        "finished_at": r.attempt.state.finished_at().map(utc),
    })
}
