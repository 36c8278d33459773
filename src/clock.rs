//! The only place that reads the system clock.
//!
//! Cores never call this module: they receive `now` as an argument. The runtime reads the
//! clock here and hands the value down, and tests drive cores with a manual clock instead.

use std::time::{Instant, SystemTime};

/// The monotonic time now; used for timers and pacing.
pub fn now() -> Instant {
    Instant::now()
}

/// The wall-clock time now; used for call records and schedules (stored in UTC).
pub fn wall_now() -> SystemTime {
    SystemTime::now()
}
