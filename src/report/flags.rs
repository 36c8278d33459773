//! Red and amber flags of a report, from its answers (SPEC §3), as a pure function.
//!
//! The thresholds and the question ids the red rules look at are configuration
//! ([`FlagRules`], `[flags]` in the TOML file); the defaults are the SPEC's.

use super::{AnswerValue, Symptom};

/// How urgently staff should look at a report. Ordered: `None < Amber < Red`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// Nothing to follow up.
    None,
    /// A symptom or a missing answer.
    Amber,
    /// Call the patient now.
    Red,
}

impl Flag {
    /// The stored and exported label: `none`, `amber` or `red`.
    pub fn label(self) -> &'static str {
        match self {
            Flag::None => "none",
            Flag::Amber => "amber",
            Flag::Red => "red",
        }
    }

    /// The flag for a stored label; `None` for an unknown label.
    pub fn from_label(label: &str) -> Option<Flag> {
        [Flag::None, Flag::Amber, Flag::Red]
            .into_iter()
            .find(|f| f.label() == label)
    }
}

/// Why a report is flagged. The codes name questions, never values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FlagReason {
    /// Red: temperature at or above the fever threshold.
    Fever,
    /// Red: SpO2 below the breathlessness threshold with breathlessness answered yes.
    Spo2LowWithBreathlessness,
    /// Red: SpO2 at or below the absolute threshold.
    Spo2Low,
    /// Red: drowsy, confused, not themselves answered yes.
    ImpairedConsciousness,
    /// Red: the patient asked the health centre to call.
    CallbackRequested,
    /// Amber: yes to another symptom question (its id).
    Symptom(String),
    /// Amber: the question (its id) was left unanswered.
    Unanswered(String),
}

impl FlagReason {
    /// The stored and exported code: `fever`, `spo2_low_breathless`, `spo2_low`,
    /// `consciousness`, `callback`, `symptom:<question>` or `unanswered:<question>`.
    pub fn code(&self) -> String {
        match self {
            FlagReason::Fever => "fever".into(),
            FlagReason::Spo2LowWithBreathlessness => "spo2_low_breathless".into(),
            FlagReason::Spo2Low => "spo2_low".into(),
            FlagReason::ImpairedConsciousness => "consciousness".into(),
            FlagReason::CallbackRequested => "callback".into(),
            FlagReason::Symptom(q) => format!("symptom:{q}"),
            FlagReason::Unanswered(q) => format!("unanswered:{q}"),
        }
    }

    /// The flag this reason alone raises.
    pub fn severity(&self) -> Flag {
        match self {
            FlagReason::Symptom(_) | FlagReason::Unanswered(_) => Flag::Amber,
            _ => Flag::Red,
        }
    }
}

/// The flag thresholds (SPEC §3 defaults via [`Default`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagRules {
    /// Red at or above this temperature, in tenths of °C (default 375 = 37.5 °C).
    pub fever_tenths: u16,
    /// Red when SpO2 is below this and breathlessness is yes (default 96).
    pub spo2_with_breathlessness_below: u8,
    /// Red when SpO2 is at or below this (default 93).
    pub spo2_at_or_below: u8,
    /// The breathlessness question id (default `breath`).
    pub breathlessness: String,
    /// The impaired-consciousness question id (default `conscious`).
    pub consciousness: String,
    /// The callback question id (default `callback`).
    pub callback: String,
}

impl Default for FlagRules {
    fn default() -> FlagRules {
        FlagRules {
            fever_tenths: 375,
            spo2_with_breathlessness_below: 96,
            spo2_at_or_below: 93,
            breathlessness: "breath".into(),
            consciousness: "conscious".into(),
            callback: "callback".into(),
        }
    }
}

/// A report's flag and every reason behind it, red reasons first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The highest severity among the reasons, `Flag::None` when there are none.
    pub flag: Flag,
    /// Each rule that fired, red ones first, then in answer order.
    pub reasons: Vec<FlagReason>,
}

impl FlagRules {
    /// Assesses the answers stored so far (question id, value). Questions not yet asked raise
    /// nothing; "don't know" and "SpO2 not measured" raise nothing; an unanswered item and a
    /// yes to any symptom outside the red rules raise amber.
    pub fn assess(&self, answers: &[(String, AnswerValue)]) -> Assessment {
        let breathless = answers
            .iter()
            .any(|(q, v)| *q == self.breathlessness && is_yes(*v));
        let mut red = Vec::new();
        let mut amber = Vec::new();
        for (question, value) in answers {
            match *value {
                AnswerValue::TemperatureTenths(t) if t >= self.fever_tenths => {
                    red.push(FlagReason::Fever)
                }
                AnswerValue::Spo2(Some(s)) if s <= self.spo2_at_or_below => {
                    red.push(FlagReason::Spo2Low)
                }
                AnswerValue::Spo2(Some(s))
                    if s < self.spo2_with_breathlessness_below && breathless =>
                {
                    red.push(FlagReason::Spo2LowWithBreathlessness)
                }
                AnswerValue::Unanswered => amber.push(FlagReason::Unanswered(question.clone())),
                v if is_yes(v) && *question == self.consciousness => {
                    red.push(FlagReason::ImpairedConsciousness)
                }
                v if is_yes(v) && *question == self.callback => {
                    red.push(FlagReason::CallbackRequested)
                }
                v if is_yes(v) => amber.push(FlagReason::Symptom(question.clone())),
                _ => {}
            }
        }
        red.append(&mut amber);
        let flag = red
            .iter()
            .map(FlagReason::severity)
            .max()
            .unwrap_or(Flag::None);
        Assessment { flag, reasons: red }
    }
}

fn is_yes(v: AnswerValue) -> bool {
    matches!(
        v,
        AnswerValue::Symptom(Symptom::Yes) | AnswerValue::YesNo(true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use AnswerValue::{Spo2, TemperatureTenths, Unanswered, YesNo};

    fn assess(answers: &[(&str, AnswerValue)]) -> Assessment {
        let owned: Vec<_> = answers.iter().map(|(q, v)| (q.to_string(), *v)).collect();
        FlagRules::default().assess(&owned)
    }

    fn codes(a: &Assessment) -> Vec<String> {
        a.reasons.iter().map(FlagReason::code).collect()
    }

    #[test]
    fn every_temperature_from_34_0_to_42_9() {
        for t in 340..=429u16 {
            let a = assess(&[("temperature", TemperatureTenths(t))]);
            let want = if t >= 375 { Flag::Red } else { Flag::None };
            assert_eq!(a.flag, want, "{t}");
            assert_eq!(codes(&a), if t >= 375 { vec!["fever"] } else { vec![] });
        }
    }

    #[test]
    fn every_spo2_with_every_breathlessness_answer() {
        let breaths = [
            AnswerValue::Symptom(Symptom::Yes),
            AnswerValue::Symptom(Symptom::No),
            AnswerValue::Symptom(Symptom::Unknown),
        ];
        for s in 50..=100u8 {
            for breath in breaths {
                let a = assess(&[("spo2", Spo2(Some(s))), ("breath", breath)]);
                let yes = breath == AnswerValue::Symptom(Symptom::Yes);
                let mut want = Vec::new();
                if s <= 93 {
                    want.push("spo2_low");
                } else if s < 96 && yes {
                    want.push("spo2_low_breathless");
                }
                if yes {
                    want.push("symptom:breath");
                }
                assert_eq!(codes(&a), want, "spo2 {s}");
                let flag = if s <= 93 || (s < 96 && yes) {
                    Flag::Red
                } else if yes {
                    Flag::Amber
                } else {
                    Flag::None
                };
                assert_eq!(a.flag, flag, "spo2 {s}");
            }
        }
    }

    #[test]
    fn spo2_not_measured_raises_nothing_even_when_breathless() {
        let a = assess(&[
            ("spo2", Spo2(None)),
            ("breath", AnswerValue::Symptom(Symptom::No)),
        ]);
        assert_eq!((a.flag, codes(&a)), (Flag::None, vec![]));
        let a = assess(&[
            ("spo2", Spo2(None)),
            ("breath", AnswerValue::Symptom(Symptom::Yes)),
        ]);
        assert_eq!(
            (a.flag, codes(&a)),
            (Flag::Amber, vec!["symptom:breath".to_string()])
        );
    }

    #[test]
    fn each_symptom_question_with_each_answer() {
        for q in crate::report::QUESTION_ORDER.iter().skip(2) {
            for (value, yes) in [
                (AnswerValue::Symptom(Symptom::Yes), true),
                (AnswerValue::Symptom(Symptom::No), false),
                (AnswerValue::Symptom(Symptom::Unknown), false),
                (YesNo(true), true),
                (YesNo(false), false),
            ] {
                let a = assess(&[(q, value)]);
                let (flag, code) = match *q {
                    "conscious" => (Flag::Red, "consciousness".to_string()),
                    "callback" => (Flag::Red, "callback".to_string()),
                    _ => (Flag::Amber, format!("symptom:{q}")),
                };
                let want = if yes {
                    (flag, vec![code])
                } else {
                    (Flag::None, vec![])
                };
                assert_eq!((a.flag, codes(&a)), want, "{q}");
            }
        }
    }

    #[test]
    fn unanswered_items_are_amber_on_every_question() {
        for q in crate::report::QUESTION_ORDER {
            let a = assess(&[(q, Unanswered)]);
            assert_eq!(
                (a.flag, codes(&a)),
                (Flag::Amber, vec![format!("unanswered:{q}")])
            );
        }
    }

    #[test]
    fn red_dominates_and_lists_every_reason_red_first() {
        let a = assess(&[
            ("temperature", TemperatureTenths(382)),
            ("spo2", Spo2(Some(97))),
            ("cough", AnswerValue::Symptom(Symptom::Yes)),
            ("fatigue", Unanswered),
            ("callback", YesNo(true)),
        ]);
        assert_eq!(a.flag, Flag::Red);
        assert_eq!(
            codes(&a),
            ["fever", "callback", "symptom:cough", "unanswered:fatigue"]
        );
        assert_eq!(assess(&[]).flag, Flag::None);
    }

    #[test]
    fn thresholds_are_configurable() {
        let rules = FlagRules {
            fever_tenths: 380,
            spo2_at_or_below: 90,
            ..FlagRules::default()
        };
        let a = rules.assess(&[
            ("temperature".into(), TemperatureTenths(379)),
            ("spo2".into(), Spo2(Some(91))),
        ]);
        assert_eq!(a.flag, Flag::None);
        for f in [Flag::None, Flag::Amber, Flag::Red] {
            assert_eq!(Flag::from_label(f.label()), Some(f));
        }
    }
}
