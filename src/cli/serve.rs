//! `carecall serve` and `carecall demo`.

use std::path::PathBuf;
use std::sync::Arc;

use carecall::config::Config;
use carecall::http::{EngineLinks, HttpServer};
use carecall::runtime::{
    Assets, ControlHandler, ControlRequest, ControlServer, Engine, EngineView, ReloadReport,
};

use super::CliError;

/// Runs the engine until SIGINT or SIGTERM, then drains calls. SIGHUP (and `carecall
/// reload`) loads dialplans, prompts and flag rules again from `path` (`None`: the built-in
/// defaults); the staff API's reports and the flow simulator follow the reloaded rules too.
pub fn run(config: Config, path: Option<PathBuf>) -> Result<(), CliError> {
    let store_kind = match config.store_url.split(':').next() {
        Some("postgres" | "postgresql") => "postgres",
        Some("sqlite") => "sqlite",
        _ => "other",
    };
    let config_source = path.as_ref().map_or_else(
        || "built-in defaults".to_owned(),
        |p| p.display().to_string(),
    );
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        config = %config_source,
        store = store_kind,
        node = %config.calls.node_id,
        "carecall starting"
    );
    let started = std::time::Instant::now();
    let assets = Assets::load(&config)?;
    tracing::info!(
        prompts = assets.prompts.len(),
        dialplans = assets.dialplans.len(),
        ms = started.elapsed().as_millis() as u64,
        "prompts and dialplans loaded"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.calls.threads)
        .enable_all()
        .thread_name("carecall")
        .build()?;
    let flows = assets.dialplan_flows()?;
    let simulator = carecall::simulator::SimContext::new(
        &assets,
        config.store_options.flag_rules.clone(),
        "/api/v1/simulator/audio",
    );
    runtime.block_on(async move {
        let store = super::open_store(&config).await?;
        let http_config = config.clone();
        let running = config.clone();
        let socket = config.calls.control_socket.clone();
        let engine = Engine::start(config, assets.prompts, flows, Some(store.clone())).await?;
        let reload = reloader(engine.view(), path, running);
        let control =
            ControlServer::start(&socket, control_handler(engine.view(), reload.clone()))?;
        // The simulator assesses with the engine's current flag rules, reloads included.
        let rules = engine.view();
        let simulator = simulator.with_flag_rules_from(move || rules.flag_rules());
        let links = EngineLinks {
            events: Some(engine.subscribe()),
            simulator: Some(Arc::new(simulator)),
            alerts: Some(engine.alerts()),
            engine: Some(engine.view()),
        };
        let http = HttpServer::start(http_config, store, links).await?;
        http.set_ready(true);
        tracing::info!(sip = %engine.sip_addr(), http = %http.local_addr(), "carecall ready");
        carecall::runtime::notify_ready();
        wait_for_stop(reload).await;
        tracing::info!(active = engine.active_calls(), "stopping: draining calls");
        http.set_ready(false);
        drop(control);
        engine.shutdown().await;
        http.shutdown().await;
        Ok(())
    })
}

/// Reloads from the configuration file (read again: a broken file is a refused reload) or,
/// without one, from the running configuration's folders.
type Reload = Arc<dyn Fn() -> ReloadReport + Send + Sync>;

fn reloader(engine: EngineView, path: Option<PathBuf>, running: Config) -> Reload {
    Arc::new(move || {
        let config = match &path {
            Some(p) => Config::load(p).map_err(|e| e.to_string()),
            None => Ok(running.clone()),
        };
        engine.reload(config)
    })
}

fn control_handler(view: EngineView, reload: Reload) -> ControlHandler {
    Arc::new(move |request| {
        let body = match request {
            ControlRequest::Calls => serde_json::to_string(&view.live_calls()),
            ControlRequest::Reload => serde_json::to_string(&reload()),
        };
        body.unwrap_or_else(|_| r#"{"error":"answer not serialisable"}"#.to_owned())
    })
}

mod demo;

/// The demo patients (`demo/patients.csv`), imported at a demo start into a store without
/// patients, their observation periods moved to cover today.
const DEMO_PATIENTS: &str = include_str!("../../demo/patients.csv");

/// `carecall demo`: the engine on the embedded store with demo patients and a demo staff
/// account, and how to call it and log in. A restart keeps what is in the store.
pub fn demo(config: Config) -> Result<(), CliError> {
    let today = config.schedule.local(carecall::clock::wall_now()).0;
    let prepared = demo::prepare(&config, DEMO_PATIENTS, today)?;
    if prepared.imported {
        println!("Demo patients imported into the empty store (observation periods moved to cover today, {today}).");
    } else {
        println!("The store already has patients: kept them as they are (demo patients are imported only into a store without patients).");
    }
    println!("Demo patients (HER-SYS ID, birthday MMDD, language): 12345678 0415 ja, 23456789 0702 pt, 34567890 1224 en, 45678901 0308 zh-CN");
    let listen = config.http_listen;
    let host = if listen.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), listen.port())
    } else {
        listen
    };
    println!(
        "Staff page: http://{host}/staff — demo login: {} / {} (fictional demo account, demo only{})",
        demo::DEMO_USER,
        demo::DEMO_PASSWORD,
        if prepared.account_created { "" } else { "; it existed already and was left unchanged" },
    );
    println!(
        "carecall demo: Health Call line at sip:healthcall@{} (UDP and TCP).\n\
         Call it from this machine, for example with SIPp:\n  \
         python3 tests/peers/dtmf_pcap.py -o /tmp/hc.pcap --schedule \"3:1,7:12345678#,11:0415,16:365,20:1,23:#,27:2,29:2,31:2,33:2,35:2,37:2,39:2,41:2,43:2,45:2\"\n  \
         sipp {} -sf tests/peers/sipp/health_call.xml -s healthcall -i 127.0.0.1 -p 4060 \\\n       \
         -mi 127.0.0.1 -mp 6000 -key dtmf_pcap /tmp/hc.pcap -m 1\n\
         Stop with Ctrl-C.",
        config.sip.listen, config.sip.listen
    );
    run(config, None)
}

/// Waits for SIGINT or SIGTERM; each SIGHUP meanwhile reloads (on a blocking thread, calls
/// go on).
async fn wait_for_stop(reload: Reload) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = term.recv() => return,
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading dialplans and prompts");
                let reload = reload.clone();
                let _ = tokio::task::spawn_blocking(move || reload()).await;
            }
        }
    }
}
