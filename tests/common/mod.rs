//! Shared test harness: an in-process engine on ephemeral ports, SIPp as the peer, pcaps of
//! DTMF from the peers' generator, and event collection.
#![allow(dead_code)]

pub mod process;
pub mod relay;
pub mod ws;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use carecall::call::{CallFlow, Direction, ProbeFlow, PromptRef};
use carecall::config::Config;
use carecall::lang::Language;
use carecall::media::PromptSet;
use carecall::runtime::{CallEvent, Engine, FlowFactory};
use carecall::sip::outcome::Disposition;
use tokio::sync::broadcast;

/// The crate root (for tests/peers and tests/sipp).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A test configuration: SIP on an ephemeral loopback port, short timeouts, plus `extra`
/// TOML (whole sections) appended.
pub fn config(extra: &str) -> Config {
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:0\"\n\n[rtp]\nport_min = 30000\nport_max = 39999\nmedia_timeout_ms = 5000\nworkers = 1\n\n{extra}"
    );
    Config::parse(&text, Path::new("test.toml")).expect("test config")
}

/// Prompts the tests can recognise: `beep` is 400 ms of 1 kHz, `tone2` 300 ms of 2 kHz, in
/// every language.
pub fn prompts() -> PromptSet {
    let beep: Vec<i16> = tone(1000.0, 0.4, 8000.0);
    let tone2: Vec<i16> = tone(2000.0, 0.3, 8000.0);
    let mut entries = Vec::new();
    for lang in Language::ALL {
        entries.push((lang, "beep", beep.clone()));
        entries.push((lang, "tone2", tone2.clone()));
    }
    PromptSet::from_linear(entries)
}

/// A sine at `freq` Hz, `secs` long, at −10 dBFS.
pub fn tone(freq: f64, secs: f64, rate: f64) -> Vec<i16> {
    let n = (secs * rate) as usize;
    (0..n)
        .map(|i| (10362.0 * (2.0 * std::f64::consts::PI * freq * i as f64 / rate).sin()) as i16)
        .collect()
}

/// A flow factory running the probe flow (plays `beep` then `tone2`, loops, hangs up after
/// `max`).
pub fn probe(max: Duration) -> FlowFactory {
    Arc::new(move |_d: Direction, _l: Language| {
        let p = |id: &str| PromptRef {
            lang: Language::Ja,
            id: id.into(),
        };
        Box::new(ProbeFlow::new(vec![p("beep"), p("tone2")], max)) as Box<dyn CallFlow>
    })
}

/// A two-thread tokio runtime for a test that drives processes and sockets.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts an engine and subscribes to its events.
pub async fn engine(
    config: Config,
    flows: FlowFactory,
) -> (Engine, broadcast::Receiver<CallEvent>) {
    let engine = Engine::start(config, prompts(), flows, None)
        .await
        .expect("engine starts");
    let events = engine.subscribe();
    (engine, events)
}

/// A free port on loopback, the first of four free ones (UDP, and TCP for the first) that
/// no earlier call in this process returned: SIPp's `-mp PORT` uses PORT to PORT+3 (audio and
/// video RTP and RTCP), so a block of four keeps one test's media off another's SIP port.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = probe.local_addr().unwrap().port() & !3;
        drop(probe);
        if !(1024..65000).contains(&port) {
            continue;
        }
        let free = (port..port + 4).all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok())
            && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        if free && GIVEN.lock().unwrap().insert(port) && reserve_across_processes(port) {
            return port;
        }
    }
}

/// Claims `port`'s block for this test run among every test process on the machine (the test
/// command runs several test binaries at once): a file per block under the temporary folder,
/// created exclusively; a claim older than 20 minutes is from an earlier run and is taken over.
fn reserve_across_processes(port: u16) -> bool {
    let dir = std::env::temp_dir().join("carecall-test-ports");
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(port.to_string());
    let claim = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
            .is_ok()
    };
    if claim() {
        return true;
    }
    let stale = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > Duration::from_secs(20 * 60));
    stale && std::fs::remove_file(&file).is_ok() && claim()
}

/// SIPp's path; the README's test command installs Debian's `sip-tester`.
pub fn sipp_bin() -> &'static str {
    "sipp"
}

/// Runs SIPp to completion (bounded by `limit`) and returns whether every call succeeded
/// (exit status 0), with its output for diagnostics.
pub async fn sipp(args: Vec<String>, limit: Duration) -> (bool, String) {
    let mut cmd = tokio::process::Command::new(sipp_bin());
    cmd.args(&args)
        .arg("-nostdin")
        .arg("-timeout")
        .arg(format!("{}s", limit.as_secs().max(1)))
        .arg("-timeout_error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .expect("sipp is installed (apt-get install sip-tester)");
    let out = tokio::time::timeout(limit + Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("sipp finished in time")
        .expect("sipp ran");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Arguments for a SIPp UAC calling `target` with scenario `scenario` (path relative to the
/// crate root).
pub fn uac(target: SocketAddr, scenario: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        target.to_string(),
        "-sf".into(),
        root().join(scenario).display().to_string(),
        "-s".into(),
        "healthcall".into(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        free_port().to_string(),
        "-mi".into(),
        "127.0.0.1".into(),
        "-mp".into(),
        free_port().to_string(),
        "-m".into(),
        "1".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Arguments for a SIPp UAS (a patient's phone) on `port` with `scenario`.
pub fn uas(port: u16, scenario: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "-sf".into(),
        root().join(scenario).display().to_string(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-mi".into(),
        "127.0.0.1".into(),
        "-mp".into(),
        free_port().to_string(),
        "-m".into(),
        "1".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Writes a DTMF pcap with the peers' generator; `args` go to `dtmf_pcap.py`.
pub fn dtmf_pcap(name: &str, args: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("carecall-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join(format!("{name}.pcap"));
    let status = std::process::Command::new("python3")
        .arg(root().join("tests/peers/dtmf_pcap.py"))
        .arg("-o")
        .arg(&out)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "dtmf_pcap.py {args:?}");
    out
}

/// A Health Call from SIPp (`tests/peers/sipp/health_call.xml`) to `target`, with RFC 4733
/// digits at `schedule` (dtmf_pcap.py syntax); the caller hangs up after `max_ms` unless the
/// engine ends the call first, and SIPp is stopped after `limit`. Each call comes from its own
/// number (made from `name`), so one test's failures do not slow another's calls down; the
/// scenario copy and the pcap are written in `dir`. Returns SIPp's (success, output).
pub async fn health_call_rfc4733(
    target: SocketAddr,
    dir: &Path,
    name: &str,
    schedule: &str,
    max_ms: u64,
    limit: Duration,
) -> (bool, String) {
    let pcap = dtmf_pcap(name, &["--schedule", schedule]);
    let pcap = pcap.display().to_string();
    let max = max_ms.to_string();
    let caller = format!(
        "090{:08}",
        name.bytes().map(u64::from).sum::<u64>() * 7919 % 100_000_000
    );
    let scenario = std::fs::read_to_string(root().join("tests/peers/sipp/health_call.xml"))
        .unwrap()
        .replace("sip:patient@", &format!("sip:{caller}@"));
    let path = dir.join(format!("{name}.xml"));
    std::fs::write(&path, scenario).unwrap();
    let mut args = uac(
        target,
        "tests/peers/sipp/health_call.xml",
        &["-key", "dtmf_pcap", &pcap, "-set", "max_call_ms", &max],
    );
    let at = args.iter().position(|a| a == "-sf").unwrap();
    args[at + 1] = path.display().to_string();
    sipp(args, limit).await
}

/// A Health Call's keys for [`health_call_rfc4733`]: the language menu, the HER-SYS ID, the
/// birthday, then the answers two seconds apart (keys interrupt prompts).
pub fn schedule(menu: &str, id: &str, mmdd: &str, answers: &[&str]) -> String {
    let mut parts = vec![
        format!("3:{menu}"),
        format!("7:{id}#"),
        format!("11:{mmdd}"),
    ];
    let mut t = 16;
    for a in answers {
        parts.push(format!("{t}:{a}"));
        t += if a.len() > 1 { 4 } else { 2 };
    }
    parts.join(",")
}

/// What one call did, collected from the event stream.
#[derive(Debug, Default, Clone)]
pub struct CallLog {
    pub call: u64,
    pub answered: bool,
    pub digits: String,
    pub methods: Vec<&'static str>,
    pub ended: Option<(Disposition, u16)>,
}

/// Collects events until `n` calls have ended (or `limit` passes), per call in start order.
pub async fn collect(
    events: &mut broadcast::Receiver<CallEvent>,
    n: usize,
    limit: Duration,
) -> Vec<CallLog> {
    let mut calls: Vec<CallLog> = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let ended = |calls: &Vec<CallLog>| calls.iter().filter(|c| c.ended.is_some()).count();
    while ended(&calls) < n {
        let Ok(Ok(event)) = tokio::time::timeout_at(deadline, events.recv()).await else {
            break;
        };
        let find = |calls: &mut Vec<CallLog>, id: u64| -> usize {
            match calls.iter().position(|c| c.call == id) {
                Some(i) => i,
                None => {
                    calls.push(CallLog {
                        call: id,
                        ..Default::default()
                    });
                    calls.len() - 1
                }
            }
        };
        match event {
            CallEvent::Started { call, .. } => {
                find(&mut calls, call);
            }
            CallEvent::Answered { call } => {
                let i = find(&mut calls, call);
                calls[i].answered = true;
            }
            CallEvent::Digit { call, digit } => {
                let i = find(&mut calls, call);
                calls[i].digits.push(digit.digit.to_char());
                calls[i].methods.push(digit.method.label());
            }
            CallEvent::Ended {
                call,
                disposition,
                sip_status,
            } => {
                let i = find(&mut calls, call);
                calls[i].ended = Some((disposition, sip_status));
            }
        }
    }
    calls
}
