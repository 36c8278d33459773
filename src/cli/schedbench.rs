//! `carecall schedbench`: the automatic-call scheduler against a real store (docs/benchmarks.md).
//!
//! 1. Loads `--patients` synthetic patients, all in one slot (09:00 Asia/Tokyo on a fixed
//!    date), with `patients import` (timed).
//! 2. Plans the slot as the scheduler does: read every patient's settings, `plan_day`, spread
//!    first attempts, `plan_slot` (timed).
//! 3. Works the slot with `--processes` claimer processes (this binary again, `--claim-as`),
//!    each doing what the scheduler does per attempt minus the call: claim a batch, read the
//!    patient, `may_dial`, then `after_attempt` and `finish_attempt_then` as if the patient
//!    completed (finishes concurrently and overlapping the next claim, as calls end in
//!    `serve`). Prints claims per second overall and each process's CPU per 1,000 attempts.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use carecall::report::Slot;
use carecall::schedule::{plan_day, AttemptOutcome, DialCheck, Pacer, PatientNow, ScheduleConfig};
use carecall::store::{Store, StoreOptions};

use super::{block_on, CliError};

/// Options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Store URL of an empty store (PostgreSQL for the several-process figures).
    #[arg(long)]
    store: String,
    /// Patients in the slot.
    #[arg(long, default_value_t = 100_000)]
    patients: usize,
    /// Claimer processes working the slot at once.
    #[arg(long, default_value_t = 1)]
    processes: usize,
    /// Attempts claimed per claim (a node's free channels).
    #[arg(long, default_value_t = 60)]
    batch: u32,
    /// Internal: run as one claimer process named so.
    #[arg(long, hide = true)]
    claim_as: Option<String>,
}

const DATE: &str = "2026-12-01";

/// Runs the benchmark.
pub fn run(args: Args) -> Result<(), CliError> {
    let schedule = ScheduleConfig::default();
    let date = DATE.parse().map_err(|_| CliError::Usage("bad date"))?;
    let slot = Slot {
        date,
        time: "09:00".parse().map_err(|_| CliError::Usage("bad time"))?,
    };
    // "now" is after the spread, so every first attempt is due.
    let now = schedule.instant(date, slot.time) + Duration::from_secs(25 * 60);
    if let Some(node) = &args.claim_as {
        return block_on(claim(&args, node, &schedule, now));
    }
    block_on(async {
        let store = open(&args.store).await?;
        store_reset(&store).await?;
        let csv = synthetic_csv(args.patients);
        let t = Instant::now();
        let summary = store
            .import_patients_csv(csv.as_bytes())
            .await
            .map_err(|e| CliError::Import("synthetic patients".into(), e))?;
        println!(
            "import: {} patients in {:.1} s",
            summary.inserted,
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let patients = store.schedule_patients().await?;
        let read = t.elapsed();
        let pacer = Pacer::new(schedule.clone());
        let t = Instant::now();
        let calls = plan_day(&schedule, &patients, date);
        let firsts = pacer.first_attempts(&calls);
        let planned = t.elapsed();
        let t = Instant::now();
        let inserted = store
            .plan_slot("bench", slot, &firsts, now, Duration::from_secs(300))
            .await?
            .unwrap_or(0);
        println!(
            "plan: read {} patients {:.0} ms, plan_day + spread {:.0} ms, store {} attempts {:.0} ms",
            patients.len(),
            read.as_secs_f64() * 1e3,
            planned.as_secs_f64() * 1e3,
            inserted,
            t.elapsed().as_secs_f64() * 1e3
        );
        Ok(())
    })?;
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let children: Vec<_> = (0..args.processes)
        .map(|i| {
            std::process::Command::new(&exe)
                .args(["schedbench", "--store", &args.store])
                .args(["--batch", &args.batch.to_string()])
                .args(["--claim-as", &format!("bench-{}", i + 1)])
                .stdout(std::process::Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut total = 0u64;
    for child in children {
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        total += text
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} process(es): {total} attempts claimed, dialled-checked and finished in {secs:.1} s = {:.0} claims/s",
        args.processes,
        total as f64 / secs
    );
    Ok(())
}

async fn open(url: &str) -> Result<Store, CliError> {
    let options = StoreOptions::default();
    Ok(Store::open_with(url, options).await?)
}

/// The benchmark writes its own patients: it wants an empty store.
async fn store_reset(store: &Store) -> Result<(), CliError> {
    if store.schedule_patients().await?.is_empty() {
        Ok(())
    } else {
        Err(CliError::Usage(
            "schedbench needs an empty store (a new database or schema)",
        ))
    }
}

/// One claimer process: works the slot until nothing is due, then prints
/// `<node> <attempts> <seconds> <cpu ms per 1000>`.
async fn claim(
    args: &Args,
    node: &str,
    schedule: &ScheduleConfig,
    now: SystemTime,
) -> Result<(), CliError> {
    let store = open(&args.store).await?;
    let pacer = Pacer::new(schedule.clone());
    let lease = Duration::from_secs(600);
    let cpu0 = cpu_time();
    let t = Instant::now();
    let mut done = 0u64;
    let mut finishes = tokio::task::JoinSet::new();
    loop {
        let claims = store
            .claim_due_attempts(node, now, lease, args.batch)
            .await?;
        if claims.is_empty() {
            break;
        }
        for claim in claims {
            let Some(patient) = store.patient_state(claim.attempt.patient).await? else {
                continue;
            };
            let mut state = pacer.claimed_state(&claim.attempt);
            let view = PatientNow {
                settings: &patient.settings,
                last_complete_report: patient.last_complete_report,
                number_blocked: patient.number_blocked,
            };
            if pacer.may_dial(&state, &view, now) != DialCheck::Dial {
                continue;
            }
            state.start(now);
            let step = pacer.after_attempt(&state, AttemptOutcome::Completed, now);
            let next = pacer.next_attempt(&claim.attempt, step);
            // As in `serve`, where each call's task ends its own attempt, finishes run
            // concurrently (and PostgreSQL commits them in shared WAL flushes).
            let (store, node) = (store.clone(), node.to_string());
            finishes.spawn(async move {
                let completed = (AttemptOutcome::Completed, None);
                store
                    .finish_attempt_then(claim.id, &node, completed, next.as_ref(), now)
                    .await
            });
        }
        // As in `serve`, where calls end while the scheduler claims more, a batch's finishes
        // overlap the next claim: at most one batch of them is outstanding.
        while finishes.len() > args.batch as usize {
            done += join_one(&mut finishes).await?;
        }
    }
    while !finishes.is_empty() {
        done += join_one(&mut finishes).await?;
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_time().saturating_sub(cpu0);
    let per_1000 = if done == 0 {
        0.0
    } else {
        cpu.as_secs_f64() * 1e3 * 1000.0 / done as f64
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{node} {done} attempts in {secs:.1} s, scheduler CPU {per_1000:.0} ms per 1,000 attempts"
    )?;
    Ok(())
}

/// Waits for one of `finishes`; 1 when it ended an attempt (0 for an empty set).
async fn join_one(
    finishes: &mut tokio::task::JoinSet<Result<bool, carecall::store::StoreError>>,
) -> Result<u64, CliError> {
    match finishes.join_next().await {
        Some(finished) => {
            finished.map_err(std::io::Error::other)??;
            Ok(1)
        }
        None => Ok(0),
    }
}

/// This process's CPU time (user + system) from /proc (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the name; the
    // Linux ABI fixes USER_HZ at 100.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// `--patients` rows for `patients import`, all called at 09:00; every 7th is high priority.
fn synthetic_csv(n: usize) -> String {
    let mut csv = String::from("hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n");
    for i in 0..n {
        let risk = if i % 7 == 0 { "age65;diabetes" } else { "" };
        csv.push_str(&format!(
            "{},Bench Patient,1970-01-01,09{:09},ja,09:00,2026-11-01,2026-12-31,true,Bench,{risk}\n",
            10_000_000 + i,
            i
        ));
    }
    csv
}
