//! Automatic-call planning: slots, pacing, priorities and retries. Returns decisions only.
//!
//! Owns the `[schedule]` configuration, the day's plan (which patient is called at which
//! slot, with what priority), the one pacing policy ([`claim`]: which attempts start now and
//! in which order), the pacer (which are missed, when to look again), the outcome →
//! next-step rules and the backlog estimate. Sans-IO: every function takes `now` as a
//! `SystemTime` and returns decisions; this module never reads a clock, touches a socket or
//! the store, or spawns a task. It takes and returns domain types ([`crate::domain`]:
//! [`Attempt`](crate::domain::Attempt), [`PatientSettings`], [`Finish`]), never store
//! types. The runtime executes and the store persists.
//!
//! How the runtime (`runtime/scheduler.rs`) drives it:
//! 1. Each open slot: [`plan_day`] → [`Pacer::first_attempts`] (due times spread) → the
//!    store plans the slot once across nodes.
//! 2. Loop: the store claims due attempts up to the free channels in [`claim_order`] (its
//!    SQL mirrors that function); for each, read the patient and ask [`Pacer::may_dial`]
//!    about [`Pacer::claimed_state`]; on `Dial`, dial; on `Wait`, give it back; on `Finish`,
//!    cancel it.
//! 3. When an attempt ends: [`Pacer::after_attempt`] → [`Pacer::next_attempt`]; on
//!    [`NextStep::StopNumber`] also block the number and flag it for staff.
//! 4. Staff page and `carecall_slot_backlog_calls`: [`Pacer::states_from_rows`] →
//!    [`Pacer::backlog`].
//!
//! The simulations (`simulation.rs`, `day_tests.rs`) play the same day in memory with
//! [`Pacer::planned_states`] and [`Pacer::decide`], which starts what is due in the same
//! start order.

mod attempt;
mod backlog;
mod bench;
pub mod claim;
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
mod trunks;

pub use attempt::{AttemptOutcome, DialCheck, PatientNow};
pub use backlog::SlotBacklog;
pub use bench::{bench_plan, synthetic_patients, PlanBench, BENCH_DATE};
pub use claim::{claim_order, start_key, StartKey};
pub use config::{
    RawQuietHours, RawSchedule, ScheduleConfig, ScheduleError, MAX_SLOTS_PER_DAY,
    MAX_WINDOW_MINUTES,
};
pub use local::{QuietHours, SlotSpec};
pub use pacer::{Decision, Pacer};
pub use plan::{plan_day, PatientSettings, Period, SlotCall};
pub use priority::{age_on, priority, Priority, RiskFactors};
pub use state::{CallState, CancelReason, Finish, MissReason, NextStep, Phase};
pub use trunks::{trunk_failed, TrunkPicker, FAIL_AFTER};
