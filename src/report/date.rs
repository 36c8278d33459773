//! Civil dates, local slot times and UTC instants, without a calendar crate.
//!
//! Dates are proleptic Gregorian (`YYYY-MM-DD`); instants are stored as milliseconds since
//! the Unix epoch in UTC and shown in RFC 3339 with a `Z`. Local times are wall-clock `HH:MM`
//! in the configured time zone; this module never converts between zones.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A text that is not a valid date or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not `YYYY-MM-DD`, or no such day (2023-02-29, 2024-13-01).
    #[error("not a date of the form YYYY-MM-DD")]
    InvalidDate,
    /// Not `HH:MM` with hour 00–23 and minute 00–59.
    #[error("not a time of the form HH:MM")]
    InvalidTime,
}

/// A calendar day, year 1 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// The date, or `None` when no such day exists.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Month and day as four digits (`0415`), the form keyed in on the Health Call line.
    pub fn mmdd(self) -> String {
        format!("{:02}{:02}", self.month, self.day)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01; `None` outside years 1–9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Date> {
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// Midnight UTC at the start of this day.
    pub fn start_utc(self) -> SystemTime {
        from_epoch_millis(self.days_since_epoch() * MILLIS_PER_DAY)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses exactly `YYYY-MM-DD`.
impl FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Date, DateError> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(DateError::InvalidDate);
        }
        let year = digits(&s[0..4]).ok_or(DateError::InvalidDate)?;
        let month = digits(&s[5..7]).ok_or(DateError::InvalidDate)?;
        let day = digits(&s[8..10]).ok_or(DateError::InvalidDate)?;
        let (month, day) = (month as u8, day as u8);
        Date::new(year, month, day).ok_or(DateError::InvalidDate)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// ASCII digits only (no sign, no spaces) as a number.
fn digits(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A wall-clock time of day in the configured time zone, to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime {
    hour: u8,
    minute: u8,
}

impl LocalTime {
    /// The time, or `None` unless hour ≤ 23 and minute ≤ 59.
    pub fn new(hour: u8, minute: u8) -> Option<LocalTime> {
        (hour <= 23 && minute <= 59).then_some(LocalTime { hour, minute })
    }

    /// The hour, 0–23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0–59.
    pub fn minute(self) -> u8 {
        self.minute
    }
}

/// Parses exactly `HH:MM`.
impl FromStr for LocalTime {
    type Err = DateError;

    fn from_str(s: &str) -> Result<LocalTime, DateError> {
        if s.len() != 5 || s.as_bytes()[2] != b':' {
            return Err(DateError::InvalidTime);
        }
        let hour = digits(&s[0..2]).ok_or(DateError::InvalidTime)?;
        let minute = digits(&s[3..5]).ok_or(DateError::InvalidTime)?;
        LocalTime::new(hour as u8, minute as u8).ok_or(DateError::InvalidTime)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// A scheduled call slot: the local date and the local slot time (e.g. 2025-05-01 09:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    /// The local date of the slot.
    pub date: Date,
    /// The local slot time.
    pub time: LocalTime,
}

/// Shown as `YYYY-MM-DD HH:MM` (local time, no zone).
impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.date, self.time)
    }
}

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Milliseconds since the Unix epoch; `None` when `t` does not fit an `i64` of milliseconds.
pub fn epoch_millis(t: SystemTime) -> Option<i64> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).ok(),
        Err(before) => i64::try_from(before.duration().as_millis())
            .ok()
            .map(|m| -m),
    }
}

/// The instant `millis` milliseconds after (or before, if negative) the Unix epoch.
pub fn from_epoch_millis(millis: i64) -> SystemTime {
    let magnitude = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// RFC 3339 in UTC with milliseconds, e.g. `2025-05-01T00:12:34.567Z`.
pub fn rfc3339_utc(millis: i64) -> String {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let ms = millis.rem_euclid(MILLIS_PER_DAY);
    let date =
        Date::from_days_since_epoch(days).map_or_else(|| "????-??-??".into(), |d| d.to_string());
    let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{date}T{h:02}:{m:02}:{s:02}.{frac:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_dates_strictly() {
        let d: Date = "2024-02-29".parse().unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (2024, 2, 29));
        assert_eq!(d.to_string(), "2024-02-29");
        assert_eq!(d.mmdd(), "0229");
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-4-01",
            "24-04-01",
            "2024/04/01",
            "+024-04-01",
            "2024-04-1 ",
            "",
        ] {
            assert_eq!(bad.parse::<Date>(), Err(DateError::InvalidDate), "{bad}");
        }
        assert!("1900-02-29".parse::<Date>().is_err());
        assert!("2000-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn day_numbers_round_trip_over_four_centuries() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().days_since_epoch(), 11_017);
        let mut expected = Date::new(1900, 1, 1).unwrap();
        let first = expected.days_since_epoch();
        for n in first..first + 146_097 {
            let d = Date::from_days_since_epoch(n).unwrap();
            assert_eq!(d, expected);
            assert_eq!(d.days_since_epoch(), n);
            expected = next_day(d);
        }
    }

    fn next_day(d: Date) -> Date {
        Date::new(d.year, d.month, d.day + 1)
            .or_else(|| Date::new(d.year, d.month + 1, 1))
            .unwrap_or_else(|| Date::new(d.year + 1, 1, 1).unwrap())
    }

    #[test]
    fn times_and_slots() {
        let t: LocalTime = "09:00".parse().unwrap();
        assert_eq!((t.hour(), t.minute()), (9, 0));
        for bad in ["24:00", "9:00", "09:60", "09-00", "0900"] {
            assert_eq!(
                bad.parse::<LocalTime>(),
                Err(DateError::InvalidTime),
                "{bad}"
            );
        }
        let slot = Slot {
            date: "2025-05-01".parse().unwrap(),
            time: "14:00".parse().unwrap(),
        };
        assert_eq!(slot.to_string(), "2025-05-01 14:00");
    }

    #[test]
    fn instants_in_utc() {
        let t = from_epoch_millis(1_746_058_354_567);
        assert_eq!(epoch_millis(t), Some(1_746_058_354_567));
        assert_eq!(rfc3339_utc(1_746_058_354_567), "2025-05-01T00:12:34.567Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(epoch_millis(from_epoch_millis(-1_500)), Some(-1_500));
        let may1: Date = "2025-05-01".parse().unwrap();
        assert_eq!(epoch_millis(may1.start_utc()), Some(1_746_057_600_000));
    }
}
