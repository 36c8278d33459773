//! Who the simulator accepts on Health Call's identification: the demo patients of
//! `demo/patients.csv` (fictional people), compiled in. The simulator never asks the report
//! store: a staff member trying a flow cannot look up, lock or report for a real patient.
//!
//! Keying a demo patient's HER-SYS ID and birthday (`MMDD`) is "confirmed"; anything else is
//! "not confirmed", as on the phone. There is no lockout in the simulator.

use crate::ivr::Mmdd;
use crate::pii::Redacted;

/// The demo patients file, as shipped.
const DEMO_PATIENTS: &str = include_str!("../../demo/patients.csv");

/// The identities the simulator confirms: (HER-SYS ID, birthday as `MMDD`).
#[derive(Clone, PartialEq, Eq)]
pub struct DemoIdentities {
    entries: Vec<(String, String)>,
}

impl std::fmt::Debug for DemoIdentities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DemoIdentities({} entries)", self.entries.len())
    }
}

impl DemoIdentities {
    /// The patients of `demo/patients.csv`.
    pub fn builtin() -> DemoIdentities {
        DemoIdentities::from_csv(DEMO_PATIENTS)
    }

    /// Reads `hersys_id` and `birthday` (`YYYY-MM-DD`) from a patients CSV (the `patients
    /// import` format); rows without both are skipped.
    pub fn from_csv(text: &str) -> DemoIdentities {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().cloned().unwrap_or_default();
        let column = |name: &str| header.iter().position(|h| h.trim() == name);
        let (Some(id_col), Some(birthday_col)) = (column("hersys_id"), column("birthday")) else {
            return DemoIdentities {
                entries: Vec::new(),
            };
        };
        let entries = reader
            .records()
            .filter_map(Result::ok)
            .filter_map(|row| {
                let id = row.get(id_col)?.trim().to_owned();
                let date: crate::report::Date = row.get(birthday_col)?.trim().parse().ok()?;
                (!id.is_empty()).then(|| (id, date.mmdd()))
            })
            .collect();
        DemoIdentities { entries }
    }

    /// Whether `hersys_id` and `birthday` are one demo patient's.
    pub fn confirms(&self, hersys_id: &Redacted<String>, birthday: &Redacted<Mmdd>) -> bool {
        let b = birthday.expose();
        let mmdd = format!("{:02}{:02}", b.month(), b.day());
        self.entries
            .iter()
            .any(|(id, day)| id == hersys_id.expose() && *day == mmdd)
    }

    /// The first demo identity (HER-SYS ID, `MMDD`), shown on the simulator page as a hint.
    pub fn hint(&self) -> Option<(&str, &str)> {
        self.entries
            .first()
            .map(|(id, day)| (id.as_str(), day.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mmdd(s: &str) -> Redacted<Mmdd> {
        Redacted::new(Mmdd::from_digits(s).unwrap())
    }

    #[test]
    fn the_demo_patients_are_confirmed_and_nobody_else() {
        let demo = DemoIdentities::builtin();
        assert_eq!(demo.hint(), Some(("12345678", "0415")));
        let id = |s: &str| Redacted::new(s.to_owned());
        assert!(demo.confirms(&id("12345678"), &mmdd("0415")));
        assert!(demo.confirms(&id("23456789"), &mmdd("0702")));
        assert!(!demo.confirms(&id("12345678"), &mmdd("0416")));
        assert!(!demo.confirms(&id("99999999"), &mmdd("0415")));
        assert!(!format!("{demo:?}").contains("1234"));
        let none = DemoIdentities::from_csv("name,phone\nx,1\n");
        assert!(!none.confirms(&id("12345678"), &mmdd("0415")));
        assert_eq!(none.hint(), None);
    }
}
