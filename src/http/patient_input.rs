//! Checking a patient body from the API, field by field, into [`PatientFields`].
//!
//! Every problem is collected and reported under its field name (422), so a form can mark
//! each wrong input at once. Messages never repeat the value.

use serde_json::{Map, Value};

use crate::lang::Language;
use crate::report::date::{Date, LocalTime};
use crate::store::{normalise_phone, PatientFields};

use super::error::FieldErrors;
use super::Problem;

/// The longest observation period accepted, in days (first to last day inclusive).
pub const MAX_OBSERVATION_DAYS: i64 = 90;

/// The fields a patient body may hold.
pub const PATIENT_FIELDS: [&str; 14] = [
    "hersys_id",
    "name",
    "birthday",
    "phone",
    "language",
    "call_times",
    "observation_start",
    "observation_end",
    "call_start",
    "call_end",
    "auto_call",
    "risk",
    "health_center",
    "id",
];

/// A checked body: the fields, and the centre name when one was given.
#[derive(Debug)]
pub struct CheckedPatient {
    /// The resulting fields.
    pub fields: PatientFields,
    /// `health_center`, if present.
    pub centre: Option<String>,
}

/// Checks a new patient. `allowed` are the configured call times; `today` bounds birthdays.
pub fn check_new(
    body: &Map<String, Value>,
    allowed: &[LocalTime],
    today: Date,
) -> Result<CheckedPatient, FieldErrors> {
    let mut errors = FieldErrors::new();
    for required in [
        "hersys_id",
        "name",
        "birthday",
        "phone",
        "language",
        "observation_start",
        "observation_end",
    ] {
        if body.get(required).is_none_or(Value::is_null) {
            errors.insert(required.into(), Problem::REQUIRED);
        }
    }
    let placeholder = Date::new(2000, 1, 1).unwrap_or(today);
    let base = PatientFields {
        hersys_id: String::new(),
        name: String::new(),
        birthday: placeholder,
        phone: String::new(),
        language: Language::Ja,
        call_times: Vec::new(),
        observation: (placeholder, placeholder),
        call_period: None,
        auto_call: false,
        risk: String::new(),
    };
    apply(base, body, allowed, today, errors, true)
}

/// Checks a change to `current`: only the fields present in `body` change. `hersys_id`
/// cannot change.
pub fn check_update(
    current: &PatientFields,
    body: &Map<String, Value>,
    allowed: &[LocalTime],
    today: Date,
) -> Result<CheckedPatient, FieldErrors> {
    let mut errors = FieldErrors::new();
    if let Some(v) = body.get("hersys_id") {
        if v.as_str() != Some(current.hersys_id.as_str()) {
            errors.insert("hersys_id".into(), Problem::IMMUTABLE);
        }
    }
    apply(current.clone(), body, allowed, today, errors, false)
}

fn apply(
    mut f: PatientFields,
    body: &Map<String, Value>,
    allowed: &[LocalTime],
    today: Date,
    mut errors: FieldErrors,
    new: bool,
) -> Result<CheckedPatient, FieldErrors> {
    let mut bad = |field: &str, problem: Problem| {
        errors.entry(field.into()).or_insert(problem);
    };
    for key in body.keys() {
        if !PATIENT_FIELDS.contains(&key.as_str()) {
            bad(key, Problem::UNKNOWN_FIELD);
        }
    }
    let text = |key: &str| body.get(key).filter(|v| !v.is_null()).map(|v| v.as_str());
    if new {
        if let Some(v) = text("hersys_id") {
            match v {
                Some(id)
                    if (4..=16).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    f.hersys_id = id.to_string()
                }
                _ => bad("hersys_id", Problem::HERSYS_ID),
            }
        }
    }
    if let Some(v) = text("name") {
        match v.map(str::trim) {
            Some(n) if !n.is_empty() && n.chars().count() <= 200 => f.name = n.to_string(),
            _ => bad("name", Problem::NAME),
        }
    }
    let date = |key: &str, bad: &mut dyn FnMut(&str, Problem)| -> Option<Option<Date>> {
        match body.get(key) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(v) => match v.as_str().map(str::parse::<Date>) {
                Some(Ok(d)) => Some(Some(d)),
                _ => {
                    bad(key, Problem::DATE);
                    None
                }
            },
        }
    };
    if let Some(Some(d)) = date("birthday", &mut bad) {
        if d > today {
            bad("birthday", Problem::IN_FUTURE);
        } else if d.year() < 1900 {
            bad("birthday", Problem::BEFORE_1900);
        } else {
            f.birthday = d;
        }
    }
    if let Some(v) = text("phone") {
        match v.and_then(normalise_phone) {
            Some(p) => f.phone = p,
            None => bad("phone", Problem::PHONE),
        }
    }
    if let Some(v) = text("language") {
        match v.map(str::parse::<Language>) {
            Some(Ok(l)) => f.language = l,
            _ => bad("language", Problem::LANGUAGE),
        }
    }
    if let Some(v) = body.get("call_times") {
        match call_times(v, allowed) {
            Ok(times) => f.call_times = times,
            Err(problem) => bad("call_times", problem),
        }
    }
    if let Some(Some(d)) = date("observation_start", &mut bad) {
        f.observation.0 = d;
    }
    if let Some(Some(d)) = date("observation_end", &mut bad) {
        f.observation.1 = d;
    }
    let start = date("call_start", &mut bad);
    let end = date("call_end", &mut bad);
    let current = f.call_period;
    let start = start.unwrap_or(current.map(|p| p.0));
    let end = end.unwrap_or(current.map(|p| p.1));
    f.call_period = match (start, end) {
        (Some(s), Some(e)) => Some((s, e)),
        (None, None) => None,
        (Some(_), None) => {
            bad("call_end", Problem::CALL_END_NEEDED);
            None
        }
        (None, Some(_)) => {
            bad("call_start", Problem::CALL_START_NEEDED);
            None
        }
    };
    if let Some(v) = body.get("auto_call") {
        match v.as_bool() {
            Some(b) => f.auto_call = b,
            None => bad("auto_call", Problem::BOOLEAN),
        }
    }
    if let Some(v) = body.get("risk") {
        match v {
            Value::Null => f.risk = String::new(),
            Value::String(s) if s.chars().count() <= 500 => f.risk = s.trim().to_string(),
            _ => bad("risk", Problem::TEXT),
        }
    }
    let centre = match body.get("health_center") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(_) => {
            bad("health_center", Problem::CENTRE_NAME);
            None
        }
    };
    check_periods(&f, &mut bad);
    if f.auto_call && f.call_times.is_empty() {
        bad("call_times", Problem::CALL_TIME_NEEDED);
    }
    if errors.is_empty() {
        Ok(CheckedPatient { fields: f, centre })
    } else {
        Err(errors)
    }
}

/// Observation period in order and not too long; the call period inside it.
fn check_periods(f: &PatientFields, bad: &mut dyn FnMut(&str, Problem)) {
    let (start, end) = f.observation;
    if end < start {
        bad("observation_end", Problem::BEFORE_OBSERVATION_START);
    } else if end.days_since_epoch() - start.days_since_epoch() + 1 > MAX_OBSERVATION_DAYS {
        bad("observation_end", Problem::PERIOD_TOO_LONG);
    }
    if let Some((cs, ce)) = f.call_period {
        if ce < cs {
            bad("call_end", Problem::BEFORE_CALL_START);
        }
        if cs < start || cs > end {
            bad("call_start", Problem::OUTSIDE_OBSERVATION);
        }
        if ce < start || ce > end {
            bad("call_end", Problem::OUTSIDE_OBSERVATION);
        }
    }
}

/// A list of configured `HH:MM` times, each at most once, returned in day order.
fn call_times(v: &Value, allowed: &[LocalTime]) -> Result<Vec<LocalTime>, Problem> {
    let choices: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    let wrong = || Problem::call_times(&choices);
    let Value::Array(items) = v else {
        return Err(wrong());
    };
    let mut times = Vec::new();
    for item in items {
        let time = item
            .as_str()
            .and_then(|s| s.parse::<LocalTime>().ok())
            .filter(|t| allowed.contains(t) && !times.contains(t))
            .ok_or_else(wrong)?;
        times.push(time);
    }
    times.sort_unstable();
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slots() -> Vec<LocalTime> {
        ["09:00", "11:00", "14:00", "16:00"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect()
    }

    fn today() -> Date {
        "2025-05-01".parse().unwrap()
    }

    fn new(body: Value) -> Result<CheckedPatient, FieldErrors> {
        check_new(body.as_object().unwrap(), &slots(), today())
    }

    fn good() -> Value {
        json!({
            "hersys_id": "12345678", "name": "Sato Hanako", "birthday": "1950-04-15",
            "phone": "03-1234-5678", "language": "ja", "call_times": ["14:00", "09:00"],
            "observation_start": "2025-05-01", "observation_end": "2025-05-10",
            "auto_call": true, "health_center": "Minato"
        })
    }

    #[test]
    fn a_good_body_is_normalised() {
        let c = new(good()).unwrap();
        assert_eq!(c.fields.phone, "0312345678");
        let times: Vec<String> = c.fields.call_times.iter().map(|t| t.to_string()).collect();
        assert_eq!(times, ["09:00", "14:00"]);
        assert_eq!(c.centre.as_deref(), Some("Minato"));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut body = good();
        body["call_times"] = json!(["10:00"]);
        body["phone"] = json!("call me");
        body["birthday"] = json!("2030-01-01");
        body["observation_end"] = json!("2025-04-01");
        body["colour"] = json!("red");
        let errors = new(body).unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "birthday",
                "call_times",
                "colour",
                "observation_end",
                "phone"
            ]
        );
        assert!(errors["call_times"]
            .message()
            .contains("09:00, 11:00, 14:00, 16:00"));
        let missing = new(json!({})).unwrap_err();
        assert_eq!(missing.len(), 7, "{missing:?}");
    }

    #[test]
    fn periods_must_make_sense() {
        let mut body = good();
        body["call_start"] = json!("2025-05-03");
        let e = new(body.clone()).unwrap_err();
        assert_eq!(e["call_end"], Problem::CALL_END_NEEDED);
        body["call_end"] = json!("2025-05-20");
        let e = new(body.clone()).unwrap_err();
        assert_eq!(e["call_end"], Problem::OUTSIDE_OBSERVATION);
        body["call_end"] = json!("2025-05-05");
        assert!(new(body.clone()).is_ok());
        body["observation_end"] = json!("2025-12-31");
        assert!(new(body.clone()).unwrap_err()["observation_end"].code() == "period_too_long");
        let mut body = good();
        body["call_times"] = json!(["09:00", "09:00"]);
        assert!(new(body.clone()).is_err());
        body["call_times"] = json!([]);
        assert!(new(body).unwrap_err()["call_times"] == Problem::CALL_TIME_NEEDED);
    }

    #[test]
    fn an_update_changes_only_what_is_given() {
        let current = new(good()).unwrap().fields;
        let body = json!({ "call_times": ["16:00"], "auto_call": false });
        let c = check_update(&current, body.as_object().unwrap(), &slots(), today()).unwrap();
        assert_eq!(c.fields.call_times, vec!["16:00".parse().unwrap()]);
        assert!(!c.fields.auto_call);
        assert_eq!(c.fields.name, current.name);
        let body = json!({ "hersys_id": "99999999" });
        let e = check_update(&current, body.as_object().unwrap(), &slots(), today()).unwrap_err();
        assert_eq!(e["hersys_id"], Problem::IMMUTABLE);
    }
}
