//! Health reports as values: answers, channels, flags, civil dates and the export formats.
//!
//! Owns: the pure domain of a report (SPEC §3 flags, §6a export), with no I/O of its own:
//! writers take any `io::Write`. Must not touch: SQL (that is `store/`), the clock (times are
//! arguments), sockets. Answers are personal data, so their `Debug` never shows a value.

use std::fmt;

pub mod date;
pub mod export;
pub mod flags;

pub use date::{Date, DateError, LocalTime, Slot};
pub use export::{ExportError, ExportedAnswer, ReportExport};
pub use flags::{Assessment, Flag, FlagReason, FlagRules};

/// The SPEC §3 question ids in their order; export puts these columns first. Derived from
/// [`crate::domain::ReportField::ALL`], the one list of report fields.
pub const QUESTION_ORDER: [&str; 12] = crate::domain::ReportField::NAMES;

/// An answer to a yes / no / don't-know question.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symptom {
    /// Key 1.
    Yes,
    /// Key 2.
    No,
    /// Key 3, "don't know".
    Unknown,
}

impl Symptom {
    /// `yes`, `no` or `unknown`: the stored and exported form.
    pub fn label(self) -> &'static str {
        match self {
            Symptom::Yes => "yes",
            Symptom::No => "no",
            Symptom::Unknown => "unknown",
        }
    }

    /// The symptom for a stored label; `None` for anything but the three labels.
    pub fn from_label(label: &str) -> Option<Symptom> {
        [Symptom::Yes, Symptom::No, Symptom::Unknown]
            .into_iter()
            .find(|s| s.label() == label)
    }
}

/// One confirmed answer, typed by its question's kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerValue {
    /// Body temperature in tenths of a degree Celsius (`365` = 36.5 °C).
    TemperatureTenths(u16),
    /// Oxygen saturation in percent, `None` when the patient has not measured it.
    Spo2(Option<u8>),
    /// A symptom question answered yes, no or don't know.
    Symptom(Symptom),
    /// A yes/no question (`callback`): `true` = yes.
    YesNo(bool),
    /// No valid answer after the reprompts; the call moved on (SPEC §6).
    Unanswered,
}

impl AnswerValue {
    /// The kind name stored beside the value (`temperature`, `spo2`, `symptom`, `yes_no`,
    /// `unanswered`); it is not personal data.
    pub fn kind(self) -> &'static str {
        use crate::domain::FieldKind;
        match self {
            AnswerValue::TemperatureTenths(_) => FieldKind::Temperature.label(),
            AnswerValue::Spo2(_) => FieldKind::Spo2.label(),
            AnswerValue::Symptom(_) => FieldKind::Symptom.label(),
            AnswerValue::YesNo(_) => FieldKind::YesNo.label(),
            AnswerValue::Unanswered => "unanswered",
        }
    }
}

/// Shows the kind only: answers are personal data and never reach a log line.
impl fmt::Debug for AnswerValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnswerValue::{}([redacted])", self.kind())
    }
}

/// Shows nothing: a symptom answer is personal data.
impl fmt::Debug for Symptom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Symptom([redacted])")
    }
}

/// How a report reached the store (SPEC §9: reports are channel-agnostic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// An automatic outbound call (自動架電).
    OutboundCall,
    /// The inbound Health Call line (健康コール).
    HealthCall,
    /// The web form.
    Web,
    /// Staff entering a report from a phone follow-up.
    Staff,
}

impl Channel {
    /// Every channel, for parsing and tests.
    pub const ALL: [Channel; 4] = [
        Channel::OutboundCall,
        Channel::HealthCall,
        Channel::Web,
        Channel::Staff,
    ];

    /// The stored and exported label (`outbound_call`, `health_call`, `web`, `staff`).
    pub fn label(self) -> &'static str {
        match self {
            Channel::OutboundCall => "outbound_call",
            Channel::HealthCall => "health_call",
            Channel::Web => "web",
            Channel::Staff => "staff",
        }
    }

    /// The channel for a stored label; `None` for an unknown label.
    pub fn from_label(label: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.label() == label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::from_label(c.label()), Some(c));
        }
        for s in [Symptom::Yes, Symptom::No, Symptom::Unknown] {
            assert!(Symptom::from_label(s.label()) == Some(s));
        }
        assert_eq!(Channel::from_label("fax"), None);
        assert!(Symptom::from_label("maybe").is_none());
    }

    #[test]
    fn debug_never_shows_an_answer() {
        let shown = format!(
            "{:?} {:?} {:?}",
            AnswerValue::TemperatureTenths(382),
            AnswerValue::Spo2(Some(94)),
            AnswerValue::Symptom(Symptom::Yes)
        );
        assert!(!shown.contains("382") && !shown.contains("94") && !shown.contains("Yes"));
        assert!(shown.contains("temperature"));
    }
}
