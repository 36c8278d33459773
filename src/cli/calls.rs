//! `carecall calls plan [--date D]` and `carecall calls now HERSYS_ID`.

use std::time::Duration;

use carecall::config::Config;
use carecall::domain::AttemptState;
use carecall::pii::Redacted;
use carecall::report::date::{rfc3339_utc, Date};
use carecall::report::export::local_rfc3339;
use carecall::report::Slot;
use carecall::runtime::scheduler::{day_plan, CALL_NOW_WINDOW};
use carecall::store::AttemptRow;

use super::{block_on, open_existing_store, CliError};

/// Prints each slot of the day with its backlog and expected finish, then every attempt; with
/// `json`, one JSON document of the same (see [`plan_json`]).
pub fn plan(config: Config, date: Option<String>, json: bool) -> Result<(), CliError> {
    let now = carecall::clock::wall_now();
    let date: Date = match date {
        Some(d) => d
            .parse()
            .map_err(|_| CliError::Usage("--date must be YYYY-MM-DD"))?,
        None => config.schedule.local(now).0,
    };
    block_on(async {
        let store = open_existing_store(&config).await?;
        let (rows, slots) = day_plan(&store, &config, date, now).await?;
        if json {
            println!("{}", plan_json(&config, date, &slots, &rows));
            return Ok(());
        }
        let zone = config.schedule.time_zone_name();
        if slots.is_empty() {
            println!("{date}: no slot calls planned ({zone})");
        }
        for b in &slots {
            let local = |t| local_hm(&config, t);
            println!(
                "slot {} {} ({zone}), window until {}: {} calls — {} completed, {} on the line, \
                 {} waiting ({} never called), {} cancelled, {} unreached, {} missed",
                b.slot.date,
                b.slot.time,
                local(b.window_end),
                b.calls,
                b.completed,
                b.active,
                b.not_started,
                b.never_called,
                b.cancelled,
                b.unreached,
                b.missed
            );
            match (b.expected_finish, b.overruns()) {
                (_, false) if b.not_started + b.active == 0 => println!("  done"),
                (Some(f), false) => println!("  expected finish {}: fits the window", local(f)),
                (finish, _) => println!(
                    "  BACKLOG: expected finish {}, {} call(s) expected to miss the window at {} channel(s)",
                    finish.map_or("unknown (no channels)".into(), local),
                    b.expected_missed,
                    config.trunks.iter().map(|t| t.channels).sum::<usize>()
                ),
            }
        }
        if !rows.is_empty() {
            println!(
                "\nslot   hersys_id        attempt  due (UTC)                 state      outcome"
            );
            for r in &rows {
                print_row(r);
            }
        }
        Ok(())
    })
}

/// `{"date", "time_zone", "channels", "slots": [{"slot", "window_end", "calls", "completed",
/// "active", "waiting", "never_called", "cancelled", "unreached", "missed", "expected_finish",
/// "expected_missed", "overruns"}…], "attempts": [{"slot", "hersys_id", "attempt", "manual",
/// "due_at", "state", "outcome"}…]}`; times local with their offset.
fn plan_json(
    config: &Config,
    date: Date,
    slots: &[carecall::schedule::SlotBacklog],
    rows: &[AttemptRow],
) -> serde_json::Value {
    let zone = config.time_zone();
    let local = |t| local_rfc3339(t, &zone);
    let slots: Vec<serde_json::Value> = slots
        .iter()
        .map(|b| {
            serde_json::json!({
                "slot": b.slot.to_string(),
                "window_end": local(b.window_end),
                "calls": b.calls,
                "completed": b.completed,
                "active": b.active,
                "waiting": b.not_started,
                "never_called": b.never_called,
                "cancelled": b.cancelled,
                "unreached": b.unreached,
                "missed": b.missed,
                "expected_finish": b.expected_finish.map(local),
                "expected_missed": b.expected_missed,
                "overruns": b.overruns(),
            })
        })
        .collect();
    let attempts: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "slot": r.attempt.slot.to_string(),
                "hersys_id": r.hersys_id.expose(),
                "attempt": r.attempt.number,
                "manual": r.attempt.manual,
                "due_at": local(r.attempt.due_at),
                "state": r.attempt.state.label(),
                "outcome": r.attempt.state.outcome_label(),
            })
        })
        .collect();
    serde_json::json!({
        "date": date.to_string(),
        "time_zone": config.schedule.time_zone_name(),
        "channels": config.trunks.iter().map(|t| t.channels).sum::<usize>(),
        "slots": slots,
        "attempts": attempts,
    })
}

fn local_hm(config: &Config, t: std::time::SystemTime) -> String {
    let (date, time) = config.schedule.local(t);
    format!("{date} {time}")
}

fn print_row(r: &AttemptRow) {
    let a = &r.attempt;
    let due = carecall::report::date::epoch_millis(a.due_at).unwrap_or(0);
    println!(
        "{}  {:<16} {:>7}{}  {:<24}  {:<9}  {}",
        a.slot.time,
        r.hersys_id.expose(),
        a.number,
        if a.manual { "*" } else { " " },
        rfc3339_utc(due),
        a.state.label(),
        a.state.outcome_label().unwrap_or("-")
    );
}

/// Queues one call to the patient now (ahead of slot calls) for a running `carecall serve`
/// to place, and waits up to `wait` for its outcome.
pub fn now(config: Config, hersys_id: String, wait: u64) -> Result<(), CliError> {
    let id = Redacted::new(hersys_id);
    block_on(async {
        let store = open_existing_store(&config).await?;
        let patient = store
            .patient_by_hersys_id(&id)
            .await?
            .ok_or(CliError::NotFound("no patient with that HER-SYS ID"))?;
        let now = carecall::clock::wall_now();
        let (date, time) = config.schedule.local(now);
        let attempt = store
            .request_call_now(patient, Slot { date, time }, now, CALL_NOW_WINDOW)
            .await?;
        println!(
            "call queued (attempt {}); waiting for a carecall node to place it",
            attempt.0
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
        let mut claimed = false;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let Some(row) = store.attempt(attempt).await? else {
                break;
            };
            let state = &row.attempt.state;
            match state {
                AttemptState::Claimed { node, .. } if !claimed => {
                    claimed = true;
                    println!("dialling (node {node})");
                }
                AttemptState::Done { .. } | AttemptState::Cancelled { .. } => {
                    let outcome = state.outcome_label().unwrap_or("-");
                    println!("{}: {outcome}", state.label());
                    return Ok(());
                }
                _ => {}
            }
        }
        if claimed {
            println!("still on the line; see `carecall calls plan` for its outcome");
        } else {
            println!(
                "not placed yet: no `carecall serve` with automatic_calls = true has taken it; \
                 it stays queued for {} minutes",
                CALL_NOW_WINDOW.as_secs() / 60
            );
        }
        Ok(())
    })
}
