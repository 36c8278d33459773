//! Automatic (outbound) call whole calls, SPEC §5a.

use std::time::Duration;

use super::*;

const FIRST_DIGIT: Duration = Duration::from_millis(8000);

fn greeting() -> Action {
    play(&["ac_greeting", "ac_start_keys"])
}

#[test]
fn full_call_in_the_patients_language() {
    let (mut call, first) = Call::start(shipped("automatic_call.toml"), Language::Ko);
    assert_eq!(first, [greeting()]);
    assert_eq!(call.done(), []);
    assert_eq!(call.keys("1"), [play(&["q_temperature"])]);
    let last = answer_all_questions(&mut call);
    let callback = store("callback", AnswerValue::YesNo(false));
    assert_eq!(last, [callback, Action::ReportComplete, play(&["closing"])]);
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::Completed)]);
    assert_ended(&call, CallOutcome::Completed);
    assert_eq!(call.interp.language(), Language::Ko);
}

#[test]
fn key_9_is_a_wrong_number() {
    let (mut call, _) = Call::start(shipped("automatic_call.toml"), Language::Ja);
    let wrong = [
        Action::StopPlayback,
        Action::WrongNumber,
        play(&["ac_wrong_number"]),
    ];
    assert_eq!(call.keys("9"), wrong, "pressed during the greeting");
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::WrongNumber)]);
    assert_ended(&call, CallOutcome::WrongNumber);
}

#[test]
fn no_key_repeats_the_greeting_twice_then_ends_as_no_response() {
    let (mut call, _) = Call::start(shipped("automatic_call.toml"), Language::Ja);
    for _ in 0..2 {
        assert_eq!(call.done(), []);
        assert_eq!(call.wait(FIRST_DIGIT), [greeting()]);
    }
    assert_eq!(call.done(), []);
    assert_eq!(call.wait(FIRST_DIGIT), [play(&["goodbye"])]);
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::NoResponse)]);
    assert_ended(&call, CallOutcome::NoResponse);
}

#[test]
fn another_key_at_the_greeting_is_reprompted() {
    let (mut call, _) = Call::start(shipped("automatic_call.toml"), Language::Ja);
    call.done();
    assert_eq!(
        call.keys("5"),
        [play(&["invalid_input", "ac_greeting", "ac_start_keys"])]
    );
    call.done();
    assert_eq!(call.keys("*1"), [play(&["q_temperature"])]);
}

#[test]
fn hanging_up_at_the_greeting_is_abandoned_and_after_the_report_completed() {
    let (mut call, _) = Call::start(shipped("automatic_call.toml"), Language::Ja);
    assert_eq!(call.send(Input::Hangup), []);
    assert_ended(&call, CallOutcome::Abandoned);

    let (mut call, _) = Call::start(shipped("automatic_call.toml"), Language::Ja);
    call.done();
    call.keys("1");
    answer_all_questions(&mut call);
    assert_eq!(
        call.send(Input::Hangup),
        [],
        "dropped during the closing message"
    );
    assert_ended(&call, CallOutcome::Completed);
}
