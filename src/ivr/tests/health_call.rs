//! Health Call (inbound) whole calls, SPEC §5a.

use std::time::Duration;

use super::*;
use crate::ivr::{Identification, Mmdd};
use crate::pii::Redacted;

const FIRST_DIGIT: Duration = Duration::from_millis(8000);
const INTER_DIGIT: Duration = Duration::from_millis(4000);

pub(super) fn identify(id: &str, month: u8, day: u8) -> Action {
    Action::Identify {
        hersys_id: Redacted::new(id.to_owned()),
        birthday: Redacted::new(Mmdd::new(month, day).unwrap()),
    }
}

fn confirmed() -> Input {
    Input::IdentifyResult(Identification::Confirmed)
}

pub(super) fn not_confirmed() -> Input {
    Input::IdentifyResult(Identification::NotConfirmed)
}

/// Starts a Health Call and picks a language with `key` after the menu played.
pub(super) fn call_in(key: &str, language: Language) -> Call {
    let (mut call, first) = Call::start(shipped("health_call.toml"), Language::Ja);
    assert_eq!(first, [play(&["hc_welcome"])]);
    assert_eq!(call.done(), [language_menu()]);
    assert_eq!(call.done(), []);
    let chosen = call.keys(key);
    assert_eq!(
        chosen,
        [Action::SetLanguage(language), play(&["hc_pulse_hint"])]
    );
    assert_eq!(call.interp.language(), language);
    assert_eq!(call.done(), [play(&["hc_enter_id"])]);
    call
}

/// Keys an ID and birthday; returns the actions of the birthday's last digit.
pub(super) fn identify_with(call: &mut Call, id: &str, birthday: &str) -> Vec<Action> {
    assert_eq!(call.done(), []);
    assert_eq!(call.keys(id), [play(&["hc_enter_birthday"])]);
    assert_eq!(call.done(), []);
    call.keys(birthday)
}

/// The end of a report, after the callback answer: "recorded", then no key → closing.
fn close_after_report(call: &mut Call, last: Vec<Action>) {
    let callback = store("callback", AnswerValue::YesNo(false));
    let recorded = play(&["hc_recorded", "hc_another_person"]);
    assert_eq!(last, [callback, Action::ReportComplete, recorded]);
    assert_eq!(call.done(), []);
    assert_eq!(call.wait(FIRST_DIGIT), [play(&["closing"])]);
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::Completed)]);
    assert_ended(call, CallOutcome::Completed);
}

#[test]
fn full_call_in_japanese() {
    let mut call = call_in("1", Language::Ja);
    let keyed = identify_with(&mut call, "12345678#", "0415");
    assert_eq!(keyed, [identify("12345678", 4, 15)]);
    assert_eq!(
        call.interp.poll_timeout(),
        None,
        "no timer while identifying"
    );
    assert_eq!(call.send(confirmed()), [play(&["q_temperature"])]);
    let last = answer_all_questions(&mut call);
    close_after_report(&mut call, last);
}

#[test]
fn full_call_in_portuguese_with_menu_key_8() {
    let mut call = call_in("8", Language::Pt);
    let keyed = identify_with(&mut call, "7654321#", "1231");
    assert_eq!(keyed, [identify("7654321", 12, 31)]);
    assert_eq!(call.send(confirmed()), [play(&["q_temperature"])]);
    let last = answer_all_questions(&mut call);
    close_after_report(&mut call, last);
    assert_eq!(call.interp.language(), Language::Pt);
}

#[test]
fn leading_star_is_ignored_in_every_field() {
    let (mut call, _) = Call::start(shipped("health_call.toml"), Language::Ja);
    call.done();
    assert_eq!(
        call.keys("*"),
        [],
        "a star during the menu neither stops it nor chooses"
    );
    assert_eq!(call.done(), []);
    assert_eq!(
        call.keys("*2"),
        [Action::SetLanguage(Language::En), play(&["hc_pulse_hint"])]
    );
    assert_eq!(
        call.keys("*"),
        [],
        "a star during the pulse hint is ignored"
    );
    assert_eq!(call.done(), [play(&["hc_enter_id"])]);
    let keyed = identify_with(&mut call, "*123456#", "*0229");
    assert_eq!(keyed, [identify("123456", 2, 29)]);
    call.send(confirmed());
    call.done();
    assert_eq!(call.keys("*365"), [temperature_read_back(365)]);
    call.done();
    let stored = store("temperature", AnswerValue::TemperatureTenths(365));
    assert_eq!(call.keys("*1"), [stored, play(&["q_spo2"])]);
    call.done();
    let stored = store("spo2", AnswerValue::Spo2(None));
    assert_eq!(
        call.keys("*#"),
        [stored, play(&["q_face", "keys_yes_no_unknown"])]
    );
    call.done();
    let stored = store("face", AnswerValue::Symptom(Symptom::Unknown));
    assert_eq!(
        call.keys("*3"),
        [stored, play(&["q_cough", "keys_yes_no_unknown"])]
    );
}

#[test]
fn three_identification_failures_end_with_the_contact_centre_message() {
    let mut call = call_in("1", Language::Ja);
    for round in 1..=3 {
        let keyed = identify_with(&mut call, "12345678#", "0101");
        assert_eq!(keyed, [identify("12345678", 1, 1)]);
        let answer = call.send(not_confirmed());
        if round < 3 {
            assert_eq!(
                answer,
                [play(&["hc_not_confirmed", "hc_enter_id"])],
                "round {round}"
            );
        } else {
            assert_eq!(answer, [play(&["hc_contact_centre"])]);
        }
    }
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::NotIdentified)]);
    assert_ended(&call, CallOutcome::NotIdentified);
}

#[test]
fn id_ends_at_the_inter_digit_pause_and_bad_birthdays_are_reprompted() {
    let mut call = call_in("1", Language::Ja);
    call.done();
    assert_eq!(call.keys("1234567"), []);
    assert_eq!(call.wait(INTER_DIGIT - Duration::from_millis(1)), []);
    assert_eq!(
        call.wait(Duration::from_millis(1)),
        [play(&["hc_enter_birthday"])]
    );
    call.done();
    let again = play(&["invalid_input", "hc_enter_birthday"]);
    assert_eq!(call.keys("1315"), std::slice::from_ref(&again), "month 13");
    call.done();
    assert_eq!(call.keys("0431"), [again], "31 April");
    call.done();
    assert_eq!(call.keys("0430"), [identify("1234567", 4, 30)]);
}

#[test]
fn menu_without_a_key_repeats_once_then_uses_japanese() {
    let (mut call, _) = Call::start(shipped("health_call.toml"), Language::Ja);
    assert_eq!(call.done(), [language_menu()]);
    assert_eq!(
        call.wait(Duration::from_secs(60)),
        [],
        "no timer while the menu plays"
    );
    assert_eq!(call.done(), []);
    assert_eq!(call.wait(FIRST_DIGIT - Duration::from_millis(1)), []);
    assert_eq!(call.wait(Duration::from_millis(1)), [language_menu()]);
    assert_eq!(call.done(), []);
    let japanese = [Action::SetLanguage(Language::Ja), play(&["hc_pulse_hint"])];
    assert_eq!(call.wait(FIRST_DIGIT), japanese);
}

#[test]
fn a_key_during_a_prompt_interrupts_it_and_counts() {
    let (mut call, _) = Call::start(shipped("health_call.toml"), Language::Ja);
    let welcome_skipped = call.keys("6");
    let korean = [
        Action::StopPlayback,
        Action::SetLanguage(Language::Ko),
        play(&["hc_pulse_hint"]),
    ];
    assert_eq!(
        welcome_skipped, korean,
        "a key during the welcome answers the menu"
    );
    assert_eq!(
        call.keys("1"),
        [Action::StopPlayback],
        "pulse hint interrupted, ID started"
    );
    assert_eq!(call.keys("234567#"), [play(&["hc_enter_birthday"])]);
    assert_eq!(call.keys("0"), [Action::StopPlayback]);
    assert_eq!(call.keys("415"), [identify("1234567", 4, 15)]);
    assert_eq!(call.send(confirmed()), [play(&["q_temperature"])]);
    assert_eq!(call.keys("3"), [Action::StopPlayback]);
    assert_eq!(call.keys("65"), [temperature_read_back(365)]);
    let stored = store("temperature", AnswerValue::TemperatureTenths(365));
    assert_eq!(
        call.keys("1"),
        [Action::StopPlayback, stored, play(&["q_spo2"])]
    );
}

#[test]
fn temperature_is_read_back_in_tenths_and_2_enters_it_again() {
    let mut call = call_in("1", Language::Ja);
    identify_with(&mut call, "12345678#", "0415");
    call.send(confirmed());
    call.done();
    assert_eq!(call.keys("365"), [temperature_read_back(365)]);
    call.done();
    assert_eq!(call.keys("2"), [play(&["q_temperature"])]);
    call.done();
    assert_eq!(call.keys("372"), [temperature_read_back(372)]);
    call.done();
    let stored = store("temperature", AnswerValue::TemperatureTenths(372));
    assert_eq!(call.keys("1"), [stored, play(&["q_spo2"])]);
    call.done();
    assert_eq!(call.keys("100#"), [spo2_read_back(100)]);
    call.done();
    let stored = store("spo2", AnswerValue::Spo2(Some(100)));
    assert_eq!(
        call.keys("1"),
        [stored, play(&["q_face", "keys_yes_no_unknown"])]
    );
}

#[test]
fn three_bad_entries_store_unanswered_and_the_call_goes_on() {
    let mut call = call_in("1", Language::Ja);
    identify_with(&mut call, "12345678#", "0415");
    call.send(confirmed());
    call.done();
    let again = play(&["invalid_input", "q_temperature"]);
    assert_eq!(call.keys("999"), std::slice::from_ref(&again), "above 42.9");
    call.done();
    assert_eq!(call.keys("12#"), [again], "too short");
    call.done();
    let skipped = [
        store("temperature", AnswerValue::Unanswered),
        play(&["skip_item", "q_spo2"]),
    ];
    assert_eq!(call.keys("339"), skipped, "below 34.0, third try");
    call.done();
    assert_eq!(call.wait(FIRST_DIGIT), [play(&["no_input", "q_spo2"])]);
    call.done();
    assert_eq!(call.keys("49#"), [play(&["invalid_input", "q_spo2"])]);
    call.done();
    assert_eq!(call.keys("1"), []);
    let skipped = [
        store("spo2", AnswerValue::Unanswered),
        play(&["skip_item", "q_face", "keys_yes_no_unknown"]),
    ];
    assert_eq!(
        call.wait(INTER_DIGIT),
        skipped,
        "a 1 then a pause is 1 %: invalid"
    );
    call.done();
    assert_eq!(
        call.keys("5"),
        [play(&["invalid_input", "q_face", "keys_yes_no_unknown"])]
    );
    call.done();
    let yes = store("face", AnswerValue::Symptom(Symptom::Yes));
    assert_eq!(
        call.keys("1"),
        [yes, play(&["q_cough", "keys_yes_no_unknown"])]
    );
}

#[test]
fn another_person_starts_a_second_report() {
    let mut call = call_in("1", Language::Ja);
    identify_with(&mut call, "12345678#", "0415");
    call.send(confirmed());
    let last = answer_all_questions(&mut call);
    assert_eq!(
        last[1..],
        [
            Action::ReportComplete,
            play(&["hc_recorded", "hc_another_person"])
        ]
    );
    assert_eq!(
        call.keys("1"),
        [
            Action::StopPlayback,
            Action::NewReport,
            play(&["hc_enter_id"])
        ]
    );
    let keyed = identify_with(&mut call, "87654321#", "1103");
    assert_eq!(keyed, [identify("87654321", 11, 3)]);
    assert_eq!(call.send(confirmed()), [play(&["q_temperature"])]);
    let last = answer_all_questions(&mut call);
    assert_eq!(
        last[1..],
        [
            Action::ReportComplete,
            play(&["hc_recorded", "hc_another_person"])
        ]
    );
    call.done();
    assert_eq!(call.keys("5"), [play(&["closing"])], "any other key closes");
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::Completed)]);
}

#[test]
fn a_caller_hanging_up_mid_report_leaves_an_incomplete_call() {
    let mut call = call_in("1", Language::Ja);
    identify_with(&mut call, "12345678#", "0415");
    call.send(confirmed());
    call.done();
    assert_eq!(call.keys("36"), []);
    assert!(call.interp.poll_timeout().is_some());
    assert_eq!(call.send(Input::Hangup), []);
    assert_ended(&call, CallOutcome::Incomplete);
    assert_eq!(call.keys("5"), [], "nothing after the end");
    assert_eq!(call.interp.step_id(), "questions");
}

#[test]
fn spurious_timeouts_and_inputs_are_harmless() {
    let (mut call, _) = Call::start(shipped("health_call.toml"), Language::Ja);
    let now = call.now;
    assert_eq!(call.interp.handle_timeout(now), []);
    assert_eq!(call.send(Input::Started), [], "a second start is ignored");
    assert_eq!(
        call.send(not_confirmed()),
        [],
        "no identification was asked"
    );
    call.done();
    call.done();
    let due = call.interp.poll_timeout().unwrap();
    assert_eq!(
        call.interp.handle_timeout(due - Duration::from_millis(1)),
        []
    );
    assert_eq!(call.interp.handle_timeout(due), [language_menu()]);
    assert_eq!(call.interp.handle_timeout(due), []);
}

#[test]
fn nothing_personal_reaches_a_debug_line() {
    let mut all = Vec::new();
    let mut log = |actions: Vec<Action>| all.extend(actions);
    let (mut call, first) = Call::start(shipped("health_call.toml"), Language::Ja);
    log(first);
    log(call.done());
    log(call.keys("1"));
    log(call.done());
    log(call.done());
    log(call.keys("98765432#"));
    log(call.done());
    log(call.keys("0917"));
    log(call.send(confirmed()));
    log(call.done());
    log(call.keys("384"));
    log(call.done());
    log(call.keys("1"));
    log(call.done());
    log(call.keys("93#"));
    log(call.done());
    log(call.keys("1"));
    let digit = Input::Digit(Digit::Num(9));
    let seen = format!("{all:?} {digit:?} {:?}", call.interp);
    for secret in ["98765432", "0917", "384", "38.4", "93", "9)", "Some("] {
        assert!(!seen.contains(secret), "{secret} in {seen}");
    }
    assert!(
        seen.contains("StoreAnswer") && seen.contains("Identify"),
        "{seen}"
    );
}
