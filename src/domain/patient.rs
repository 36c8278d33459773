//! A patient as automatic calling sees them: call settings, risk factors and call priority.
//!
//! The store reads these from `patients` rows; the planner (`schedule::plan_day`) and the
//! last check before dialling (`schedule::Pacer::may_dial`) decide from them. How risk and
//! age make the priority is the planner's rule (`schedule::priority`).

use crate::pii::Redacted;
use crate::report::date::{Date, LocalTime};

use super::PatientId;

/// Dates from `start` to `end`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub start: Date,
    /// Last day (included).
    pub end: Date,
}

impl Period {
    /// True when `date` is inside the period (an empty period, `end < start`, has no day).
    pub fn contains(self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }
}

/// One patient's call settings as the planner reads them. Personal data stays redacted.
#[derive(Debug, Clone)]
pub struct PatientSettings {
    /// The patient.
    pub id: PatientId,
    /// Local call times (a subset of the slots; others are ignored).
    pub call_times: Vec<LocalTime>,
    /// The observation period.
    pub observation: Period,
    /// The call period, when staff narrowed calls to part of the observation period.
    pub call_period: Option<Period>,
    /// Automatic calling is on.
    pub auto_call: bool,
    /// Risk factors from the risk text ([`RiskFactors::parse`]).
    pub risk: RiskFactors,
    /// Birthday, for the 65-and-over rule.
    pub birthday: Redacted<Date>,
}

impl PatientSettings {
    /// True when automatic calls may be placed on `date` at all: calling on, date inside
    /// the observation period and the call period.
    pub fn calls_on(&self, date: Date) -> bool {
        self.auto_call
            && self.observation.contains(date)
            && self.call_period.is_none_or(|p| p.contains(date))
    }
}

/// How urgently a patient is called within a slot. `High` sorts before `Normal`, so an
/// ascending sort puts high priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// 65 and over on the slot date, pregnant, or two or more risk factors.
    High,
    /// Everyone else.
    Normal,
}

impl Priority {
    /// The label used in metrics and the staff page.
    pub fn label(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }

    /// The store's priority column: higher is called first.
    pub fn rank(self) -> i32 {
        match self {
            Priority::High => 1,
            Priority::Normal => 0,
        }
    }

    /// The priority of a stored rank (a call staff asked for has a rank above both).
    pub fn from_rank(rank: i32) -> Priority {
        if rank >= 1 {
            Priority::High
        } else {
            Priority::Normal
        }
    }
}

/// The risk factors read from a patient's risk text. Health data: its `Debug` prints
/// `RiskFactors([redacted])`.
///
/// The risk text is the free text staff enter (`age65;diabetes;pregnant`). It is split on `;`,
/// `,`, `、` and `；`; tokens are compared without case; `none`, `-` and `なし` mean no factor.
/// `age65` (also `age65+`, `65+`, `over65`) and `pregnant` (also `pregnancy`, `妊娠`, `妊婦`)
/// are recognised by name; any other distinct token is one more risk factor.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct RiskFactors {
    /// The text marks the patient as 65 or over.
    pub age65: bool,
    /// The text marks the patient as pregnant.
    pub pregnant: bool,
    /// Distinct factors other than age and pregnancy (e.g. diabetes, obesity).
    pub others: usize,
}

impl RiskFactors {
    /// Reads the free text; never fails (unknown tokens are counted as factors).
    pub fn parse(text: &str) -> RiskFactors {
        let mut factors = RiskFactors::default();
        let mut others: Vec<String> = Vec::new();
        for token in text.split([';', ',', '、', '；']) {
            let token = token.trim().to_lowercase();
            match token.as_str() {
                "" | "none" | "-" | "なし" => {}
                "age65" | "age65+" | "65+" | "over65" => factors.age65 = true,
                "pregnant" | "pregnancy" | "妊娠" | "妊婦" => factors.pregnant = true,
                _ if others.contains(&token) => {}
                _ => others.push(token),
            }
        }
        factors.others = others.len();
        factors
    }

    /// All distinct factors, age and pregnancy included.
    pub fn count(self) -> usize {
        self.others + usize::from(self.age65) + usize::from(self.pregnant)
    }
}

impl std::fmt::Debug for RiskFactors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RiskFactors([redacted])")
    }
}
