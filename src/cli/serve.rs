//! `carecall serve` and `carecall demo`.

use std::sync::Arc;
use std::time::Duration;

use carecall::call::{CallFlow, ProbeFlow, PromptRef};
use carecall::config::Config;
use carecall::lang::Language;
use carecall::media::PromptSet;
use carecall::runtime::{Engine, FlowFactory};

use super::CliError;

/// Runs the engine until SIGINT or SIGTERM, then drains calls.
pub fn run(config: Config) -> Result<(), CliError> {
    let prompts = load_prompts(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("carecall")
        .build()?;
    runtime.block_on(async move {
        let engine = Engine::start(config, prompts, probe_flows()).await?;
        tracing::info!(sip = %engine.sip_addr(), "carecall ready");
        carecall::runtime::notify_ready();
        wait_for_stop().await;
        tracing::info!(active = engine.active_calls(), "stopping: draining calls");
        engine.shutdown().await;
        Ok(())
    })
}

/// `carecall demo`: the engine with demo settings, and how to call it.
pub fn demo(config: Config) -> Result<(), CliError> {
    println!(
        "carecall demo: Health Call line at sip:healthcall@{} (UDP and TCP).\n\
         Call it from this machine, for example with SIPp:\n  \
         python3 tests/peers/dtmf_pcap.py -o /tmp/hc.pcap --schedule \"3:1,6:12345678#,10:0415\"\n  \
         sipp {} -sf tests/peers/sipp/health_call.xml -s healthcall -i 127.0.0.1 -p 4060 \\\n       \
         -mi 127.0.0.1 -mp 6000 -key dtmf_pcap /tmp/hc.pcap -m 1\n\
         Stop with Ctrl-C.",
        config.sip.listen, config.sip.listen
    );
    run(config)
}

fn load_prompts(config: &Config) -> Result<PromptSet, CliError> {
    let started = std::time::Instant::now();
    let prompts = PromptSet::load(&config.prompts_dir, &[] as &[&str])?;
    tracing::info!(
        prompts = prompts.len(),
        ms = started.elapsed().as_millis() as u64,
        "prompts loaded"
    );
    Ok(prompts)
}

/// Until the dialplan engine is wired in, calls run the probe flow.
fn probe_flows() -> FlowFactory {
    Arc::new(|_direction| {
        let welcome = PromptRef {
            lang: Language::Ja,
            id: "hc_welcome".into(),
        };
        Box::new(ProbeFlow::new(vec![welcome], Duration::from_secs(60))) as Box<dyn CallFlow>
    })
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
