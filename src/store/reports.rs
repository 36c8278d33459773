//! Reports and their answers: start, store each answer in its own transaction with the flag
//! recomputed, complete, and read back for export.

use std::collections::HashMap;
use std::time::SystemTime;

use sqlx::Row;

use crate::domain::FieldKind;
use crate::pii::Redacted;
use crate::report::date::from_epoch_millis;
use crate::report::export::sort_answers;
use crate::report::{
    AnswerValue, Assessment, Channel, ExportedAnswer, Flag, ReportExport, Slot, Symptom,
};

use super::{call_conn, corrupt, millis, PatientId, ReportId, Store, StoreError};

/// Stores an answer, replacing an earlier one to the same question (`$1` report, `$2`
/// question, `$3`–`$5` the value, `$6` when).
macro_rules! upsert_answer_sql {
    () => {
        "INSERT INTO answers (report_id, question, value_kind, value_num, value_text, \
         answered_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (report_id, question) DO UPDATE SET value_kind = excluded.value_kind, \
         value_num = excluded.value_num, value_text = excluded.value_text, \
         answered_at = excluded.answered_at"
    };
}

/// A report's answers in the order they were given (`$1` the report).
macro_rules! read_answers_sql {
    () => {
        "SELECT question, value_kind, value_num, value_text FROM answers \
         WHERE report_id = $1 ORDER BY answered_at, question"
    };
}

const UPSERT_ANSWER: &str = upsert_answer_sql!();
const READ_ANSWERS: &str = read_answers_sql!();
/// Both, as one statement list (SQLite: one hand-off, the arguments shared by number).
const UPSERT_THEN_READ: &str = concat!(upsert_answer_sql!(), "; ", read_answers_sql!());

impl Store {
    /// Starts a report for `patient` on `channel`; `call_id` and `slot` link it to a call and
    /// a schedule slot when there are ones. The report is incomplete, flag `none`, until
    /// answers and [`Store::complete_report`] say otherwise.
    pub async fn start_report(
        &self,
        patient: PatientId,
        channel: Channel,
        call_id: Option<&str>,
        slot: Option<Slot>,
        now: SystemTime,
    ) -> Result<ReportId, StoreError> {
        self.insert_report(None, patient, channel, call_id, slot, now)
            .await
    }

    /// Starts a report as [`Store::start_report`] does, under `key` (a random id the caller
    /// chose): a second start with the same key returns the first report and writes nothing,
    /// so a start that timed out, or one replayed from the journal, never makes two reports.
    pub async fn start_report_keyed(
        &self,
        key: &str,
        patient: PatientId,
        channel: Channel,
        call_id: Option<&str>,
        slot: Option<Slot>,
        now: SystemTime,
    ) -> Result<ReportId, StoreError> {
        self.insert_report(Some(key), patient, channel, call_id, slot, now)
            .await
    }

    async fn insert_report(
        &self,
        key: Option<&str>,
        patient: PatientId,
        channel: Channel,
        call_id: Option<&str>,
        slot: Option<Slot>,
        now: SystemTime,
    ) -> Result<ReportId, StoreError> {
        let at = millis(now)?;
        let (slot_date, slot_time) = split_slot(slot);
        // A NULL key never conflicts; a key already stored inserts nothing and returns no row.
        let inserted: Result<Option<i64>, sqlx::Error> = on_call_conn!(self, conn => {
            sqlx::query(
                "INSERT INTO reports (patient_id, channel, started_at, slot_date, slot_time, \
                 call_id, journal_key) VALUES ($1, $2, $3, date($4), $5, $6, $7) \
                 ON CONFLICT (journal_key) DO NOTHING RETURNING id",
            )
            .bind(patient.0)
            .bind(channel.label())
            .bind(at)
            .bind(slot_date)
            .bind(slot_time)
            .bind(call_id)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .and_then(|row| row.map(|r| r.try_get::<i64, _>("id")).transpose())
        });
        match (inserted, key) {
            (Ok(Some(id)), _) => Ok(ReportId(id)),
            (Ok(None), Some(key)) => self
                .report_by_key(key)
                .await?
                .ok_or(corrupt("reports", "journal_key")),
            (Ok(None), None) => Err(corrupt("reports", "id")),
            (Err(e), _) if StoreError::is_foreign_key(&e) => {
                Err(StoreError::UnknownPatient(patient))
            }
            (Err(e), _) => Err(e.into()),
        }
    }

    /// The report started under `key`, if there is one.
    pub async fn report_by_key(&self, key: &str) -> Result<Option<ReportId>, StoreError> {
        let id: Option<i64> = on_pool!(self, pool => {
            sqlx::query("SELECT id FROM reports WHERE journal_key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
                .map(|row| row.try_get("id"))
                .transpose()?
        });
        Ok(id.map(ReportId))
    }

    /// Stores one confirmed answer, replacing an earlier answer to the same question, and
    /// recomputes the report's flag from all its answers, in one transaction committed before
    /// returning. Returns the new assessment. An unknown report is
    /// [`StoreError::UnknownReport`] and nothing is written.
    pub async fn store_answer(
        &self,
        report: ReportId,
        question: &str,
        value: AnswerValue,
        now: SystemTime,
    ) -> Result<Assessment, StoreError> {
        let at = millis(now)?;
        let (num, text) = encode(value);
        on_call_conn!(self, conn => {
            // A deferred BEGIN: the upsert, its first statement, takes the write lock (waiting
            // as the busy timeout says), so no read ever has to upgrade.
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            // On SQLite the upsert and the read-back are one hand-off to the connection.
            let lists = call_conn::runs_statement_lists(&*tx);
            let rows = sqlx::query(if lists { UPSERT_THEN_READ } else { UPSERT_ANSWER })
                .bind(report.0)
                .bind(question)
                .bind(value.kind())
                .bind(num)
                .bind(text)
                .bind(at)
                .fetch_all(&mut *tx)
                .await;
            let rows = match rows {
                Err(e) if StoreError::is_foreign_key(&e) => Err(StoreError::UnknownReport(report)),
                Err(e) => Err(e.into()),
                Ok(rows) if lists => Ok(rows),
                Ok(_) => sqlx::query(READ_ANSWERS)
                    .bind(report.0)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(StoreError::from),
            }?;
            let mut answers = Vec::with_capacity(rows.len());
            for row in rows {
                let value = decode(row.try_get("value_kind")?, row.try_get("value_num")?, row.try_get("value_text")?)?;
                answers.push((row.try_get::<String, _>("question")?, value));
            }
            let assessment = self.options.flag_rules.assess(&answers);
            let reasons: Vec<String> = assessment.reasons.iter().map(|r| r.code()).collect();
            sqlx::query("UPDATE reports SET flag = $1, flag_reasons = $2 WHERE id = $3")
                .bind(assessment.flag.label())
                .bind(reasons.join(";"))
                .bind(report.0)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(assessment)
        })
    }

    /// Marks the report complete at `now` (the first completion time is kept if called
    /// again). A report never completed stays incomplete with the answers it has.
    pub async fn complete_report(
        &self,
        report: ReportId,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let at = millis(now)?;
        let changed = on_call_conn!(self, conn => {
            sqlx::query(
                "UPDATE reports SET complete = TRUE, completed_at = COALESCE(completed_at, $1) \
                 WHERE id = $2",
            )
            .bind(at)
            .bind(report.0)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::UnknownReport(report));
        }
        Ok(())
    }

    /// Every report started at or after `since` (all when `None`), oldest first, with its
    /// patient's HER-SYS ID, flag and answers in SPEC order.
    pub async fn export_reports(
        &self,
        since: Option<SystemTime>,
    ) -> Result<Vec<ReportExport>, StoreError> {
        let since = since.map(millis).transpose()?.unwrap_or(i64::MIN);
        let mut reports = Vec::new();
        let mut answers: HashMap<i64, Vec<ExportedAnswer>> = HashMap::new();
        on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT r.id, p.hersys_id, r.channel, r.started_at, r.completed_at, \
                 CAST(r.slot_date AS TEXT) AS slot_date, r.slot_time, r.complete, r.flag, \
                 r.flag_reasons FROM reports r JOIN patients p ON p.id = r.patient_id \
                 WHERE r.started_at >= $1 ORDER BY r.started_at, r.id",
            )
            .bind(since)
            .fetch_all(pool)
            .await?;
            for row in rows {
                let slot = decode_slot(row.try_get("slot_date")?, row.try_get("slot_time")?, "reports")?;
                let reasons: String = row.try_get("flag_reasons")?;
                reports.push(ReportExport {
                    report_id: row.try_get("id")?,
                    hersys_id: Redacted::new(row.try_get("hersys_id")?),
                    channel: Channel::from_label(row.try_get("channel")?).ok_or(corrupt("reports", "channel"))?,
                    started_at: from_epoch_millis(row.try_get("started_at")?),
                    completed_at: row.try_get::<Option<i64>, _>("completed_at")?.map(from_epoch_millis),
                    slot,
                    complete: row.try_get("complete")?,
                    flag: Flag::from_label(row.try_get("flag")?).ok_or(corrupt("reports", "flag"))?,
                    flag_reasons: reasons.split(';').filter(|r| !r.is_empty()).map(String::from).collect(),
                    answers: Vec::new(),
                });
            }
            let rows = sqlx::query(
                "SELECT a.report_id, a.question, a.value_kind, a.value_num, a.value_text \
                 FROM answers a JOIN reports r ON r.id = a.report_id WHERE r.started_at >= $1",
            )
            .bind(since)
            .fetch_all(pool)
            .await?;
            for row in rows {
                let value = decode(row.try_get("value_kind")?, row.try_get("value_num")?, row.try_get("value_text")?)?;
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

/// `(slot_date, slot_time)` as stored: `YYYY-MM-DD` and `HH:MM`, or both `NULL`.
pub(crate) fn split_slot(slot: Option<Slot>) -> (Option<String>, Option<String>) {
    match slot {
        Some(s) => (Some(s.date.to_string()), Some(s.time.to_string())),
        None => (None, None),
    }
}

/// The slot stored in `table`'s `slot_date` and `slot_time`, `None` when either is `NULL`.
pub(crate) fn decode_slot(
    date: Option<String>,
    time: Option<String>,
    table: &'static str,
) -> Result<Option<Slot>, StoreError> {
    match (date, time) {
        (Some(d), Some(t)) => {
            let date = d.parse().map_err(|_| corrupt(table, "slot_date"))?;
            let time = t.parse().map_err(|_| corrupt(table, "slot_time"))?;
            Ok(Some(Slot { date, time }))
        }
        _ => Ok(None),
    }
}

/// The stored `(value_num, value_text)` of an answer; the kind is `value.kind()`.
pub(crate) fn encode(value: AnswerValue) -> (Option<i64>, Option<&'static str>) {
    match value {
        AnswerValue::TemperatureTenths(t) => (Some(i64::from(t)), None),
        AnswerValue::Spo2(s) => (s.map(i64::from), None),
        AnswerValue::Symptom(s) => (None, Some(s.label())),
        AnswerValue::YesNo(b) => (Some(i64::from(b)), None),
        AnswerValue::Unanswered => (None, None),
    }
}

pub(crate) fn decode(
    kind: String,
    num: Option<i64>,
    text: Option<String>,
) -> Result<AnswerValue, StoreError> {
    if kind == AnswerValue::Unanswered.kind() {
        return match (num, text) {
            (None, None) => Ok(AnswerValue::Unanswered),
            _ => Err(corrupt("answers", "value_kind")),
        };
    }
    let kind = FieldKind::ALL.into_iter().find(|k| k.label() == kind);
    let value = match (kind, num, text.as_deref()) {
        (Some(FieldKind::Temperature), Some(n), None) => {
            u16::try_from(n).ok().map(AnswerValue::TemperatureTenths)
        }
        (Some(FieldKind::Spo2), None, None) => Some(AnswerValue::Spo2(None)),
        (Some(FieldKind::Spo2), Some(n), None) => {
            u8::try_from(n).ok().map(|s| AnswerValue::Spo2(Some(s)))
        }
        (Some(FieldKind::Symptom), None, Some(t)) => {
            Symptom::from_label(t).map(AnswerValue::Symptom)
        }
        (Some(FieldKind::YesNo), Some(n @ (0 | 1)), None) => Some(AnswerValue::YesNo(n == 1)),
        _ => None,
    };
    value.ok_or(corrupt("answers", "value_kind"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_round_trips_through_its_columns() {
        let mut values = vec![AnswerValue::Spo2(None), AnswerValue::Unanswered];
        values.extend(
            (0..=u16::MAX)
                .step_by(97)
                .map(AnswerValue::TemperatureTenths),
        );
        values.extend((0..=u8::MAX).map(|s| AnswerValue::Spo2(Some(s))));
        values.extend([Symptom::Yes, Symptom::No, Symptom::Unknown].map(AnswerValue::Symptom));
        values.extend([true, false].map(AnswerValue::YesNo));
        for v in values {
            let (num, text) = encode(v);
            let back = decode(v.kind().into(), num, text.map(String::from)).unwrap();
            assert!(back == v, "{v:?}");
        }
        assert!(decode("temperature".into(), None, None).is_err());
        assert!(decode("yes_no".into(), Some(2), None).is_err());
        assert!(decode("mood".into(), None, None).is_err());
    }
}
