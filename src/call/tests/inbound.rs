//! Inbound Health Calls from INVITE to call record.

use super::*;
use crate::call::timers::HANGUP_TAIL;
use crate::call::ProbeFlow;
use crate::call::PromptRef;

#[test]
fn a_health_call_from_invite_to_bye_with_digits_by_each_method() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    identify(
        &mut call,
        DigitMethod::Rfc4733,
        DigitMethod::SipInfo,
        DigitMethod::Inband,
    );
    answer_questions(&mut call, DigitMethod::Rfc4733);
    close(&mut call);

    let methods: Vec<DigitMethod> = call
        .events()
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Digit(d) => Some(d.method),
            _ => None,
        })
        .collect();
    for method in [
        DigitMethod::Rfc4733,
        DigitMethod::SipInfo,
        DigitMethod::Inband,
    ] {
        assert!(
            methods.contains(&method),
            "{method:?} digits reached the flow"
        );
    }
    let infos = call
        .sip_actions()
        .into_iter()
        .filter(|a| matches!(a, SipAction::Respond { status: 200, .. }))
        .count();
    assert_eq!(infos, 9, "every INFO digit got 200");
    let fields = stored_questions(&call);
    assert_eq!(fields.first().map(String::as_str), Some("temperature"));
    assert_eq!(fields.len(), 12, "{fields:?}");
    let calls = call.store_calls();
    assert!(matches!(calls[0], StoreCall::CountCallerFailures { .. }));
    assert!(matches!(calls[1], StoreCall::Identify { mmdd, .. } if mmdd.expose() == "0415"));
    assert!(matches!(
        calls[2],
        StoreCall::StartReport {
            patient: PatientId(5),
            ..
        }
    ));
    assert!(calls.iter().any(|c| matches!(
        c,
        StoreCall::CompleteReport {
            report: ReportId(7),
            ..
        }
    )));
    assert!(calls.iter().any(|c| matches!(
        c,
        StoreCall::CancelAttempts {
            patient: PatientId(5),
            ..
        }
    )));
    let Some(StoreCall::CallRecord(record)) = calls.last() else {
        panic!("the call record comes last: {calls:?}");
    };
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.sip_status, Some(200));
    assert_eq!(record.sip_call_id, "abc@peer");
    assert_eq!(record.dialplan_id.as_deref(), Some("health_call"));
    assert!(record.answered_at.is_some());
    assert_eq!(call.ended(), Some((Disposition::Answered, Some(200))));
    assert_eq!(
        call.session.flow_outcome(),
        Some(crate::ivr::CallOutcome::Completed)
    );
    assert!(call.journal().is_empty());
    assert!(call.session.is_done());
    assert_eq!(call.session.poll_timeout(), None);
}

#[test]
fn the_bye_waits_for_the_closing_prompt_plus_the_tail() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    identify(
        &mut call,
        DigitMethod::Rfc4733,
        DigitMethod::Rfc4733,
        DigitMethod::Rfc4733,
    );
    answer_questions(&mut call, DigitMethod::Inband);
    close(&mut call);
    let (played, bye) = (call.last("played").unwrap(), call.last("bye").unwrap());
    assert_eq!(
        bye - played,
        HANGUP_TAIL,
        "BYE one tail after the last prompt ended"
    );
    assert_eq!(call.sip_actions().last(), Some(&&SipAction::Hangup));
}

#[test]
fn a_flow_hanging_up_while_its_prompt_plays_waits_for_the_end_then_the_tail() {
    let prompt = PromptRef {
        lang: Language::Ja,
        id: "goodbye".into(),
    };
    let flow = Box::new(ProbeFlow::new(vec![prompt], Duration::from_secs(10)));
    let mut call = Call::new(Direction::Inbound, flow, |s| {
        s.answer_delay = Duration::ZERO
    });
    call.invite();
    call.sip(SipEvent::Confirmed);
    assert!(call.playing);
    call.wait(Duration::from_secs(10));
    assert!(
        call.last("bye").is_none(),
        "the probe hung up mid-prompt: no BYE yet"
    );
    call.media(MediaEvent::Digit(DigitEvent {
        digit: Digit::from_char('5').unwrap(),
        method: DigitMethod::Rfc4733,
    }));
    call.wait(Duration::from_secs(2));
    call.play_out();
    assert!(call.last("bye").is_none());
    call.wait(HANGUP_TAIL - Duration::from_millis(1));
    assert!(call.last("bye").is_none());
    call.wait(Duration::from_millis(1));
    assert_eq!(
        call.last("bye").unwrap() - call.last("played").unwrap(),
        HANGUP_TAIL
    );
    assert_eq!(call.ended(), Some((Disposition::Answered, Some(200))));
}

#[test]
fn a_reinvite_puts_the_call_on_hold_and_back() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    let before = call.log.len();
    call.sip(SipEvent::ReInvite {
        request: SipRequestId(1),
        offer: peer_sdp(6000, "sendonly"),
    });
    call.sip(SipEvent::ReInvite {
        request: SipRequestId(2),
        offer: peer_sdp(6002, "sendrecv"),
    });
    call.sip(SipEvent::ReInvite {
        request: SipRequestId(3),
        offer: "v=0\r\no=- 1 2 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\n\
                t=0 0\r\nm=audio 6002 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
            .into(),
    });
    call.sip(SipEvent::ReInvite {
        request: SipRequestId(4),
        offer: "v=0\r\nnonsense".into(),
    });
    let new = &call.log[before..];
    let updates: Vec<bool> = new
        .iter()
        .filter_map(|o| match o {
            Output::Media(MediaAction::Update(n)) => Some(n.on_hold()),
            _ => None,
        })
        .collect();
    assert_eq!(updates, [true, false], "hold, then back");
    let replies: Vec<(u64, u16, Option<&String>)> = new
        .iter()
        .filter_map(|o| match o {
            Output::Sip(SipAction::Respond {
                request,
                status,
                sdp,
            }) => Some((request.0, *status, sdp.as_ref())),
            _ => None,
        })
        .collect();
    assert_eq!(replies.len(), 4);
    assert_eq!((replies[0].0, replies[0].1), (1, 200));
    let hold = replies[0].2.unwrap();
    assert!(hold.contains("a=recvonly"), "{hold}");
    let back = replies[1].2.unwrap();
    assert!(back.contains("a=sendrecv"), "{back}");
    let answered = match call.sip_actions()[1] {
        SipAction::Answer(sdp) => o_version(sdp),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        [o_version(hold), o_version(back)],
        [answered + 1, answered + 2],
        "each answer in the dialog has a new o= version"
    );
    assert_eq!((replies[2].1, replies[3].1), (488, 400));
    let activity = new
        .iter()
        .filter(|o| matches!(o, Output::Media(MediaAction::NoteActivity)))
        .count();
    assert_eq!(
        activity, 4,
        "every in-dialog request counts as media activity"
    );
    assert_eq!(call.ended(), None, "the call goes on");
}

/// The `o=` line's session version.
fn o_version(sdp: &str) -> u64 {
    let line = sdp.lines().find(|l| l.starts_with("o=")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[test]
fn media_timeout_ends_the_call_with_a_bye() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    call.play_all();
    call.media(MediaEvent::Timeout);
    assert_eq!(call.sip_actions().last(), Some(&&SipAction::Hangup));
    assert_eq!(call.ended(), Some((Disposition::Answered, Some(200))));
    assert!(call
        .log
        .iter()
        .any(|o| matches!(o, Output::Media(MediaAction::Release))));
    assert!(call.session.is_done());
}

#[test]
fn info_digits_keep_the_call_alive_and_bad_info_gets_415() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    identify(
        &mut call,
        DigitMethod::SipInfo,
        DigitMethod::SipInfo,
        DigitMethod::SipInfo,
    );
    let activity = call
        .log
        .iter()
        .filter(|o| matches!(o, Output::Media(MediaAction::NoteActivity)))
        .count();
    assert_eq!(activity, 1 + 9 + 4, "each INFO restarts the media timeout");
    call.sip(SipEvent::Info {
        request: SipRequestId(99),
        content_type: "text/plain".into(),
        body: Redacted::new(b"hello".to_vec()),
    });
    let reply = SipAction::Respond {
        request: SipRequestId(99),
        status: 415,
        sdp: None,
    };
    assert_eq!(call.sip_actions().last(), Some(&&reply));
    assert_eq!(call.ended(), None);
}

#[test]
fn a_caller_hanging_up_while_ringing_is_cancelled_with_487() {
    let mut call = Call::inbound(|_| {});
    call.sip(SipEvent::Ended(crate::sip::EndReason::Cancelled));
    assert_eq!(call.ended(), Some((Disposition::Cancelled, Some(487))));
    assert_eq!(call.sip_actions(), [&SipAction::Ringing]);
    assert!(matches!(call.store_calls()[..], [StoreCall::CallRecord(_)]));
}

#[test]
fn nothing_personal_reaches_the_debug_of_what_the_session_hands_out() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    let (info, rfc) = (DigitMethod::SipInfo, DigitMethod::Rfc4733);
    identify(&mut call, rfc, info, info);
    answer_questions(&mut call, info);
    close(&mut call);
    let input = Input::Sip(SipEvent::Info {
        request: SipRequestId(1),
        content_type: "application/dtmf-relay".into(),
        body: Redacted::new(b"Signal=7\r\n".to_vec()),
    });
    assert!(!format!("{input:?}").contains("Signal=7"));
    for output in &call.log {
        if let Output::Journal(_) = output {
            continue; // the journal file holds answers by design; it is never logged
        }
        let shown = format!("{output:?}");
        for secret in ["12345678", "0415", "0312345678", "0398765432"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}

#[test]
fn spurious_timeouts_change_nothing() {
    let mut call = Call::inbound(|_| {});
    for _ in 0..3 {
        call.session.handle_timeout(call.now);
    }
    assert!(
        call.session.poll_output().is_none(),
        "nothing due, nothing out"
    );
    answer(&mut call);
    let before = call.log.len();
    call.session.handle_timeout(call.now);
    call.session
        .handle_timeout(call.now + Duration::from_millis(1));
    assert!(call.session.poll_output().is_none());
    assert_eq!(call.log.len(), before);
    assert_eq!(call.played(), ["hc_welcome"]);
}
