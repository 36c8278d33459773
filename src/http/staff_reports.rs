//! Reports staff take by phone (`POST /api/v1/patients/{id}/reports`): each answer checked
//! per question, stored like a call's, a red one alerting the centre like one from a call.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::clock;
use crate::report::{AnswerValue, Channel, Flag, Symptom, QUESTION_ORDER};

use super::auth::Auth;
use super::error::FieldErrors;
use super::extract::{JsonBody, Path};
use super::patients::find;
use super::{ApiError, AppState, Problem};

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
    // Assessed with the flag rules in use now (a reload's, once one passed), like a new call.
    let store = state.assessing_store();
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
