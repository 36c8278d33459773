//! Automatic-call attempts and leases, on both backends.

use std::collections::BTreeSet;
use std::time::Duration;

use carecall::domain::{Attempt, AttemptOutcome, AttemptState, Disposition, Finish, Priority};
use carecall::domain::{CancelReason, MissReason};
use carecall::report::Slot;
use carecall::store::PatientId;

use super::{at, import_three, patient, Db};

fn slot() -> Slot {
    Slot {
        date: "2025-05-01".parse().unwrap(),
        time: "09:00".parse().unwrap(),
    }
}

pub(super) fn attempt(p: PatientId, n: u32, due: u64, priority: Priority) -> Attempt {
    Attempt {
        patient: p,
        slot: slot(),
        number: n,
        due_at: at(due),
        window_end: at(3600),
        priority,
        slot_at: at(0),
        manual: false,
        state: AttemptState::Pending,
    }
}

const NORMAL: Priority = Priority::Normal;
const HIGH: Priority = Priority::High;
const ANSWERED: AttemptOutcome = AttemptOutcome::Completed;

async fn three(db: &Db) -> [PatientId; 3] {
    import_three(&db.store).await;
    [
        patient(&db.store, "11110001", "0415").await,
        patient(&db.store, "11110002", "1201").await,
        patient(&db.store, "11110003", "0229").await,
    ]
}

pub async fn attempts_are_claimed_once_by_priority_when_due(db: Db) {
    let [a, b, c] = three(&db).await;
    let planned = [
        attempt(a, 1, 0, NORMAL),
        attempt(b, 1, 0, HIGH),
        attempt(c, 1, 600, HIGH),
    ];
    assert_eq!(db.store.enqueue_attempts(&planned).await.unwrap(), 3);
    assert_eq!(
        db.store.enqueue_attempts(&planned).await.unwrap(),
        0,
        "idempotent"
    );

    let lease = Duration::from_secs(300);
    let first = db
        .store
        .claim_due_attempts("node-1", at(10), lease, 1)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempt.patient, b, "higher priority first");
    assert_eq!(
        first[0].phone.expose(),
        "09011110002",
        "the registered number, normalised"
    );
    let rest = db
        .store
        .claim_due_attempts("node-2", at(10), lease, 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|c| c.attempt.patient).collect::<Vec<_>>(),
        vec![a],
        "c is not due yet"
    );
    assert!(db
        .store
        .claim_due_attempts("node-2", at(20), lease, 10)
        .await
        .unwrap()
        .is_empty());
    for (claim, node) in [(&first[0], "node-1"), (&rest[0], "node-2")] {
        let done = db
            .store
            .finish_attempt(claim.id, node, ANSWERED, None, at(30));
        assert!(done.await.unwrap());
    }
    let later = db
        .store
        .claim_due_attempts("node-2", at(601), lease, 10)
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|c| c.attempt.patient).collect::<Vec<_>>(),
        vec![c]
    );
    // After the window nothing is claimed.
    let late = attempt(a, 2, 3000, NORMAL);
    db.store.enqueue_attempts(&[late]).await.unwrap();
    assert!(db
        .store
        .claim_due_attempts("node-1", at(3700), lease, 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_dead_nodes_claims_are_taken_over_when_the_lease_runs_out(db: Db) {
    let [a, _, _] = three(&db).await;
    db.store
        .enqueue_attempts(&[attempt(a, 1, 0, NORMAL)])
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let dead = db
        .store
        .claim_due_attempts("dead", at(10), lease, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        db.store
            .claim_due_attempts("alive", at(30), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "lease held"
    );
    let taken = db
        .store
        .claim_due_attempts("alive", at(71), lease, 10)
        .await
        .unwrap();
    assert_eq!(
        taken.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![dead[0].id]
    );
    assert!(
        !db.store
            .finish_attempt(dead[0].id, "dead", ANSWERED, None, at(72))
            .await
            .unwrap(),
        "the dead node lost it"
    );
    assert!(db
        .store
        .finish_attempt(taken[0].id, "alive", ANSWERED, Some("c1"), at(72))
        .await
        .unwrap());
    assert!(
        db.store
            .claim_due_attempts("alive", at(200), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "done is done"
    );
}

pub async fn concurrent_claims_never_share_an_attempt(db: Db) {
    import_three(&db.store).await;
    let csv: String = (0..60)
        .map(|i| format!("2222{i:04},P {i},1970-01-01,0900000{i:04},ja,09:00,2025-05-01,2025-05-10,true,Minato,\n"))
        .collect();
    db.store
        .import_patients_csv(format!("{}{csv}", super::HEADER).as_bytes())
        .await
        .unwrap();
    let mut planned = Vec::new();
    for i in 0..60 {
        let p = patient(&db.store, &format!("2222{i:04}"), "0101").await;
        planned.push(attempt(p, 1, 0, NORMAL));
    }
    db.store.enqueue_attempts(&planned).await.unwrap();
    let lease = Duration::from_secs(300);
    let claims = (0..6).map(|n| {
        let store = db.store.clone();
        async move {
            store
                .claim_due_attempts(&format!("node-{n}"), at(5), lease, 15)
                .await
                .unwrap()
        }
    });
    let results = futures_join_all(claims).await;
    let mut seen = BTreeSet::new();
    for got in &results {
        for c in got {
            assert!(seen.insert(c.id), "attempt {:?} claimed twice", c.id);
        }
    }
    assert_eq!(seen.len(), 60, "every attempt claimed exactly once");
}

pub async fn pending_attempts_of_a_slot_can_be_cancelled(db: Db) {
    let [a, b, _] = three(&db).await;
    db.store
        .enqueue_attempts(&[
            attempt(a, 1, 0, NORMAL),
            attempt(a, 2, 1200, NORMAL),
            attempt(b, 1, 0, NORMAL),
        ])
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let first = db
        .store
        .claim_due_attempts("n", at(1), lease, 1)
        .await
        .unwrap();
    assert_eq!(first[0].attempt.patient, a);
    let done = db
        .store
        .finish_attempt(first[0].id, "n", busy(), None, at(2));
    assert!(done.await.unwrap());
    let off = Finish::Cancelled(CancelReason::AutoCallOff);
    assert_eq!(
        db.store
            .cancel_pending_attempts(a, slot(), off, at(3))
            .await
            .unwrap(),
        1,
        "only the retry was pending"
    );
    let rows = db.store.attempts_on(slot().date).await.unwrap();
    let states: Vec<(u32, AttemptState)> = rows
        .iter()
        .filter(|r| r.attempt.patient == a)
        .map(|r| (r.attempt.number, r.attempt.state.clone()))
        .collect();
    assert_eq!(
        states,
        [
            (
                1,
                AttemptState::Done {
                    node: "n".into(),
                    outcome: busy(),
                    call_id: None,
                    finished_at: at(2)
                }
            ),
            (
                2,
                AttemptState::Cancelled {
                    finish: off,
                    node: None,
                    finished_at: at(3)
                }
            ),
        ],
        "rows read back as typed states"
    );
    let later = db
        .store
        .claim_due_attempts("n", at(1300), lease, 10)
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|c| c.attempt.patient).collect::<Vec<_>>(),
        vec![b]
    );
}

fn busy() -> AttemptOutcome {
    AttemptOutcome::NotAnswered(Disposition::Busy)
}

/// Runs futures concurrently on the current runtime (no extra dependency).
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Slot 09:00 of 2025-05-01 planned for all three patients by a node.
fn firsts(ps: &[PatientId]) -> Vec<Attempt> {
    ps.iter()
        .enumerate()
        .map(|(i, p)| attempt(*p, 1, 60 * i as u64, NORMAL))
        .collect()
}

pub async fn a_slot_is_planned_once_across_nodes_and_replanned_later(db: Db) {
    let [a, b, c] = three(&db).await;
    let every = Duration::from_secs(300);
    let planned = db
        .store
        .plan_slot("node-1", slot(), &firsts(&[a, b]), at(0), every)
        .await
        .unwrap();
    assert_eq!(planned, Some(2));
    let again = db
        .store
        .plan_slot("node-2", slot(), &firsts(&[a, b, c]), at(10), every)
        .await
        .unwrap();
    assert_eq!(again, None, "planned a moment ago by node-1");
    // After the re-plan interval, only the patient added since is new.
    let later = db
        .store
        .plan_slot("node-2", slot(), &firsts(&[a, b, c]), at(400), every)
        .await
        .unwrap();
    assert_eq!(later, Some(1));
    assert_eq!(db.store.attempts_on(slot().date).await.unwrap().len(), 3);
}

pub async fn reports_wrong_numbers_and_closed_windows_end_waiting_attempts(db: Db) {
    let [a, b, c] = three(&db).await;
    db.store
        .enqueue_attempts(&firsts(&[a, b, c]))
        .await
        .unwrap();
    // A complete report after the slot instant cancels a's attempt.
    assert_eq!(
        db.store
            .cancel_attempts_after_report(a, at(5))
            .await
            .unwrap(),
        1
    );
    // The wrong-number key: b's number is blocked and its attempts cancelled.
    assert!(!db.store.number_blocked(b).await.unwrap());
    assert_eq!(
        db.store
            .block_number(b, Some("call-1"), at(6))
            .await
            .unwrap(),
        1
    );
    assert!(db.store.number_blocked(b).await.unwrap());
    let state = db.store.patient_state(b).await.unwrap().unwrap();
    assert!(state.number_blocked);
    // A claimed attempt given back is due again, then swept once its window closed.
    let lease = Duration::from_secs(60);
    let claimed = db
        .store
        .claim_due_attempts("n", at(200), lease, 5)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempt.patient, c);
    assert!(db
        .store
        .release_attempt(claimed[0].id, "n", at(300))
        .await
        .unwrap());
    assert!(db
        .store
        .claim_due_attempts("n", at(250), lease, 5)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(db.store.sweep_missed_attempts(at(3600)).await.unwrap(), 1);
    let rows = db.store.attempts_on(slot().date).await.unwrap();
    let finish = |p: PatientId| {
        let r = rows.iter().find(|r| r.attempt.patient == p).unwrap();
        match r.attempt.state {
            AttemptState::Cancelled { finish, .. } => finish,
            ref other => panic!("{other:?}"),
        }
    };
    assert_eq!(finish(a), Finish::Cancelled(CancelReason::ReportReceived));
    assert_eq!(finish(b), Finish::Cancelled(CancelReason::WrongNumber));
    assert_eq!(finish(c), Finish::Missed(MissReason::Capacity));
    // Calls staff ask for in the same minute get their own attempt numbers.
    let one = db
        .store
        .request_call_now(a, slot(), at(10), lease)
        .await
        .unwrap();
    let two = db
        .store
        .request_call_now(a, slot(), at(11), lease)
        .await
        .unwrap();
    assert_ne!(one, two);
    let row = db.store.attempt(two).await.unwrap().unwrap();
    assert!(row.attempt.manual);
    assert_eq!(
        row.attempt.number, 3,
        "after the planned attempt 1 and the first call now"
    );
}
