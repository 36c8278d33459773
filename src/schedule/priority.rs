//! Call priority within a slot (SPEC §4): 65 and over, pregnant, or two or more risk factors
//! are called first.
//!
//! The risk text is the free text staff enter (`age65;diabetes;pregnant`). It is split on `;`,
//! `,`, `、` and `；`; tokens are compared without case; `none`, `-` and `なし` mean no factor.
//! `age65` (also `age65+`, `65+`, `over65`) and `pregnant` (also `pregnancy`, `妊娠`, `妊婦`)
//! are recognised by name; any other distinct token is one more risk factor.

use crate::domain::PatientSettings;
use crate::report::date::Date;

pub use crate::domain::{Priority, RiskFactors};

/// Completed years of age on `on` for someone born on `birthday`; a 29 February birthday
/// counts as 1 March in other years. `None` when `on` is before `birthday`.
pub fn age_on(birthday: Date, on: Date) -> Option<u16> {
    if on < birthday {
        return None;
    }
    let years = on.year() - birthday.year();
    let before_birthday = (on.month(), on.day()) < (birthday.month(), birthday.day());
    Some(years - u16::from(before_birthday))
}

/// The priority of a patient's call on the slot date `on`: [`Priority::High`] when 65 or over
/// that day (by birthday or by the `age65` marker), pregnant, or with two or more factors.
pub fn priority(risk: RiskFactors, birthday: Date, on: Date) -> Priority {
    let old = risk.age65 || age_on(birthday, on).is_some_and(|age| age >= 65);
    if old || risk.pregnant || risk.count() >= 2 {
        Priority::High
    } else {
        Priority::Normal
    }
}

impl PatientSettings {
    /// The patient's priority for a slot on `date` ([`priority`]).
    pub fn priority_on(&self, date: Date) -> Priority {
        priority(self.risk, *self.birthday.expose(), date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn reads_the_risk_text() {
        let r = RiskFactors::parse("age65;diabetes;pregnant");
        assert_eq!(
            (r.age65, r.pregnant, r.others, r.count()),
            (true, true, 1, 3)
        );
        let r = RiskFactors::parse(" Diabetes ; diabetes,OBESITY、copd；");
        assert_eq!((r.age65, r.pregnant, r.others), (false, false, 3));
        assert_eq!(RiskFactors::parse("").count(), 0);
        assert_eq!(RiskFactors::parse("none").count(), 0);
        assert_eq!(RiskFactors::parse("なし;-").count(), 0);
        assert!(RiskFactors::parse("妊娠").pregnant);
        assert_eq!(format!("{r:?}"), "RiskFactors([redacted])");
    }

    #[test]
    fn age_turns_on_the_birthday() {
        let born = d("1960-05-01");
        assert_eq!(age_on(born, d("2025-04-30")), Some(64));
        assert_eq!(age_on(born, d("2025-05-01")), Some(65));
        assert_eq!(age_on(born, d("1959-01-01")), None);
        let leap = d("1960-02-29");
        assert_eq!(age_on(leap, d("2025-02-28")), Some(64));
        assert_eq!(age_on(leap, d("2025-03-01")), Some(65));
        assert_eq!(age_on(leap, d("2024-02-29")), Some(64));
    }

    #[test]
    fn high_priority_rules() {
        let none = RiskFactors::default();
        let young = d("1990-01-01");
        let on = d("2025-05-01");
        assert_eq!(priority(none, young, on), Priority::Normal);
        assert_eq!(priority(none, d("1960-05-01"), on), Priority::High);
        assert_eq!(priority(none, d("1960-05-02"), on), Priority::Normal);
        let one = RiskFactors::parse("diabetes");
        assert_eq!(priority(one, young, on), Priority::Normal);
        let two = RiskFactors::parse("diabetes;copd");
        assert_eq!(priority(two, young, on), Priority::High);
        assert_eq!(
            priority(RiskFactors::parse("pregnant"), young, on),
            Priority::High
        );
        assert_eq!(
            priority(RiskFactors::parse("age65"), young, on),
            Priority::High
        );
        assert!(Priority::High < Priority::Normal);
        assert_eq!(Priority::High.label(), "high");
    }
}
