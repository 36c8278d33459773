//! Parsing a patients CSV file (SPEC §6a) into checked rows, before any SQL runs.
//!
//! Columns, in any order, each exactly once: `hersys_id, name, birthday, phone, language,
//! call_times, observation_start, observation_end, auto_call, health_center, risk`. Fields are
//! trimmed. Every row is checked and the whole file is checked for duplicate IDs and for
//! duplicate phone numbers among rows with automatic calls on; every problem is returned, each
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
/// chosen times in day order joined by `;` (empty when none). Public so the CSV can be checked
/// without a store (the `csv_import` fuzz target); it holds personal data, hence no `Debug`.
pub struct PatientRow {
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

/// Reads and checks the whole file; `Ok` only when every row is valid. One problem is
/// returned as itself; several (every bad field of every bad row, and every duplicate) as
/// [`ImportError::Problems`], in line order. Touches no database: public for the `csv_import`
/// fuzz target (fuzz/).
pub fn parse_patients<R: io::Read>(
    reader: R,
    allowed: &[LocalTime],
) -> Result<Vec<PatientRow>, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = csv.headers().map_err(|e| csv_error(e, 1))?.clone();
    let index = column_index(&header)?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in csv.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(csv_error(e, 0));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &'static str| {
            index
                .get(name)
                .and_then(|&i| record.get(i))
                .unwrap_or_default()
        };
        let mut bad = Vec::new();
        match parse_row(line, field, allowed, &mut bad) {
            Some(row) if bad.is_empty() => rows.push(row),
            _ => problems.extend(bad),
        }
    }
    problems.extend(duplicates(&rows));
    problems.sort_by_key(ImportError::line);
    match problems.len() {
        0 => Ok(rows),
        1 => Err(problems.remove(0)),
        _ => Err(ImportError::Problems(problems)),
    }
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

/// Checks every field of one row, pushing each bad one to `bad`; the row when all are good.
fn parse_row<'r>(
    line: u64,
    field: impl Fn(&'static str) -> &'r str,
    allowed: &[LocalTime],
    bad: &mut Vec<ImportError>,
) -> Option<PatientRow> {
    let bad = std::cell::RefCell::new(bad);
    let fail = |field: &'static str, problem: FieldProblem| {
        bad.borrow_mut().push(ImportError::Field {
            line,
            field,
            problem,
        });
        Recorded
    };
    let required = |name: &'static str| match field(name) {
        "" => miss(fail(name, FieldProblem::Empty)),
        value => Some(value),
    };
    let date = |name: &'static str| {
        let text = required(name)?;
        text.parse::<Date>()
            .ok()
            .or_else(|| miss(fail(name, FieldProblem::NotADate)))
    };
    let hersys_id = required("hersys_id").and_then(|id| {
        let ok = (4..=16).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Some(id)
        } else {
            miss(fail("hersys_id", FieldProblem::NotAnId))
        }
    });
    let name = required("name");
    let birthday = date("birthday");
    let phone = required("phone")
        .and_then(|p| normalise_phone(p).or_else(|| miss(fail("phone", FieldProblem::NotAPhone))));
    let language = required("language").and_then(|l| {
        l.parse::<Language>()
            .ok()
            .or_else(|| miss(fail("language", FieldProblem::UnknownLanguage)))
    });
    let call_times = call_times(field("call_times"), allowed)
        .or_else(|| miss(fail("call_times", FieldProblem::BadCallTimes)));
    let observation_start = date("observation_start");
    let observation_end = date("observation_end");
    if let (Some(start), Some(end)) = (observation_start, observation_end) {
        if end < start {
            fail("observation_end", FieldProblem::EndBeforeStart);
        }
    }
    let call_period = match (field("call_start"), field("call_end")) {
        ("", "") => None,
        ("", _) => miss(fail("call_start", FieldProblem::Empty)),
        (_, "") => miss(fail("call_end", FieldProblem::Empty)),
        _ => match (date("call_start"), date("call_end")) {
            (Some(start), Some(end)) if end < start => {
                miss(fail("call_end", FieldProblem::EndBeforeStart))
            }
            (Some(start), Some(end)) => Some((start, end)),
            _ => None,
        },
    };
    let auto_call = required("auto_call").and_then(|v| match v {
        v if v.eq_ignore_ascii_case("true") => Some(true),
        v if v.eq_ignore_ascii_case("false") => Some(false),
        _ => miss(fail("auto_call", FieldProblem::NotABool)),
    });
    let health_center = required("health_center");
    Some(PatientRow {
        line,
        hersys_id: hersys_id?.to_string(),
        name: name?.to_string(),
        birthday: birthday?,
        phone: phone?,
        language: language?,
        call_times: call_times?,
        observation_start: observation_start?,
        observation_end: observation_end?,
        call_period,
        auto_call: auto_call?,
        health_center: health_center?.to_string(),
        risk: field("risk").to_string(),
    })
}

/// A problem was pushed to the row's list.
struct Recorded;

/// `None`, after the problem was recorded.
fn miss<T>(_: Recorded) -> Option<T> {
    None
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

/// Every later line repeating a HER-SYS ID, or a phone number among rows with automatic calls.
fn duplicates(rows: &[PatientRow]) -> Vec<ImportError> {
    let mut ids = HashMap::new();
    let mut phones = HashMap::new();
    let mut problems = Vec::new();
    for row in rows {
        if let Some(&first_line) = ids.get(row.hersys_id.as_str()) {
            problems.push(ImportError::DuplicateId {
                line: row.line,
                first_line,
            });
        } else {
            ids.insert(row.hersys_id.as_str(), row.line);
        }
        if row.auto_call {
            if let Some(&first_line) = phones.get(row.phone.as_str()) {
                problems.push(ImportError::DuplicatePhone {
                    line: row.line,
                    first_line,
                });
            } else {
                phones.insert(row.phone.as_str(), row.line);
            }
        }
    }
    problems
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
    fn every_bad_field_of_every_bad_row_is_named() {
        let two_bad = GOOD
            .replacen("12345678", "87654321", 1)
            .replace("03-1234-5678", "call me")
            .replace(",ja,", ",fr,");
        let one_bad = GOOD
            .replacen("12345678", "11112222", 1)
            .replace("03-1234-5678", "0311110000")
            .replace(",true,", ",yes,");
        let Err(ImportError::Problems(all)) = parse(&format!("{GOOD}{two_bad}{one_bad}")) else {
            panic!("expected several problems")
        };
        let named: Vec<(Option<u64>, Option<&str>)> =
            all.iter().map(|p| (p.line(), p.field())).collect();
        assert_eq!(
            named,
            [
                (Some(3), Some("phone")),
                (Some(3), Some("language")),
                (Some(4), Some("auto_call"))
            ]
        );
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
