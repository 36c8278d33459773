//! Whole-day simulations of the planner and pacer on a manual clock (tests only).
//!
//! [`Sim`] plays the runtime's part: it plans the day, asks the pacer what to start, checks
//! `may_dial`, "dials" (an attempt lasts and ends as the scenario says), feeds outcomes back,
//! and applies staff or Health Call events at given instants. Time jumps from one deadline
//! to the next; nothing sleeps.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use super::attempt::{AttemptOutcome, DialCheck, PatientNow};
use super::config::ScheduleConfig;
use super::pacer::Pacer;
use super::plan::{plan_day, PatientSettings};
use super::state::{CallState, Finish, NextStep};
use crate::domain::PatientId;
use crate::report::date::{Date, LocalTime, Slot};

pub(super) const SECOND: Duration = Duration::from_secs(1);
pub(super) const MINUTE: Duration = Duration::from_secs(60);

/// How attempt `n` (from 1) of a patient's call at a slot goes: its length and outcome.
pub(super) type Behaviour = Box<dyn Fn(PatientId, Slot, u32) -> (Duration, AttemptOutcome)>;
/// A change to the world at an instant (staff edit, report on another channel).
pub(super) type Hook = Box<dyn FnOnce(&mut World)>;

/// What the store would hold about patients.
pub(super) struct World {
    pub patients: HashMap<PatientId, PatientSettings>,
    pub reports: HashMap<PatientId, SystemTime>,
    pub blocked: HashSet<PatientId>,
}

/// One attempt as it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Started {
    pub patient: PatientId,
    pub slot: Slot,
    pub number: u32,
    pub at: SystemTime,
    pub index: usize,
}

pub(super) struct Sim {
    pub pacer: Pacer,
    pub world: World,
    pub states: Vec<CallState>,
    pub channels: usize,
    pub behaviour: Behaviour,
    pub hooks: Vec<(SystemTime, Hook)>,
    pub started: Vec<Started>,
    pub max_active: usize,
    active: Vec<(usize, SystemTime, AttemptOutcome)>,
}

impl Sim {
    pub fn new(config: ScheduleConfig, patients: Vec<PatientSettings>, channels: usize) -> Sim {
        Sim {
            pacer: Pacer::new(config),
            world: World {
                patients: patients.into_iter().map(|p| (p.id, p)).collect(),
                reports: HashMap::new(),
                blocked: HashSet::new(),
            },
            states: Vec::new(),
            channels,
            behaviour: Box::new(|_, _, _| (3 * MINUTE, AttemptOutcome::Completed)),
            hooks: Vec::new(),
            started: Vec::new(),
            max_active: 0,
            active: Vec::new(),
        }
    }

    /// Plans `date` for every patient (as at midnight) and queues the calls.
    pub fn plan(&mut self, date: Date) {
        let mut patients: Vec<PatientSettings> = self.world.patients.values().cloned().collect();
        patients.sort_by_key(|p| p.id);
        let calls = plan_day(self.pacer.config(), &patients, date);
        self.states.extend(self.pacer.planned_states(&calls));
    }

    pub fn at(&mut self, t: SystemTime, hook: impl FnOnce(&mut World) + 'static) {
        self.hooks.push((t, Box::new(hook)));
        self.hooks.sort_by_key(|h| h.0);
    }

    /// Runs from `now` until nothing is left to do or `until` passes.
    pub fn run(&mut self, mut now: SystemTime, until: SystemTime) {
        let mut rounds_at_now = 0;
        loop {
            self.fire_hooks(now);
            self.end_attempts(now);
            let mut next = self.dial(now);
            next = earliest(next, self.active.iter().map(|a| a.1).min());
            next = earliest(next, self.hooks.first().map(|h| h.0));
            match next {
                Some(t) if t <= until => {
                    // Only a zero-length attempt ends at the instant it started.
                    rounds_at_now = if t == now { rounds_at_now + 1 } else { 0 };
                    assert!(t >= now && rounds_at_now < 3, "time must move forward");
                    now = t;
                }
                _ => return,
            }
        }
    }

    fn fire_hooks(&mut self, now: SystemTime) {
        while self.hooks.first().is_some_and(|h| h.0 <= now) {
            let (_, hook) = self.hooks.remove(0);
            hook(&mut self.world);
            // The runtime re-checks queued calls at once when a patient changes.
            for s in self.states.iter_mut().filter(|s| s.is_waiting()) {
                let patient = now_state(&self.world, s.call.patient);
                if let Some(reason) = self.pacer.cancellation(&s.call, &patient) {
                    s.apply(NextStep::Finish(Finish::Cancelled(reason)));
                }
            }
        }
    }

    fn end_attempts(&mut self, now: SystemTime) {
        let (ended, still): (Vec<_>, Vec<_>) = self.active.iter().partition(|a| a.1 <= now);
        self.active = still;
        for (index, end, outcome) in ended {
            let state = &mut self.states[index];
            let step = self.pacer.after_attempt(state, outcome, end);
            if outcome == AttemptOutcome::Completed {
                self.world.reports.insert(state.call.patient, end);
            }
            if step == NextStep::StopNumber {
                self.world.blocked.insert(state.call.patient);
            }
            state.apply(step);
        }
    }

    /// One pacer decision at `now`; returns when to look again.
    fn dial(&mut self, now: SystemTime) -> Option<SystemTime> {
        let free = self.channels - self.active.len();
        let decision = self.pacer.decide(&self.states, free, now);
        assert!(
            decision.start.len() <= free,
            "more starts than free channels"
        );
        for &(index, finish) in &decision.finish {
            self.states[index].apply(NextStep::Finish(finish));
        }
        let mut next = decision.next_deadline;
        for &index in &decision.start {
            let patient = now_state(&self.world, self.states[index].call.patient);
            match self.pacer.may_dial(&self.states[index], &patient, now) {
                DialCheck::Dial => self.start(index, now),
                DialCheck::Wait { until } => next = earliest(next, Some(until)),
                DialCheck::Finish(f) => self.states[index].apply(NextStep::Finish(f)),
            }
        }
        self.max_active = self.max_active.max(self.active.len());
        assert!(self.active.len() <= self.channels, "capacity exceeded");
        next
    }

    fn start(&mut self, index: usize, now: SystemTime) {
        let state = &mut self.states[index];
        state.start(now);
        let (length, outcome) =
            (self.behaviour)(state.call.patient, state.call.slot, state.attempts);
        self.active.push((index, now + length, outcome));
        self.started.push(Started {
            patient: state.call.patient,
            slot: state.call.slot,
            number: state.attempts,
            at: now,
            index,
        });
    }

    /// Attempt start instants of one patient at one slot.
    pub fn starts_of(&self, patient: i64, slot: Slot) -> Vec<SystemTime> {
        let of = |s: &&Started| s.patient == PatientId(patient) && s.slot == slot;
        self.started.iter().filter(of).map(|s| s.at).collect()
    }

    /// How each call finished, counted by label.
    pub fn finishes(&self) -> HashMap<&'static str, usize> {
        let mut counts = HashMap::new();
        for s in &self.states {
            if let super::state::Phase::Finished(f) = s.phase {
                *counts.entry(f.label()).or_insert(0) += 1;
            }
        }
        counts
    }
}

/// The instant of local `date` `time` (test input, so it may panic).
pub(super) fn local(c: &ScheduleConfig, date: &str, time: &str) -> SystemTime {
    c.instant(date.parse().unwrap(), time.parse().unwrap())
}

/// The slot of local `date` `time` (test input, so it may panic).
pub(super) fn slot(date: &str, time: &str) -> Slot {
    let time: LocalTime = time.parse().unwrap();
    Slot {
        date: date.parse().unwrap(),
        time,
    }
}

fn now_state(world: &World, id: PatientId) -> PatientNow<'_> {
    PatientNow {
        settings: &world.patients[&id],
        last_complete_report: world.reports.get(&id).copied(),
        number_blocked: world.blocked.contains(&id),
    }
}

fn earliest(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::tests::patient;
    use super::*;
    use crate::domain::Disposition;

    pub(in super::super) fn local(c: &ScheduleConfig, date: &str, time: &str) -> SystemTime {
        c.instant(date.parse().unwrap(), time.parse().unwrap())
    }

    pub(in super::super) fn slot(date: &str, time: &str) -> Slot {
        let time: LocalTime = time.parse().unwrap();
        Slot {
            date: date.parse().unwrap(),
            time,
        }
    }

    const DAY: &str = "2025-05-01";

    #[test]
    fn first_attempts_are_spread_over_the_first_twenty_minutes() {
        let ps = (1..=40)
            .map(|i| patient(i, &["09:00"], "", "1990-01-01"))
            .collect();
        let mut sim = Sim::new(ScheduleConfig::default(), ps, 100);
        sim.plan(DAY.parse().unwrap());
        let at = local(sim.pacer.config(), DAY, "09:00");
        sim.run(at - MINUTE, at + 2 * 60 * MINUTE);
        // 40 calls over 20 minutes: one every 30 s, not 40 at 09:00, though 100 channels
        // were free; the 40th starts at 09:19:30, inside the hour.
        let starts: Vec<SystemTime> = sim.started.iter().map(|s| s.at).collect();
        let expected: Vec<SystemTime> = (0..40).map(|k| at + k * 30 * SECOND).collect();
        assert_eq!(starts, expected);
        assert_eq!(sim.finishes()["completed"], 40);
    }

    #[test]
    fn unanswered_calls_are_retried_at_plus_20_and_plus_40() {
        let ps = vec![patient(1, &["09:00"], "", "1990-01-01")];
        let mut sim = Sim::new(ScheduleConfig::default(), ps, 2);
        sim.behaviour = Box::new(|_, _, _| {
            (
                Duration::ZERO,
                AttemptOutcome::NotAnswered(Disposition::NoAnswer),
            )
        });
        sim.plan(DAY.parse().unwrap());
        let at = local(sim.pacer.config(), DAY, "09:00");
        sim.run(at, at + 2 * 60 * MINUTE);
        let expected = [at, at + 20 * MINUTE, at + 40 * MINUTE];
        assert_eq!(sim.starts_of(1, slot(DAY, "09:00")), expected);
        assert_eq!(sim.finishes()["unreached"], 1);
    }

    #[test]
    fn a_health_call_report_cancels_the_remaining_attempts() {
        let ps = vec![
            patient(1, &["09:00"], "", "1990-01-01"),
            patient(2, &["09:00"], "", "1990-01-01"),
        ];
        let mut sim = Sim::new(ScheduleConfig::default(), ps, 2);
        sim.behaviour =
            Box::new(|_, _, _| (30 * SECOND, AttemptOutcome::NotAnswered(Disposition::Busy)));
        sim.plan(DAY.parse().unwrap());
        let c = sim.pacer.config().clone();
        let at = local(&c, DAY, "09:00");
        // Patient 1 reports on the Health Call line at 09:10; patient 2 reported at 08:50,
        // before the slot, which does not count.
        sim.at(at + 10 * MINUTE, |w| {
            w.reports.insert(
                PatientId(1),
                local(&ScheduleConfig::default(), DAY, "09:10"),
            );
        });
        sim.world.reports.insert(PatientId(2), at - 10 * MINUTE);
        sim.run(at - MINUTE, at + 2 * 60 * MINUTE);
        assert_eq!(sim.starts_of(1, slot(DAY, "09:00")).len(), 1);
        assert_eq!(sim.starts_of(2, slot(DAY, "09:00")).len(), 3);
        assert_eq!(sim.finishes()["cancelled_report_received"], 1);
        assert_eq!(sim.finishes()["unreached"], 1);
    }
}
