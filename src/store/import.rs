//! Parsing a patients CSV file (SPEC §6a) into checked rows, before any SQL runs.
//!
//! Columns, in any order, each exactly once: `hersys_id, name, birthday, phone, language,
//! call_times, observation_start, observation_end, auto_call, health_center, risk`. Fields are
//! trimmed. Every row is checked and the whole file is checked for duplicate IDs and for
//! duplicate phone numbers among rows with automatic calls on; the first problem is returned
//! with its line number (1 = header) and field name, never the field's value.

use std::collections::HashMap;
use std::io;

use crate::lang::Language;
use crate::report::{Date, LocalTime};

use super::error::{FieldProblem, ImportError};

/// The columns of the patients file.
pub(crate) const COLUMNS: [&str; 11] = [
    "hersys_id",
    "name",
    "birthday",
    "phone",
    "language",
    "call_times",
    "observation_start",
    "observation_end",
    "auto_call",
    "health_center",
    "risk",
];

/// Optional columns: the call period (both or neither; empty = the observation period).
pub(crate) const OPTIONAL_COLUMNS: [&str; 2] = ["call_start", "call_end"];

/// The call times a patient may choose by default (SPEC §4); configuration may change them.
pub const CALL_TIMES: [&str; 4] = ["09:00", "11:00", "14:00", "16:00"];

/// One checked row. `phone` is normalised (digits, optional leading `+`); `call_times` is the
/// chosen times in day order joined by `;` (empty when none).
pub(crate) struct PatientRow {
    pub line: u64,
    pub hersys_id: String,
    pub name: String,
    pub birthday: Date,
    pub phone: String,
    pub language: Language,
    pub call_times: String,
    pub observation_start: Date,
    pub observation_end: Date,
    pub call_period: Option<(Date, Date)>,
    pub auto_call: bool,
    pub health_center: String,
    pub risk: String,
}

/// Reads and checks the whole file; `Ok` only when every row is valid.
pub(crate) fn parse_patients<R: io::Read>(
    reader: R,
    allowed: &[LocalTime],
) -> Result<Vec<PatientRow>, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = csv.headers().map_err(|e| csv_error(e, 1))?.clone();
    let index = column_index(&header)?;
    let mut rows = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| csv_error(e, 0))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &'static str| {
            index
                .get(name)
                .and_then(|&i| record.get(i))
                .unwrap_or_default()
        };
        rows.push(parse_row(line, field, allowed)?);
    }
    check_duplicates(&rows)?;
    Ok(rows)
}

fn csv_error(source: csv::Error, fallback_line: u64) -> ImportError {
    let line = source.position().map_or(fallback_line, |p| p.line());
    ImportError::Csv { line, source }
}

fn column_index(header: &csv::StringRecord) -> Result<HashMap<&'static str, usize>, ImportError> {
    let mut index = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let known = COLUMNS
            .iter()
            .chain(OPTIONAL_COLUMNS.iter())
            .find(|c| **c == name);
        match known {
            Some(c) if !index.contains_key(c) => index.insert(*c, i),
            _ => return Err(ImportError::UnexpectedColumn(name.to_string())),
        };
    }
    match COLUMNS.iter().find(|c| !index.contains_key(*c)) {
        Some(missing) => Err(ImportError::MissingColumn(missing)),
        None => Ok(index),
    }
}

fn parse_row<'r>(
    line: u64,
    field: impl Fn(&'static str) -> &'r str,
    allowed: &[LocalTime],
) -> Result<PatientRow, ImportError> {
    let bad = |field: &'static str, problem: FieldProblem| ImportError::Field {
        line,
        field,
        problem,
    };
    let required = |name: &'static str| match field(name) {
        "" => Err(bad(name, FieldProblem::Empty)),
        value => Ok(value),
    };
    let date = |name: &'static str| {
        required(name)?
            .parse::<Date>()
            .map_err(|_| bad(name, FieldProblem::NotADate))
    };
    let hersys_id = required("hersys_id")?;
    if !(4..=16).contains(&hersys_id.len()) || !hersys_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("hersys_id", FieldProblem::NotAnId));
    }
    let name = required("name")?;
    let birthday = date("birthday")?;
    let phone = normalise_phone(required("phone")?).ok_or(bad("phone", FieldProblem::NotAPhone))?;
    let language = required("language")?
        .parse::<Language>()
        .map_err(|_| bad("language", FieldProblem::UnknownLanguage))?;
    let call_times = call_times(field("call_times"), allowed)
        .ok_or(bad("call_times", FieldProblem::BadCallTimes))?;
    let observation_start = date("observation_start")?;
    let observation_end = date("observation_end")?;
    if observation_end < observation_start {
        return Err(bad("observation_end", FieldProblem::EndBeforeStart));
    }
    let call_period = match (field("call_start"), field("call_end")) {
        ("", "") => None,
        ("", _) => return Err(bad("call_start", FieldProblem::Empty)),
        (_, "") => return Err(bad("call_end", FieldProblem::Empty)),
        _ => {
            let (start, end) = (date("call_start")?, date("call_end")?);
            if end < start {
                return Err(bad("call_end", FieldProblem::EndBeforeStart));
            }
            Some((start, end))
        }
    };
    let auto_call = match required("auto_call")? {
        v if v.eq_ignore_ascii_case("true") => true,
        v if v.eq_ignore_ascii_case("false") => false,
        _ => return Err(bad("auto_call", FieldProblem::NotABool)),
    };
    Ok(PatientRow {
        line,
        hersys_id: hersys_id.to_string(),
        name: name.to_string(),
        birthday,
        phone,
        language,
        call_times,
        observation_start,
        observation_end,
        call_period,
        auto_call,
        health_center: required("health_center")?.to_string(),
        risk: field("risk").to_string(),
    })
}

/// `+81 3-1234-5678` → `+81312345678`; `None` unless 3–15 digits after an optional `+`.
pub(crate) fn normalise_phone(raw: &str) -> Option<String> {
    let kept: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = kept.strip_prefix('+').unwrap_or(&kept);
    let ok = (3..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(kept)
}

/// The chosen call times in day order joined by `;`; `None` for a time not in `allowed` or a
/// repeat.
fn call_times(raw: &str, allowed: &[LocalTime]) -> Option<String> {
    let mut chosen: Vec<LocalTime> = Vec::new();
    for part in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let time: LocalTime = part.parse().ok()?;
        if !allowed.contains(&time) || chosen.contains(&time) {
            return None;
        }
        chosen.push(time);
    }
    chosen.sort_unstable();
    let times: Vec<String> = chosen.iter().map(ToString::to_string).collect();
    Some(times.join(";"))
}

fn check_duplicates(rows: &[PatientRow]) -> Result<(), ImportError> {
    let mut ids = HashMap::new();
    let mut phones = HashMap::new();
    for row in rows {
        if let Some(first_line) = ids.insert(row.hersys_id.as_str(), row.line) {
            return Err(ImportError::DuplicateId {
                line: row.line,
                first_line,
            });
        }
        if row.auto_call {
            if let Some(first_line) = phones.insert(row.phone.as_str(), row.line) {
                return Err(ImportError::DuplicatePhone {
                    line: row.line,
                    first_line,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n";

    fn spec_times() -> Vec<LocalTime> {
        CALL_TIMES.iter().map(|t| t.parse().unwrap()).collect()
    }

    fn parse(rows: &str) -> Result<Vec<PatientRow>, ImportError> {
        parse_patients(format!("{HEADER}{rows}").as_bytes(), &spec_times())
    }

    fn field_error(rows: &str) -> (u64, &'static str, FieldProblem) {
        match parse(rows) {
            Err(ImportError::Field {
                line,
                field,
                problem,
            }) => (line, field, problem),
            other => panic!("expected a field error, got {:?}", other.err()),
        }
    }

    const GOOD: &str = "12345678,Sato Hanako,1950-04-15,03-1234-5678,ja,14:00; 09:00,2025-05-01,2025-05-10,true,Minato,age65;diabetes\n";

    #[test]
    fn the_call_period_columns_are_optional_and_checked() {
        const WITH: &str = "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk,call_start,call_end\n";
        let rows = |tail: &str| {
            let row = GOOD.trim_end();
            parse_patients(format!("{WITH}{row},{tail}\n").as_bytes(), &spec_times())
        };
        let r = rows("2025-05-02,2025-05-08").unwrap();
        let period = r[0].call_period.unwrap();
        assert_eq!(
            (period.0.to_string(), period.1.to_string()),
            ("2025-05-02".into(), "2025-05-08".into())
        );
        assert_eq!(rows(",").unwrap()[0].call_period, None);
        let problem = |tail| match rows(tail) {
            Err(ImportError::Field { field, problem, .. }) => (field, problem),
            other => panic!("expected a field error, got {:?}", other.err()),
        };
        assert_eq!(
            problem("2025-05-08,2025-05-02"),
            ("call_end", FieldProblem::EndBeforeStart)
        );
        assert_eq!(problem("2025-05-02,"), ("call_end", FieldProblem::Empty));
        assert_eq!(problem(",2025-05-02"), ("call_start", FieldProblem::Empty));
    }

    #[test]
    fn call_times_must_be_configured_slots() {
        let row = GOOD.replace("14:00; 09:00", "10:30");
        let only = ["10:30".parse().unwrap()];
        let header = "hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n";
        assert!(parse_patients(format!("{header}{row}").as_bytes(), &only).is_ok());
        assert_eq!(field_error(&row).2, FieldProblem::BadCallTimes);
    }

    #[test]
    fn a_good_row_is_normalised() {
        let rows = parse(GOOD).unwrap();
        let r = &rows[0];
        assert_eq!(
            (r.line, r.hersys_id.as_str(), r.phone.as_str()),
            (2, "12345678", "0312345678")
        );
        assert_eq!(
            (r.call_times.as_str(), r.birthday.mmdd(), r.language),
            ("09:00;14:00", "0415".into(), Language::Ja)
        );
        assert!(r.auto_call);
        assert_eq!(
            (r.health_center.as_str(), r.risk.as_str()),
            ("Minato", "age65;diabetes")
        );
    }

    #[test]
    fn each_bad_field_is_named_with_its_line() {
        use FieldProblem::*;
        let cases = [
            (0, "12a45678", "hersys_id", NotAnId),
            (0, "123", "hersys_id", NotAnId),
            (1, "", "name", Empty),
            (2, "1950-02-30", "birthday", NotADate),
            (3, "call me", "phone", NotAPhone),
            (4, "fr", "language", UnknownLanguage),
            (5, "10:00", "call_times", BadCallTimes),
            (5, "09:00;09:00", "call_times", BadCallTimes),
            (7, "2025-04-30", "observation_end", EndBeforeStart),
            (8, "yes", "auto_call", NotABool),
            (9, "", "health_center", Empty),
        ];
        for (column, value, field, problem) in cases {
            let mut v: Vec<&str> = GOOD.trim_end().split(',').collect();
            v[column] = value;
            let rows = format!("{GOOD}{}\n", v.join(","));
            assert_eq!(field_error(&rows), (3, field, problem));
        }
    }

    #[test]
    fn duplicates_name_both_lines() {
        let other_id = GOOD.replacen("12345678", "87654321", 1);
        assert!(matches!(
            parse(&format!("{GOOD}{other_id}")),
            Err(ImportError::DuplicatePhone {
                line: 3,
                first_line: 2
            })
        ));
        let no_auto = other_id.replace(",true,", ",false,");
        assert_eq!(parse(&format!("{GOOD}{no_auto}")).unwrap().len(), 2);
        let same_id = GOOD.replace("03-1234-5678", "0399998888");
        assert!(matches!(
            parse(&format!("{GOOD}{same_id}")),
            Err(ImportError::DuplicateId {
                line: 3,
                first_line: 2
            })
        ));
    }

    #[test]
    fn header_must_hold_every_column_once() {
        let short = HEADER.replace(",risk", "");
        let e = parse_patients(short.as_bytes(), &spec_times()).err();
        assert!(matches!(e, Some(ImportError::MissingColumn("risk"))));
        let extra = HEADER.replace(",risk", ",risk,notes");
        let e = parse_patients(extra.as_bytes(), &spec_times()).err();
        assert!(matches!(e, Some(ImportError::UnexpectedColumn(c)) if c == "notes"));
        let ragged = format!("{GOOD}1,2,3\n");
        assert!(matches!(
            parse(&ragged),
            Err(ImportError::Csv { line: 3, .. })
        ));
        assert_eq!(
            normalise_phone("+81 (3) 1234-5678").as_deref(),
            Some("+81312345678")
        );
    }
}
