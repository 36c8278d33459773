//! The report store against both backends in one run: SQLite in a temporary file and
//! PostgreSQL in a schema of its own (see tests/common_store). Every test listed in
//! `on_both_backends!` runs twice; import, export, attempt, alert and journal cases live in tests/common_store.

mod common_store;

use std::time::Duration;

use carecall::lang::Language;
use carecall::report::{Flag, Slot};
use carecall::store::{
    AnswerValue, Channel, Identification, PatientId, ReportId, Store, StoreError, Symptom,
};
use common_store::alert_cases::*;
use common_store::attempt_cases::*;
use common_store::claim_order_cases::*;
use common_store::export_cases::*;
use common_store::import_cases::*;
use common_store::journal_cases::*;
use common_store::{at, import_three, patient, pii, Db};

on_both_backends!(
    a_journalled_report_reaches_the_store_once_however_often_it_is_replayed,
    a_replay_stopped_by_the_store_is_kept_and_finished_later,
    two_replays_at_once_write_each_entry_once,
    an_entry_the_store_refuses_for_good_is_set_aside_and_the_rest_written,
    import_upserts_by_id,
    import_bad_row_writes_nothing_and_names_the_line,
    import_refuses_a_shared_auto_call_phone,
    identification_gives_one_outcome_for_any_mistake,
    five_failed_calls_lock_an_id_until_unlocked,
    failures_outside_the_window_or_for_unknown_ids_never_lock,
    each_answer_is_committed_on_its_own,
    flags_follow_the_answers,
    export_writes_exact_values,
    call_records_are_appended_and_failures_reported,
    attempts_are_claimed_once_by_priority_when_due,
    a_dead_nodes_claims_are_taken_over_when_the_lease_runs_out,
    concurrent_claims_never_share_an_attempt,
    pending_attempts_of_a_slot_can_be_cancelled,
    a_slot_is_planned_once_across_nodes_and_replanned_later,
    reports_wrong_numbers_and_closed_windows_end_waiting_attempts,
    the_claim_sql_and_the_pacing_policy_start_the_same_attempts_in_the_same_order,
    red_reports_are_enqueued_once_and_every_attempt_is_recorded,
    an_alert_whose_node_died_is_claimed_again_and_a_last_failure_gives_up,
    the_webhook_receives_a_red_report_within_a_second,
    a_failed_delivery_is_retried_until_the_receiver_accepts,
    an_unreachable_webhook_is_given_up_after_the_last_attempt,
    alerts_left_pending_are_delivered_after_a_restart,
    answers_cancelled_midway_leave_no_answer_without_its_flag,
);

async fn identification_gives_one_outcome_for_any_mistake(db: Db) {
    import_three(&db.store).await;
    let caller = pii("0312345678");
    let try_id = |id: &'static str, mmdd: &'static str, call: &'static str| {
        let (store, caller) = (db.store.clone(), caller.clone());
        async move {
            store
                .identify(&pii(id), &pii(mmdd), &caller, call, at(60))
                .await
                .unwrap()
        }
    };
    match try_id("11110001", "0415", "c1").await {
        Identification::Patient(p) => assert_eq!(p.language, Language::Ja),
        other => panic!("right ID and birthday refused: {other:?}"),
    }
    let wrong_id = try_id("19999999", "0415", "c1").await;
    let wrong_birthday = try_id("11110001", "0416", "c1").await;
    assert_eq!(wrong_id, Identification::NoMatch);
    assert_eq!(
        wrong_birthday, wrong_id,
        "a wrong ID and a wrong birthday look the same"
    );
    let failures = db
        .store
        .caller_failures_recent(&caller, at(61), Duration::from_secs(3600))
        .await;
    assert_eq!(failures.unwrap(), 2);
    let stranger = pii("0399999999");
    let other = db
        .store
        .caller_failures_recent(&stranger, at(61), Duration::from_secs(3600));
    assert_eq!(other.await.unwrap(), 0);
    let later = db
        .store
        .caller_failures_recent(&caller, at(60 + 3600), Duration::from_secs(3600));
    assert_eq!(later.await.unwrap(), 0, "failures age out of the window");
}

async fn five_failed_calls_lock_an_id_until_unlocked(db: Db) {
    import_three(&db.store).await;
    let (id, good, bad) = (pii("11110001"), pii("0415"), pii("0101"));
    let attempt = |mmdd: &carecall::pii::Redacted<String>, call: &str, secs: u64| {
        let (store, id, mmdd, call) =
            (db.store.clone(), id.clone(), mmdd.clone(), call.to_string());
        async move {
            store
                .identify(&id, &mmdd, &pii("0311112222"), &call, at(secs))
                .await
                .unwrap()
        }
    };
    // Three failures within call 1 count once; calls 2-4 bring it to four calls.
    for (n, call) in ["call1", "call1", "call1", "call2", "call3", "call4"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            attempt(&bad, call, 100 + n as u64).await,
            Identification::NoMatch
        );
    }
    assert!(matches!(
        attempt(&good, "call5", 200).await,
        Identification::Patient(_)
    ));
    assert_eq!(
        attempt(&bad, "call5", 201).await,
        Identification::NoMatch,
        "fifth call fails"
    );
    assert_eq!(
        attempt(&good, "call6", 300).await,
        Identification::Locked,
        "right birthday refused"
    );
    assert_eq!(attempt(&bad, "call6", 301).await, Identification::Locked);

    assert!(db.store.unlock(&id, at(400)).await.unwrap());
    assert!(
        !db.store.unlock(&id, at(401)).await.unwrap(),
        "already unlocked"
    );
    assert!(!db.store.unlock(&pii("19999999"), at(401)).await.unwrap());
    assert_eq!(attempt(&bad, "call7", 500).await, Identification::NoMatch);
    assert!(
        matches!(
            attempt(&good, "call7", 501).await,
            Identification::Patient(_)
        ),
        "failures before the unlock no longer count"
    );
}

async fn failures_outside_the_window_or_for_unknown_ids_never_lock(db: Db) {
    import_three(&db.store).await;
    // The default window (14 days): four failed calls inside it, the fifth just after.
    let window = carecall::store::StoreOptions::default()
        .lock_window
        .as_secs();
    for (n, secs) in [0, 10, 20, 30, window + 40].into_iter().enumerate() {
        let call = format!("call{n}");
        let ident = db
            .store
            .identify(&pii("11110002"), &pii("0000"), &pii("1"), &call, at(secs))
            .await;
        assert_eq!(ident.unwrap(), Identification::NoMatch);
    }
    let ident = db
        .store
        .identify(
            &pii("11110002"),
            &pii("1201"),
            &pii("1"),
            "c",
            at(window + 50),
        )
        .await;
    assert!(
        matches!(ident, Ok(Identification::Patient(_))),
        "only 2 calls within the window"
    );
    for n in 0..10 {
        let ident = db
            .store
            .identify(
                &pii("555555"),
                &pii("0101"),
                &pii("2"),
                &format!("u{n}"),
                at(n),
            )
            .await;
        assert_eq!(
            ident.unwrap(),
            Identification::NoMatch,
            "an unknown ID is never Locked"
        );
    }
}

async fn each_answer_is_committed_on_its_own(db: Db) {
    import_three(&db.store).await;
    let p = patient(&db.store, "11110001", "0415").await;
    let slot = Slot {
        date: "2025-05-01".parse().unwrap(),
        time: "09:00".parse().unwrap(),
    };
    let report = db
        .store
        .start_report(
            p,
            Channel::OutboundCall,
            Some("call-1"),
            Some(slot),
            at(9 * 3600),
        )
        .await
        .unwrap();
    db.store
        .store_answer(
            report,
            "temperature",
            AnswerValue::TemperatureTenths(365),
            at(9 * 3600 + 20),
        )
        .await
        .unwrap();

    // The call drops here. Another store instance (another node, or after a restart) sees it.
    let other = Store::open(&db.url).await.unwrap();
    let reports = other.export_reports(None).await.unwrap();
    other.close().await;
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(
        (r.report_id, r.complete, r.completed_at, r.flag),
        (report.0, false, None, Flag::None)
    );
    assert_eq!(
        (r.channel, r.slot, r.hersys_id.expose().as_str()),
        (Channel::OutboundCall, Some(slot), "11110001")
    );
    assert_eq!(r.answers.len(), 1);
    assert!(
        r.answers[0].question == "temperature"
            && r.answers[0].value == AnswerValue::TemperatureTenths(365)
    );

    let missing = db
        .store
        .store_answer(
            ReportId(report.0 + 1000),
            "spo2",
            AnswerValue::Spo2(None),
            at(1),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::UnknownReport(_))),
        "{missing:?}"
    );
    let nobody = db
        .store
        .start_report(PatientId(987_654), Channel::Web, None, None, at(1))
        .await;
    assert!(matches!(
        nobody,
        Err(StoreError::UnknownPatient(PatientId(987_654)))
    ));
    assert!(matches!(
        db.store
            .complete_report(ReportId(report.0 + 1000), at(1))
            .await,
        Err(StoreError::UnknownReport(_))
    ));
}

/// Answers stored in order, the flag expected after the last one, and its reasons.
type Case = (
    &'static [(&'static str, AnswerValue)],
    Flag,
    &'static [&'static str],
);

async fn flags_follow_the_answers(db: Db) {
    import_three(&db.store).await;
    let p = patient(&db.store, "11110003", "0229").await;
    let store = &db.store;
    let new_report = || async {
        store
            .start_report(p, Channel::HealthCall, Some("c"), None, at(10))
            .await
            .unwrap()
    };
    const YES: AnswerValue = AnswerValue::Symptom(Symptom::Yes);
    let cases: [Case; 5] = [
        (
            &[("temperature", AnswerValue::TemperatureTenths(382))],
            Flag::Red,
            &["fever"],
        ),
        (
            &[("spo2", AnswerValue::Spo2(Some(94))), ("breath", YES)],
            Flag::Red,
            &["spo2_low_breathless", "symptom:breath"],
        ),
        (
            &[("temperature", AnswerValue::TemperatureTenths(365))],
            Flag::None,
            &[],
        ),
        (
            &[
                ("temperature", AnswerValue::TemperatureTenths(365)),
                ("cough", AnswerValue::Unanswered),
            ],
            Flag::Amber,
            &["unanswered:cough"],
        ),
        (
            &[
                ("temperature", AnswerValue::TemperatureTenths(382)),
                ("temperature", AnswerValue::TemperatureTenths(365)),
            ],
            Flag::None,
            &[],
        ),
    ];
    let mut ids = Vec::new();
    for (answers, flag, reasons) in cases {
        let report = new_report().await;
        let mut last = None;
        for (n, (q, v)) in answers.iter().enumerate() {
            last = Some(
                store
                    .store_answer(report, q, *v, at(20 + n as u64))
                    .await
                    .unwrap(),
            );
        }
        let last = last.unwrap();
        let codes: Vec<String> = last.reasons.iter().map(|r| r.code()).collect();
        assert_eq!(last.flag, flag, "store_answer's assessment");
        assert_eq!(codes, reasons, "store_answer's reasons");
        ids.push((report, flag, reasons));
    }
    let exported = store.export_reports(None).await.unwrap();
    for (report, flag, reasons) in ids {
        let r = exported.iter().find(|r| r.report_id == report.0).unwrap();
        assert_eq!(r.flag, flag, "stored flag of {report:?}");
        assert_eq!(r.flag_reasons, reasons, "stored reasons of {report:?}");
    }
    let replaced = exported.last().unwrap();
    assert_eq!(
        replaced.answers.len(),
        1,
        "a re-confirmed answer replaces the first"
    );
    assert!(replaced.answers[0].value == AnswerValue::TemperatureTenths(365));
}

/// A call's store request dropped at any point (its task ended, a deadline) leaves either
/// the whole answer with its flag or nothing, and the requests after it work; after `close`
/// they fail instead of waiting.
async fn answers_cancelled_midway_leave_no_answer_without_its_flag(db: Db) {
    import_three(&db.store).await;
    let p = patient(&db.store, "11110002", "1201").await;
    let store = &db.store;
    let report = store
        .start_report(p, Channel::HealthCall, Some("c"), None, at(10))
        .await
        .unwrap();
    let yes = AnswerValue::Symptom(Symptom::Yes);
    for n in 0..24u64 {
        let question = format!("symptom{n}");
        let answer = store.store_answer(report, &question, yes, at(20 + n));
        // Dropped after its first poll, or 1–3 ms in: before, inside or after its commit.
        let _ = tokio::time::timeout(Duration::from_millis(n % 4), answer).await;
    }
    store
        .store_answer(report, "cough", AnswerValue::Symptom(Symptom::No), at(99))
        .await
        .unwrap();
    let exported = store.export_reports(None).await.unwrap();
    let r = exported.iter().find(|r| r.report_id == report.0).unwrap();
    let mut asked: Vec<String> = r
        .answers
        .iter()
        .filter(|a| a.value == yes)
        .map(|a| format!("symptom:{}", a.question))
        .collect();
    let mut flagged = r.flag_reasons.clone();
    asked.sort();
    flagged.sort();
    assert_eq!(
        flagged, asked,
        "every stored answer is in the flag, and only those"
    );
    assert_eq!(r.answers.len(), asked.len() + 1);
    store.close().await;
    let closed = tokio::time::timeout(
        Duration::from_secs(5),
        store.store_answer(report, "cough", yes, at(100)),
    )
    .await
    .expect("a closed store answers at once");
    assert!(closed.is_err(), "{closed:?}");
}
