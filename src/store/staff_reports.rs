//! Reports as staff read them: the day's list (red, then amber, then the rest, with the latest
//! temperature and SpO2), non-reporters, one patient's recent reports, and a scoped export.
//!
//! The day is given as local date plus its UTC bounds (the caller converts with the
//! schedule's time zone); a patient is on the day's list when the day is inside their
//! observation period, or when a report of theirs started that day (then marked
//! [`DayRow::outside_period`]: nothing a patient reports is left off the list). A patient
//! "reported" on a day when a complete report started in it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use sqlx::Row;

use crate::pii::Redacted;
use crate::report::date::from_epoch_millis;
use crate::report::export::sort_answers;
use crate::report::{Channel, Date, ExportedAnswer, Flag, ReportExport};

use super::reports::{decode as decode_answer, decode_slot};
use super::staff::CentreScope;
use super::{millis, PatientId, Store, StoreError};

/// How far back the latest temperature and SpO2 are looked for.
const LATEST_LOOKBACK: Duration = Duration::from_secs(10 * 24 * 3600);

/// A local day and its bounds in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// The local date.
    pub date: Date,
    /// Its first instant.
    pub start: SystemTime,
    /// The first instant of the next day.
    pub end: SystemTime,
}

/// A measured value and when it was confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading<T> {
    /// The value.
    pub value: T,
    /// When the answer was stored.
    pub at: SystemTime,
}

/// One patient's line on the day's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRow {
    /// The patient.
    pub patient: PatientId,
    /// HER-SYS ID (personal data).
    pub hersys_id: Redacted<String>,
    /// Name (personal data).
    pub name: Redacted<String>,
    /// The highest flag among the day's reports (`None` when no report started that day).
    pub flag: Option<Flag>,
    /// The reasons of the report that set that flag.
    pub flag_reasons: Vec<String>,
    /// A complete report started on the day.
    pub reported: bool,
    /// The day is outside the patient's observation period (they are listed because a report
    /// of theirs started that day).
    pub outside_period: bool,
    /// Reports started on the day (complete or not).
    pub reports: usize,
    /// The latest temperature (tenths of °C) up to the day's end, within ten days.
    pub temperature: Option<Reading<u16>>,
    /// The latest measured SpO2 (%) up to the day's end, within ten days.
    pub spo2: Option<Reading<u8>>,
}

impl Store {
    /// The day's list for the patients of `scope` under observation on `day.date` and every
    /// other patient of `scope` with a report started on the day (marked outside the period),
    /// sorted red, then amber, then the rest (reporters before non-reporters), then by HER-SYS
    /// ID.
    pub async fn day_overview(
        &self,
        scope: CentreScope,
        day: Day,
    ) -> Result<Vec<DayRow>, StoreError> {
        let (start, end) = (millis(day.start)?, millis(day.end)?);
        let lookback = millis(day.end.checked_sub(LATEST_LOOKBACK).unwrap_or(day.start))?;
        let mut rows: Vec<DayRow> = Vec::new();
        on_pool!(self, pool => {
            let patients = sqlx::query(
                "SELECT p.id, p.hersys_id, p.name, CAST(p.observation_start AS TEXT) AS obs_start, \
                 CAST(p.observation_end AS TEXT) AS obs_end FROM patients p \
                 WHERE ($1 IS NULL OR p.health_center_id = $1) \
                 AND ((p.observation_start <= date($2) AND p.observation_end >= date($2)) \
                 OR EXISTS (SELECT 1 FROM reports r WHERE r.patient_id = p.id \
                 AND r.started_at >= $3 AND r.started_at < $4))",
            )
            .bind(scope.bind())
            .bind(day.date.to_string())
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            for p in patients {
                let date = |column: &'static str| -> Result<Date, StoreError> {
                    p.try_get::<String, _>(column)?
                        .parse()
                        .map_err(|_| StoreError::Corrupt { table: "patients", column })
                };
                let in_period = (date("obs_start")?..=date("obs_end")?).contains(&day.date);
                rows.push(DayRow {
                    patient: PatientId(p.try_get("id")?),
                    hersys_id: Redacted::new(p.try_get("hersys_id")?),
                    name: Redacted::new(p.try_get("name")?),
                    flag: None,
                    flag_reasons: Vec::new(),
                    reported: false,
                    outside_period: !in_period,
                    reports: 0,
                    temperature: None,
                    spo2: None,
                });
            }
            let index: HashMap<i64, usize> =
                rows.iter().enumerate().map(|(i, r)| (r.patient.0, i)).collect();
            let reports = sqlx::query(
                "SELECT r.patient_id, r.complete, r.flag, r.flag_reasons FROM reports r \
                 JOIN patients p ON p.id = r.patient_id \
                 WHERE ($1 IS NULL OR p.health_center_id = $1) \
                 AND r.started_at >= $2 AND r.started_at < $3 ORDER BY r.started_at, r.id",
            )
            .bind(scope.bind())
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await?;
            for r in reports {
                let Some(&i) = index.get(&r.try_get::<i64, _>("patient_id")?) else { continue };
                let flag = Flag::from_label(&r.try_get::<String, _>("flag")?)
                    .ok_or(StoreError::Corrupt { table: "reports", column: "flag" })?;
                let row = &mut rows[i];
                row.reports += 1;
                row.reported |= r.try_get::<bool, _>("complete")?;
                if row.flag.is_none_or(|f| flag >= f) {
                    row.flag = Some(flag);
                    let reasons: String = r.try_get("flag_reasons")?;
                    row.flag_reasons =
                        reasons.split(';').filter(|s| !s.is_empty()).map(String::from).collect();
                }
            }
            let readings = sqlx::query(
                "SELECT r.patient_id, a.value_kind, a.value_num, a.answered_at FROM answers a \
                 JOIN reports r ON r.id = a.report_id JOIN patients p ON p.id = r.patient_id \
                 WHERE ($1 IS NULL OR p.health_center_id = $1) \
                 AND r.started_at >= $2 AND r.started_at < $3 \
                 AND a.value_kind IN ('temperature', 'spo2') AND a.value_num IS NOT NULL \
                 ORDER BY a.answered_at",
            )
            .bind(scope.bind())
            .bind(lookback)
            .bind(end)
            .fetch_all(pool)
            .await?;
            for a in readings {
                let Some(&i) = index.get(&a.try_get::<i64, _>("patient_id")?) else { continue };
                let at = from_epoch_millis(a.try_get("answered_at")?);
                let num: Option<i64> = a.try_get("value_num")?;
                let kind: String = a.try_get("value_kind")?;
                match (kind.as_str(), num) {
                    ("temperature", Some(n)) => {
                        if let Ok(value) = u16::try_from(n) {
                            rows[i].temperature = Some(Reading { value, at });
                        }
                    }
                    ("spo2", Some(n)) => {
                        if let Ok(value) = u8::try_from(n) {
                            rows[i].spo2 = Some(Reading { value, at });
                        }
                    }
                    _ => {}
                }
            }
        });
        sort_day(&mut rows);
        Ok(rows)
    }

    /// Reports of the patients in `scope` (of one patient when `patient` is given) started in
    /// `[since, until)`, oldest first, with their answers in SPEC order.
    pub async fn scoped_reports(
        &self,
        scope: CentreScope,
        patient: Option<PatientId>,
        since: SystemTime,
        until: SystemTime,
    ) -> Result<Vec<ReportExport>, StoreError> {
        let (since, until) = (millis(since)?, millis(until)?);
        let filter = "($1 IS NULL OR p.health_center_id = $1) AND ($2 IS NULL OR p.id = $2) \
                      AND r.started_at >= $3 AND r.started_at < $4";
        let mut reports = Vec::new();
        let mut answers: HashMap<i64, Vec<ExportedAnswer>> = HashMap::new();
        on_pool!(self, pool => {
            let sql = format!(
                "SELECT r.id, p.hersys_id, r.channel, r.started_at, r.completed_at, \
                 CAST(r.slot_date AS TEXT) AS slot_date, r.slot_time, r.complete, r.flag, \
                 r.flag_reasons FROM reports r JOIN patients p ON p.id = r.patient_id \
                 WHERE {filter} ORDER BY r.started_at, r.id"
            );
            let rows = sqlx::query(&sql)
                .bind(scope.bind())
                .bind(patient.map(|p| p.0))
                .bind(since)
                .bind(until)
                .fetch_all(pool)
                .await?;
            for row in rows {
                let corrupt = |column| StoreError::Corrupt { table: "reports", column };
                let reasons: String = row.try_get("flag_reasons")?;
                reports.push(ReportExport {
                    report_id: row.try_get("id")?,
                    hersys_id: Redacted::new(row.try_get("hersys_id")?),
                    channel: Channel::from_label(&row.try_get::<String, _>("channel")?)
                        .ok_or(corrupt("channel"))?,
                    started_at: from_epoch_millis(row.try_get("started_at")?),
                    completed_at: row.try_get::<Option<i64>, _>("completed_at")?.map(from_epoch_millis),
                    slot: decode_slot(row.try_get("slot_date")?, row.try_get("slot_time")?, "reports")?,
                    complete: row.try_get("complete")?,
                    flag: Flag::from_label(&row.try_get::<String, _>("flag")?).ok_or(corrupt("flag"))?,
                    flag_reasons: reasons.split(';').filter(|r| !r.is_empty()).map(String::from).collect(),
                    answers: Vec::new(),
                });
            }
            let sql = format!(
                "SELECT a.report_id, a.question, a.value_kind, a.value_num, a.value_text \
                 FROM answers a JOIN reports r ON r.id = a.report_id \
                 JOIN patients p ON p.id = r.patient_id WHERE {filter}"
            );
            let rows = sqlx::query(&sql)
                .bind(scope.bind())
                .bind(patient.map(|p| p.0))
                .bind(since)
                .bind(until)
                .fetch_all(pool)
                .await?;
            for row in rows {
                let value = decode_answer(row.try_get("value_kind")?, row.try_get("value_num")?, row.try_get("value_text")?)?;
                let answer = ExportedAnswer { question: row.try_get("question")?, value };
                answers.entry(row.try_get("report_id")?).or_default().push(answer);
            }
        });
        for report in &mut reports {
            report.answers = answers.remove(&report.report_id).unwrap_or_default();
            sort_answers(&mut report.answers);
        }
        Ok(reports)
    }
}

/// Red, then amber, then the rest; within each, reporters first; then by HER-SYS ID.
pub(crate) fn sort_day(rows: &mut [DayRow]) {
    let rank = |r: &DayRow| match r.flag {
        Some(Flag::Red) => 0,
        Some(Flag::Amber) => 1,
        _ if r.reported => 2,
        _ => 3,
    };
    rows.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| a.hersys_id.expose().cmp(b.hersys_id.expose()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, flag: Option<Flag>, reported: bool) -> DayRow {
        DayRow {
            patient: PatientId(0),
            hersys_id: Redacted::new(id.into()),
            name: Redacted::new(String::new()),
            flag,
            flag_reasons: Vec::new(),
            reported,
            outside_period: false,
            reports: usize::from(flag.is_some()),
            temperature: None,
            spo2: None,
        }
    }

    #[test]
    fn red_first_then_amber_then_reporters_then_the_silent() {
        let mut rows = vec![
            row("5", None, false),
            row("4", Some(Flag::None), true),
            row("3", Some(Flag::Amber), true),
            row("2", Some(Flag::Red), false),
            row("1", Some(Flag::Red), true),
            row("0", Some(Flag::None), false),
        ];
        sort_day(&mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.hersys_id.expose().as_str()).collect();
        assert_eq!(order, ["1", "2", "3", "4", "0", "5"]);
    }
}
