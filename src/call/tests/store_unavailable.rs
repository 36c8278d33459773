//! A Health Call whose identification the store cannot carry out (no answer by the write
//! timeout, or an error): the caller hears `service_busy` and the call ends as
//! `store_unavailable`, never "not confirmed" for keys nobody checked.

use super::*;
use crate::call::io::StoreCall;
use crate::ivr::CallOutcome;
use crate::store::StoreError;

/// Answers the call and keys a menu choice, an ID and a birthday with the store holding every
/// request: the caller-failure count is in flight.
fn keyed_with_store_held() -> Call {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    call.mode = StoreMode::Hold;
    let rfc = DigitMethod::Rfc4733;
    key_identity(&mut call, rfc, rfc, rfc);
    call
}

/// As [`keyed_with_store_held`], the count answered (no failures): the lookup is in flight.
fn identify_held() -> Call {
    let mut call = keyed_with_store_held();
    let counted = call.reply_held(Ok(StoreValue::Count(0)));
    assert!(matches!(counted, StoreCall::CountCallerFailures { .. }));
    assert!(matches!(call.held[..], [(_, StoreCall::Identify { .. })]));
    call
}

/// `service_busy` is the last prompt, nothing said the keys were wrong; once it has played the
/// engine hangs up with the `store_unavailable` outcome and the record names the step.
fn assert_asked_to_call_again_later(call: &mut Call) {
    assert_eq!(
        call.played().last().map(String::as_str),
        Some("service_busy")
    );
    assert!(!call.played().iter().any(|p| p == "hc_not_confirmed"));
    assert!(!call.played().iter().any(|p| p == "hc_contact_centre"));
    assert!(call.events().contains(&&SessionEvent::StoreError));
    assert!(
        call.last("bye").is_none(),
        "no BYE while service_busy plays"
    );
    call.play_out();
    call.wait(Duration::from_secs(1));
    assert!(call.last("bye").is_some());
    assert_eq!(
        call.session.flow_outcome(),
        Some(CallOutcome::StoreUnavailable)
    );
    let record = call.held.iter().find_map(|(_, c)| match c {
        StoreCall::CallRecord(r) => Some(r),
        _ => None,
    });
    let record = record.expect("the call record is queued");
    assert_eq!(record.last_step.as_deref(), Some("service_busy"));
}

#[test]
fn an_identification_the_store_does_not_answer_in_time_asks_to_call_again_later() {
    let mut call = identify_held();
    call.wait(WRITE_TIMEOUT - Duration::from_millis(1));
    assert_eq!(
        call.played().last().map(String::as_str),
        Some("hc_enter_birthday"),
        "silence until the write timeout"
    );
    call.wait(Duration::from_millis(1));
    assert_asked_to_call_again_later(&mut call);
    // The store's late answer changes nothing.
    let before = call.played().len();
    let (id, late) = call.held.remove(0);
    assert!(matches!(late, StoreCall::Identify { .. }));
    call.input(Input::Store {
        id,
        reply: Ok(good_reply(&late)),
    });
    assert_eq!(call.played().len(), before);
}

#[test]
fn an_identification_the_store_refuses_asks_to_call_again_later() {
    let mut call = identify_held();
    let refused = Err(StoreError::Database(sqlx::Error::PoolTimedOut));
    call.reply_held(refused);
    assert_asked_to_call_again_later(&mut call);
}

#[test]
fn a_caller_failure_count_the_store_cannot_give_asks_to_call_again_later() {
    let mut call = keyed_with_store_held();
    assert!(matches!(
        call.held[..],
        [(_, StoreCall::CountCallerFailures { .. })]
    ));
    call.wait(WRITE_TIMEOUT);
    assert!(
        !call
            .store_calls()
            .iter()
            .any(|c| matches!(c, StoreCall::Identify { .. })),
        "no lookup without the slow-down's count"
    );
    assert_asked_to_call_again_later(&mut call);
}
