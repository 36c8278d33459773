//! Store cases for the report export and call records (run on both backends by
//! tests/store.rs).

use carecall::call::Direction;
use carecall::report::export::{write_csv, write_json};
use carecall::report::Slot;
use carecall::sip::outcome::Disposition;
use carecall::store::{AnswerValue, CallRecord, Channel, StoreError, Symptom};

use super::{at, import_three, patient, pii, Db};

pub async fn export_writes_exact_values(db: Db) {
    import_three(&db.store).await;
    let p = patient(&db.store, "11110001", "0415").await;
    let early = db
        .store
        .start_report(p, Channel::Web, None, None, at(5))
        .await
        .unwrap();
    db.store
        .store_answer(
            early,
            "temperature",
            AnswerValue::TemperatureTenths(371),
            at(6),
        )
        .await
        .unwrap();
    let slot = Slot {
        date: "2025-05-01".parse().unwrap(),
        time: "14:00".parse().unwrap(),
    };
    let r = db
        .store
        .start_report(p, Channel::HealthCall, Some("call-9"), Some(slot), at(3600))
        .await
        .unwrap();
    let answers = [
        ("temperature", AnswerValue::TemperatureTenths(365)),
        ("spo2", AnswerValue::Spo2(None)),
        ("face", AnswerValue::Unanswered),
        ("cough", AnswerValue::Symptom(Symptom::No)),
        ("callback", AnswerValue::YesNo(false)),
    ];
    for (n, (q, v)) in answers.into_iter().enumerate() {
        db.store
            .store_answer(r, q, v, at(3601 + n as u64))
            .await
            .unwrap();
    }
    db.store.complete_report(r, at(3700)).await.unwrap();
    db.store.complete_report(r, at(3800)).await.unwrap();

    let reports = db.store.export_reports(Some(at(3600))).await.unwrap();
    assert_eq!(reports.len(), 1, "--since leaves the earlier report out");
    let mut json = Vec::new();
    write_json(&reports, &mut json).unwrap();
    let text = String::from_utf8(json).unwrap();
    assert!(
        text.contains(r#""temperature":36.5,"spo2":null,"face":null,"cough":"no","callback":"no""#),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = &v[0];
    assert_eq!(v["hersys_id"], "11110001");
    assert_eq!(v["channel"], "health_call");
    assert_eq!(v["started_at"], "2025-05-01T01:00:00.000Z");
    assert_eq!(
        v["completed_at"], "2025-05-01T01:01:40.000Z",
        "the first completion is kept"
    );
    assert_eq!(v["slot"], "2025-05-01 14:00");
    assert_eq!(
        (v["complete"].as_bool(), v["flag"].as_str()),
        (Some(true), Some("amber"))
    );
    assert_eq!(v["flag_reasons"], serde_json::json!(["unanswered:face"]));
    assert_eq!(v["answers"]["temperature"].as_f64(), Some(36.5));

    let mut csv = Vec::new();
    let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    write_csv(
        &db.store.export_reports(None).await.unwrap(),
        &tokyo,
        &mut csv,
    )
    .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with(&format!(
        "{},11110001,web,2025-05-01T09:00:05+09:00,,,false,none,,37.1,",
        early.0
    )));
    assert!(
        lines[2].contains(",2025-05-01T10:00:00+09:00,2025-05-01T10:01:40+09:00,2025-05-01 14:00,"),
        "local times with their offset: {}",
        lines[2]
    );
    assert!(
        lines[2].ends_with(",true,amber,unanswered:face,36.5,not_measured,,no,,,,,,,,no"),
        "{}",
        lines[2]
    );
}

pub async fn call_records_are_appended_and_failures_reported(db: Db) {
    let record = CallRecord {
        call_id: "node1-42".into(),
        sip_call_id: "a84b4c76e66710@pc33.example.com".into(),
        direction: Direction::Outbound,
        trunk: Some("trunk-a".into()),
        caller: pii("0312340000"),
        called: pii("09011110002"),
        started_at: at(100),
        answered_at: Some(at(104)),
        ended_at: at(190),
        disposition: Disposition::Answered,
        sip_status: Some(200),
        dialplan_id: Some("outbound".into()),
        dialplan_version: Some("3".into()),
        last_step: Some("closing".into()),
        slot: Some(Slot {
            date: "2025-05-01".parse().unwrap(),
            time: "09:00".parse().unwrap(),
        }),
        attempt: Some(2),
    };
    let busy = CallRecord {
        call_id: "node1-43".into(),
        direction: Direction::Inbound,
        trunk: None,
        answered_at: None,
        started_at: at(200),
        ended_at: at(203),
        disposition: Disposition::Busy,
        sip_status: None,
        dialplan_id: None,
        dialplan_version: None,
        last_step: None,
        slot: None,
        attempt: None,
        ..record.clone()
    };
    db.store.insert_call_record(&record).await.unwrap();
    db.store.insert_call_record(&busy).await.unwrap();
    assert_eq!(record.duration_ms(), 90_000);
    let stored = db.store.call_records(at(0)).await.unwrap();
    assert_eq!(stored, vec![record.clone(), busy.clone()]);
    assert_eq!(db.store.call_records(at(150)).await.unwrap(), vec![busy]);

    db.store.close().await;
    let failed = db.store.insert_call_record(&record).await;
    assert!(
        matches!(failed, Err(StoreError::Database(_))),
        "a lost write is an error, not silence"
    );
}
