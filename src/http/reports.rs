//! Report handlers: today's list (red, then amber, then the rest, with the latest
//! temperature and SpO2), non-reporters, one patient's last days for the table and charts,
//! CSV or JSON export, and a report staff took by phone (channel `staff`).

use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::clock;
use crate::report::date::{Date, LocalTime};
use crate::report::export::{write_csv, write_json};
use crate::report::{AnswerValue, Channel, Flag, ReportExport, Symptom, QUESTION_ORDER};
use crate::store::{Day, DayRow, PatientId};

use super::auth::Auth;
use super::error::{Fault, FieldErrors};
use super::extract::{JsonBody, Path, Query};
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

/// `GET /api/v1/patients/{id}/reports`: the last days, one summary per day and every report.
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
    let mut summaries = Vec::new();
    for n in 0..days {
        let Some(date) = Date::from_days_since_epoch(first_date.days_since_epoch() + n) else {
            continue;
        };
        let of_day: Vec<&ReportExport> = reports
            .iter()
            .filter(|r| zone.local(r.started_at).0 == date)
            .collect();
        summaries.push(day_summary(date, &of_day));
    }
    let mut listed = reports_json(&reports)?;
    if let Value::Array(items) = &mut listed {
        for (item, r) in items.iter_mut().zip(&reports) {
            item["date"] = json!(zone.local(r.started_at).0.to_string());
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

/// `POST /api/v1/patients/{id}/reports`: `{"answers": {QUESTION: VALUE…}, "complete": bool}`.
/// Temperature in °C (30.0–45.0), SpO2 in % (50–100, or null for not measured), `callback`
/// yes/no, the other SPEC questions yes/no/unknown; null marks a question unanswered.
pub async fn create_staff_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let record = find(&state, &auth, id).await?;
    let (answers, complete) = check_staff_report(&body).map_err(ApiError::Invalid)?;
    let store = state.store();
    let now = clock::wall_now();
    let report = store
        .start_report(record.id, Channel::Staff, None, None, now)
        .await?;
    let mut flag = Flag::None;
    for (question, value) in &answers {
        flag = store
            .store_answer(report, question, *value, now)
            .await?
            .flag;
    }
    if complete {
        store.complete_report(report, now).await?;
    }
    // A red report taken by phone alerts the centre's system like one from a call: the
    // engine's alert worker is woken at once; without one here (a server over the store
    // alone), a worker finds it in the outbox within its poll interval.
    if flag == Flag::Red {
        match state.alerts() {
            Some(alerts) if alerts.is_enabled() => {
                alerts.notify(report).await?;
            }
            _ if state.config().alert.webhook.is_some() => {
                store.enqueue_alert_if_red(report, now).await?;
            }
            _ => {}
        }
    }
    auth.audit(
        &state,
        "report.create",
        &[record.id],
        &format!("{} answers", answers.len()),
    )
    .await?;
    let out = json!({ "report_id": report.0, "flag": flag.label(), "complete": complete });
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// The answers of a staff report body, in SPEC order, and whether it is complete.
fn check_staff_report(
    body: &Map<String, Value>,
) -> Result<(Vec<(String, AnswerValue)>, bool), FieldErrors> {
    let mut errors = FieldErrors::new();
    for key in body.keys() {
        if key != "answers" && key != "complete" {
            errors.insert(key.clone(), Problem::UNKNOWN_FIELD);
        }
    }
    let complete = match body.get("complete") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.insert("complete".into(), Problem::BOOLEAN);
            true
        }
    };
    let mut answers = Vec::new();
    match body.get("answers") {
        Some(Value::Object(given)) if !given.is_empty() => {
            for (question, value) in given {
                let field = format!("answers.{question}");
                match answer(question, value) {
                    Ok(v) => answers.push((question.clone(), v)),
                    Err(problem) => {
                        errors.insert(field, Problem::answer(problem));
                    }
                }
            }
        }
        _ => {
            errors.insert("answers".into(), Problem::ANSWERS);
        }
    }
    answers.sort_by_key(|(q, _)| QUESTION_ORDER.iter().position(|o| o == q));
    if errors.is_empty() {
        Ok((answers, complete))
    } else {
        Err(errors)
    }
}

fn answer(question: &str, v: &Value) -> Result<AnswerValue, &'static str> {
    use crate::domain::{FieldKind, ReportField};
    let Some(field) = ReportField::from_name(question) else {
        return Err("unknown question");
    };
    if v.is_null() && field.kind() != FieldKind::Spo2 {
        return Ok(AnswerValue::Unanswered);
    }
    match field.kind() {
        FieldKind::Temperature => v
            .as_f64()
            .filter(|t| (30.0..=45.0).contains(t))
            .map(|t| AnswerValue::TemperatureTenths((t * 10.0).round() as u16))
            .ok_or("expected degrees Celsius from 30.0 to 45.0"),
        FieldKind::Spo2 => match v {
            Value::Null => Ok(AnswerValue::Spo2(None)),
            v => v
                .as_u64()
                .filter(|s| (50..=100).contains(s))
                .map(|s| AnswerValue::Spo2(Some(s as u8)))
                .ok_or("expected a percentage from 50 to 100, or null when not measured"),
        },
        FieldKind::YesNo => match v {
            Value::Bool(b) => Ok(AnswerValue::YesNo(*b)),
            Value::String(s) if s == "yes" => Ok(AnswerValue::YesNo(true)),
            Value::String(s) if s == "no" => Ok(AnswerValue::YesNo(false)),
            _ => Err("expected yes or no"),
        },
        FieldKind::Symptom => v
            .as_str()
            .and_then(Symptom::from_label)
            .map(AnswerValue::Symptom)
            .ok_or("expected yes, no or unknown"),
    }
}

/// One day of a patient's view: the worst flag, the highest temperature, the lowest SpO2.
fn day_summary(date: Date, reports: &[&ReportExport]) -> Value {
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

/// The flag thresholds, for drawing them into charts.
fn thresholds(state: &AppState) -> Value {
    let rules = &state.config().store_options.flag_rules;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_report_answers_are_checked_per_question() {
        let body = json!({ "answers": {
            "temperature": 38.2, "spo2": null, "cough": "yes", "callback": true, "breath": null
        }});
        let (answers, complete) = check_staff_report(body.as_object().unwrap()).unwrap();
        assert!(complete);
        let order: Vec<&str> = answers.iter().map(|(q, _)| q.as_str()).collect();
        assert_eq!(
            order,
            ["temperature", "spo2", "cough", "breath", "callback"]
        );
        assert!(answers[0].1 == AnswerValue::TemperatureTenths(382));
        assert!(answers[1].1 == AnswerValue::Spo2(None));
        assert!(answers[3].1 == AnswerValue::Unanswered);
        let body =
            json!({ "answers": { "temperature": 52, "spo2": 101, "mood": "ok", "cough": 1 }});
        let errors = check_staff_report(body.as_object().unwrap()).unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "answers.cough",
                "answers.mood",
                "answers.spo2",
                "answers.temperature"
            ]
        );
        assert!(check_staff_report(json!({}).as_object().unwrap()).is_err());
    }
}
