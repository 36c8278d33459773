//! Whole calls driven through the interpreter on a manual clock, and the dialplan checker run
//! on the shipped dialplans and on broken fixtures.

mod automatic_call;
mod health_call;
mod load_errors;
mod policy;
mod unavailable;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::lang::Language;
use crate::rtp::Digit;

use super::{Action, AnswerValue, CallOutcome, Dialplan, Input, Interpreter, PlayItem};
use super::{QuestionId, SpokenNumber, Symptom};

/// The prompt ids of the shared catalogue contract (every one exists in all eight languages).
pub(super) const CATALOGUE: &[&str] = &[
    "lang_select",
    "hc_welcome",
    "hc_pulse_hint",
    "hc_enter_id",
    "hc_enter_birthday",
    "hc_not_confirmed",
    "hc_contact_centre",
    "service_busy",
    "hc_recorded",
    "hc_another_person",
    "ac_greeting",
    "ac_start_keys",
    "ac_wrong_number",
    "q_temperature",
    "q_spo2",
    "q_face",
    "q_cough",
    "q_breath",
    "q_fatigue",
    "q_nausea",
    "q_diarrhea",
    "q_conscious",
    "q_eating",
    "q_urine",
    "q_callback",
    "keys_yes_no_unknown",
    "keys_yes_no",
    "confirm_temperature",
    "confirm_spo2",
    "unit_degrees",
    "unit_percent",
    "confirm_keys",
    "no_input",
    "invalid_input",
    "skip_item",
    "closing",
    "goodbye",
];

/// Whether the catalogue has a prompt.
pub(super) fn known(id: &str) -> bool {
    CATALOGUE.contains(&id)
}

/// The repository's `dialplans/` folder.
pub(super) fn dialplans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dialplans")
}

/// A shipped dialplan, checked against the catalogue.
pub(super) fn shipped(name: &str) -> Arc<Dialplan> {
    let path = dialplans_dir().join(name);
    match super::load_file(&path, &known) {
        Ok(plan) => Arc::new(plan),
        Err(e) => panic!("{e}"),
    }
}

/// Time between two keys of an entry in these tests.
pub(super) const KEY_GAP: Duration = Duration::from_millis(300);

/// One call on a manual clock.
pub(super) struct Call {
    pub interp: Interpreter,
    pub now: Instant,
}

impl Call {
    /// A call on `plan` in `language`, started (the start step's actions are returned).
    pub fn start(plan: Arc<Dialplan>, language: Language) -> (Call, Vec<Action>) {
        let mut call = Call {
            interp: Interpreter::new(plan, language),
            now: Instant::now(),
        };
        let first = call.send(Input::Started);
        (call, first)
    }

    /// Feeds an input now.
    pub fn send(&mut self, input: Input) -> Vec<Action> {
        self.interp.handle_input(input, self.now)
    }

    /// The current playback ran to its end.
    pub fn done(&mut self) -> Vec<Action> {
        self.send(Input::PromptsDone)
    }

    /// Lets `d` pass, firing every timer at its own deadline as a runtime would.
    pub fn wait(&mut self, d: Duration) -> Vec<Action> {
        let end = self.now + d;
        let mut out = Vec::new();
        while let Some(at) = self.interp.poll_timeout().filter(|at| *at <= end) {
            self.now = at;
            out.extend(self.interp.handle_timeout(at));
        }
        self.now = end;
        out
    }

    /// Presses `keys` one after another, [`KEY_GAP`] apart; returns the actions of all keys.
    /// Panics if a timer fires in a gap (the keys came too slowly for the dialplan).
    pub fn keys(&mut self, keys: &str) -> Vec<Action> {
        let mut out = Vec::new();
        for c in keys.chars() {
            let fired = self.wait(KEY_GAP);
            assert!(fired.is_empty(), "timer fired before key: {fired:?}");
            let digit = Digit::from_char(c).unwrap();
            out.extend(self.send(Input::Digit(digit)));
        }
        out
    }
}

/// `Play` of prompts in the call language.
pub(super) fn play(ids: &[&str]) -> Action {
    Action::Play(ids.iter().map(|id| PlayItem::prompt(id)).collect())
}

/// The language menu: each language's `lang_select` in that language.
pub(super) fn language_menu() -> Action {
    Action::Play(
        Language::ALL
            .map(|l| PlayItem::prompt_in("lang_select", l))
            .to_vec(),
    )
}

/// The temperature read-back for `tenths`.
pub(super) fn temperature_read_back(tenths: u32) -> Action {
    Action::Play(vec![
        PlayItem::prompt("confirm_temperature"),
        PlayItem::Number(SpokenNumber::Tenths(tenths)),
        PlayItem::prompt("unit_degrees"),
        PlayItem::prompt("confirm_keys"),
    ])
}

/// The SpO2 read-back for `percent`.
pub(super) fn spo2_read_back(percent: u32) -> Action {
    Action::Play(vec![
        PlayItem::prompt("confirm_spo2"),
        PlayItem::Number(SpokenNumber::Integer(percent)),
        PlayItem::prompt("unit_percent"),
        PlayItem::prompt("confirm_keys"),
    ])
}

/// `StoreAnswer` for a field.
pub(super) fn store(field: &str, value: AnswerValue) -> Action {
    Action::StoreAnswer {
        question: QuestionId::new(field).unwrap(),
        value,
    }
}

/// The yes/no/unknown questions in dialplan order, with their prompt ids.
pub(super) const SYMPTOMS: [&str; 9] = [
    "face",
    "cough",
    "breath",
    "fatigue",
    "nausea",
    "diarrhea",
    "conscious",
    "eating",
    "urine",
];

/// Answers every question from the temperature prompt on (which must be playing): 36.5, SpO2
/// 97, "no" to every symptom, no callback. Asserts each step's actions; returns the actions of
/// the final key (which store `callback` and report complete).
pub(super) fn answer_all_questions(call: &mut Call) -> Vec<Action> {
    assert_eq!(call.done(), []);
    assert_eq!(call.keys("365"), [temperature_read_back(365)]);
    assert_eq!(call.done(), []);
    let stored = store("temperature", AnswerValue::TemperatureTenths(365));
    assert_eq!(call.keys("1"), [stored, play(&["q_spo2"])]);
    assert_eq!(call.done(), []);
    assert_eq!(call.keys("97#"), [spo2_read_back(97)]);
    assert_eq!(call.done(), []);
    let stored = store("spo2", AnswerValue::Spo2(Some(97)));
    assert_eq!(
        call.keys("1"),
        [stored, play(&["q_face", "keys_yes_no_unknown"])]
    );
    for (i, field) in SYMPTOMS.iter().enumerate() {
        assert_eq!(call.done(), []);
        let next = match SYMPTOMS.get(i + 1) {
            Some(next) => play(&[&format!("q_{next}"), "keys_yes_no_unknown"]),
            None => play(&["q_callback", "keys_yes_no"]),
        };
        let no = store(field, AnswerValue::Symptom(Symptom::No));
        assert_eq!(call.keys("2"), [no, next], "{field}");
    }
    assert_eq!(call.done(), []);
    call.keys("2")
}

/// Asserts the call is over with `outcome` and nothing is pending.
pub(super) fn assert_ended(call: &Call, outcome: CallOutcome) {
    assert_eq!(call.interp.outcome(), Some(outcome));
    assert_eq!(call.interp.poll_timeout(), None);
}
