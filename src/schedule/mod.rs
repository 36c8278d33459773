//! Automatic-call planning: slots, pacing, priorities and retries. Returns decisions only.
//!
//! Owns the `[schedule]` configuration, the day's plan (which patient is called at which
//! slot, with what priority), the pacer (which attempts start now, which are missed), the
//! outcome → next-step rules and the backlog estimate. Sans-IO: every function takes `now`
//! as a `SystemTime` and returns decisions; this module never reads a clock, touches a
//! socket or the store, or spawns a task. The runtime executes and the store persists.

mod config;
mod local;

pub use config::{
    QuietHours, RawQuietHours, RawSchedule, ScheduleConfig, ScheduleError, SlotSpec,
    MAX_SLOTS_PER_DAY, MAX_WINDOW_MINUTES,
};
