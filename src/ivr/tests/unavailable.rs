//! Identification the store could not carry out (`Identification::Unavailable`): the flow goes
//! to the identify step's `on_unavailable`, and it is not a failure.

use std::path::Path;

use super::health_call::{call_in, identify, identify_with, not_confirmed};
use super::*;
use crate::ivr::Identification;

fn unavailable() -> Input {
    Input::IdentifyResult(Identification::Unavailable)
}

#[test]
fn an_unavailable_store_plays_service_busy_and_ends_the_call_as_store_unavailable() {
    let mut call = call_in("2", Language::En);
    let keyed = identify_with(&mut call, "12345678#", "0415");
    assert_eq!(keyed, [identify("12345678", 4, 15)]);
    assert_eq!(call.send(unavailable()), [play(&["service_busy"])]);
    assert_eq!(call.interp.step_id(), "service_busy");
    assert_eq!(call.interp.poll_timeout(), None, "no timer while it plays");
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::StoreUnavailable)]);
    assert_ended(&call, CallOutcome::StoreUnavailable);
}

#[test]
fn an_unavailable_store_after_a_wrong_entry_is_not_the_next_failure() {
    // One real failure first: were the store's silence a failure too, the call would now end
    // with the contact-centre message after "not confirmed" was said for keys nobody checked.
    let mut call = call_in("1", Language::Ja);
    assert_eq!(identify_with(&mut call, "12345678#", "0101").len(), 1);
    assert_eq!(
        call.send(not_confirmed()),
        [play(&["hc_not_confirmed", "hc_enter_id"])]
    );
    assert_eq!(identify_with(&mut call, "12345678#", "0415").len(), 1);
    let heard = call.send(unavailable());
    assert_eq!(heard, [play(&["service_busy"])]);
    assert!(!heard.contains(&play(&["hc_not_confirmed"])));
    call.done();
    assert_ended(&call, CallOutcome::StoreUnavailable);
}

/// A flow whose unavailable store goes back to the ID entry after `service_busy`, with two
/// failures allowed.
const RETRY_PLAN: &str = r#"
[dialplan]
id = "retry"
version = 1
start = "enter_id"

[steps.enter_id]
type = "collect"
into = "hersys_id"
prompts = ["hc_enter_id"]
min_digits = 4
max_digits = 12
next = "enter_birthday"
on_exhausted = "contact_centre"

[steps.enter_birthday]
type = "collect"
into = "birthday"
prompts = ["hc_enter_birthday"]
digits = 4
next = "identify"
on_exhausted = "contact_centre"

[steps.identify]
type = "identify"
on_confirmed = "closing"
on_not_confirmed = "enter_id"
not_confirmed_prompt = "hc_not_confirmed"
max_failures = 2
on_too_many_failures = "contact_centre"
on_unavailable = "busy"

[steps.busy]
type = "play"
prompts = ["service_busy"]
next = "enter_id"

[steps.closing]
type = "hangup"
prompts = ["closing"]
outcome = "completed"

[steps.contact_centre]
type = "hangup"
prompts = ["hc_contact_centre"]
outcome = "not_identified"
"#;

#[test]
fn unavailable_results_never_count_towards_max_failures() {
    let read = |_: &Path| Err(std::io::Error::from(std::io::ErrorKind::NotFound));
    let plan = crate::ivr::parse(Path::new("retry.toml"), RETRY_PLAN, &read, &known).unwrap();
    let (mut call, first) = Call::start(Arc::new(plan), Language::Ja);
    assert_eq!(first, [play(&["hc_enter_id"])]);
    assert_eq!(identify_with(&mut call, "12345678#", "0101").len(), 1);
    assert_eq!(
        call.send(not_confirmed()),
        [play(&["hc_not_confirmed", "hc_enter_id"])],
        "failure 1 of 2"
    );
    for round in 1..=3 {
        assert_eq!(identify_with(&mut call, "12345678#", "0415").len(), 1);
        assert_eq!(
            call.send(unavailable()),
            [play(&["service_busy"])],
            "{round}"
        );
        assert_eq!(call.done(), [play(&["hc_enter_id"])], "{round}");
    }
    assert_eq!(identify_with(&mut call, "12345678#", "0101").len(), 1);
    assert_eq!(
        call.send(not_confirmed()),
        [play(&["hc_contact_centre"])],
        "failure 2 of 2, after three unavailable stores"
    );
    assert_eq!(call.done(), [Action::Hangup(CallOutcome::NotIdentified)]);
}

#[test]
fn on_unavailable_is_required_and_must_not_lead_to_an_identify_step() {
    let read = |_: &Path| Err(std::io::Error::from(std::io::ErrorKind::NotFound));
    let problems = |plan: &str| -> Vec<String> {
        match crate::ivr::parse(Path::new("x.toml"), plan, &read, &known) {
            Ok(_) => panic!("loaded:\n{plan}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    };
    let missing = RETRY_PLAN.replace("on_unavailable = \"busy\"\n", "");
    assert_eq!(
        problems(&missing),
        ["x.toml:24: step `identify`, field `on_unavailable`: missing"]
    );
    let to_identify =
        RETRY_PLAN.replace("on_unavailable = \"busy\"", "on_unavailable = \"identify\"");
    assert_eq!(
        problems(&to_identify),
        [
            "x.toml:24: step `identify`, field `on_unavailable`: must lead to a step that is not an identify step",
            "x.toml:33: step `busy`: unreachable from the start step",
        ]
    );
    let unknown = RETRY_PLAN.replace("on_unavailable = \"busy\"", "on_unavailable = \"bsy\"");
    assert_eq!(
        problems(&unknown),
        [
            "x.toml:31: step `identify`, field `on_unavailable`: no step `bsy`",
            "x.toml:33: step `busy`: unreachable from the start step",
        ]
    );
}
