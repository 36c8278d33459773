//! Report handlers: today's list (red, then amber, then the rest, with the latest
//! temperature and SpO2), non-reporters, one patient's last days for the table and charts,
//! CSV or JSON export, and a report staff took by phone (channel `staff`).

use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock;
use crate::report::date::{Date, LocalTime};
use crate::report::export::{write_csv, write_json};
use crate::report::{AnswerValue, Flag, ReportExport};
use crate::store::{Day, DayRow, PatientId};

use super::auth::Auth;
use super::error::Fault;
use super::extract::{Path, Query};
use super::patients::{csv_response, find, today};
use super::{utc, ApiError, AppState, Problem};

/// The days of one patient's view.
pub const PATIENT_DAYS: i64 = 10;

/// `?date=YYYY-MM-DD` (default today in the schedule's zone).
#[derive(Debug, Default, Deserialize)]
pub struct DateQuery {
    date: Option<String>,
}

/// `GET /api/v1/reports/today`.
pub async fn today_list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<DateQuery>,
) -> Result<Json<Value>, ApiError> {
    let day = day_of(&state, q.date.as_deref(), "date")?;
    let rows = state.store().day_overview(auth.scope(), day).await?;
    let ids: Vec<PatientId> = rows.iter().map(|r| r.patient).collect();
    auth.audit(
        &state,
        "report.today",
        &ids,
        &format!("{} shown", ids.len()),
    )
    .await?;
    let items: Vec<Value> = rows.iter().map(day_row_json).collect();
    Ok(Json(json!({
        "date": day.date.to_string(),
        "thresholds": thresholds(&state),
        "patients": items,
    })))
}

/// `GET /api/v1/reports/non-reporters`: patients under observation on the day with no
/// complete report that day (a patient outside their period is not expected to report).
pub async fn non_reporters(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<DateQuery>,
) -> Result<Json<Value>, ApiError> {
    let day = day_of(&state, q.date.as_deref(), "date")?;
    let rows: Vec<DayRow> = state
        .store()
        .day_overview(auth.scope(), day)
        .await?
        .into_iter()
        .filter(|r| !r.reported && !r.outside_period)
        .collect();
    let ids: Vec<PatientId> = rows.iter().map(|r| r.patient).collect();
    auth.audit(
        &state,
        "report.non_reporters",
        &ids,
        &format!("{} shown", ids.len()),
    )
    .await?;
    let items: Vec<Value> = rows.iter().map(day_row_json).collect();
    Ok(Json(
        json!({ "date": day.date.to_string(), "patients": items }),
    ))
}

/// `?days=N&until=YYYY-MM-DD` of one patient's view (default 10 days up to today).
#[derive(Debug, Default, Deserialize)]
pub struct DaysQuery {
    days: Option<i64>,
    until: Option<String>,
}

/// `GET /api/v1/patients/{id}/reports`: the last days, one summary per day and every report,
/// each marked `outside_period` when its day is outside the patient's observation period.
pub async fn patient_days(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<DaysQuery>,
) -> Result<Json<Value>, ApiError> {
    let record = find(&state, &auth, id).await?;
    let days = q.days.unwrap_or(PATIENT_DAYS);
    if !(1..=90).contains(&days) {
        return Err(ApiError::field("days", Problem::DAYS));
    }
    let last = day_of(&state, q.until.as_deref(), "until")?;
    let first_date = Date::from_days_since_epoch(last.date.days_since_epoch() - days + 1)
        .ok_or_else(|| ApiError::field("until", Problem::OUT_OF_RANGE))?;
    let since = day_start(&state, first_date);
    let reports = state
        .store()
        .scoped_reports(auth.scope(), Some(record.id), since, last.end)
        .await?;
    auth.audit(
        &state,
        "report.patient",
        &[record.id],
        &format!("{days} days"),
    )
    .await?;
    let zone = &state.config().schedule;
    let (first, last_day) = record.fields.observation;
    let outside = |date: Date| date < first || date > last_day;
    let mut summaries = Vec::new();
    for n in 0..days {
        let Some(date) = Date::from_days_since_epoch(first_date.days_since_epoch() + n) else {
            continue;
        };
        let of_day: Vec<&ReportExport> = reports
            .iter()
            .filter(|r| zone.local(r.started_at).0 == date)
            .collect();
        summaries.push(day_summary(date, &of_day, outside(date)));
    }
    let mut listed = reports_json(&reports)?;
    if let Value::Array(items) = &mut listed {
        for (item, r) in items.iter_mut().zip(&reports) {
            let date = zone.local(r.started_at).0;
            item["date"] = json!(date.to_string());
            item["outside_period"] = json!(outside(date));
            item["items"] = answer_items(r);
        }
    }
    Ok(Json(json!({
        "patient_id": record.id.0,
        "from": first_date.to_string(),
        "to": last.date.to_string(),
        "thresholds": thresholds(&state),
        "days": summaries,
        "reports": listed,
    })))
}

/// `?since=&until=` (dates, local) and `format=csv|json` of the export.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    since: Option<String>,
    until: Option<String>,
    format: Option<String>,
}

/// `GET /api/v1/reports/export`: the reports of the caller's centre, CSV (default) or JSON in
/// the `reports export` formats.
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let since = match q.since.as_deref() {
        Some(d) => day_start(&state, parse_date(d, "since")?),
        None => SystemTime::UNIX_EPOCH,
    };
    let until = match q.until.as_deref() {
        Some(d) => day_of(&state, Some(d), "until")?.end,
        None => clock::wall_now() + Duration::from_secs(24 * 3600),
    };
    let csv = match q.format.as_deref() {
        None | Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(ApiError::field("format", Problem::FORMAT)),
    };
    let reports = state
        .store()
        .scoped_reports(auth.scope(), None, since, until)
        .await?;
    let mut ids: Vec<i64> = Vec::new();
    let patients = state.store().all_patient_records(auth.scope()).await?;
    for r in &reports {
        if let Some(p) = patients
            .iter()
            .find(|p| p.fields.hersys_id == *r.hersys_id.expose())
        {
            if !ids.contains(&p.id.0) {
                ids.push(p.id.0);
            }
        }
    }
    let ids: Vec<PatientId> = ids.into_iter().map(PatientId).collect();
    auth.audit(
        &state,
        "report.export",
        &ids,
        &format!("{} reports", reports.len()),
    )
    .await?;
    let mut out = Vec::new();
    if csv {
        write_csv(&reports, &state.config().time_zone(), &mut out)
            .map_err(|_| ApiError::Internal(Fault::Export))?;
        Ok(csv_response(out, "reports.csv"))
    } else {
        Ok(Json(reports_json(&reports)?).into_response())
    }
}

/// One day of a patient's view: the worst flag, the highest temperature, the lowest SpO2, and
/// whether the day is outside the patient's observation period.
fn day_summary(date: Date, reports: &[&ReportExport], outside_period: bool) -> Value {
    let flag = reports.iter().map(|r| r.flag).max();
    let values = reports
        .iter()
        .flat_map(|r| r.answers.iter().map(|a| a.value));
    let mut temperature: Option<u16> = None;
    let mut spo2: Option<u8> = None;
    for v in values {
        match v {
            AnswerValue::TemperatureTenths(t) => temperature = temperature.max(Some(t)),
            AnswerValue::Spo2(Some(s)) => spo2 = Some(spo2.map_or(s, |m| m.min(s))),
            _ => {}
        }
    }
    json!({
        "date": date.to_string(),
        "reports": reports.len(),
        "reported": reports.iter().any(|r| r.complete),
        "outside_period": outside_period,
        "flag": flag.map(Flag::label),
        "temperature_max": temperature.map(|t| f64::from(t) / 10.0),
        "spo2_min": spo2,
    })
}

/// Every answer of a report in SPEC order as `{question, value, state}`: `state` tells an
/// answer (`answered`) from SpO2 `not_measured` and `unanswered` (no valid input), which the
/// export's `answers` object both writes as null.
fn answer_items(report: &ReportExport) -> Value {
    let items: Vec<Value> = report
        .answers
        .iter()
        .map(|a| {
            let (value, state) = match a.value {
                AnswerValue::TemperatureTenths(t) => (json!(f64::from(t) / 10.0), "answered"),
                AnswerValue::Spo2(Some(s)) => (json!(s), "answered"),
                AnswerValue::Spo2(None) => (Value::Null, "not_measured"),
                AnswerValue::Symptom(s) => (json!(s.label()), "answered"),
                AnswerValue::YesNo(b) => (json!(if b { "yes" } else { "no" }), "answered"),
                AnswerValue::Unanswered => (Value::Null, "unanswered"),
            };
            json!({ "question": a.question, "value": value, "state": state })
        })
        .collect();
    Value::Array(items)
}

fn day_row_json(r: &DayRow) -> Value {
    json!({
        "patient_id": r.patient.0,
        "hersys_id": r.hersys_id.expose(),
        "name": r.name.expose(),
        "flag": r.flag.map(Flag::label),
        "flag_reasons": r.flag_reasons,
        "reported": r.reported,
        "outside_period": r.outside_period,
        "reports": r.reports,
        "temperature": r.temperature.map(|t| json!({ "value": f64::from(t.value) / 10.0, "at": utc(t.at) })),
        "spo2": r.spo2.map(|s| json!({ "value": s.value, "at": utc(s.at) })),
    })
}

fn reports_json(reports: &[ReportExport]) -> Result<Value, ApiError> {
    let mut out = Vec::new();
    write_json(reports, &mut out).map_err(|_| ApiError::Internal(Fault::Export))?;
    serde_json::from_slice(&out).map_err(|_| ApiError::Internal(Fault::Export))
}

/// The flag thresholds in use now (a reload's, once one passed), for drawing them into charts.
fn thresholds(state: &AppState) -> Value {
    let rules = state.flag_rules();
    json!({
        "fever_celsius": f64::from(rules.fever_tenths) / 10.0,
        "spo2_at_or_below": rules.spo2_at_or_below,
        "spo2_with_breathlessness_below": rules.spo2_with_breathlessness_below,
    })
}

fn parse_date(text: &str, field: &str) -> Result<Date, ApiError> {
    text.parse()
        .map_err(|_| ApiError::field(field, Problem::DATE))
}

/// The local day `text` (today when `None`) with its UTC bounds.
fn day_of(state: &AppState, text: Option<&str>, field: &str) -> Result<Day, ApiError> {
    let date = match text {
        Some(t) => parse_date(t, field)?,
        None => today(state),
    };
    let next = Date::from_days_since_epoch(date.days_since_epoch() + 1)
        .ok_or_else(|| ApiError::field(field, Problem::OUT_OF_RANGE))?;
    Ok(Day {
        date,
        start: day_start(state, date),
        end: day_start(state, next),
    })
}

fn day_start(state: &AppState, date: Date) -> SystemTime {
    let midnight = LocalTime::new(0, 0).unwrap_or_else(|| unreachable!("00:00 is a time"));
    state.config().schedule.instant(date, midnight)
}
