//! Automatic-call planning: slots, pacing, priorities and retries. Returns decisions only.
//!
//! Owns the `[schedule]` configuration, the day's plan (which patient is called at which
//! slot, with what priority), the pacer (which attempts start now, which are missed), the
//! outcome → next-step rules and the backlog estimate. Sans-IO: every function takes `now`
//! as a `SystemTime` and returns decisions; this module never reads a clock, touches a
//! socket or the store, or spawns a task. The runtime executes and the store persists.
//!
//! How the runtime drives it:
//! 1. Each local day (and when patients change): [`plan_day`] → store each [`SlotCall`] as
//!    [`CallState::new`].
//! 2. Loop: [`Pacer::decide`] over the waiting calls with the free channels; store its
//!    `finish`es; for each `start`, read the patient and ask [`Pacer::may_dial`]; on `Dial`,
//!    claim the attempt, [`CallState::start`] and dial. Wake at `next_deadline`, when a
//!    channel frees or when a call changes.
//! 3. When an attempt ends: [`Pacer::after_attempt`] → [`CallState::apply`]; on
//!    [`NextStep::StopNumber`] also block the number and flag it for staff.
//! 4. When a report arrives or staff change a patient: [`Pacer::cancellation`] for that
//!    patient's waiting calls.
//! 5. Staff page and `carecall_slot_backlog_calls`: [`Pacer::backlog`].

mod attempt;
mod backlog;
mod bench;
mod config;
#[cfg(test)]
mod day_tests;
mod dispatch;
mod local;
mod pacer;
mod plan;
mod priority;
#[cfg(test)]
mod simulation;
mod state;

pub use attempt::{AttemptOutcome, DialCheck, PatientNow};
pub use backlog::SlotBacklog;
pub use bench::{bench_plan, synthetic_patients, PlanBench, BENCH_DATE};
pub use config::{
    RawQuietHours, RawSchedule, ScheduleConfig, ScheduleError, MAX_SLOTS_PER_DAY,
    MAX_WINDOW_MINUTES,
};
pub use dispatch::{trunk_failed, TrunkPicker, FAIL_AFTER};
pub use local::{QuietHours, SlotSpec};
pub use pacer::{Decision, Pacer};
pub use plan::{plan_day, PatientSettings, Period, SlotCall};
pub use priority::{age_on, priority, Priority, RiskFactors};
pub use state::{CallState, CancelReason, Finish, MissReason, NextStep, Phase};
