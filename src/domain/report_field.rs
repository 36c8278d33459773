//! The twelve report fields of SPEC §3, defined once: their names, their order, the kind of
//! value each stores and the prompt that asks for it.
//!
//! Every other list is derived from [`ReportField::ALL`]: the export's column order
//! (`report::QUESTION_ORDER`), the fields a dialplan may ask (`ivr::FIELDS`), the loader's
//! "expected one of" message, the staff API's answer parsing, the prompt catalogue's
//! question prompts. Two texts that cannot be derived are checked against it by the unit
//! tests below: the value kinds the `answers` table's CHECK constraint names (migrations),
//! and the fields the staff API's OpenAPI document describes for a report's answers.

use std::fmt;

/// The shape of the value a report field stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKind {
    /// Body temperature in tenths of a degree Celsius, keyed as digits (`365` = 36.5 °C).
    Temperature,
    /// Oxygen saturation in whole percent, or "not measured".
    Spo2,
    /// A symptom answered yes, no or "don't know".
    Symptom,
    /// A plain yes/no answer.
    YesNo,
}

impl FieldKind {
    /// Every kind, in field order.
    pub const ALL: [FieldKind; 4] = [
        FieldKind::Temperature,
        FieldKind::Spo2,
        FieldKind::Symptom,
        FieldKind::YesNo,
    ];

    /// The `value_kind` stored beside an answer of this kind (`temperature`, `spo2`,
    /// `symptom`, `yes_no`); an unanswered item is stored as `unanswered` whatever its kind.
    pub const fn label(self) -> &'static str {
        match self {
            FieldKind::Temperature => "temperature",
            FieldKind::Spo2 => "spo2",
            FieldKind::Symptom => "symptom",
            FieldKind::YesNo => "yes_no",
        }
    }
}

/// One report field (SPEC §3), which is also the id of the question that asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportField {
    /// Body temperature.
    Temperature,
    /// Oxygen saturation.
    Spo2,
    /// Pale or purple face or lips.
    Face,
    /// Cough.
    Cough,
    /// Breathlessness.
    Breath,
    /// Fatigue.
    Fatigue,
    /// Nausea.
    Nausea,
    /// Diarrhoea.
    Diarrhea,
    /// Impaired consciousness.
    Conscious,
    /// Unable to eat.
    Eating,
    /// Little urine.
    Urine,
    /// The patient asks for a call back.
    Callback,
}

impl ReportField {
    /// Every field, in SPEC §3 order (the order of questions and export columns).
    pub const ALL: [ReportField; 12] = [
        ReportField::Temperature,
        ReportField::Spo2,
        ReportField::Face,
        ReportField::Cough,
        ReportField::Breath,
        ReportField::Fatigue,
        ReportField::Nausea,
        ReportField::Diarrhea,
        ReportField::Conscious,
        ReportField::Eating,
        ReportField::Urine,
        ReportField::Callback,
    ];

    /// Every field name, in [`ReportField::ALL`] order.
    pub const NAMES: [&'static str; 12] = {
        let mut names = [""; 12];
        let mut i = 0;
        while i < names.len() {
            names[i] = ReportField::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The name used in dialplans, the store's `question` column, exports and the API.
    pub const fn name(self) -> &'static str {
        match self {
            ReportField::Temperature => "temperature",
            ReportField::Spo2 => "spo2",
            ReportField::Face => "face",
            ReportField::Cough => "cough",
            ReportField::Breath => "breath",
            ReportField::Fatigue => "fatigue",
            ReportField::Nausea => "nausea",
            ReportField::Diarrhea => "diarrhea",
            ReportField::Conscious => "conscious",
            ReportField::Eating => "eating",
            ReportField::Urine => "urine",
            ReportField::Callback => "callback",
        }
    }

    /// The kind of value the field stores.
    pub const fn kind(self) -> FieldKind {
        match self {
            ReportField::Temperature => FieldKind::Temperature,
            ReportField::Spo2 => FieldKind::Spo2,
            ReportField::Callback => FieldKind::YesNo,
            _ => FieldKind::Symptom,
        }
    }

    /// An English label for staff-facing text (`SpO2`, `Breathlessness`).
    pub const fn label(self) -> &'static str {
        match self {
            ReportField::Temperature => "Temperature",
            ReportField::Spo2 => "SpO2",
            ReportField::Face => "Pale or purple face or lips",
            ReportField::Cough => "Cough",
            ReportField::Breath => "Breathlessness",
            ReportField::Fatigue => "Fatigue",
            ReportField::Nausea => "Nausea",
            ReportField::Diarrhea => "Diarrhoea",
            ReportField::Conscious => "Impaired consciousness",
            ReportField::Eating => "Unable to eat",
            ReportField::Urine => "Little urine",
            ReportField::Callback => "Call back requested",
        }
    }

    /// The field of this name; `None` for a name the report does not have.
    pub fn from_name(name: &str) -> Option<ReportField> {
        ReportField::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The id of the prompt that asks for the field (`q_temperature`).
    pub fn prompt_id(self) -> String {
        format!("q_{}", self.name())
    }

    /// Every name joined with `, `, for messages that list the fields.
    pub fn names_listed() -> String {
        ReportField::NAMES.join(", ")
    }
}

impl fmt::Display for ReportField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_round_trip() {
        for (i, f) in ReportField::ALL.into_iter().enumerate() {
            assert_eq!(ReportField::from_name(f.name()), Some(f));
            assert_eq!(ReportField::NAMES[i], f.name());
            assert!(!ReportField::ALL[..i].contains(&f));
        }
        assert_eq!(ReportField::from_name("pulse"), None);
        assert_eq!(ReportField::prompt_id(ReportField::Spo2), "q_spo2");
        assert_eq!(
            ReportField::names_listed(),
            "temperature, spo2, face, cough, breath, fatigue, nausea, diarrhea, conscious, \
             eating, urine, callback"
        );
    }

    #[test]
    fn every_kind_is_used_and_the_answers_check_constraint_names_each() {
        let migrations = [
            include_str!("../../migrations/sqlite/0001_report_store.sql"),
            include_str!("../../migrations/postgres/0001_report_store.sql"),
        ];
        for kind in FieldKind::ALL {
            assert!(
                ReportField::ALL.iter().any(|f| f.kind() == kind),
                "{kind:?}"
            );
            for sql in migrations {
                let check = format!("value_kind = '{}'", kind.label());
                assert!(sql.contains(&check), "migration lacks {check}");
            }
        }
    }

    #[test]
    fn the_openapi_answers_description_names_every_field_with_its_kind() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../http/openapi.json")).unwrap();
        let mut found = None;
        find_description(&doc, "null = unanswered", &mut found);
        let text = found.expect("the answers description");
        for field in ReportField::ALL {
            let named = text
                .split([';', ':', ','])
                .any(|w| w.trim() == field.name());
            assert!(named, "openapi answers description lacks {field}");
        }
        let symptoms = ReportField::ALL
            .iter()
            .filter(|f| f.kind() == FieldKind::Symptom)
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ");
        assert!(
            text.contains(&format!("{symptoms}: yes/no/unknown")),
            "{text}"
        );
    }

    fn find_description(v: &serde_json::Value, marker: &str, found: &mut Option<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match v.as_str() {
                        Some(s) if k == "description" && s.contains(marker) => {
                            *found = Some(s.to_string())
                        }
                        _ => find_description(v, marker, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items
                .iter()
                .for_each(|v| find_description(v, marker, found)),
            _ => {}
        }
    }
}
