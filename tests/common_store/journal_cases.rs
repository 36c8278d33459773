//! Store cases for the local journal (SPEC §11; run on both backends by tests/store.rs): what
//! calls journalled during an outage reaches the store once, however often it is replayed.

use carecall::report::{Flag, Slot};
use carecall::store::{
    AnswerValue, Channel, Journal, JournalEntry, ReportRef, StoreError, Symptom,
};

use super::{at, import_three, patient, Db};

/// A journal in a fresh temporary folder.
fn journal(name: &str) -> Journal {
    let dir = std::env::temp_dir().join(format!(
        "carecall-journal-{name}-{:016x}",
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    Journal::open(dir.join("carecall.journal")).unwrap()
}

pub async fn a_journalled_report_reaches_the_store_once_however_often_it_is_replayed(db: Db) {
    import_three(&db.store).await;
    let p = patient(&db.store, "11110001", "0415").await;
    let slot = Slot {
        date: "2025-05-01".parse().unwrap(),
        time: "09:00".parse().unwrap(),
    };
    // A report the store has, whose last answer and completion were journalled, and one whose
    // start already failed: everything about it is in the journal.
    let known = db
        .store
        .start_report_keyed(
            "k-known",
            p,
            Channel::OutboundCall,
            Some("c1"),
            Some(slot),
            at(10),
        )
        .await
        .unwrap();
    let j = journal("once");
    let key = ReportRef::Key("k-new".into());
    let entries = [
        JournalEntry::answer(
            ReportRef::Id(known.0),
            "breath",
            AnswerValue::Symptom(Symptom::No),
            at(20),
        ),
        JournalEntry::complete(ReportRef::Id(known.0), at(21)),
        JournalEntry::start("k-new", p, Channel::HealthCall, Some("c2"), None, at(30)),
        JournalEntry::answer(
            key.clone(),
            "temperature",
            AnswerValue::TemperatureTenths(383),
            at(31),
        ),
        JournalEntry::answer(key.clone(), "spo2", AnswerValue::Spo2(None), at(32)),
        JournalEntry::complete(key.clone(), at(33)),
    ];
    for e in &entries {
        j.append(e).unwrap();
    }
    let touched = db.store.replay_journal(&j).await.unwrap();
    assert_eq!(touched.len(), 2);
    assert!(!j.has_entries(), "a replayed journal is emptied");
    let check = |reports: Vec<carecall::report::ReportExport>| {
        assert_eq!(reports.len(), 2, "exactly two reports");
        let new = reports.iter().find(|r| r.report_id != known.0).unwrap();
        assert_eq!(new.channel, Channel::HealthCall);
        assert!(new.complete);
        assert_eq!(
            new.completed_at,
            Some(at(33)),
            "the time the caller finished"
        );
        assert_eq!(new.flag, Flag::Red, "38.3 °C");
        assert_eq!(new.answers.len(), 2);
        let old = reports.iter().find(|r| r.report_id == known.0).unwrap();
        assert!(old.complete);
        assert_eq!(old.slot, Some(slot));
        assert_eq!(old.answers.len(), 1);
    };
    check(db.store.export_reports(None).await.unwrap());

    // A crash after writing but before the file was removed: the same entries again.
    for e in &entries {
        j.append(e).unwrap();
    }
    db.store.replay_journal(&j).await.unwrap();
    check(db.store.export_reports(None).await.unwrap());
    // A start that reached the store although the call gave up waiting finds the same report.
    let again = db
        .store
        .start_report_keyed("k-new", p, Channel::HealthCall, Some("c2"), None, at(40))
        .await
        .unwrap();
    assert_eq!(Some(again), db.store.report_by_key("k-new").await.unwrap());
    check(db.store.export_reports(None).await.unwrap());
}

pub async fn a_replay_stopped_by_the_store_is_kept_and_finished_later(db: Db) {
    import_three(&db.store).await;
    let p = patient(&db.store, "11110002", "1201").await;
    let j = journal("later");
    let key = ReportRef::Key("k-later".into());
    j.append(&JournalEntry::start(
        "k-later",
        p,
        Channel::HealthCall,
        None,
        None,
        at(1),
    ))
    .unwrap();
    j.append(&JournalEntry::answer(
        key.clone(),
        "cough",
        AnswerValue::Symptom(Symptom::Yes),
        at(2),
    ))
    .unwrap();
    // The store is gone (closed): the replay fails and keeps every entry.
    let closed = carecall::store::Store::open(&db.url).await.unwrap();
    closed.close().await;
    let failed = closed.replay_journal(&j).await;
    assert!(
        matches!(
            failed,
            Err(carecall::store::JournalError::Store(StoreError::Database(
                _
            )))
        ),
        "{failed:?}"
    );
    assert!(j.has_entries());
    // Entries written meanwhile wait behind the unfinished replay, and follow it.
    j.append(&JournalEntry::complete(key, at(3))).unwrap();
    db.store.replay_journal(&j).await.unwrap();
    assert!(!j.has_entries());
    let reports = db.store.export_reports(None).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].complete);
    assert_eq!(reports[0].flag, Flag::Amber, "a cough");
}

pub async fn two_replays_at_once_write_each_entry_once(db: Db) {
    import_three(&db.store).await;
    let p = patient(&db.store, "11110003", "0229").await;
    let j = journal("twice");
    let key = ReportRef::Key("k-race".into());
    j.append(&JournalEntry::start(
        "k-race",
        p,
        Channel::OutboundCall,
        None,
        None,
        at(1),
    ))
    .unwrap();
    for (i, q) in ["face", "cough", "breath", "fatigue", "nausea"]
        .iter()
        .enumerate()
    {
        let e = JournalEntry::answer(
            key.clone(),
            q,
            AnswerValue::Symptom(Symptom::No),
            at(2 + i as u64),
        );
        j.append(&e).unwrap();
    }
    j.append(&JournalEntry::complete(key, at(9))).unwrap();
    // The replay loop and the shutdown replay at the same moment.
    let (a, b) = tokio::join!(db.store.replay_journal(&j), db.store.replay_journal(&j));
    a.unwrap();
    b.unwrap();
    assert!(!j.has_entries());
    let reports = db.store.export_reports(None).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].answers.len(), 5);
    assert!(reports[0].complete);
}

pub async fn an_entry_the_store_refuses_for_good_is_set_aside_and_the_rest_written(db: Db) {
    import_three(&db.store).await;
    let p = patient(&db.store, "11110001", "0415").await;
    let j = journal("refused");
    let key = ReportRef::Key("k-bad".into());
    j.append(&JournalEntry::start(
        "k-bad",
        p,
        Channel::HealthCall,
        None,
        None,
        at(1),
    ))
    .unwrap();
    // A line no version of carecall writes: a temperature beyond what the store holds.
    let bad = r#"{"op":"answer","report":{"key":"k-bad"},"question":"temperature","value":["temperature",70000,null],"at":2000}"#;
    let mut line = bad.to_string();
    line.push('\n');
    std::io::Write::write_all(
        &mut std::fs::OpenOptions::new()
            .append(true)
            .open(j.path())
            .unwrap(),
        line.as_bytes(),
    )
    .unwrap();
    j.append(&JournalEntry::answer(
        key.clone(),
        "cough",
        AnswerValue::Symptom(Symptom::No),
        at(3),
    ))
    .unwrap();
    j.append(&JournalEntry::complete(key, at(4))).unwrap();
    db.store.replay_journal(&j).await.unwrap();
    assert!(
        !j.has_entries(),
        "the bad entry does not hold back the journal"
    );
    let reports = db.store.export_reports(None).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].answers.len(), 1, "the good answer is written");
    assert!(reports[0].complete);
    let rejected = format!("{}.rejected", j.path().display());
    let kept = std::fs::read_to_string(&rejected).unwrap();
    assert_eq!(kept.lines().count(), 1, "set aside for an operator: {kept}");
}
