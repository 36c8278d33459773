//! Local wall-clock time in the configured zone: slot specs, quiet hours, conversion to UTC
//! instants and the DST policy.
//!
//! Slot times and quiet hours are local wall-clock times; everything else is a UTC instant.
//! Where the wall clock is not one-to-one:
//! - **Gap** (spring forward; e.g. 02:30 on 2025-03-09 in America/New_York does not exist): the
//!   slot moves to the next valid instant, the moment the gap ends (03:00 EDT).
//! - **Fold** (fall back; e.g. 01:30 on 2025-11-02 happens twice): the slot happens once, at
//!   the first occurrence (01:30 EDT).
//!
//! Quiet hours are judged on the wall clock, so a repeated hour is quiet (or not) both times.
//! A slot's window and retry offsets are elapsed time from the slot instant (60 real minutes),
//! whatever the wall clock does meanwhile.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;
use jiff::civil;
use jiff::tz::AmbiguousOffset;
use jiff::Timestamp;

use super::config::{ScheduleConfig, MAX_SLOTS_PER_DAY};
use crate::report::date::{epoch_millis, from_epoch_millis, Date, LocalTime};

impl ScheduleConfig {
    /// The local slot times on `date`: every `HH:MM` slot plus each minute a cron slot matches
    /// that day (at most [`MAX_SLOTS_PER_DAY`] per cron slot), sorted, without repeats.
    pub fn slot_times(&self, date: Date) -> Vec<LocalTime> {
        let day = to_civil(date);
        let mut times: Vec<LocalTime> = Vec::new();
        for spec in &self.slots {
            match spec {
                SlotSpec::At(t) => times.push(*t),
                SlotSpec::Cron(cron) => times.extend(cron_times(cron, day)),
            }
        }
        times.sort_unstable();
        times.dedup();
        times
    }

    /// Every time a patient may choose as a call time: the slot times of any day of a week
    /// (cron slots may differ by weekday), sorted, without repeats.
    pub fn call_time_choices(&self) -> Vec<LocalTime> {
        let monday = Date::new(2025, 1, 6).map_or(0, Date::days_since_epoch);
        let mut times: Vec<LocalTime> = (monday..monday + 7)
            .filter_map(Date::from_days_since_epoch)
            .flat_map(|d| self.slot_times(d))
            .collect();
        times.sort_unstable();
        times.dedup();
        times
    }

    /// The UTC instant of local `time` on `date`, by the gap and fold policy of this module.
    pub fn instant(&self, date: Date, time: LocalTime) -> SystemTime {
        let dt = to_civil(date).at(time.hour() as i8, time.minute() as i8, 0, 0);
        let ambiguous = self.zone.to_ambiguous_timestamp(dt);
        let ts = match ambiguous.offset() {
            AmbiguousOffset::Gap { .. } => ambiguous.earlier().ok().and_then(|before| {
                let transition = self.zone.following(before).next()?;
                Some(transition.timestamp())
            }),
            AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
                ambiguous.earlier().ok()
            }
        };
        let ts = ts.or_else(|| ambiguous.compatible().ok());
        from_epoch_millis(ts.map_or(i64::MAX, Timestamp::as_millisecond))
    }

    /// The local date and wall-clock minute at `t` (years clamped to 1–9999).
    pub fn local(&self, t: SystemTime) -> (Date, LocalTime) {
        let ts = Timestamp::from_millisecond(millis(t)).unwrap_or(Timestamp::MAX);
        let dt = self.zone.to_datetime(ts);
        let time = LocalTime::new(dt.hour() as u8, dt.minute() as u8)
            .unwrap_or_else(|| unreachable!("jiff keeps hours 0–23 and minutes 0–59"));
        (from_civil(dt.date()), time)
    }

    /// True when no call may start at `t` (its local minute is inside the quiet hours).
    pub fn is_quiet(&self, t: SystemTime) -> bool {
        self.quiet.contains(self.local(t).1)
    }

    /// The first instant at or after `t` that is outside the quiet hours.
    pub fn quiet_end(&self, t: SystemTime) -> SystemTime {
        let (date, time) = self.local(t);
        if !self.quiet.contains(time) {
            return t;
        }
        let end_date = if time < self.quiet.end {
            date
        } else {
            next_day(date)
        };
        self.instant(end_date, self.quiet.end)
    }
}

/// One configured slot.
#[derive(Debug, Clone)]
pub enum SlotSpec {
    /// Every day at this local time.
    At(LocalTime),
    /// Each local minute the expression matches (five fields: minute hour dom month dow).
    Cron(Box<Cron>),
}

/// Local wall-clock hours in which no call starts: `[start, end)`, wrapping midnight when
/// `start > end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// First quiet minute.
    pub start: LocalTime,
    /// First minute outside the quiet hours.
    pub end: LocalTime,
}

impl QuietHours {
    /// True when a call may not start at local time `t`.
    pub fn contains(self, t: LocalTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

impl SlotSpec {
    /// `HH:MM`, else a five-field cron expression (no seconds, no year); `None` if neither.
    pub fn parse(text: &str) -> Option<SlotSpec> {
        if let Ok(t) = LocalTime::from_str(text.trim()) {
            return Some(SlotSpec::At(t));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        parser
            .parse(text)
            .ok()
            .map(|cron| SlotSpec::Cron(Box::new(cron)))
    }
}

impl fmt::Display for SlotSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlotSpec::At(t) => write!(f, "{t}"),
            SlotSpec::Cron(cron) => f.write_str(cron.as_str()),
        }
    }
}

/// True when the expression matches more than [`MAX_SLOTS_PER_DAY`] minutes on any day of a
/// sample week (2024-01-01, a Monday, to the Sunday after), so every weekday is tried once.
pub(super) fn too_frequent(cron: &Cron) -> bool {
    (1..=7).any(|day| {
        let date = jiff::civil::date(2024, 1, day);
        cron_times(cron, date).len() > MAX_SLOTS_PER_DAY
    })
}
/// The local minutes of `date` that `cron` matches, in order; stops after one more than
/// [`MAX_SLOTS_PER_DAY`], which is enough for validation to see the excess.
pub(super) fn cron_times(cron: &Cron, date: civil::Date) -> Vec<LocalTime> {
    let mut times = Vec::new();
    for hour in 0..24u8 {
        for minute in 0..60u8 {
            let dt = date.at(hour as i8, minute as i8, 0, 0);
            if cron.is_time_matching(&dt).unwrap_or(false) {
                times.extend(LocalTime::new(hour, minute));
                if times.len() > MAX_SLOTS_PER_DAY {
                    return times;
                }
            }
        }
    }
    times
}

/// Milliseconds since the Unix epoch, saturating far outside the representable range.
pub(super) fn millis(t: SystemTime) -> i64 {
    epoch_millis(t).unwrap_or(if t > SystemTime::UNIX_EPOCH {
        i64::MAX
    } else {
        i64::MIN
    })
}

/// The next calendar day (saturating at 9999-12-31).
pub(super) fn next_day(date: Date) -> Date {
    Date::from_days_since_epoch(date.days_since_epoch() + 1).unwrap_or(date)
}

fn to_civil(date: Date) -> civil::Date {
    civil::date(date.year() as i16, date.month() as i8, date.day() as i8)
}

fn from_civil(d: civil::Date) -> Date {
    let year = d.year().clamp(1, 9999) as u16;
    let fallback = if d.year() < 1 { (1, 1) } else { (12, 31) };
    Date::new(year, d.month() as u8, d.day() as u8)
        .or_else(|| Date::new(year, fallback.0, fallback.1))
        .unwrap_or_else(|| unreachable!("January 1st and December 31st exist in every year"))
}

#[cfg(test)]
mod tests {
    use super::super::config::{RawQuietHours, RawSchedule};
    use super::*;
    use crate::report::date::rfc3339_utc;

    fn config(zone: &str, slots: &[&str]) -> ScheduleConfig {
        RawSchedule {
            time_zone: zone.into(),
            slots: slots.iter().map(|s| s.to_string()).collect(),
            // Night slots for the DST tests: quiet only around lunch.
            quiet_hours: RawQuietHours {
                start: "12:00".into(),
                end: "12:30".into(),
            },
            ..RawSchedule::default()
        }
        .validate()
        .unwrap()
    }

    fn utc(c: &ScheduleConfig, date: &str, time: &str) -> String {
        let t = c.instant(date.parse().unwrap(), time.parse().unwrap());
        rfc3339_utc(millis(t))
    }

    #[test]
    fn tokyo_has_no_dst() {
        let c = ScheduleConfig::default();
        assert_eq!(utc(&c, "2025-05-01", "09:00"), "2025-05-01T00:00:00.000Z");
        assert_eq!(utc(&c, "2025-05-01", "16:00"), "2025-05-01T07:00:00.000Z");
        let t = c.instant("2025-05-01".parse().unwrap(), "09:00".parse().unwrap());
        assert_eq!(c.local(t).1.to_string(), "09:00");
    }

    #[test]
    fn new_york_spring_forward_moves_a_missing_slot_to_the_end_of_the_gap() {
        let c = config("America/New_York", &["01:30", "02:30", "09:00"]);
        assert_eq!(utc(&c, "2025-03-09", "01:30"), "2025-03-09T06:30:00.000Z");
        // 02:30 does not exist: the clock jumps from 02:00 EST to 03:00 EDT (07:00 UTC).
        assert_eq!(utc(&c, "2025-03-09", "02:30"), "2025-03-09T07:00:00.000Z");
        assert_eq!(utc(&c, "2025-03-09", "09:00"), "2025-03-09T13:00:00.000Z");
        assert_eq!(utc(&c, "2025-03-08", "09:00"), "2025-03-08T14:00:00.000Z");
    }

    #[test]
    fn new_york_fall_back_takes_the_first_of_a_repeated_time() {
        let c = config("America/New_York", &["01:30", "09:00"]);
        // 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST): the first counts.
        assert_eq!(utc(&c, "2025-11-02", "01:30"), "2025-11-02T05:30:00.000Z");
        assert_eq!(utc(&c, "2025-11-02", "09:00"), "2025-11-02T14:00:00.000Z");
        assert_eq!(utc(&c, "2025-11-01", "09:00"), "2025-11-01T13:00:00.000Z");
    }

    #[test]
    fn cron_slots_follow_the_weekday() {
        let c = config("Asia/Tokyo", &["09:00", "0 13 * * 1-5", "30 9,15 * * 6"]);
        let day = |d: &str| -> Vec<String> {
            let times = c.slot_times(d.parse().unwrap());
            times.iter().map(ToString::to_string).collect()
        };
        assert_eq!(day("2025-05-02"), ["09:00", "13:00"]); // Friday
        assert_eq!(day("2025-05-03"), ["09:00", "09:30", "15:30"]); // Saturday
        assert_eq!(day("2025-05-04"), ["09:00"]); // Sunday
        let same = config("Asia/Tokyo", &["09:00", "0 9 * * *"]);
        assert_eq!(same.slot_times("2025-05-04".parse().unwrap()).len(), 1);
    }

    #[test]
    fn quiet_hours_wrap_midnight_and_end_at_the_local_end_time() {
        let c = ScheduleConfig::default();
        let at = |d: &str, t: &str| c.instant(d.parse().unwrap(), t.parse().unwrap());
        assert!(!c.is_quiet(at("2025-05-01", "19:59")));
        assert!(c.is_quiet(at("2025-05-01", "20:00")));
        assert_eq!(
            c.quiet_end(at("2025-05-01", "21:15")),
            at("2025-05-02", "08:00")
        );
        assert_eq!(
            c.quiet_end(at("2025-05-02", "07:00")),
            at("2025-05-02", "08:00")
        );
        let open = at("2025-05-02", "10:00");
        assert_eq!(c.quiet_end(open), open);
    }

    #[test]
    fn day_arithmetic_saturates() {
        let last = Date::new(9999, 12, 31).unwrap();
        assert_eq!(next_day(last), last);
        assert_eq!(
            next_day("2024-02-28".parse().unwrap()).to_string(),
            "2024-02-29"
        );
        assert_eq!(millis(SystemTime::UNIX_EPOCH), 0);
    }

    #[test]
    fn quiet_hours_inside_one_day() {
        let q = QuietHours {
            start: "12:00".parse().unwrap(),
            end: "13:00".parse().unwrap(),
        };
        assert!(q.contains("12:30".parse().unwrap()));
        assert!(!q.contains("13:00".parse().unwrap()));
        assert!(!q.contains("11:59".parse().unwrap()));
    }
}
