//! Exported reports and their JSON and CSV writers (SPEC §6a `reports export`).
//!
//! Values are written exactly: temperature in °C with one decimal (`365` → `36.5`), SpO2 as an
//! integer or null when not measured, symptoms as `yes`/`no`/`unknown`, `callback` as
//! `yes`/`no`, unanswered items as null (an empty cell in CSV; an SpO2 not measured is
//! `not_measured` there). JSON times are RFC 3339 UTC; CSV times are local in the schedule's
//! zone with their offset; slots are local `YYYY-MM-DD HH:MM`.

use std::collections::BTreeSet;
use std::io;
use std::time::SystemTime;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::date::{epoch_millis, rfc3339_utc};
use super::{AnswerValue, Channel, Flag, Slot, QUESTION_ORDER};
use crate::pii::Redacted;

/// One report as exported, with every stored answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportExport {
    /// The store's report id.
    pub report_id: i64,
    /// The patient's HER-SYS ID.
    pub hersys_id: Redacted<String>,
    /// How the report came in.
    pub channel: Channel,
    /// When the report was started.
    pub started_at: SystemTime,
    /// When it was completed; `None` while incomplete.
    pub completed_at: Option<SystemTime>,
    /// The call slot it answers, if any.
    pub slot: Option<Slot>,
    /// Whether every question was gone through.
    pub complete: bool,
    /// The report's flag.
    pub flag: Flag,
    /// The reason codes of the flag (see `FlagReason::code`).
    pub flag_reasons: Vec<String>,
    /// The answers, in SPEC question order then by id (see [`sort_answers`]).
    pub answers: Vec<ExportedAnswer>,
}

/// One answer of an exported report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedAnswer {
    /// The question id.
    pub question: String,
    /// The confirmed value.
    pub value: AnswerValue,
}

/// A failure while writing an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The JSON writer failed (usually the output stream).
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The CSV writer failed (usually the output stream).
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Flushing the output failed.
    #[error("writing the export: {0}")]
    Io(#[from] io::Error),
}

/// Sorts answers into SPEC §3 order; questions outside it follow, by id.
pub fn sort_answers(answers: &mut [ExportedAnswer]) {
    answers.sort_by(|a, b| rank(&a.question).cmp(&rank(&b.question)));
}

fn rank(question: &str) -> (usize, &str) {
    let known = QUESTION_ORDER.iter().position(|q| *q == question);
    (known.unwrap_or(QUESTION_ORDER.len()), question)
}

/// Writes the reports as one JSON array followed by a newline.
pub fn write_json<W: io::Write>(reports: &[ReportExport], mut out: W) -> Result<(), ExportError> {
    let view: Vec<JsonReport<'_>> = reports.iter().map(JsonReport::from).collect();
    serde_json::to_writer(&mut out, &view)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Writes the reports as CSV with a header. Columns: the report fields, then one column per
/// question: the twelve SPEC questions always, then any other question id found, sorted.
/// Times are local in `zone` with their offset (`2026-12-03T16:05:00+09:00`); an SpO2 the
/// patient did not measure (`#`) is `not_measured`, an unanswered item an empty cell.
pub fn write_csv<W: io::Write>(
    reports: &[ReportExport],
    zone: &jiff::tz::TimeZone,
    out: W,
) -> Result<(), ExportError> {
    let extra: BTreeSet<&str> = reports
        .iter()
        .flat_map(|r| r.answers.iter().map(|a| a.question.as_str()))
        .filter(|q| !QUESTION_ORDER.contains(q))
        .collect();
    let questions: Vec<&str> = QUESTION_ORDER.iter().copied().chain(extra).collect();
    let mut csv = csv::Writer::from_writer(out);
    let head = [
        "report_id",
        "hersys_id",
        "channel",
        "started_at",
        "completed_at",
        "slot",
        "complete",
        "flag",
        "flag_reasons",
    ];
    csv.write_record(head.iter().copied().chain(questions.iter().copied()))?;
    for r in reports {
        let mut row = vec![
            r.report_id.to_string(),
            r.hersys_id.expose().clone(),
            r.channel.label().to_string(),
            local_rfc3339(r.started_at, zone),
            r.completed_at
                .map(|t| local_rfc3339(t, zone))
                .unwrap_or_default(),
            r.slot.map(|s| s.to_string()).unwrap_or_default(),
            r.complete.to_string(),
            r.flag.label().to_string(),
            r.flag_reasons.join(";"),
        ];
        for q in &questions {
            let answer = r.answers.iter().find(|a| a.question == *q);
            row.push(answer.map(|a| csv_value(a.value)).unwrap_or_default());
        }
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
}

/// `t` as local time in `zone` with its offset, to the second: `2026-12-03T16:05:00+09:00`
/// (empty for a time jiff cannot represent).
pub fn local_rfc3339(t: SystemTime, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::try_from(t)
        .map(|ts| {
            ts.to_zoned(zone.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

fn utc(t: SystemTime) -> String {
    epoch_millis(t).map(rfc3339_utc).unwrap_or_default()
}

/// `365` → `36.5`, exactly, by integer arithmetic.
fn celsius(tenths: u16) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// The CSV cell of an SpO2 the patient did not measure (`#` alone).
pub const NOT_MEASURED: &str = "not_measured";

fn csv_value(v: AnswerValue) -> String {
    match v {
        AnswerValue::TemperatureTenths(t) => celsius(t),
        AnswerValue::Spo2(s) => s.map_or(NOT_MEASURED.to_string(), |s| s.to_string()),
        AnswerValue::Symptom(s) => s.label().to_string(),
        AnswerValue::YesNo(b) => if b { "yes" } else { "no" }.to_string(),
        AnswerValue::Unanswered => String::new(),
    }
}

fn json_value(v: AnswerValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        // n / 10.0 is the double nearest the decimal, which serde_json prints shortest: 36.5.
        AnswerValue::TemperatureTenths(t) => Value::from(f64::from(t) / 10.0),
        AnswerValue::Spo2(s) => s.map_or(Value::Null, Value::from),
        AnswerValue::Symptom(s) => Value::from(s.label()),
        AnswerValue::YesNo(b) => Value::from(if b { "yes" } else { "no" }),
        AnswerValue::Unanswered => Value::Null,
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    report_id: i64,
    hersys_id: &'a str,
    channel: &'static str,
    started_at: String,
    completed_at: Option<String>,
    slot: Option<String>,
    complete: bool,
    flag: &'static str,
    flag_reasons: &'a [String],
    answers: JsonAnswers<'a>,
}

impl<'a> From<&'a ReportExport> for JsonReport<'a> {
    fn from(r: &'a ReportExport) -> JsonReport<'a> {
        JsonReport {
            report_id: r.report_id,
            hersys_id: r.hersys_id.expose(),
            channel: r.channel.label(),
            started_at: utc(r.started_at),
            completed_at: r.completed_at.map(utc),
            slot: r.slot.map(|s| s.to_string()),
            complete: r.complete,
            flag: r.flag.label(),
            flag_reasons: &r.flag_reasons,
            answers: JsonAnswers(&r.answers),
        }
    }
}

/// The answers as a JSON object in their stored order.
struct JsonAnswers<'a>(&'a [ExportedAnswer]);

impl Serialize for JsonAnswers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for a in self.0 {
            map.serialize_entry(&a.question, &json_value(a.value))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::date::from_epoch_millis;
    use crate::report::Symptom;

    fn sample() -> ReportExport {
        let answers = [
            ("cough", AnswerValue::Symptom(Symptom::Unknown)),
            ("spo2", AnswerValue::Spo2(None)),
            ("temperature", AnswerValue::TemperatureTenths(365)),
            ("callback", AnswerValue::YesNo(false)),
            ("face", AnswerValue::Unanswered),
            ("mood", AnswerValue::Symptom(Symptom::Yes)),
        ];
        let mut answers: Vec<_> = answers
            .into_iter()
            .map(|(q, value)| ExportedAnswer {
                question: q.into(),
                value,
            })
            .collect();
        sort_answers(&mut answers);
        ReportExport {
            report_id: 7,
            hersys_id: Redacted::new("12345678".into()),
            channel: Channel::HealthCall,
            started_at: from_epoch_millis(1_746_058_354_567),
            completed_at: None,
            slot: Some(Slot {
                date: "2025-05-01".parse().unwrap(),
                time: "09:00".parse().unwrap(),
            }),
            complete: false,
            flag: Flag::Amber,
            flag_reasons: vec!["unanswered:face".into(), "symptom:mood".into()],
            answers,
        }
    }

    #[test]
    fn json_keeps_exact_values_and_order() {
        let mut out = Vec::new();
        write_json(&[sample()], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"[{"report_id":7,"hersys_id":"12345678","channel":"health_call","#,
                r#""started_at":"2025-05-01T00:12:34.567Z","completed_at":null,"#,
                r#""slot":"2025-05-01 09:00","complete":false,"flag":"amber","#,
                r#""flag_reasons":["unanswered:face","symptom:mood"],"answers":{"temperature":36.5,"#,
                r#""spo2":null,"face":null,"cough":"unknown","callback":"no","mood":"yes"}}]"#,
                "\n"
            )
        );
    }

    #[test]
    fn every_temperature_prints_with_one_exact_decimal() {
        for t in 340..=429u16 {
            let want = format!("{}.{}", t / 10, t % 10);
            assert_eq!(
                json_value(AnswerValue::TemperatureTenths(t)).to_string(),
                want
            );
            assert_eq!(csv_value(AnswerValue::TemperatureTenths(t)), want);
        }
    }

    #[test]
    fn csv_has_fixed_question_columns_then_extras() {
        let mut out = Vec::new();
        let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
        write_csv(&[sample()], &tokyo, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "report_id,hersys_id,channel,started_at,completed_at,slot,complete,flag,flag_reasons,\
             temperature,spo2,face,cough,breath,fatigue,nausea,diarrhea,conscious,eating,urine,\
             callback,mood"
        );
        assert_eq!(
            lines.next().unwrap(),
            "7,12345678,health_call,2025-05-01T09:12:34+09:00,,2025-05-01 09:00,false,amber,\
             unanswered:face;symptom:mood,36.5,not_measured,,unknown,,,,,,,,no,yes"
        );
        assert_eq!(lines.next(), None);
    }
}
