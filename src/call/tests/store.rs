//! A Health Call's store side: a write the store does not take in time or refuses goes to
//! the journal while the call goes on; repeated failures slow identification down.

use super::*;
use crate::store::ReportRef;

#[test]
fn a_store_timeout_mid_questions_goes_to_the_journal_and_the_call_goes_on() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    identify(
        &mut call,
        DigitMethod::Rfc4733,
        DigitMethod::Rfc4733,
        DigitMethod::Rfc4733,
    );
    call.play_all();
    call.keys("365", DigitMethod::Rfc4733);
    call.play_all();
    call.keys("1", DigitMethod::Rfc4733);
    assert_eq!(stored_questions(&call), ["temperature"]);
    // The store stops answering: SpO2's write is held back.
    call.mode = StoreMode::Hold;
    call.play_all();
    call.keys("97#", DigitMethod::Rfc4733);
    call.play_all();
    call.keys("1", DigitMethod::Rfc4733);
    let (late_id, late) = call.held.remove(0);
    assert!(
        matches!(late, StoreCall::StoreAnswer { ref question, .. } if question.as_str() == "spo2")
    );
    call.mode = StoreMode::Answer;
    assert_eq!(
        call.played().last().map(String::as_str),
        Some("keys_yes_no_unknown")
    );
    // The caller goes on while the write is in flight; the face answer queues behind it.
    call.play_all();
    call.keys("2", DigitMethod::Rfc4733);
    assert!(call.journal().is_empty());
    call.wait(WRITE_TIMEOUT);
    let journal = call.journal();
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert!(
        matches!(journal[0], JournalEntry::Answer { report: ReportRef::Id(7), question, .. } if question == "spo2")
    );
    assert_eq!(stored_questions(&call), ["temperature", "spo2", "face"]);
    assert!(call.events().contains(&&SessionEvent::StoreError));
    // The late reply changes nothing.
    let before = call.log.len();
    call.input(Input::Store {
        id: late_id,
        reply: Ok(good_reply(&late)),
    });
    assert_eq!(call.log.len(), before);
    for keys in ["2", "2", "2", "2", "2", "2", "2", "2", "2"] {
        call.play_all();
        call.keys(keys, DigitMethod::Rfc4733);
    }
    close(&mut call);
    assert_eq!(stored_questions(&call).len(), 12);
    assert_eq!(call.journal().len(), 1);
    assert_eq!(
        call.session.flow_outcome(),
        Some(crate::ivr::CallOutcome::Completed)
    );
    assert!(call.session.is_done());
}

#[test]
fn a_report_start_the_store_does_not_take_journals_the_report_by_its_key() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    identify(
        &mut call,
        DigitMethod::Rfc4733,
        DigitMethod::Rfc4733,
        DigitMethod::Rfc4733,
    );
    call.mode = StoreMode::Hold;
    call.play_all();
    call.keys("365", DigitMethod::Rfc4733);
    call.play_all();
    call.keys("1", DigitMethod::Rfc4733);
    call.wait(WRITE_TIMEOUT);
    let journal = call.journal();
    let key = format!("{:032x}", 0xabc);
    assert!(matches!(journal[0], JournalEntry::Start { key: k, .. } if *k == key));
    assert!(
        matches!(journal[1], JournalEntry::Answer { report: ReportRef::Key(k), .. } if *k == key)
    );
    assert_eq!(call.held.len(), 1, "only the start went to the store");
}

#[test]
fn repeated_failures_from_one_caller_slow_identification_down() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    call.mode = StoreMode::Hold;
    let rfc = DigitMethod::Rfc4733;
    key_identity(&mut call, rfc, rfc, rfc);
    let asked = call.reply_held(Ok(StoreValue::Count(3)));
    assert!(
        matches!(asked, StoreCall::CountCallerFailures { caller, .. } if caller.expose() == "0312345678")
    );
    call.wait(Duration::from_millis(3_999));
    assert!(
        call.held.is_empty(),
        "three failures: 4 s before the lookup"
    );
    call.wait(Duration::from_millis(1));
    assert!(matches!(call.held[..], [(_, StoreCall::Identify { .. })]));
    let locked = Ok(StoreValue::Identified(Identification::Locked));
    call.reply_held(locked);
    assert!(call.played().contains(&"hc_not_confirmed".to_owned()));
}

#[test]
fn an_answer_the_store_refuses_goes_to_the_journal() {
    let mut call = Call::inbound(|_| {});
    answer(&mut call);
    let rfc = DigitMethod::Rfc4733;
    identify(&mut call, rfc, rfc, rfc);
    call.mode = StoreMode::Hold;
    call.play_all();
    call.keys("365", rfc);
    call.play_all();
    call.keys("1", rfc);
    call.reply_held(Ok(StoreValue::Report(ReportId(7))));
    let refused = Err(crate::store::StoreError::UnknownReport(ReportId(7)));
    let asked = call.reply_held(refused);
    assert!(matches!(
        asked,
        StoreCall::StoreAnswer {
            report: ReportId(7),
            ..
        }
    ));
    let journal = call.journal();
    assert!(matches!(
        journal[..],
        [JournalEntry::Answer {
            report: ReportRef::Id(7),
            ..
        }]
    ));
    assert!(call.events().contains(&&SessionEvent::StoreError));
}
