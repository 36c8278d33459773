//! Outbound automatic calls: ring timeout and CANCEL, answering machines, a whole call.

use super::*;
use crate::rtp::amd::{AmdResult, MachineReason};

fn answered_sdp() -> SipEvent {
    SipEvent::Answered {
        sdp: peer_sdp(7000, "sendrecv"),
    }
}

#[test]
fn an_unanswered_call_is_cancelled_at_the_ring_timeout() {
    let mut call = Call::outbound(|s| s.ring_timeout = Duration::from_secs(30));
    assert!(
        matches!(call.sip_actions()[..], [SipAction::Dial(offer)] if offer.contains("m=audio 40000"))
    );
    call.sip(SipEvent::Ringing);
    call.wait(Duration::from_millis(29_999));
    assert_eq!(
        call.sip_actions().len(),
        1,
        "no CANCEL before the ring timeout"
    );
    call.wait(Duration::from_millis(1));
    assert_eq!(call.sip_actions().last(), Some(&&SipAction::Cancel));
    call.wait(Duration::from_secs(60));
    assert_eq!(call.sip_actions().len(), 2, "one CANCEL");
    call.sip(SipEvent::Failed { status: 487 });
    assert_eq!(call.ended(), Some((Disposition::NoAnswer, Some(487))));
    let calls = call.store_calls();
    let [StoreCall::CallRecord(record)] = calls[..] else {
        panic!("only the call record: {calls:?}");
    };
    assert_eq!(record.disposition, Disposition::NoAnswer);
    assert_eq!(record.sip_call_id, "out@carecall");
    assert_eq!(record.dialplan_id, None, "the flow never ran");
    assert!(call.played().is_empty());
    assert!(call.session.is_done());
}

#[test]
fn busy_is_not_cancelled() {
    let mut call = Call::outbound(|_| {});
    call.sip(SipEvent::Failed { status: 486 });
    assert_eq!(call.ended(), Some((Disposition::Busy, Some(486))));
    call.wait(Duration::from_secs(60));
    assert!(!call.sip_actions().contains(&&SipAction::Cancel));
}

#[test]
fn an_answering_machine_is_hung_up_on() {
    let mut call = Call::outbound(|s| s.detect_machine = true);
    call.sip(answered_sdp());
    assert!(call
        .log
        .iter()
        .any(|o| matches!(o, Output::Media(MediaAction::Attach { amd: true, .. }))));
    assert!(call.played().is_empty(), "the flow waits for the verdict");
    call.wait(Duration::from_secs(3));
    call.media(MediaEvent::Amd(AmdResult::Machine(
        MachineReason::LongGreeting,
    )));
    assert_eq!(call.sip_actions().last(), Some(&&SipAction::Hangup));
    assert_eq!(
        call.ended(),
        Some((Disposition::AnsweringMachine, Some(200)))
    );
    assert!(call.played().is_empty());
}

#[test]
fn without_a_verdict_the_flow_starts_at_the_amd_limit() {
    let mut call = Call::outbound(|s| s.detect_machine = true);
    call.sip(answered_sdp());
    call.wait(crate::call::timers::AMD_LIMIT - Duration::from_millis(1));
    assert!(call.played().is_empty());
    call.wait(Duration::from_millis(1));
    assert_eq!(call.played(), ["ac_greeting", "ac_start_keys"]);
    // A verdict after the limit changes nothing.
    call.media(MediaEvent::Amd(AmdResult::Machine(
        MachineReason::TooManyWords,
    )));
    assert_eq!(call.ended(), None);
}

#[test]
fn a_person_answers_and_completes_the_report() {
    let mut call = Call::outbound(|s| s.detect_machine = true);
    call.sip(answered_sdp());
    call.media(MediaEvent::Amd(AmdResult::Human));
    assert_eq!(call.played(), ["ac_greeting", "ac_start_keys"]);
    call.play_all();
    call.keys("1", DigitMethod::Rfc4733);
    answer_questions(&mut call, DigitMethod::Rfc4733);
    call.play_out();
    call.wait(Duration::from_secs(1));
    assert_eq!(call.sip_actions().last(), Some(&&SipAction::Hangup));
    assert_eq!(stored_questions(&call).len(), 12);
    let calls = call.store_calls();
    assert!(matches!(
        calls[0],
        StoreCall::StartReport {
            patient: PatientId(5),
            channel: crate::report::Channel::OutboundCall,
            ..
        }
    ));
    assert!(calls.iter().any(|c| matches!(
        c,
        StoreCall::CancelAttempts {
            patient: PatientId(5),
            ..
        }
    )));
    assert_eq!(call.ended(), Some((Disposition::Answered, Some(200))));
    assert_eq!(
        call.session.flow_outcome(),
        Some(crate::ivr::CallOutcome::Completed)
    );
    assert!(call.session.is_done());
}

#[test]
fn drain_cancels_a_ringing_call_and_ends_a_live_one() {
    let mut ringing = Call::outbound(|_| {});
    ringing.input(Input::Drain);
    assert_eq!(ringing.sip_actions().last(), Some(&&SipAction::Cancel));
    let mut live = Call::outbound(|_| {});
    live.sip(answered_sdp());
    live.input(Input::Drain);
    assert_eq!(live.sip_actions().last(), Some(&&SipAction::Hangup));
    assert_eq!(live.ended(), Some((Disposition::Answered, Some(200))));
}
