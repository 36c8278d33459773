//! The file as written: serde structs with defaults, then `validate` into checked types.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use serde::Deserialize;

use super::problem::Problem;
use super::read::Reader;
use super::{IpNet, TrunkConfig};

mod validate;

/// What happens to a request from an address outside every trunk's allowed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownSource {
    /// Answer 403 Forbidden (default: the peer learns it is not welcome).
    Reject,
    /// Drop silently (gives scanners nothing).
    Drop,
}

/// Transport to a trunk's proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// SIP over UDP (default).
    Udp,
    /// SIP over TCP.
    Tcp,
}

/// The whole file as written, section by section (see [`RawConfig::read`]).
#[derive(Default)]
pub(super) struct RawConfig {
    pub sip: RawSip,
    pub rtp: RawRtp,
    pub calls: RawCalls,
    pub store: RawStore,
    pub http: RawHttp,
    pub prompts: RawDir,
    pub dialplans: RawDir,
    pub health_call: RawHealthCall,
    pub flags: RawFlags,
    pub schedule: crate::schedule::RawSchedule,
    pub alert: RawAlert,
    pub trunk: Option<Vec<RawTrunk>>,
}

impl RawConfig {
    /// Every section of `table`, with every unknown key or section and every value of the
    /// wrong type recorded (and left out: its default is used).
    pub fn read(table: toml::Table) -> (RawConfig, Vec<Problem>) {
        let mut r = Reader::new(table);
        let raw = RawConfig {
            sip: r.section("sip"),
            rtp: r.section("rtp"),
            calls: r.section("calls"),
            store: r.section("store"),
            http: r.section("http"),
            prompts: r.section("prompts"),
            dialplans: r.section("dialplans"),
            health_call: r.section("health_call"),
            flags: r.section("flags"),
            schedule: r.section("schedule"),
            alert: r.section("alert"),
            trunk: r.array("trunk"),
        };
        (raw, r.finish())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawHealthCall {
    lock_after_failed_calls: u32,
    lock_window_hours: u64,
}

impl Default for RawHealthCall {
    fn default() -> Self {
        RawHealthCall {
            lock_after_failed_calls: 5,
            lock_window_hours: 336,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawFlags {
    fever_celsius: f64,
    spo2_with_breathlessness_below: u8,
    spo2_at_or_below: u8,
}

impl Default for RawFlags {
    fn default() -> Self {
        RawFlags {
            fever_celsius: 37.5,
            spo2_with_breathlessness_below: 96,
            spo2_at_or_below: 93,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawAlert {
    webhook_url: Option<String>,
    timeout_ms: u64,
    max_attempts: u32,
    first_retry_ms: u64,
    token_env: Option<String>,
}

impl Default for RawAlert {
    fn default() -> Self {
        RawAlert {
            webhook_url: None,
            timeout_ms: 5000,
            max_attempts: 12,
            first_retry_ms: 1000,
            token_env: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawSip {
    listen: SocketAddr,
    public_address: Option<IpAddr>,
    unknown_source: UnknownSource,
    tcp_max_connections: usize,
    tcp_max_per_source: usize,
    tcp_idle_timeout_ms: u64,
}

impl Default for RawSip {
    fn default() -> Self {
        RawSip {
            listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            public_address: None,
            unknown_source: UnknownSource::Reject,
            tcp_max_connections: 4096,
            tcp_max_per_source: 256,
            tcp_idle_timeout_ms: 300_000,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawRtp {
    port_min: u16,
    port_max: u16,
    media_timeout_ms: u64,
    workers: usize,
    io_uring: bool,
    worker_nice: i32,
}

impl Default for RawRtp {
    fn default() -> Self {
        RawRtp {
            port_min: 10000,
            port_max: 29999,
            media_timeout_ms: 30_000,
            workers: 0,
            io_uring: true,
            worker_nice: -10,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawCalls {
    max_concurrent: usize,
    retry_after_s: u64,
    drain_limit_s: u64,
    ring_timeout_ms: u64,
    answer_delay_ms: u64,
    answering_machine_detection: bool,
    attempt_lease_s: u64,
    node_id: Option<String>,
    automatic_calls: bool,
    control_socket: Option<String>,
    threads: usize,
}

impl Default for RawCalls {
    fn default() -> Self {
        RawCalls {
            max_concurrent: 2000,
            retry_after_s: 30,
            drain_limit_s: 120,
            ring_timeout_ms: 45_000,
            answer_delay_ms: 0,
            threads: 1,
            answering_machine_detection: true,
            attempt_lease_s: 600,
            node_id: None,
            automatic_calls: true,
            control_socket: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawStore {
    url: String,
    journal: Option<String>,
    write_timeout_ms: u64,
    journal_retry_ms: u64,
    password_env: Option<String>,
    password_file: Option<String>,
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore {
            url: "sqlite://carecall.db".into(),
            journal: None,
            write_timeout_ms: 2000,
            journal_retry_ms: 5000,
            password_env: None,
            password_file: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawHttp {
    listen: SocketAddr,
    simulator_origins: Vec<String>,
    simulator_max_connections: usize,
    simulator_max_per_source: usize,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            simulator_origins: Vec::new(),
            simulator_max_connections: 64,
            simulator_max_per_source: 8,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawDir {
    dir: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawTrunk {
    name: String,
    proxy: Option<SocketAddr>,
    transport: Transport,
    caller_id: String,
    username: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
    register: bool,
    register_expires_s: u64,
    channels: usize,
    allowed_sources: Option<Vec<IpNet>>,
}

impl Default for RawTrunk {
    fn default() -> Self {
        RawTrunk {
            name: String::new(),
            proxy: None,
            transport: Transport::Udp,
            caller_id: String::new(),
            username: None,
            password: None,
            password_env: None,
            register: false,
            register_expires_s: 3600,
            channels: 30,
            allowed_sources: None,
        }
    }
}

/// A node id unique among the nodes sharing one store: host name and process id.
fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{}", std::process::id())
}

/// The default trunk: a carrier simulator on this machine (SIPp in tests, the demo).
fn loopback_trunk() -> TrunkConfig {
    TrunkConfig {
        name: "local".into(),
        proxy: SocketAddr::from(([127, 0, 0, 1], 5070)),
        transport: Transport::Udp,
        caller_id: "0300000000".into(),
        credentials: None,
        register_expires: None,
        channels: 30,
        allowed_sources: ["127.0.0.0/8", "::1"]
            .iter()
            .filter_map(|s| IpNet::parse(s))
            .collect(),
    }
}

/// `[store] journal`, or by default the SQLite file's name plus `.journal` (beside it, where
/// the service may write), or `carecall.journal` for PostgreSQL. A relative path is relative
/// to the working directory, like the SQLite file.
fn journal_path(store: &RawStore) -> std::path::PathBuf {
    if let Some(path) = &store.journal {
        return std::path::PathBuf::from(path);
    }
    let file = store
        .url
        .strip_prefix("sqlite://")
        .or_else(|| store.url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|f| !f.is_empty() && !f.starts_with(":memory:"));
    match file {
        Some(file) => std::path::PathBuf::from(format!("{file}.journal")),
        None => std::path::PathBuf::from("carecall.journal"),
    }
}

/// `[calls] control_socket`, or by default beside the journal, named like it with `.ctl`
/// for `.journal`: the SQLite file's name plus `.ctl`, or `carecall.ctl` for PostgreSQL (a
/// node given its own journal gets its own socket too).
fn control_socket_path(calls: &RawCalls, store: &RawStore) -> std::path::PathBuf {
    if let Some(path) = &calls.control_socket {
        return std::path::PathBuf::from(path);
    }
    let journal = journal_path(store).to_string_lossy().into_owned();
    let base = journal.strip_suffix(".journal").unwrap_or(&journal);
    std::path::PathBuf::from(format!("{base}.ctl"))
}

fn resolve(base: &Path, dir: &str) -> std::path::PathBuf {
    let p = Path::new(dir);
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}
