//! `carecall calls records export [--since DATE] [--format csv|json] [--with-numbers]`: the
//! call records (one row per call leg, SPEC §13), for billing checks and fault finding.
//!
//! Caller and called numbers are personal data: they are left out unless `--with-numbers` is
//! given. Times are local in the schedule's zone with their offset.

use carecall::config::Config;
use carecall::report::date::Date;
use carecall::report::export::local_rfc3339;
use carecall::store::CallRecord;

use super::{block_on, open_existing_store, CliError};

/// Output format of `calls records export`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// One CSV row per call leg, with a header.
    Csv,
    /// One JSON array of call legs.
    Json,
}

/// The columns, in order (the two numbers only with `--with-numbers`).
const COLUMNS: [&str; 15] = [
    "call_id",
    "sip_call_id",
    "direction",
    "trunk",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_ms",
    "disposition",
    "sip_status",
    "dialplan",
    "dialplan_version",
    "last_step",
    "slot",
    "attempt",
];

/// Writes every call record that started on or after `since` (a local date in the schedule's
/// zone; default: all) to standard output.
pub fn export(
    config: Config,
    since: Option<String>,
    format: Format,
    with_numbers: bool,
) -> Result<(), CliError> {
    let zone = config.time_zone();
    let since = match since {
        Some(s) => {
            let date = s
                .parse::<Date>()
                .map_err(|_| CliError::Usage("--since takes a date as YYYY-MM-DD"))?;
            start_of_day(&date, &zone)
                .ok_or(CliError::Usage("--since takes a date as YYYY-MM-DD"))?
        }
        None => std::time::UNIX_EPOCH,
    };
    block_on(async {
        let store = open_existing_store(&config).await?;
        let records = store.call_records(since).await?;
        let rows: Vec<Vec<(&str, String)>> = records
            .iter()
            .map(|r| row(r, &zone, with_numbers))
            .collect();
        let out = std::io::stdout().lock();
        match format {
            Format::Csv => write_csv(&rows, with_numbers, out).map_err(|e| e.to_string()),
            Format::Json => write_json(&rows, out).map_err(|e| e.to_string()),
        }
        .map_err(CliError::Export)
    })
}

/// 00:00 of `date` in `zone`.
fn start_of_day(date: &Date, zone: &jiff::tz::TimeZone) -> Option<std::time::SystemTime> {
    let civil: jiff::civil::Date = date.to_string().parse().ok()?;
    let zoned = civil.to_zoned(zone.clone()).ok()?;
    Some(std::time::SystemTime::from(zoned.timestamp()))
}

fn row<'a>(r: &CallRecord, zone: &jiff::tz::TimeZone, numbers: bool) -> Vec<(&'a str, String)> {
    let local = |t| local_rfc3339(t, zone);
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut row = vec![
        ("call_id", r.call_id.clone()),
        ("sip_call_id", r.sip_call_id.clone()),
        ("direction", r.direction.label().to_owned()),
        ("trunk", opt(r.trunk.clone())),
        ("started_at", local(r.started_at)),
        ("answered_at", opt(r.answered_at.map(local))),
        ("ended_at", local(r.ended_at)),
        ("duration_ms", r.duration_ms().to_string()),
        ("disposition", r.disposition.label().to_owned()),
        ("sip_status", opt(r.sip_status.map(|s| s.to_string()))),
        ("dialplan", opt(r.dialplan_id.clone())),
        ("dialplan_version", opt(r.dialplan_version.clone())),
        ("last_step", opt(r.last_step.clone())),
        ("slot", opt(r.slot.map(|s| s.to_string()))),
        ("attempt", opt(r.attempt.map(|a| a.to_string()))),
    ];
    if numbers {
        row.push(("caller", r.caller.expose().clone()));
        row.push(("called", r.called.expose().clone()));
    }
    row
}

fn write_csv(
    rows: &[Vec<(&str, String)>],
    numbers: bool,
    out: impl std::io::Write,
) -> Result<(), csv::Error> {
    let mut csv = csv::Writer::from_writer(out);
    let numbers: &[&str] = if numbers { &["caller", "called"] } else { &[] };
    csv.write_record(COLUMNS.iter().chain(numbers))?;
    for row in rows {
        csv.write_record(row.iter().map(|(_, v)| v))?;
    }
    csv.flush()?;
    Ok(())
}

/// Empty values are `null`; `duration_ms`, `sip_status` and `attempt` are numbers.
fn write_json(rows: &[Vec<(&str, String)>], mut out: impl std::io::Write) -> std::io::Result<()> {
    let list: Vec<serde_json::Map<String, serde_json::Value>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|(k, v)| {
                    let value = match (*k, v.parse::<i64>()) {
                        (_, _) if v.is_empty() => serde_json::Value::Null,
                        ("duration_ms" | "sip_status" | "attempt", Ok(n)) => n.into(),
                        _ => v.clone().into(),
                    };
                    ((*k).to_owned(), value)
                })
                .collect()
        })
        .collect();
    serde_json::to_writer(&mut out, &list)?;
    out.write_all(b"\n")?;
    out.flush()
}
