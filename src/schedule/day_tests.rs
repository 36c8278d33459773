//! Whole simulated days (tests only): slot boundaries, priorities, retries, staff changes,
//! quiet hours, DST in America/New_York, capacity and backlog.

use std::time::{Duration, SystemTime};

use super::attempt::AttemptOutcome;
use super::config::{RawQuietHours, RawSchedule, ScheduleConfig};
use super::plan::tests::patient;
use super::plan::PatientSettings;
use super::priority::Priority;
use super::simulation::{local, slot, Sim, MINUTE, SECOND};
use crate::domain::Disposition;
use crate::domain::PatientId;
use crate::report::date::rfc3339_utc;

const DAY: &str = "2025-05-01";
const HOUR: Duration = Duration::from_secs(3600);

fn no_answer() -> AttemptOutcome {
    AttemptOutcome::NotAnswered(Disposition::NoAnswer)
}

/// 200 patients over the four slots; every 5th never answers, every 5th (+1) hangs up
/// half-way on the first attempt, every 7th is busy once; the rest complete in 3 minutes.
fn cohort() -> Vec<PatientSettings> {
    let subsets: [&[&str]; 4] = [
        &["09:00", "14:00"],
        &["11:00", "16:00"],
        &["09:00", "11:00", "14:00", "16:00"],
        &["16:00"],
    ];
    (1..=200)
        .map(|i| {
            let risk = if i % 6 == 0 { "diabetes;copd" } else { "" };
            let born = if i % 10 == 3 {
                "1950-01-01"
            } else {
                "1990-01-01"
            };
            patient(i, subsets[i as usize % 4], risk, born)
        })
        .collect()
}

fn cohort_behaviour(
    p: PatientId,
    _: crate::report::date::Slot,
    n: u32,
) -> (Duration, AttemptOutcome) {
    match (p.0 % 5, p.0 % 7, n) {
        (0, _, _) => (30 * SECOND, no_answer()),
        (1, _, 1) => (90 * SECOND, AttemptOutcome::Incomplete),
        (_, 0, 1) => (5 * SECOND, AttemptOutcome::NotAnswered(Disposition::Busy)),
        _ => (3 * MINUTE, AttemptOutcome::Completed),
    }
}

#[test]
fn a_whole_day_in_tokyo() {
    let mut sim = Sim::new(ScheduleConfig::default(), cohort(), 20);
    sim.behaviour = Box::new(cohort_behaviour);
    sim.plan(DAY.parse().unwrap());
    let c = sim.pacer.config().clone();
    sim.run(local(&c, DAY, "00:00"), local(&c, "2025-05-02", "00:00"));
    assert!(sim.max_active <= 20);
    assert!(
        sim.states.iter().all(|s| !s.is_waiting()),
        "every call finished"
    );
    let finishes = sim.finishes();
    assert_eq!(
        finishes.get("missed_capacity"),
        None,
        "20 channels are enough"
    );
    for s in &sim.started {
        let call = sim.states[s.index].call;
        assert!(
            call.at <= s.at && s.at < call.window_end,
            "attempt inside its window"
        );
        assert!(!c.is_quiet(s.at));
        if s.number == 1 {
            assert!(
                s.at < call.at + 20 * MINUTE,
                "first attempts inside the spread"
            );
        }
    }
    // Never answers: three attempts, each 20 minutes after the previous one ended.
    let nine = slot(DAY, "09:00");
    let starts = sim.starts_of(10, nine);
    assert_eq!(starts.len(), 3);
    assert_eq!(
        starts[1],
        starts[0] + 30 * SECOND + Duration::from_secs(1200)
    );
    assert_eq!(
        starts[2],
        starts[1] + 30 * SECOND + Duration::from_secs(1200)
    );
    // Hung up half-way: called again 10 minutes after, sooner than +20.
    let starts = sim.starts_of(6, slot(DAY, "14:00"));
    assert_eq!(
        starts[1],
        starts[0] + 90 * SECOND + Duration::from_secs(600)
    );
    // Busy once (id 7): second attempt 20 minutes after the busy signal, then completed.
    let starts = sim.starts_of(7, slot(DAY, "16:00"));
    assert_eq!(starts.len(), 2);
    // Within each slot, first attempts go high priority first, then by patient id.
    for time in ["09:00", "11:00", "14:00", "16:00"] {
        let order: Vec<(Priority, PatientId)> = sim
            .started
            .iter()
            .filter(|s| s.number == 1 && s.slot == slot(DAY, time))
            .map(|s| (sim.states[s.index].call.priority, s.patient))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{time}: {order:?}");
        assert!(order.first().is_some_and(|o| o.0 == Priority::High));
    }
    let never = sim
        .states
        .iter()
        .filter(|s| s.call.patient.0 % 5 == 0)
        .count();
    assert_eq!(finishes["unreached"], never);
    assert_eq!(finishes["completed"], sim.states.len() - never);
}

#[test]
fn observation_ending_and_calls_turned_off_mid_day() {
    let all = &["09:00", "11:00", "14:00", "16:00"];
    let ps = vec![
        patient(1, all, "", "1990-01-01"),
        patient(2, all, "", "1990-01-01"),
    ];
    let mut sim = Sim::new(ScheduleConfig::default(), ps, 4);
    sim.behaviour = Box::new(|p, s, _| match (p.0, s.time.hour()) {
        (2, 11) => (30 * SECOND, no_answer()),
        _ => (3 * MINUTE, AttemptOutcome::Completed),
    });
    sim.plan(DAY.parse().unwrap());
    let c = sim.pacer.config().clone();
    // 11:15: staff turn calls off for patient 2 (first tried at 11:10), whose retry is queued.
    sim.at(local(&c, DAY, "11:15"), |w| {
        w.patients.get_mut(&PatientId(2)).unwrap().auto_call = false;
    });
    // 12:00: patient 1's observation ends (end date set to yesterday).
    sim.at(local(&c, DAY, "12:00"), |w| {
        let p = w.patients.get_mut(&PatientId(1)).unwrap();
        p.observation.end = "2025-04-30".parse().unwrap();
    });
    sim.run(local(&c, DAY, "08:00"), local(&c, DAY, "23:00"));
    let f = sim.finishes();
    assert_eq!(f["completed"], 3, "1 at 09:00 and 11:00, 2 at 09:00");
    assert_eq!(
        f["cancelled_auto_call_off"], 3,
        "2's 11:00 retry, 14:00, 16:00"
    );
    assert_eq!(f["cancelled_observation_ended"], 2, "1's 14:00 and 16:00");
    assert_eq!(sim.starts_of(2, slot(DAY, "11:00")).len(), 1);
    assert!(sim.started.iter().all(|s| s.at < local(&c, DAY, "12:00")));
}

#[test]
fn quiet_hours_starting_stop_the_evening_slot() {
    let raw = RawSchedule {
        slots: vec!["09:00".into(), "19:30".into()],
        ..RawSchedule::default()
    };
    let ps = vec![patient(1, &["19:30"], "", "1990-01-01")];
    let mut sim = Sim::new(raw.validate().unwrap(), ps, 4);
    sim.behaviour = Box::new(|_, _, _| (30 * SECOND, no_answer()));
    sim.plan(DAY.parse().unwrap());
    let c = sim.pacer.config().clone();
    sim.run(local(&c, DAY, "19:00"), local(&c, "2025-05-02", "12:00"));
    // 19:30 and 19:50:30 are called; the third attempt would be 20:11, inside quiet hours
    // (20:00–08:00) that outlast the window: reported missed, never dialled.
    assert_eq!(sim.starts_of(1, slot(DAY, "19:30")).len(), 2);
    assert_eq!(sim.finishes()["missed_quiet_hours"], 1);
}

fn new_york() -> ScheduleConfig {
    RawSchedule {
        time_zone: "America/New_York".into(),
        slots: vec!["01:30".into(), "02:30".into(), "09:00".into()],
        quiet_hours: RawQuietHours {
            start: "22:00".into(),
            end: "01:00".into(),
        },
        ..RawSchedule::default()
    }
    .validate()
    .unwrap()
}

fn utc_minutes(times: &[SystemTime]) -> Vec<String> {
    let ms = |t: &SystemTime| super::local::millis(*t);
    times
        .iter()
        .map(|t| rfc3339_utc(ms(t))[11..16].to_string())
        .collect()
}

#[test]
fn dst_in_new_york_both_directions() {
    for (day, expected_0130, expected_0230) in [
        // Spring forward: 01:30 EST = 06:30Z; 02:30 does not exist and moves to 03:00 EDT.
        (
            "2025-03-09",
            ["06:30", "06:50", "07:10"],
            ["07:00", "07:20", "07:40"],
        ),
        // Fall back: 01:30 is called once, at its first (EDT) occurrence; its retries run
        // into the repeated hour (01:10 EST = 06:10Z) on real elapsed time.
        (
            "2025-11-02",
            ["05:30", "05:50", "06:10"],
            ["07:30", "07:50", "08:10"],
        ),
    ] {
        let ps = vec![patient(1, &["01:30", "02:30"], "", "1990-01-01")];
        let mut sim = Sim::new(new_york(), ps, 2);
        sim.behaviour = Box::new(|_, _, _| (Duration::ZERO, no_answer()));
        sim.plan(day.parse().unwrap());
        let c = sim.pacer.config().clone();
        sim.run(local(&c, day, "00:00"), local(&c, day, "12:00"));
        assert_eq!(
            utc_minutes(&sim.starts_of(1, slot(day, "01:30"))),
            expected_0130,
            "{day}"
        );
        assert_eq!(
            utc_minutes(&sim.starts_of(1, slot(day, "02:30"))),
            expected_0230,
            "{day}"
        );
        assert_eq!(sim.finishes()["unreached"], 2);
    }
}

#[test]
fn capacity_is_never_exceeded_under_load() {
    let ps = (1..=1000)
        .map(|i| patient(i, &["09:00", "14:00"], "", "1990-01-01"))
        .collect();
    let mut sim = Sim::new(ScheduleConfig::default(), ps, 7);
    sim.behaviour = Box::new(|p, _, n| match (p.0 + i64::from(n)) % 3 {
        0 => (40 * SECOND, no_answer()),
        1 => (2 * MINUTE, AttemptOutcome::Incomplete),
        _ => (4 * MINUTE, AttemptOutcome::Completed),
    });
    sim.plan(DAY.parse().unwrap());
    let c = sim.pacer.config().clone();
    sim.run(local(&c, DAY, "08:00"), local(&c, DAY, "18:00"));
    assert_eq!(sim.max_active, 7);
    let f = sim.finishes();
    assert!(f["missed_capacity"] > 0);
    let total: usize = f.values().sum();
    assert_eq!(total, 2000, "every call finished, none dropped");
}

#[test]
fn ten_thousand_patients_on_thirty_channels_report_their_backlog() {
    let ps = (1..=10_000)
        .map(|i| patient(i, &["09:00"], "", "1990-01-01"))
        .collect();
    let mut sim = Sim::new(ScheduleConfig::default(), ps, 30);
    sim.plan(DAY.parse().unwrap());
    let c = sim.pacer.config().clone();
    let at = local(&c, DAY, "09:00");
    let before = sim.pacer.backlog(&sim.states, 30, 3 * MINUTE, at - MINUTE)[0];
    assert_eq!(
        (before.not_started, before.expected_missed),
        (10_000, 9_400)
    );
    assert!(before.overruns());
    // Even with 30 free channels the first attempts are not a burst: the spread lets one
    // start every 120 ms (10,000 over 20 minutes), so each round of 30 takes 3.48 s.
    sim.run(at - MINUTE, at + SECOND);
    assert_eq!(sim.started.len(), 9);
    let half_past = at + 30 * MINUTE + 4 * SECOND;
    sim.run(at + SECOND, half_past);
    let half = sim.pacer.backlog(&sim.states, 30, 3 * MINUTE, half_past)[0];
    assert_eq!((half.completed, half.active), (300, 30));
    assert_eq!(half.expected_missed, 9_400);
    sim.run(half_past, at + 2 * HOUR);
    assert_eq!(sim.max_active, 30);
    let f = sim.finishes();
    assert_eq!((f["completed"], f["missed_capacity"]), (600, 9_400));
    let after = sim
        .pacer
        .backlog(&sim.states, 30, 3 * MINUTE, at + 2 * HOUR)[0];
    assert_eq!((after.missed, after.not_started), (9_400, 0));
}
