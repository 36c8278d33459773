//! Answer values: which report fields exist, what each stores, and the values a call stores.
//!
//! The question set itself is data (a dialplan); this file only knows the report's fields, so a
//! dialplan cannot store an answer to a field the report store does not have. Answers are
//! personal data: their `Debug` shows the kind of answer, never the value.

use std::fmt;

pub use crate::domain::FieldKind;
use crate::domain::ReportField;

/// The report fields of SPEC §3, with the kind of value each stores: derived from
/// [`ReportField::ALL`], the one list of report fields.
pub const FIELDS: [(&str, FieldKind); 12] = {
    let mut fields = [("", FieldKind::Symptom); 12];
    let mut i = 0;
    while i < fields.len() {
        let field = ReportField::ALL[i];
        fields[i] = (field.name(), field.kind());
        i += 1;
    }
    fields
};

/// The id of a question, which is also the report field its answer is stored in.
/// Only ids listed in [`FIELDS`] can be constructed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QuestionId {
    name: &'static str,
    kind: FieldKind,
}

impl QuestionId {
    /// The id for a field name such as `"temperature"`; `None` when the report has no such field.
    pub fn new(name: &str) -> Option<QuestionId> {
        FIELDS
            .iter()
            .find(|(field, _)| *field == name)
            .map(|&(name, kind)| QuestionId { name, kind })
    }

    /// The field name, as written in dialplans and report exports.
    pub fn as_str(&self) -> &'static str {
        self.name
    }

    /// The kind of value this field stores.
    pub fn kind(&self) -> FieldKind {
        self.kind
    }
}

impl fmt::Display for QuestionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

// The answer value types are the report store's: one definition from keypad to export.
pub use crate::report::{AnswerValue, Symptom};

/// The answer a key of a one-key question stands for, as written in a dialplan's `keys` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// `"yes"`.
    Yes,
    /// `"no"`.
    No,
    /// `"unknown"` (don't know); symptom fields only.
    Unknown,
}

impl Choice {
    /// The name as written in dialplans.
    pub fn name(self) -> &'static str {
        match self {
            Choice::Yes => "yes",
            Choice::No => "no",
            Choice::Unknown => "unknown",
        }
    }

    /// The value stored for this choice in a field of `kind`; `None` when the field cannot store
    /// it (`unknown` for a yes/no field, any choice for a numeric field).
    pub fn value_for(self, kind: FieldKind) -> Option<AnswerValue> {
        match (kind, self) {
            (FieldKind::Symptom, Choice::Yes) => Some(AnswerValue::Symptom(Symptom::Yes)),
            (FieldKind::Symptom, Choice::No) => Some(AnswerValue::Symptom(Symptom::No)),
            (FieldKind::Symptom, Choice::Unknown) => Some(AnswerValue::Symptom(Symptom::Unknown)),
            (FieldKind::YesNo, Choice::Yes) => Some(AnswerValue::YesNo(true)),
            (FieldKind::YesNo, Choice::No) => Some(AnswerValue::YesNo(false)),
            _ => None,
        }
    }
}

impl FieldKind {
    /// The stored value for a confirmed keyed number, or `None` when it does not fit the field
    /// (the loader rejects ranges that could produce such a number).
    pub fn number_value(self, n: u32) -> Option<AnswerValue> {
        match self {
            FieldKind::Temperature => u16::try_from(n).ok().map(AnswerValue::TemperatureTenths),
            FieldKind::Spo2 => u8::try_from(n).ok().map(|v| AnswerValue::Spo2(Some(v))),
            FieldKind::Symptom | FieldKind::YesNo => None,
        }
    }

    /// The largest keyed number the field can store, `None` for fields answered with one key.
    pub fn largest_number(self) -> Option<u32> {
        match self {
            FieldKind::Temperature => Some(u32::from(u16::MAX)),
            FieldKind::Spo2 => Some(u32::from(u8::MAX)),
            FieldKind::Symptom | FieldKind::YesNo => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_report_fields_are_question_ids() {
        let t = QuestionId::new("temperature").unwrap();
        assert_eq!(t.as_str(), "temperature");
        assert_eq!(t.kind(), FieldKind::Temperature);
        assert_eq!(
            QuestionId::new("callback").unwrap().kind(),
            FieldKind::YesNo
        );
        assert_eq!(QuestionId::new("urine").unwrap().kind(), FieldKind::Symptom);
        assert_eq!(QuestionId::new("temprature"), None);
    }

    #[test]
    fn choices_map_to_the_field_kind() {
        let unknown = Choice::Unknown.value_for(FieldKind::Symptom);
        assert_eq!(unknown, Some(AnswerValue::Symptom(Symptom::Unknown)));
        assert_eq!(
            Choice::Yes.value_for(FieldKind::YesNo),
            Some(AnswerValue::YesNo(true))
        );
        assert_eq!(Choice::Unknown.value_for(FieldKind::YesNo), None);
        assert_eq!(Choice::Yes.value_for(FieldKind::Temperature), None);
    }

    #[test]
    fn numbers_fit_their_field() {
        let t = FieldKind::Temperature.number_value(365);
        assert_eq!(t, Some(AnswerValue::TemperatureTenths(365)));
        assert_eq!(
            FieldKind::Spo2.number_value(97),
            Some(AnswerValue::Spo2(Some(97)))
        );
        assert_eq!(FieldKind::Spo2.number_value(256), None);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let shown = format!("{:?}", AnswerValue::TemperatureTenths(365));
        assert!(
            !shown.contains("365") && shown.contains("redacted"),
            "{shown}"
        );
        let shown = format!("{:?}", AnswerValue::Symptom(Symptom::Yes));
        assert!(!shown.contains("Yes") && !shown.contains("yes"), "{shown}");
        let shown = format!("{:?}", AnswerValue::Spo2(Some(97)));
        assert!(!shown.contains("97"), "{shown}");
    }
}
