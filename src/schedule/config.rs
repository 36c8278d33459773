//! The `[schedule]` section: serde struct with defaults, then `validate` into a checked
//! [`ScheduleConfig`] whose zone exists, slots parse, offsets fit the window and quiet hours
//! are not empty.

use std::str::FromStr;
use std::time::Duration;

use jiff::tz::TimeZone;
use serde::Deserialize;

use super::local::{too_frequent, QuietHours, SlotSpec};
use crate::report::date::LocalTime;

/// A cron slot may match at most this many minutes of one day (it names call times, not a
/// polling interval).
pub const MAX_SLOTS_PER_DAY: usize = 24;
/// The longest slot window accepted, in minutes.
pub const MAX_WINDOW_MINUTES: u32 = 720;

/// A `[schedule]` value that parses as TOML but makes no sense. [`ScheduleError::field`]
/// names the key, e.g. `schedule.slots[2]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// `time_zone` is not an IANA zone name in the bundled database.
    #[error("unknown time zone `{0}`")]
    UnknownTimeZone(String),
    /// `slots` is empty.
    #[error("at least one slot is needed")]
    NoSlots,
    /// A slot is neither `HH:MM` nor a five-field cron expression.
    #[error("slot {index} is neither HH:MM nor a five-field cron expression")]
    BadSlot {
        /// Position in `slots`, from 0.
        index: usize,
    },
    /// A slot is listed twice.
    #[error("slot {index} repeats an earlier slot")]
    DuplicateSlot {
        /// Position in `slots`, from 0.
        index: usize,
    },
    /// A cron slot matches more than [`MAX_SLOTS_PER_DAY`] times in a day.
    #[error("slot {index} matches more than {MAX_SLOTS_PER_DAY} times a day")]
    SlotTooFrequent {
        /// Position in `slots`, from 0.
        index: usize,
    },
    /// A plain `HH:MM` slot starts inside the quiet hours, so it could never be called.
    #[error("slot {index} starts inside the quiet hours")]
    SlotInQuietHours {
        /// Position in `slots`, from 0.
        index: usize,
    },
    /// `window_minutes` is 0 or above [`MAX_WINDOW_MINUTES`].
    #[error("window must be 1 to {MAX_WINDOW_MINUTES} minutes")]
    WindowOutOfRange,
    /// `retry_offsets_minutes` is empty.
    #[error("at least one attempt offset is needed")]
    NoAttempts,
    /// An offset is not greater than the one before it.
    #[error("offset {index} is not greater than the offset before it")]
    OffsetsNotIncreasing {
        /// Position in `retry_offsets_minutes`, from 0.
        index: usize,
    },
    /// An offset is at or beyond the end of the window.
    #[error("offset {index} is not inside the window")]
    OffsetOutsideWindow {
        /// Position in `retry_offsets_minutes`, from 0.
        index: usize,
    },
    /// `incomplete_retry_minutes` is 0 or not shorter than the window.
    #[error("the incomplete-report retry must be 1 minute or more and shorter than the window")]
    IncompleteRetryOutOfRange,
    /// A quiet-hours bound is not `HH:MM`.
    #[error("quiet hours {0} is not HH:MM")]
    BadQuietTime(&'static str),
    /// Quiet hours start and end at the same time.
    #[error("quiet hours start and end at the same time")]
    EmptyQuietHours,
    /// `minute_seconds` is 0 or above 60.
    #[error("a schedule minute must be 1 to 60 seconds")]
    MinuteOutOfRange,
}

impl ScheduleError {
    /// The dotted name of the offending key, for `ConfigError::Invalid`.
    pub fn field(&self) -> String {
        match self {
            ScheduleError::UnknownTimeZone(_) => "schedule.time_zone".into(),
            ScheduleError::NoSlots => "schedule.slots".into(),
            ScheduleError::BadSlot { index }
            | ScheduleError::DuplicateSlot { index }
            | ScheduleError::SlotTooFrequent { index }
            | ScheduleError::SlotInQuietHours { index } => format!("schedule.slots[{index}]"),
            ScheduleError::WindowOutOfRange => "schedule.window_minutes".into(),
            ScheduleError::NoAttempts => "schedule.retry_offsets_minutes".into(),
            ScheduleError::OffsetsNotIncreasing { index }
            | ScheduleError::OffsetOutsideWindow { index } => {
                format!("schedule.retry_offsets_minutes[{index}]")
            }
            ScheduleError::IncompleteRetryOutOfRange => "schedule.incomplete_retry_minutes".into(),
            ScheduleError::BadQuietTime(which) => format!("schedule.quiet_hours.{which}"),
            ScheduleError::EmptyQuietHours => "schedule.quiet_hours".into(),
            ScheduleError::MinuteOutOfRange => "schedule.minute_seconds".into(),
        }
    }
}

/// `[schedule]` as written. Every key has a default (see each field); unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSchedule {
    /// IANA zone of the slot times (default `Asia/Tokyo`); never the host's zone.
    pub time_zone: String,
    /// Slot times: `HH:MM` or five-field cron (default 09:00, 11:00, 14:00, 16:00).
    pub slots: Vec<String>,
    /// Minutes after a slot in which its attempts may start (default 60).
    pub window_minutes: u32,
    /// Attempt n starts at slot + offset n at the earliest (default `[0, 20, 40]`).
    pub retry_offsets_minutes: Vec<u32>,
    /// Pause before retrying an answered but incomplete report (default 10).
    pub incomplete_retry_minutes: u32,
    /// Local hours in which no call starts (default 20:00 to 08:00).
    pub quiet_hours: RawQuietHours,
    /// Seconds in one minute of the window and retry plan (default 60). Lower it only to
    /// rehearse a plan quickly (tests, demos): 2 makes a 60-minute window last 2 minutes.
    pub minute_seconds: u32,
}

/// `quiet_hours = { start = "HH:MM", end = "HH:MM" }`; may wrap midnight.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuietHours {
    /// First quiet minute, local.
    pub start: String,
    /// First minute calls may start again, local.
    pub end: String,
}

impl Default for RawSchedule {
    fn default() -> Self {
        RawSchedule {
            time_zone: "Asia/Tokyo".into(),
            slots: ["09:00", "11:00", "14:00", "16:00"]
                .map(String::from)
                .to_vec(),
            window_minutes: 60,
            retry_offsets_minutes: vec![0, 20, 40],
            incomplete_retry_minutes: 10,
            quiet_hours: RawQuietHours {
                start: "20:00".into(),
                end: "08:00".into(),
            },
            minute_seconds: 60,
        }
    }
}

/// A checked `[schedule]`. Build it with [`RawSchedule::validate`] or `Default`.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub(super) zone_name: String,
    pub(super) zone: TimeZone,
    pub(super) slots: Vec<SlotSpec>,
    pub(super) window: Duration,
    pub(super) offsets: Vec<Duration>,
    pub(super) incomplete_retry: Duration,
    pub(super) quiet: QuietHours,
}

impl RawSchedule {
    /// Checks every key and builds the [`ScheduleConfig`]; the first problem found is returned.
    pub fn validate(&self) -> Result<ScheduleConfig, ScheduleError> {
        let zone = TimeZone::get(&self.time_zone)
            .map_err(|_| ScheduleError::UnknownTimeZone(self.time_zone.clone()))?;
        let quiet = self.quiet_hours()?;
        if !(1..=60).contains(&self.minute_seconds) {
            return Err(ScheduleError::MinuteOutOfRange);
        }
        let minutes = |m: u32| Duration::from_secs(u64::from(m) * u64::from(self.minute_seconds));
        let window_minutes = self.window_minutes;
        if window_minutes == 0 || window_minutes > MAX_WINDOW_MINUTES {
            return Err(ScheduleError::WindowOutOfRange);
        }
        let offsets = self.offsets()?.into_iter().map(minutes).collect();
        let incomplete = self.incomplete_retry_minutes;
        if incomplete == 0 || incomplete >= window_minutes {
            return Err(ScheduleError::IncompleteRetryOutOfRange);
        }
        Ok(ScheduleConfig {
            zone_name: self.time_zone.clone(),
            zone,
            slots: self.slots(quiet)?,
            window: minutes(window_minutes),
            offsets,
            incomplete_retry: minutes(incomplete),
            quiet,
        })
    }

    fn quiet_hours(&self) -> Result<QuietHours, ScheduleError> {
        let parse = |text: &str, which| {
            LocalTime::from_str(text).map_err(|_| ScheduleError::BadQuietTime(which))
        };
        let start = parse(&self.quiet_hours.start, "start")?;
        let end = parse(&self.quiet_hours.end, "end")?;
        if start == end {
            return Err(ScheduleError::EmptyQuietHours);
        }
        Ok(QuietHours { start, end })
    }

    fn offsets(&self) -> Result<Vec<u32>, ScheduleError> {
        let list = &self.retry_offsets_minutes;
        if list.is_empty() {
            return Err(ScheduleError::NoAttempts);
        }
        for (index, &offset) in list.iter().enumerate() {
            if index > 0 && offset <= list[index - 1] {
                return Err(ScheduleError::OffsetsNotIncreasing { index });
            }
            if offset >= self.window_minutes {
                return Err(ScheduleError::OffsetOutsideWindow { index });
            }
        }
        Ok(list.clone())
    }

    fn slots(&self, quiet: QuietHours) -> Result<Vec<SlotSpec>, ScheduleError> {
        if self.slots.is_empty() {
            return Err(ScheduleError::NoSlots);
        }
        let mut specs = Vec::with_capacity(self.slots.len());
        for (index, text) in self.slots.iter().enumerate() {
            let spec = SlotSpec::parse(text).ok_or(ScheduleError::BadSlot { index })?;
            let repeated = self.slots[..index].iter().any(|t| t.trim() == text.trim());
            if repeated {
                return Err(ScheduleError::DuplicateSlot { index });
            }
            match &spec {
                SlotSpec::At(t) if quiet.contains(*t) => {
                    return Err(ScheduleError::SlotInQuietHours { index });
                }
                SlotSpec::Cron(cron) if too_frequent(cron) => {
                    return Err(ScheduleError::SlotTooFrequent { index });
                }
                _ => {}
            }
            specs.push(spec);
        }
        Ok(specs)
    }
}

impl Default for ScheduleConfig {
    /// The SPEC defaults (Asia/Tokyo; 09:00, 11:00, 14:00, 16:00; 60 min; +0/+20/+40; 10 min;
    /// quiet 20:00–08:00).
    fn default() -> Self {
        match RawSchedule::default().validate() {
            Ok(config) => config,
            Err(e) => unreachable!("the built-in schedule defaults are valid: {e}"),
        }
    }
}

impl ScheduleConfig {
    /// The IANA zone name slot times are read in.
    pub fn time_zone_name(&self) -> &str {
        &self.zone_name
    }

    /// The configured slots, in configuration order.
    pub fn slots(&self) -> &[SlotSpec] {
        &self.slots
    }

    /// How long after the slot instant attempts may start (elapsed time, not wall time).
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Earliest start of attempt n (from 0) after the slot instant; its length is the number
    /// of attempts per slot.
    pub fn attempt_offsets(&self) -> &[Duration] {
        &self.offsets
    }

    /// The pause before retrying an answered but incomplete report.
    pub fn incomplete_retry(&self) -> Duration {
        self.incomplete_retry
    }

    /// The quiet hours.
    pub fn quiet_hours(&self) -> QuietHours {
        self.quiet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(toml_text: &str) -> RawSchedule {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = ScheduleConfig::default();
        assert_eq!(c.time_zone_name(), "Asia/Tokyo");
        let slots: Vec<String> = c.slots().iter().map(ToString::to_string).collect();
        assert_eq!(slots, ["09:00", "11:00", "14:00", "16:00"]);
        assert_eq!(c.window(), Duration::from_secs(3600));
        let offsets: Vec<u64> = c.attempt_offsets().iter().map(|d| d.as_secs()).collect();
        assert_eq!(offsets, [0, 1200, 2400]);
        assert_eq!(c.incomplete_retry(), Duration::from_secs(600));
        assert!(c.quiet_hours().contains("20:00".parse().unwrap()));
        assert!(c.quiet_hours().contains("07:59".parse().unwrap()));
        assert!(!c.quiet_hours().contains("08:00".parse().unwrap()));
        assert!(!c.quiet_hours().contains("19:59".parse().unwrap()));
        assert_eq!(raw(""), RawSchedule::default());
    }

    #[test]
    fn reads_a_full_section_with_cron_slots() {
        let r = raw(r#"
            time_zone = "America/New_York"
            slots = ["09:30", "0 13 * * 1-5"]
            window_minutes = 90
            retry_offsets_minutes = [5, 30]
            incomplete_retry_minutes = 15
            quiet_hours = { start = "21:00", end = "07:30" }
        "#);
        let c = r.validate().unwrap();
        assert!(matches!(c.slots()[1], SlotSpec::Cron(_)));
        assert_eq!(c.slots()[1].to_string(), "0 13 * * 1-5");
        assert!(!c.quiet_hours().contains("07:30".parse().unwrap()));
        assert!(toml::from_str::<RawSchedule>("windows = 3").is_err());
        assert!(toml::from_str::<RawSchedule>("quiet_hours = { start = \"21:00\" }").is_err());
    }

    #[test]
    fn every_bad_value_names_its_field() {
        let cases: [(&str, &str); 13] = [
            ("time_zone = \"Mars/Olympus\"", "schedule.time_zone"),
            ("slots = []", "schedule.slots"),
            ("slots = [\"09:00\", \"25:00\"]", "schedule.slots[1]"),
            ("slots = [\"0 9 * * * *\"]", "schedule.slots[0]"),
            ("slots = [\"09:00\", \"09:00\"]", "schedule.slots[1]"),
            ("slots = [\"*/30 * * * *\"]", "schedule.slots[0]"),
            ("slots = [\"22:00\"]", "schedule.slots[0]"),
            ("window_minutes = 0", "schedule.window_minutes"),
            (
                "retry_offsets_minutes = []",
                "schedule.retry_offsets_minutes",
            ),
            (
                "retry_offsets_minutes = [0, 20, 20]",
                "schedule.retry_offsets_minutes[2]",
            ),
            (
                "retry_offsets_minutes = [0, 60]",
                "schedule.retry_offsets_minutes[1]",
            ),
            (
                "incomplete_retry_minutes = 0",
                "schedule.incomplete_retry_minutes",
            ),
            (
                "quiet_hours = { start = \"8pm\", end = \"08:00\" }",
                "schedule.quiet_hours.start",
            ),
        ];
        for (text, field) in cases {
            let e = raw(text).validate().unwrap_err();
            assert_eq!(e.field(), field, "{text}: {e}");
        }
        let same = raw("quiet_hours = { start = \"08:00\", end = \"08:00\" }");
        assert_eq!(same.validate().unwrap_err(), ScheduleError::EmptyQuietHours);
    }
}
