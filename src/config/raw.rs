//! The file as written: serde structs with defaults, then `validate` into checked types.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::{AlertConfig, CallsConfig, Config, IpNet, RtpConfig, SipConfig, TrunkConfig};

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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawConfig {
    sip: RawSip,
    rtp: RawRtp,
    calls: RawCalls,
    store: RawStore,
    http: RawHttp,
    prompts: RawDir,
    dialplans: RawDir,
    health_call: RawHealthCall,
    flags: RawFlags,
    schedule: crate::schedule::RawSchedule,
    alert: RawAlert,
    trunk: Option<Vec<RawTrunk>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawHealthCall {
    lock_after_failed_calls: u32,
    lock_window_hours: u64,
}

impl Default for RawHealthCall {
    fn default() -> Self {
        RawHealthCall {
            lock_after_failed_calls: 5,
            lock_window_hours: 24,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFlags {
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
struct RawAlert {
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

impl RawAlert {
    fn validate(&self) -> Result<AlertConfig, Problem> {
        let at = |key: &str, reason: String| Problem::new("alert", None, key, reason);
        let webhook = match &self.webhook_url {
            Some(text) => Some(
                crate::alert::WebhookUrl::parse(text)
                    .map_err(|e| at("webhook_url", e.to_string()))?,
            ),
            None => None,
        };
        if !(100..=60_000).contains(&self.timeout_ms) {
            return Err(at("timeout_ms", "must be within 100..=60000".into()));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(at("max_attempts", "must be within 1..=100".into()));
        }
        if !(10..=300_000).contains(&self.first_retry_ms) {
            return Err(at("first_retry_ms", "must be within 10..=300000".into()));
        }
        let token = match &self.token_env {
            Some(var) => {
                let token = std::env::var(var).unwrap_or_default();
                if token.is_empty() {
                    let reason = format!("environment variable {var} is not set");
                    return Err(at("token_env", reason));
                }
                if !token.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                    let reason = format!(
                        "environment variable {var} holds characters a header cannot carry"
                    );
                    return Err(at("token_env", reason));
                }
                Some(crate::pii::Redacted::new(token))
            }
            None => None,
        };
        Ok(AlertConfig {
            webhook,
            token,
            timeout: Duration::from_millis(self.timeout_ms),
            max_attempts: self.max_attempts,
            first_retry: Duration::from_millis(self.first_retry_ms),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSip {
    listen: SocketAddr,
    public_address: Option<IpAddr>,
    unknown_source: UnknownSource,
}

impl Default for RawSip {
    fn default() -> Self {
        RawSip {
            listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            public_address: None,
            unknown_source: UnknownSource::Reject,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRtp {
    port_min: u16,
    port_max: u16,
    media_timeout_ms: u64,
    workers: usize,
}

impl Default for RawRtp {
    fn default() -> Self {
        RawRtp {
            port_min: 20000,
            port_max: 39999,
            media_timeout_ms: 30_000,
            workers: 0,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawCalls {
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
}

impl Default for RawCalls {
    fn default() -> Self {
        RawCalls {
            max_concurrent: 2000,
            retry_after_s: 30,
            drain_limit_s: 120,
            ring_timeout_ms: 45_000,
            answer_delay_ms: 0,
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
struct RawStore {
    url: String,
    journal: Option<String>,
    write_timeout_ms: u64,
    journal_retry_ms: u64,
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore {
            url: "sqlite://carecall.db".into(),
            journal: None,
            write_timeout_ms: 2000,
            journal_retry_ms: 5000,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawHttp {
    listen: SocketAddr,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawDir {
    dir: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrunk {
    name: String,
    proxy: SocketAddr,
    #[serde(default = "default_transport")]
    transport: Transport,
    #[serde(default)]
    caller_id: String,
    username: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
    #[serde(default)]
    register: bool,
    #[serde(default = "default_register_expires")]
    register_expires_s: u64,
    #[serde(default = "default_channels")]
    channels: usize,
    allowed_sources: Option<Vec<IpNet>>,
}

fn default_transport() -> Transport {
    Transport::Udp
}
fn default_register_expires() -> u64 {
    3600
}
fn default_channels() -> usize {
    30
}

/// A semantic error before it learns its line.
pub(super) struct Problem {
    pub section: String,
    pub index: Option<usize>,
    pub key: String,
    pub reason: String,
}

impl Problem {
    fn new(section: &str, index: Option<usize>, key: &str, reason: impl Into<String>) -> Self {
        Problem {
            section: section.into(),
            index,
            key: key.into(),
            reason: reason.into(),
        }
    }

    pub fn field(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{i}].{}", self.section, self.key),
            None => format!("{}.{}", self.section, self.key),
        }
    }
}

impl RawConfig {
    pub(super) fn validate(&self, base: &Path) -> Result<Config, Problem> {
        let rtp = &self.rtp;
        if rtp.port_min > rtp.port_max || rtp.port_max - rtp.port_min < 1 {
            let reason = format!(
                "port range {}..{} holds no RTP port pair",
                rtp.port_min, rtp.port_max
            );
            return Err(Problem::new("rtp", None, "port_min", reason));
        }
        if rtp.media_timeout_ms < 1000 {
            return Err(Problem::new(
                "rtp",
                None,
                "media_timeout_ms",
                "must be at least 1000",
            ));
        }
        if self.calls.max_concurrent == 0 {
            return Err(Problem::new(
                "calls",
                None,
                "max_concurrent",
                "must be at least 1",
            ));
        }
        if self.calls.attempt_lease_s < 10 {
            return Err(Problem::new(
                "calls",
                None,
                "attempt_lease_s",
                "must be at least 10",
            ));
        }
        if let Some(id) = &self.calls.node_id {
            if id.is_empty() || id.len() > 64 || id.chars().any(|c| c.is_whitespace()) {
                return Err(Problem::new(
                    "calls",
                    None,
                    "node_id",
                    "must be 1 to 64 characters without spaces",
                ));
            }
        }
        let schedule = self.schedule.validate().map_err(|e| {
            let field = e.field();
            let key = field.trim_start_matches("schedule.").to_owned();
            Problem::new("schedule", None, &key, e.to_string())
        })?;
        let store = self.store.url.as_str();
        if !(store.starts_with("sqlite:") || store.starts_with("postgres:")) {
            let reason = format!("{store:?} is neither sqlite://… nor postgres://…");
            return Err(Problem::new("store", None, "url", reason));
        }
        for (key, ms) in [
            ("write_timeout_ms", self.store.write_timeout_ms),
            ("journal_retry_ms", self.store.journal_retry_ms),
        ] {
            if ms == 0 {
                return Err(Problem::new("store", None, key, "must be at least 1"));
            }
        }
        if self
            .store
            .journal
            .as_deref()
            .is_some_and(|j| j.trim().is_empty())
        {
            return Err(Problem::new("store", None, "journal", "names no file"));
        }
        let hc = &self.health_call;
        if hc.lock_after_failed_calls == 0 {
            return Err(Problem::new(
                "health_call",
                None,
                "lock_after_failed_calls",
                "must be at least 1",
            ));
        }
        if hc.lock_window_hours == 0 {
            return Err(Problem::new(
                "health_call",
                None,
                "lock_window_hours",
                "must be at least 1",
            ));
        }
        let f = &self.flags;
        if !(34.0..=42.9).contains(&f.fever_celsius) {
            return Err(Problem::new(
                "flags",
                None,
                "fever_celsius",
                "must be within 34.0..=42.9",
            ));
        }
        for (key, v) in [
            (
                "spo2_with_breathlessness_below",
                f.spo2_with_breathlessness_below,
            ),
            ("spo2_at_or_below", f.spo2_at_or_below),
        ] {
            if !(50..=100).contains(&v) {
                return Err(Problem::new("flags", None, key, "must be within 50..=100"));
            }
        }
        let store_options = crate::store::StoreOptions {
            lock_after_failed_calls: hc.lock_after_failed_calls,
            lock_window: Duration::from_secs(hc.lock_window_hours * 3600),
            flag_rules: crate::report::FlagRules {
                fever_tenths: (f.fever_celsius * 10.0).round() as u16,
                spo2_with_breathlessness_below: f.spo2_with_breathlessness_below,
                spo2_at_or_below: f.spo2_at_or_below,
                ..Default::default()
            },
            call_times: schedule.call_time_choices(),
        };
        let workers = match rtp.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Ok(Config {
            sip: SipConfig {
                listen: self.sip.listen,
                public_ip: self.sip.public_address.unwrap_or(self.sip.listen.ip()),
                unknown_source: self.sip.unknown_source,
            },
            rtp: RtpConfig {
                port_min: rtp.port_min,
                port_max: rtp.port_max,
                media_timeout: Duration::from_millis(rtp.media_timeout_ms),
                workers,
            },
            calls: CallsConfig {
                max_concurrent: self.calls.max_concurrent,
                retry_after: Duration::from_secs(self.calls.retry_after_s),
                drain_limit: Duration::from_secs(self.calls.drain_limit_s),
                ring_timeout: Duration::from_millis(self.calls.ring_timeout_ms),
                answer_delay: Duration::from_millis(self.calls.answer_delay_ms),
                answering_machine_detection: self.calls.answering_machine_detection,
                attempt_lease: Duration::from_secs(self.calls.attempt_lease_s),
                node_id: self.calls.node_id.clone().unwrap_or_else(default_node_id),
                automatic_calls: self.calls.automatic_calls,
                control_socket: control_socket_path(&self.calls, &self.store),
            },
            schedule,
            store_url: self.store.url.clone(),
            journal: crate::config::JournalConfig {
                path: journal_path(&self.store),
                write_timeout: Duration::from_millis(self.store.write_timeout_ms),
                retry: Duration::from_millis(self.store.journal_retry_ms),
            },
            store_options,
            http_listen: self.http.listen,
            prompts_dir: resolve(base, self.prompts.dir.as_deref().unwrap_or("prompts")),
            dialplans_dir: resolve(base, self.dialplans.dir.as_deref().unwrap_or("dialplans")),
            trunks: self.trunks()?,
            alert: self.alert.validate()?,
        })
    }

    fn trunks(&self) -> Result<Vec<TrunkConfig>, Problem> {
        let Some(raw) = &self.trunk else {
            return Ok(vec![loopback_trunk()]);
        };
        let mut out: Vec<TrunkConfig> = Vec::with_capacity(raw.len());
        for (i, t) in raw.iter().enumerate() {
            let at = |key: &str, reason: String| Problem::new("trunk", Some(i), key, reason);
            if t.name.is_empty() {
                return Err(at("name", "must not be empty".into()));
            }
            if out.iter().any(|o| o.name == t.name) {
                return Err(at("name", format!("duplicate trunk name {:?}", t.name)));
            }
            if t.channels == 0 {
                return Err(at("channels", "must be at least 1".into()));
            }
            let password = match (&t.password, &t.password_env) {
                (Some(p), None) => Some(p.clone()),
                (None, Some(var)) => Some(std::env::var(var).map_err(|_| {
                    at(
                        "password_env",
                        format!("environment variable {var} is not set"),
                    )
                })?),
                (None, None) => None,
                (Some(_), Some(_)) => {
                    return Err(at(
                        "password_env",
                        "give password or password_env, not both".into(),
                    ))
                }
            };
            let credentials = match (&t.username, password) {
                (Some(u), Some(p)) => Some((u.clone(), p)),
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(at("username", "a password needs a username".into()))
                }
                (Some(_), None) => {
                    return Err(at("password", "a username needs a password".into()))
                }
            };
            out.push(TrunkConfig {
                name: t.name.clone(),
                proxy: t.proxy,
                transport: t.transport,
                caller_id: t.caller_id.clone(),
                credentials,
                register_expires: t
                    .register
                    .then(|| Duration::from_secs(t.register_expires_s)),
                channels: t.channels,
                allowed_sources: t.allowed_sources.clone().unwrap_or_else(|| {
                    IpNet::parse(&t.proxy.ip().to_string())
                        .into_iter()
                        .collect()
                }),
            });
        }
        Ok(out)
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

/// The 1-based line of `key` in `[section]` (the `index`-th `[[section]]` for arrays), or of
/// the section header when the key is absent; 0 when neither is written.
pub(super) fn locate(text: &str, section: &str, index: Option<usize>, key: &str) -> usize {
    let header = match index {
        Some(_) => format!("[[{section}]]"),
        None => format!("[{section}]"),
    };
    let mut seen = 0usize;
    let mut in_section = false;
    let mut header_line = 0;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_section = trimmed == header && index.is_none_or(|i| i == seen);
            if trimmed == header {
                if in_section {
                    header_line = n + 1;
                }
                seen += 1;
            }
            continue;
        }
        if in_section {
            let name = trimmed.split('=').next().unwrap_or("").trim();
            if name == key.split(['[', '.']).next().unwrap_or(key) {
                return n + 1;
            }
        }
    }
    header_line
}
