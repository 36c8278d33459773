//! A planning benchmark the lead can call from a bench command: many patients in one slot.
//!
//! The clock is an argument (pass `crate::clock::now`), so this module still reads none.

use std::time::{Duration, Instant};

use super::config::ScheduleConfig;
use super::pacer::Pacer;
use super::plan::{plan_day, PatientSettings, Period};
use super::priority::{Priority, RiskFactors};
use super::state::CallState;
use crate::domain::PatientId;
use crate::pii::Redacted;
use crate::report::date::{Date, LocalTime};

/// The local date the benchmark plans (a Thursday in Asia/Tokyo).
pub const BENCH_DATE: &str = "2025-05-01";

/// What [`bench_plan`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanBench {
    /// Patients given to the planner.
    pub patients: usize,
    /// Slot calls planned (one per patient: all share 09:00).
    pub calls: usize,
    /// Of those, high priority.
    pub high: usize,
    /// Time to plan the day.
    pub plan: Duration,
    /// Time of one pacer decision over every call, at the slot instant.
    pub decide: Duration,
    /// Attempts that decision started (limited by the spread and the channels).
    pub started: usize,
    /// Time to compute the slot backlog.
    pub backlog: Duration,
    /// Calls the backlog expects to miss the window (3-minute calls on `channels`).
    pub expected_missed: usize,
}

/// `n` synthetic patients, all called at 09:00 on [`BENCH_DATE`], with a deterministic mix of
/// ages (1930–2004), risk factors and pregnancies. No real personal data.
pub fn synthetic_patients(n: usize) -> Vec<PatientSettings> {
    let nine = LocalTime::new(9, 0).into_iter().collect::<Vec<_>>();
    let start = Date::new(2025, 4, 25).unwrap_or_else(|| unreachable!("a real date"));
    let end = Date::new(2025, 5, 8).unwrap_or_else(|| unreachable!("a real date"));
    (0..n)
        .map(|i| {
            let risk = match i % 13 {
                0 => "pregnant",
                1 | 5 => "diabetes;copd",
                2 | 7 | 9 => "diabetes",
                _ => "",
            };
            let year = 1930 + (i % 75) as u16;
            let birthday = Date::new(year, 1 + (i % 12) as u8, 1 + (i % 28) as u8);
            PatientSettings {
                id: PatientId(i as i64 + 1),
                call_times: nine.clone(),
                observation: Period { start, end },
                call_period: None,
                auto_call: true,
                risk: RiskFactors::parse(risk),
                birthday: Redacted::new(birthday.unwrap_or(start)),
            }
        })
        .collect()
}

/// Plans `patients` synthetic patients into the 09:00 slot of [`BENCH_DATE`] with the default
/// schedule, then times one pacer decision (`channels` free) and the backlog, reading time
/// from `clock`.
pub fn bench_plan(patients: usize, channels: usize, clock: impl Fn() -> Instant) -> PlanBench {
    let config = ScheduleConfig::default();
    let date: Date = BENCH_DATE
        .parse()
        .unwrap_or_else(|_| unreachable!("a real date"));
    let cohort = synthetic_patients(patients);
    let t0 = clock();
    let calls = plan_day(&config, &cohort, date);
    let t1 = clock();
    let pacer = Pacer::new(config);
    let states: Vec<CallState> = calls.iter().map(|&c| CallState::new(c, &pacer)).collect();
    let at = calls.first().map_or(date.start_utc(), |c| c.at);
    let t2 = clock();
    let decision = pacer.decide(&states, channels, at + Duration::from_secs(60));
    let t3 = clock();
    let backlog = pacer.backlog(&states, channels, Duration::from_secs(180), at);
    let t4 = clock();
    PlanBench {
        patients,
        calls: calls.len(),
        high: calls
            .iter()
            .filter(|c| c.priority == Priority::High)
            .count(),
        plan: t1 - t0,
        decide: t3 - t2,
        started: decision.start.len(),
        backlog: t4 - t3,
        expected_missed: backlog.first().map_or(0, |b| b.expected_missed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that advances one millisecond per reading, so timings are exact.
    fn ticking() -> impl Fn() -> Instant {
        let base = crate::clock::now();
        let ticks = std::cell::Cell::new(0u64);
        move || {
            ticks.set(ticks.get() + 1);
            base + Duration::from_millis(ticks.get())
        }
    }

    #[test]
    fn the_synthetic_cohort_mixes_priorities() {
        let ps = synthetic_patients(1_300);
        assert_eq!(ps.len(), 1_300);
        let b = bench_plan(1_300, 30, ticking());
        assert_eq!((b.patients, b.calls), (1_300, 1_300));
        // Pregnant or two factors: 3 in 13; many others are 65 or over.
        assert!(b.high > 300 && b.high < 1_300, "{}", b.high);
        assert_eq!(
            (b.plan, b.decide, b.backlog),
            (
                Duration::from_millis(1),
                Duration::from_millis(1),
                Duration::from_millis(1)
            )
        );
        // One minute into a 20-minute spread: 1,300 × 1/20 + 1 = 66 allowed, 30 channels.
        assert_eq!(b.started, 30);
        assert_eq!(b.expected_missed, 1_300 - 600);
    }

    /// `cargo test --lib schedule::bench -- --ignored --nocapture`
    #[test]
    #[ignore = "benchmark: 100,000 patients"]
    fn plan_one_hundred_thousand_patients_in_one_slot() {
        let b = bench_plan(100_000, 30, crate::clock::now);
        println!("{b:?}");
        assert_eq!(b.calls, 100_000);
        assert!(
            b.plan < Duration::from_secs(5),
            "planning took {:?}",
            b.plan
        );
    }
}
