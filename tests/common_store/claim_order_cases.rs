//! One pacing policy (issue 12, point 4), on both backends: given the same attempts, the
//! store's claim SQL (`Store::claim_due_attempts`), the pure policy it mirrors
//! (`schedule::claim_order`) and the simulation's pacer (`Pacer::decide`) start the same
//! attempts in the same order.

use std::time::Duration;

use carecall::domain::{Attempt, AttemptId, AttemptState, PatientId, Priority};
use carecall::report::Slot;
use carecall::schedule::{claim_order, Pacer, ScheduleConfig};

use super::attempt_cases::attempt;
use super::{at, patient, Db, HEADER};

fn slot() -> Slot {
    Slot {
        date: "2025-05-01".parse().unwrap(),
        time: "09:00".parse().unwrap(),
    }
}

/// Twelve patients who may be called (`33330000` … `33330011`).
async fn twelve(db: &Db) -> Vec<PatientId> {
    let csv: String = (0..12)
        .map(|i| {
            format!(
                "3333{i:04},P {i},1970-01-01,0800000{i:04},ja,09:00,2025-05-01,2025-05-10,true,Minato,\n"
            )
        })
        .collect();
    db.store
        .import_patients_csv(format!("{HEADER}{csv}").as_bytes())
        .await
        .unwrap();
    let mut ps = Vec::new();
    for i in 0..12 {
        ps.push(patient(&db.store, &format!("3333{i:04}"), "0101").await);
    }
    ps
}

/// Every stored attempt with its id, as the policy sees the table.
async fn table(db: &Db) -> Vec<(AttemptId, Attempt)> {
    let rows = db.store.attempts_on(slot().date).await.unwrap();
    rows.into_iter().map(|r| (r.id, r.attempt)).collect()
}

/// What `Pacer::decide` starts over the same waiting slot calls, by patient.
fn decided(
    attempts: &[(AttemptId, Attempt)],
    free: usize,
    now: std::time::SystemTime,
) -> Vec<PatientId> {
    let pacer = Pacer::new(ScheduleConfig::default());
    let calls = pacer.states_from_rows(attempts.iter().map(|(_, a)| a));
    let decision = pacer.decide(&calls, free, now);
    decision
        .start
        .iter()
        .map(|&i| calls[i].call.patient)
        .collect()
}

pub async fn the_claim_sql_and_the_pacing_policy_start_the_same_attempts_in_the_same_order(db: Db) {
    use Priority::{High, Normal};
    let ps = twelve(&db).await;
    let lease = Duration::from_secs(60);
    // A node that dies holding two attempts: their leases run out at 61 s.
    db.store
        .enqueue_attempts(&[attempt(ps[1], 1, 0, Normal), attempt(ps[2], 1, 0, High)])
        .await
        .unwrap();
    let dead = db
        .store
        .claim_due_attempts("dead", at(1), lease, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 2);
    // Inserted against the start order, so row ids do not follow it: four normal attempts
    // due at the same instant (only the patient id orders them), high ones due later, one
    // not due until 600 s, one whose window closes at 100 s.
    let mut closing = attempt(ps[3], 1, 0, High);
    closing.window_end = at(100);
    let planned = [
        attempt(ps[11], 1, 0, Normal),
        attempt(ps[10], 1, 0, Normal),
        attempt(ps[9], 1, 0, Normal),
        attempt(ps[8], 1, 0, Normal),
        attempt(ps[7], 1, 30, High),
        attempt(ps[6], 1, 10, High),
        attempt(ps[5], 1, 5, Normal),
        attempt(ps[4], 1, 600, Normal),
        closing,
    ];
    db.store.enqueue_attempts(&planned).await.unwrap();
    // A call staff asked for goes ahead of every slot call.
    let manual = db
        .store
        .request_call_now(ps[0], slot(), at(50), Duration::from_secs(900))
        .await
        .unwrap();

    let mut claimed_in_order = Vec::new();
    for (now, limit) in [(120, 3), (120, 4), (130, 2), (700, 10), (800, 10)] {
        let now = at(now);
        let before = table(&db).await;
        let expected = claim_order(&before, now, limit);
        // The pacer over the same waiting calls starts the slot calls in the same order.
        let pending: Vec<(AttemptId, Attempt)> = before
            .iter()
            .filter(|(_, a)| a.state == AttemptState::Pending && !a.manual)
            .cloned()
            .collect();
        let policy_patients: Vec<PatientId> = claim_order(&pending, now, limit)
            .iter()
            .map(|id| pending.iter().find(|(i, _)| i == id).unwrap().1.patient)
            .collect();
        assert_eq!(
            decided(&pending, limit, now),
            policy_patients,
            "decide at {now:?}"
        );
        // The store's claim takes exactly those, in that order.
        let claims = db
            .store
            .claim_due_attempts("live", now, Duration::from_secs(3600), limit as u32)
            .await
            .unwrap();
        let got: Vec<AttemptId> = claims.iter().map(|c| c.id).collect();
        assert_eq!(got, expected, "claim at {now:?}, limit {limit}");
        claimed_in_order.extend(claims.iter().map(|c| c.attempt.patient));
    }
    let index = |p: PatientId| ps.iter().position(|q| *q == p).unwrap();
    assert_eq!(
        claimed_in_order.into_iter().map(index).collect::<Vec<_>>(),
        // Takeovers (high first), the manual call, high by due time, normal by due time and
        // then patient (8–11 all due at 0 s); 4 once due; 3 never (its window closed).
        [2, 1, 0, 6, 7, 8, 9, 10, 11, 5, 4],
    );
    let manual_row = db.store.attempt(manual).await.unwrap().unwrap();
    assert!(matches!(
        manual_row.attempt.state,
        AttemptState::Claimed { .. }
    ));
}
