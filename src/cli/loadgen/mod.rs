//! `carecall loadgen`: the engine's benchmark with a light generator beside it (SIPp
//! saturates near 1,000 calls on this machine; `scripts/bench_sipp.sh` is the SIPp one).
//!
//! It starts an engine in this process as `serve` runs it (tokio runtime named `carecall`,
//! media workers, RTP ports 10000–19999) and a generator thread ([`generator`]) that keeps
//! `--calls` calls up over loopback UDP. With `--flow health-call` (the default) every call is
//! a whole Health Call of the real dialplan on a real SQLite store: the caller chooses
//! Japanese, keys a patient's HER-SYS ID and birthday, answers the temperature and SpO2 (each
//! confirmed) and two questions, and hangs up with BYE after `--call-seconds`; the generator
//! then places a new call, so the calls up stay constant while call set-up, identification,
//! the answers' writes, call records and teardown all happen in the measured window. With
//! `--flow probe` each call plays a prompt in a loop and gets a digit every `--digit-every`
//! seconds (the media-only figure). Printed: engine CPU per concurrent call and per role of
//! thread, send lateness, RSS at the start and end of the window, digits sent and reported,
//! reports and answers stored.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use carecall::call::{CallFlow, ProbeFlow, PromptRef};
use carecall::config::Config;
use carecall::lang::Language;
use carecall::runtime::{Assets, CallEvent, Engine, FlowFactory};
use carecall::store::Store;

use super::CliError;

mod figures;
mod generator;
mod threads;

use figures::{report, Window};
use generator::{Generator, Script, Totals};
use threads::{rss_kib, ThreadCpu};

/// What each generated call does.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// A whole Health Call of the real dialplan, answers stored, BYE from the caller.
    HealthCall,
    /// A prompt in a loop and a digit every few seconds, no store (media only).
    Probe,
}

/// Load generator options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Concurrent calls.
    #[arg(long, default_value_t = 500)]
    calls: usize,
    /// Seconds measured, with all calls up.
    #[arg(long, default_value_t = 30)]
    hold: u64,
    /// New calls per second while ramping up (health calls: at most this, spread over one
    /// call length).
    #[arg(long, default_value_t = 200)]
    rate: u64,
    /// What each call does.
    #[arg(long, value_enum, default_value_t = Flow::HealthCall)]
    flow: Flow,
    /// Seconds from the answer to the caller's BYE (health-call flow).
    #[arg(long, default_value_t = 30)]
    call_seconds: u64,
    /// Seconds between digits on each call (probe flow).
    #[arg(long, default_value_t = 3)]
    digit_every: u64,
    /// Engine media worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// The engine's media, and the generator's, send one `sendto` per frame and read with
    /// `recvfrom` (`[rtp] io_uring = false`), for a side-by-side run against the batched
    /// default.
    #[arg(long)]
    no_io_uring: bool,
    /// The prompts folder (real prompts make the engine do real work).
    #[arg(long, default_value = "prompts")]
    prompts: std::path::PathBuf,
    /// The dialplans folder (health-call flow).
    #[arg(long, default_value = "dialplans")]
    dialplans: std::path::PathBuf,
    /// Print a line every this many seconds of the window (RSS, calls up, engine CPU): the
    /// soak's curve. 0: none.
    #[arg(long, default_value_t = 0)]
    sample_every: u64,
    /// The report store (default: a new SQLite file in a temporary folder).
    #[arg(long)]
    store: Option<String>,
}

/// The keys of the scripted Health Call, seconds after the answer (SIPp's bench uses the same).
const KEYS: [(f64, &str); 9] = [
    (3.0, "1"),
    (7.0, "{id}#"),
    (11.0, "0415"),
    (16.0, "365"),
    (20.0, "1"),
    (22.0, "94#"),
    (26.0, "1"),
    (28.0, "2"),
    (29.0, "2"),
];
const FIRST_ID: u64 = 70_000_000;

/// Runs the benchmark and prints its figures.
pub fn run(args: Args) -> Result<(), CliError> {
    if args.calls == 0 || args.rate == 0 {
        return Err(CliError::Usage("--calls and --rate must be at least 1"));
    }
    if args.flow == Flow::HealthCall && args.call_seconds < 30 {
        return Err(CliError::Usage(
            "--call-seconds must be at least 30 (the scripted call's keys take 29 s)",
        ));
    }
    let dir = std::env::temp_dir().join(format!("carecall-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("carecall.db").display()));
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:0\"\n[rtp]\nport_min = 10000\nport_max = 19999\nworkers = {}\nio_uring = {}\n\
         [calls]\nmax_concurrent = {}\nautomatic_calls = false\n[store]\nurl = {store:?}\n\
         [prompts]\ndir = {:?}\n[dialplans]\ndir = {:?}\n",
        args.workers,
        !args.no_io_uring,
        args.calls * 2 + 10,
        args.prompts.display().to_string(),
        args.dialplans.display().to_string(),
    );
    let config = Config::parse(&text, std::path::Path::new("<loadgen>"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.calls.threads)
        .thread_name("carecall")
        .enable_all()
        .build()?;
    let result = runtime.block_on(bench(args, config));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench(args: Args, config: Config) -> Result<(), CliError> {
    let started = carecall::clock::wall_now();
    let (flows, prompts, store, script) = match args.flow {
        Flow::Probe => {
            let prompts = carecall::media::PromptSet::load(&args.prompts, &[] as &[&str])?;
            let script = Script::KeyEvery(Duration::from_secs(args.digit_every.max(1)));
            (probe_flows(), prompts, None, script)
        }
        Flow::HealthCall => {
            let assets = Assets::load(&config)?;
            let flows = assets.dialplan_flows()?;
            let store = super::open_store(&config).await?;
            let patients = import_patients(&store, &config, args.calls).await?;
            (
                flows,
                assets.prompts,
                Some(store),
                health_call_script(&args, patients),
            )
        }
    };
    let engine = Engine::start(config, prompts, flows, store.clone()).await?;
    let digits_seen = count_digits(&engine);
    let stop = Arc::new(AtomicBool::new(false));
    let totals = Arc::new(Totals::default());
    let generator = Generator::new(engine.sip_addr(), totals.clone(), script, !args.no_io_uring)?;
    // Health calls arrive spread over one call length, so that from then on calls start
    // and end all the time (at most `--rate` a second).
    let rate = match args.flow {
        Flow::Probe => args.rate,
        Flow::HealthCall => (args.calls as u64 / args.call_seconds).clamp(1, args.rate),
    };
    let ua = {
        let (stop, calls) = (stop.clone(), args.calls);
        std::thread::Builder::new()
            .name("loadgen".into())
            .spawn(move || generator.run(calls, rate, &stop))?
    };
    let ramp = Duration::from_millis(1000 * args.calls as u64 / rate);
    tokio::time::sleep(ramp + Duration::from_secs(2)).await;
    let window = Window::open(&engine, &totals, &digits_seen);
    hold(&args, &engine).await;
    let figures = window.close(&engine, &totals, &digits_seen);
    stop.store(true, Ordering::SeqCst);
    let _ = ua.join();
    tokio::time::sleep(Duration::from_secs(1)).await;
    engine.shutdown().await;
    let stored = match &store {
        Some(store) => Some(stored_since(store, started).await?),
        None => None,
    };
    report(&args, &figures, &totals, &digits_seen, stored);
    Ok(())
}

/// Waits out the measured window, printing a sample line every `--sample-every` seconds.
async fn hold(args: &Args, engine: &Engine) {
    let end = Instant::now() + Duration::from_secs(args.hold);
    if args.sample_every == 0 {
        tokio::time::sleep_until(end.into()).await;
        return;
    }
    let every = Duration::from_secs(args.sample_every);
    let (start, mut cpu) = (Instant::now(), ThreadCpu::sample());
    while Instant::now() + every <= end {
        tokio::time::sleep(every).await;
        let now = ThreadCpu::sample();
        let used = now.since(&cpu).engine();
        cpu = now;
        println!(
            "sample at {:>5} s: RSS {:.1} MiB, calls up {}, engine CPU {:.1} % of one core",
            start.elapsed().as_secs(),
            rss_kib() as f64 / 1024.0,
            engine.active_calls(),
            100.0 * used / every.as_secs_f64()
        );
    }
    tokio::time::sleep_until(end.into()).await;
}

fn probe_flows() -> FlowFactory {
    Arc::new(|_, _| {
        let p = PromptRef {
            lang: Language::Ja,
            id: "closing".into(),
        };
        Box::new(ProbeFlow::new(vec![p], Duration::from_secs(3600))) as Box<dyn CallFlow>
    })
}

fn health_call_script(args: &Args, patients: u64) -> Script {
    let keys = Arc::new(move |n: u64| {
        let id = (FIRST_ID + n % patients).to_string();
        let mut keys = Vec::new();
        for (at, group) in KEYS {
            let group = group.replace("{id}", &id);
            for (i, key) in group.chars().enumerate() {
                keys.push((Duration::from_secs_f64(at + 0.4 * i as f64), key));
            }
        }
        keys
    });
    Script::Calls {
        keys,
        length: Duration::from_secs(args.call_seconds),
    }
}

/// Keys each scripted call sends.
pub(super) fn keys_per_call() -> u64 {
    KEYS.iter()
        .map(|(_, g)| g.replace("{id}", "00000000").len() as u64)
        .sum()
}

/// Imports `n` fictional patients (IDs from 70000000, birthday 04-15) whose observation
/// period covers today; returns how many.
async fn import_patients(store: &Store, config: &Config, n: usize) -> Result<u64, CliError> {
    let n = n.clamp(1, 20_000) as u64;
    let today = config.schedule.local(carecall::clock::wall_now()).0;
    let day = |d: i64| carecall::report::Date::from_days_since_epoch(today.days_since_epoch() + d);
    let (Some(from), Some(to)) = (day(-3), day(7)) else {
        return Err(CliError::Usage("today's date is out of range"));
    };
    let mut csv = String::from("hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{},Loadgen Patient {i},1950-04-15,03{:08},ja,09:00,{from},{to},false,Loadgen,\n",
            FIRST_ID + i,
            i
        ));
    }
    store
        .import_patients_csv(csv.as_bytes())
        .await
        .map_err(|e| CliError::Import("loadgen patients".into(), e))?;
    Ok(n)
}

fn count_digits(engine: &Engine) -> Arc<AtomicU64> {
    let seen = Arc::new(AtomicU64::new(0));
    let mut events = engine.subscribe();
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            if let CallEvent::Digit { .. } = e {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    seen
}

/// Reports and answers the store has from this run.
async fn stored_since(store: &Store, since: std::time::SystemTime) -> Result<(u64, u64), CliError> {
    let reports = store.export_reports(Some(since)).await?;
    let answers = reports.iter().map(|r| r.answers.len() as u64).sum();
    Ok((reports.len() as u64, answers))
}
