//! The day's plan: which patient is called at which slot, with which priority.
//!
//! A patient is called at one of their call times on a date when automatic calling is on,
//! the date lies in their observation period (and their call period, when one is set), and
//! the call time is one of the configured slots that day (a cron slot may skip some days).
//! A call time that is not a slot that day is not called.

use std::time::SystemTime;

use super::config::ScheduleConfig;
use super::priority::Priority;
use crate::domain::PatientId;
use crate::report::date::{Date, LocalTime, Slot};

pub use crate::domain::{PatientSettings, Period};

/// One planned call: a patient at a slot. The store keeps it; the pacer paces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotCall {
    /// Who is called.
    pub patient: PatientId,
    /// Local slot date and time.
    pub slot: Slot,
    /// The slot instant (UTC), by the DST policy of [`ScheduleConfig::instant`].
    pub at: SystemTime,
    /// No attempt starts at or after this instant (`at` + window).
    pub window_end: SystemTime,
    /// Call order within the slot.
    pub priority: Priority,
}

/// The calls of local `date` for `patients`, ordered by slot instant, then priority (high
/// first), then patient id. Patients outside their periods or with calling off get none.
pub fn plan_day(
    config: &ScheduleConfig,
    patients: &[PatientSettings],
    date: Date,
) -> Vec<SlotCall> {
    let slots: Vec<(LocalTime, SystemTime)> = config
        .slot_times(date)
        .into_iter()
        .map(|time| (time, config.instant(date, time)))
        .collect();
    let mut calls = Vec::new();
    for patient in patients.iter().filter(|p| p.calls_on(date)) {
        let priority = patient.priority_on(date);
        for &(time, at) in &slots {
            if patient.call_times.contains(&time) {
                calls.push(SlotCall {
                    patient: patient.id,
                    slot: Slot { date, time },
                    at,
                    window_end: at + config.window(),
                    priority,
                });
            }
        }
    }
    calls.sort_unstable_by_key(|c| (c.at, c.slot.time, c.priority, c.patient));
    calls
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::config::{RawQuietHours, RawSchedule};
    use super::super::local::millis;
    use super::super::priority::RiskFactors;
    use super::*;
    use crate::pii::Redacted;
    use crate::report::date::rfc3339_utc;

    pub(in super::super) fn patient(
        id: i64,
        times: &[&str],
        risk: &str,
        born: &str,
    ) -> PatientSettings {
        PatientSettings {
            id: PatientId(id),
            call_times: times.iter().map(|t| t.parse().unwrap()).collect(),
            observation: Period {
                start: "2025-01-01".parse().unwrap(),
                end: "2025-12-31".parse().unwrap(),
            },
            call_period: None,
            auto_call: true,
            risk: RiskFactors::parse(risk),
            birthday: Redacted::new(born.parse().unwrap()),
        }
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn plans_each_call_time_that_is_a_slot() {
        let c = ScheduleConfig::default();
        let ps = [
            patient(1, &["09:00", "14:00"], "", "1990-01-01"),
            patient(2, &["09:00", "10:00"], "pregnant", "1990-01-01"),
        ];
        let calls = plan_day(&c, &ps, d("2025-05-01"));
        let seen: Vec<(i64, String, Priority)> = calls
            .iter()
            .map(|c| (c.patient.0, c.slot.to_string(), c.priority))
            .collect();
        assert_eq!(
            seen,
            [
                (2, "2025-05-01 09:00".into(), Priority::High),
                (1, "2025-05-01 09:00".into(), Priority::Normal),
                (1, "2025-05-01 14:00".into(), Priority::Normal),
            ]
        );
        assert_eq!(rfc3339_utc(millis(calls[0].at)), "2025-05-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_utc(millis(calls[0].window_end)),
            "2025-05-01T01:00:00.000Z"
        );
    }

    #[test]
    fn periods_and_auto_call_gate_the_plan() {
        let c = ScheduleConfig::default();
        let mut p = patient(1, &["09:00"], "", "1990-01-01");
        p.observation = Period {
            start: d("2025-05-01"),
            end: d("2025-05-10"),
        };
        let calls_on =
            |p: &PatientSettings, day: &str| plan_day(&c, std::slice::from_ref(p), d(day)).len();
        assert_eq!(calls_on(&p, "2025-04-30"), 0);
        assert_eq!(calls_on(&p, "2025-05-01"), 1);
        assert_eq!(calls_on(&p, "2025-05-10"), 1);
        assert_eq!(calls_on(&p, "2025-05-11"), 0);
        p.call_period = Some(Period {
            start: d("2025-05-03"),
            end: d("2025-05-05"),
        });
        assert_eq!(calls_on(&p, "2025-05-02"), 0);
        assert_eq!(calls_on(&p, "2025-05-04"), 1);
        p.auto_call = false;
        assert_eq!(calls_on(&p, "2025-05-04"), 0);
    }

    #[test]
    fn the_65th_birthday_raises_priority_on_that_day() {
        let c = ScheduleConfig::default();
        let p = patient(1, &["09:00"], "", "1960-05-02");
        assert_eq!(
            plan_day(&c, std::slice::from_ref(&p), d("2025-05-01"))[0].priority,
            Priority::Normal
        );
        assert_eq!(
            plan_day(&c, &[p], d("2025-05-02"))[0].priority,
            Priority::High
        );
    }

    #[test]
    fn new_york_dst_days_keep_one_call_per_slot_and_a_real_hour_window() {
        let c = RawSchedule {
            time_zone: "America/New_York".into(),
            slots: ["01:30", "02:30", "09:00"].map(String::from).to_vec(),
            quiet_hours: RawQuietHours {
                start: "22:00".into(),
                end: "01:00".into(),
            },
            ..RawSchedule::default()
        }
        .validate()
        .unwrap();
        let p = patient(7, &["01:30", "02:30", "09:00"], "", "1990-01-01");
        let utc = |day: &str| -> Vec<(String, String)> {
            let calls = plan_day(&c, std::slice::from_ref(&p), d(day));
            let show = |t| rfc3339_utc(millis(t))[11..16].to_string();
            calls
                .iter()
                .map(|c| (show(c.at), show(c.window_end)))
                .collect()
        };
        // Spring forward: 02:30 does not exist and moves to 03:00 EDT (07:00 UTC).
        let spring = utc("2025-03-09");
        assert_eq!(
            spring,
            [("06:30", "07:30"), ("07:00", "08:00"), ("13:00", "14:00")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        // Fall back: 01:30 happens twice; called once, at the first (EDT, 05:30 UTC).
        let fall = utc("2025-11-02");
        assert_eq!(
            fall,
            [("05:30", "06:30"), ("07:30", "08:30"), ("14:00", "15:00")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn cron_slots_call_only_on_matching_days() {
        let c = RawSchedule {
            slots: vec!["0 9 * * 1-5".into(), "14:00".into()],
            ..RawSchedule::default()
        }
        .validate()
        .unwrap();
        let p = patient(1, &["09:00", "14:00"], "", "1990-01-01");
        assert_eq!(
            plan_day(&c, std::slice::from_ref(&p), d("2025-05-02")).len(),
            2
        ); // Friday
        assert_eq!(plan_day(&c, &[p], d("2025-05-03")).len(), 1); // Saturday
    }
}
