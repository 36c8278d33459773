//! The one pacing policy: which waiting attempts start at `now`, and in which order.
//!
//! # The choice: a pure policy that the claim SQL mirrors
//!
//! Production order comes from the store: each node claims due attempts with one SQL
//! statement (`Store::claim_due_attempts`, `FOR UPDATE SKIP LOCKED` on PostgreSQL), so that
//! several nodes share a slot without any of them holding it in memory. Running the policy
//! in the scheduler over what it leased would need each node to lease more than it can dial
//! and give the rest back, which costs claims and starves other nodes. So the policy is
//! written once here as pure functions, and the SQL mirrors them:
//!
//! - [`start_key`]: waiting attempts start by rank (a call staff asked for, then high
//!   priority, then normal), then the earlier due time, then the lower patient id. The
//!   claim's `ORDER BY priority DESC, due_at, patient_id, id` (index
//!   `call_attempts_start_order`, migration 0008) is this key, with the attempt id last.
//! - [`claim_order`]: what one claim of `limit` takes: first attempts whose lease ran out
//!   (a dead node's; oldest lease first), then due pending ones in start order; none whose
//!   window has closed. Returned in dial order.
//! - [`Pacer::decide`](super::Pacer::decide), which the simulations and day tests run over
//!   slot calls, starts what is due in the same [`start_key`] order.
//! - The spread of a slot's first attempts is not an ordering rule: it is in their due
//!   times, set once at planning ([`Pacer::first_attempts`](super::Pacer::first_attempts)),
//!   so the simulation and the store realise the same spread.
//!
//! `tests/common_store/claim_order_cases.rs` feeds the same attempts to [`claim_order`] and
//! to the store's claim on real SQLite and real PostgreSQL and compares the order.

use std::cmp::Reverse;
use std::time::SystemTime;

use crate::domain::{Attempt, AttemptId, AttemptState, PatientId};

/// The start order of waiting attempts: smaller starts first.
pub type StartKey = (Reverse<i32>, SystemTime, PatientId);

/// The start order key of an attempt of store rank `rank` (see
/// [`Attempt::rank`]), due at `due`, for `patient`.
pub fn start_key(rank: i32, due: SystemTime, patient: PatientId) -> StartKey {
    (Reverse(rank), due, patient)
}

/// The attempts one claim of at most `limit` takes from `attempts` at `now`, in dial order:
/// takeovers (claimed, lease run out before `now`; chosen oldest lease first), then pending
/// attempts due at or before `now` (chosen in start order); each group in start order, ties
/// broken by attempt id. Attempts whose window ends at or before `now` are never taken.
/// Pure: it changes nothing; done and cancelled attempts are ignored.
pub fn claim_order(
    attempts: &[(AttemptId, Attempt)],
    now: SystemTime,
    limit: usize,
) -> Vec<AttemptId> {
    let open = |a: &Attempt| a.window_end > now;
    let mut takeovers: Vec<(SystemTime, AttemptId, &Attempt)> = attempts
        .iter()
        .filter_map(|(id, a)| match a.state {
            AttemptState::Claimed { lease_until, .. } if lease_until < now && open(a) => {
                Some((lease_until, *id, a))
            }
            _ => None,
        })
        .collect();
    takeovers.sort_by_key(|t| (t.0, t.1));
    takeovers.truncate(limit);
    let mut pending: Vec<(AttemptId, &Attempt)> = attempts
        .iter()
        .filter(|(_, a)| a.state == AttemptState::Pending && a.due_at <= now && open(a))
        .map(|(id, a)| (*id, a))
        .collect();
    let key = |(id, a): &(AttemptId, &Attempt)| (start_key(a.rank(), a.due_at, a.patient), *id);
    pending.sort_by_key(key);
    pending.truncate(limit - takeovers.len());
    let mut taken: Vec<(AttemptId, &Attempt)> = takeovers.iter().map(|t| (t.1, t.2)).collect();
    taken.sort_by_key(key);
    taken.extend(pending);
    taken.into_iter().map(|(id, _)| id).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::Priority;

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    fn at(s: u64) -> SystemTime {
        T0 + Duration::from_secs(s)
    }

    fn attempt(patient: i64, due: u64, priority: Priority, state: AttemptState) -> Attempt {
        Attempt {
            patient: PatientId(patient),
            slot: crate::report::Slot {
                date: "2025-05-01".parse().unwrap(),
                time: "09:00".parse().unwrap(),
            },
            number: 1,
            due_at: at(due),
            window_end: at(3600),
            slot_at: at(0),
            priority,
            manual: false,
            state,
        }
    }

    #[test]
    fn takeovers_then_due_attempts_by_rank_due_time_and_patient() {
        use Priority::{High, Normal};
        let leased = |until| AttemptState::Claimed {
            node: "dead".into(),
            lease_until: at(until),
        };
        let mut manual = attempt(9, 50, High, AttemptState::Pending);
        manual.manual = true;
        let mut closed = attempt(10, 10, High, AttemptState::Pending);
        closed.window_end = at(100);
        let list = vec![
            (AttemptId(1), attempt(5, 10, Normal, AttemptState::Pending)),
            (AttemptId(2), attempt(4, 10, Normal, AttemptState::Pending)),
            (AttemptId(3), attempt(3, 20, High, AttemptState::Pending)),
            (AttemptId(4), attempt(2, 500, High, AttemptState::Pending)),
            (AttemptId(5), attempt(1, 0, Normal, leased(90))),
            (AttemptId(6), attempt(6, 0, Normal, leased(300))),
            (AttemptId(7), manual),
            (AttemptId(8), closed),
        ];
        let ids = |v: Vec<AttemptId>| v.into_iter().map(|i| i.0).collect::<Vec<_>>();
        assert_eq!(ids(claim_order(&list, at(200), 10)), [5, 7, 3, 2, 1]);
        assert_eq!(ids(claim_order(&list, at(200), 3)), [5, 7, 3]);
        assert_eq!(ids(claim_order(&list, at(200), 0)), Vec::<i64>::new());
        assert_eq!(ids(claim_order(&list, at(400), 1)), [5]);
    }
}
