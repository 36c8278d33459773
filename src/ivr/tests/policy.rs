//! Per-step settings of the dialplan format: barge-in off, timeout and attempt overrides,
//! choice keys, a question without read-back.

use std::path::Path;
use std::time::Duration;

use super::*;

/// A one-step-plus-questions dialplan with `questions` inline.
fn plan_with(defaults: &str, questions: &str) -> Arc<Dialplan> {
    let src = format!(
        "[dialplan]\nid = \"t\"\nversion = 1\nstart = \"q\"\n[defaults]\n{defaults}\n\
         [steps.q]\ntype = \"questions\"\nnext = \"end\"\n\
         [steps.end]\ntype = \"hangup\"\noutcome = \"completed\"\n{questions}"
    );
    let no_include = |_: &Path| Err(std::io::Error::from(std::io::ErrorKind::NotFound));
    match crate::ivr::parse(Path::new("t.toml"), &src, &no_include, &known) {
        Ok(plan) => Arc::new(plan),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn keys_during_prompts_are_dropped_when_barge_in_is_off() {
    let questions = "[[questions]]\nid = \"cough\"\ntype = \"choice\"\nprompts = [\"q_cough\"]\n\
                     keys = { 1 = \"yes\", 2 = \"no\" }\nbarge_in = false\n";
    let (mut call, first) = Call::start(plan_with("", questions), Language::Ja);
    assert_eq!(first, [play(&["q_cough"])]);
    assert_eq!(call.keys("1"), [], "dropped: the prompt keeps playing");
    assert_eq!(call.done(), []);
    let yes = store("cough", AnswerValue::Symptom(Symptom::Yes));
    let end = Action::Hangup(CallOutcome::Completed);
    assert_eq!(
        call.keys("1"),
        [yes, Action::ReportComplete, end],
        "a silent hangup step"
    );
    assert_eq!(call.interp.outcome(), Some(CallOutcome::Completed));
}

#[test]
fn timeouts_and_attempts_follow_defaults_and_step_overrides() {
    let questions = "[[questions]]\nid = \"spo2\"\ntype = \"number\"\nprompts = [\"q_spo2\"]\n\
                     max_digits = 3\nmin = 50\nmax = 100\nfirst_digit_timeout_ms = 2000\n\
                     [[questions]]\nid = \"face\"\ntype = \"choice\"\nprompts = [\"q_face\"]\n\
                     keys = { 1 = \"yes\" }\n";
    let defaults = "attempts = 2\ninter_digit_timeout_ms = 1000\nskipped = \"goodbye\"";
    let (mut call, _) = Call::start(plan_with(defaults, questions), Language::Ja);
    call.done();
    assert_eq!(call.wait(Duration::from_millis(1999)), []);
    assert_eq!(
        call.wait(Duration::from_millis(1)),
        [play(&["no_input", "q_spo2"])]
    );
    call.done();
    assert_eq!(call.keys("97"), []);
    let stored = store("spo2", AnswerValue::Spo2(Some(97)));
    let no_read_back = [stored, play(&["q_face"])];
    assert_eq!(
        call.wait(Duration::from_millis(1000)),
        no_read_back,
        "no read_back: stored"
    );
    call.done();
    assert_eq!(
        call.wait(Duration::from_secs(8)),
        [play(&["no_input", "q_face"])]
    );
    call.done();
    let skipped = [
        store("face", AnswerValue::Unanswered),
        Action::ReportComplete,
        play(&["goodbye"]),
    ];
    assert_eq!(
        call.wait(Duration::from_secs(8)),
        skipped,
        "two attempts, then skipped"
    );
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::Completed)]);
}
