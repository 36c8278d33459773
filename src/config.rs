//! Configuration: one TOML file → a validated [`Config`].
//!
//! Every key has a default (see `carecall.sample.toml`), an unknown key is an error naming
//! it, and every error names the file, the line and the field. Secrets may come from the
//! environment (`password_env`). Parse, don't validate: once a [`Config`] exists, its
//! addresses parse, its ranges are ordered and its trunk names are unique.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod lines;
mod problem;
mod raw;
mod read;

pub use problem::{ConfigProblem, ConfigProblems};
pub use raw::{Transport, UnknownSource};

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not TOML at all (nothing further can be checked).
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message, with line and column.
        message: String,
    },
    /// Unknown keys or sections, values of the wrong type, values that make no sense: every
    /// one of the file, one per line.
    #[error("{0}")]
    Invalid(ConfigProblems),
}

impl ConfigError {
    /// Every problem as its own [`ConfigProblem`] (a read or syntax error is one, at line 0
    /// or without a key).
    pub fn problems(&self) -> Vec<ConfigProblem> {
        match self {
            ConfigError::Invalid(p) => p.0.clone(),
            ConfigError::Io { path, source } => vec![ConfigProblem {
                path: path.clone(),
                line: 0,
                section: String::new(),
                index: None,
                key: String::new(),
                message: format!("cannot read: {source}"),
            }],
            ConfigError::Syntax { path, message } => vec![ConfigProblem {
                path: path.clone(),
                line: syntax_line(message),
                section: String::new(),
                index: None,
                key: String::new(),
                message: message.clone(),
            }],
        }
    }
}

/// The line of a TOML parser message (`TOML parse error at line 3, column 1`), else 0.
fn syntax_line(message: &str) -> usize {
    message
        .split("line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Where inbound SIP is answered and what it may do.
#[derive(Debug, Clone)]
pub struct SipConfig {
    /// Address the UDP and TCP listeners bind.
    pub listen: SocketAddr,
    /// Address advertised in Contact and SDP when behind NAT; defaults to `listen`'s IP.
    pub public_ip: IpAddr,
    /// What to do with a request from an address outside every trunk's allowed list.
    pub unknown_source: UnknownSource,
    /// Limits on inbound SIP-over-TCP connections.
    pub tcp: TcpLimits,
}

/// Inbound SIP-over-TCP connections (`[sip] tcp_*`): beyond a limit a new connection is
/// closed at once; a connection that sends no byte for `idle_timeout` is closed.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// Connections open at once from addresses of no trunk, all together
    /// (`tcp_max_connections`, default 4096); a trunk's address has only the per-source limit.
    pub max_connections: usize,
    /// Connections open at once from one IP address (`tcp_max_per_source`, default 256).
    pub max_per_source: usize,
    /// Silence after which a connection is closed (`tcp_idle_timeout_ms`, default 300 s).
    pub idle_timeout: Duration,
}

/// The flow simulator's WebSocket (`[http] simulator_*`).
#[derive(Debug, Clone)]
pub struct SimulatorLimits {
    /// Origins allowed besides the page's own (`simulator_origins`, e.g.
    /// `["https://staff.example.org"]`); a browser from any other origin gets 403.
    pub origins: Vec<String>,
    /// Simulator connections open at once (`simulator_max_connections`, default 64).
    pub max_connections: usize,
    /// Simulator connections open at once from one IP address (default 8).
    pub max_per_source: usize,
}

impl Default for SimulatorLimits {
    fn default() -> Self {
        SimulatorLimits {
            origins: Vec::new(),
            max_connections: 64,
            max_per_source: 8,
        }
    }
}

/// RTP media settings.
#[derive(Debug, Clone)]
pub struct RtpConfig {
    /// First port of the media range (even).
    pub port_min: u16,
    /// Last port of the media range.
    pub port_max: u16,
    /// A call with no incoming RTP for this long is ended with BYE.
    pub media_timeout: Duration,
    /// Media worker threads (each paces its calls from one timer).
    pub workers: usize,
    /// Send each slot's frames in one `io_uring` submission where the kernel allows it
    /// (else, or when false, one `sendto` per frame).
    pub io_uring: bool,
    /// The media worker threads' nice value (`runtime/media/priority.rs`; 0 leaves it).
    pub worker_nice: i32,
}

/// The local journal (`[store] journal`, `write_timeout_ms`, `journal_retry_ms`).
#[derive(Debug, Clone)]
pub struct JournalConfig {
    /// The file (by default beside the SQLite file); a relative path is relative to the
    /// working directory, like the SQLite file.
    pub path: std::path::PathBuf,
    /// How long a call waits for the store before journalling an answer instead.
    pub write_timeout: Duration,
    /// How often a journal with entries is tried against the store again.
    pub retry: Duration,
}

/// Call admission and shutdown.
#[derive(Debug, Clone)]
pub struct CallsConfig {
    /// Concurrent calls beyond which new INVITEs get 503.
    pub max_concurrent: usize,
    /// The Retry-After value sent with 503.
    pub retry_after: Duration,
    /// How long active calls may go on after shutdown starts before they get BYE.
    pub drain_limit: Duration,
    /// How long an outbound call rings before carecall sends CANCEL.
    pub ring_timeout: Duration,
    /// How long an inbound call rings (180) before carecall answers; 0 answers at once.
    pub answer_delay: Duration,
    /// Threads of the runtime that runs SIP, the calls' sessions, the store's requests, the
    /// API and the scheduler (the media has its own `[rtp] workers`).
    pub threads: usize,
    /// Listen to the start of answered outbound calls and hang up on answering machines.
    pub answering_machine_detection: bool,
    /// How long a claimed automatic-call attempt stays this node's before another node may
    /// take it over (renewed while the call lasts).
    pub attempt_lease: Duration,
    /// This node's name in attempt claims (default: host name and process id).
    pub node_id: String,
    /// Place the automatic calls of `[schedule]` (and calls staff ask for) from this node.
    pub automatic_calls: bool,
    /// The local control socket `carecall calls list` and `carecall reload` use (by default
    /// beside the SQLite file: `carecall.db.ctl`; `carecall.ctl` for PostgreSQL).
    pub control_socket: PathBuf,
}

/// A carrier trunk: where outbound calls go and where inbound calls may come from.
#[derive(Debug, Clone)]
pub struct TrunkConfig {
    /// A unique name, used in call records and metrics.
    pub name: String,
    /// The outbound proxy (`host:port`).
    pub proxy: SocketAddr,
    /// The transport to the proxy.
    pub transport: Transport,
    /// The caller ID presented on outbound calls.
    pub caller_id: String,
    /// Digest credentials (user, password) for 401/407 challenges and REGISTER.
    pub credentials: Option<(String, String)>,
    /// REGISTER with the proxy (and refresh) when set.
    pub register_expires: Option<Duration>,
    /// Concurrent calls this trunk carries.
    pub channels: usize,
    /// Networks inbound calls through this trunk may come from.
    pub allowed_sources: Vec<IpNet>,
}

/// Red-report alerts to the health centre's webhook (issue 6).
#[derive(Debug, Clone)]
pub struct AlertConfig {
    /// Where to POST red reports; `None` (the default) sends no alerts.
    pub webhook: Option<crate::alert::WebhookUrl>,
    /// One POST gives up after this long (connect, send, answer).
    pub timeout: Duration,
    /// Attempts per alert, the first included; then it is recorded as failed.
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles after each further one (up to 5 minutes).
    pub first_retry: Duration,
    /// Sent as `Authorization: Bearer <token>` so the receiver knows the POST is carecall's;
    /// read from the environment variable named by `token_env`.
    pub token: Option<crate::pii::Redacted<String>>,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// SIP listener.
    pub sip: SipConfig,
    /// RTP media.
    pub rtp: RtpConfig,
    /// Admission and shutdown.
    pub calls: CallsConfig,
    /// Report store URL (`sqlite://…` or `postgres://…`), as written (without the password of
    /// `password_env`/`password_file`; see [`Config::store_connect_url`]).
    pub store_url: String,
    /// The PostgreSQL password from `[store] password_env` or `password_file`.
    pub store_password: Option<crate::pii::Redacted<String>>,
    /// Health Call lockout and flag thresholds, for the store.
    pub store_options: crate::store::StoreOptions,
    /// The local journal of what calls could not write to the store in time.
    pub journal: JournalConfig,
    /// Staff HTTP listener.
    pub http_listen: SocketAddr,
    /// The flow simulator's WebSocket: allowed origins and connection limits.
    pub simulator: SimulatorLimits,
    /// Automatic-call slots, window, retry plan and quiet hours.
    pub schedule: crate::schedule::ScheduleConfig,
    /// The `prompts/` folder.
    pub prompts_dir: PathBuf,
    /// The `dialplans/` folder.
    pub dialplans_dir: PathBuf,
    /// Carrier trunks, in the order calls alternate between them.
    pub trunks: Vec<TrunkConfig>,
    /// Red-report alerts.
    pub alert: AlertConfig,
}

impl Config {
    /// Reads and validates `path`. Relative folders are resolved against the file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Validates TOML `text` read from `path` (used in messages and to resolve folders).
    /// Fails with every problem of the file at once ([`ConfigError::Invalid`]).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let (raw, mut problems) = raw::RawConfig::read(table);
        let base = path.parent().unwrap_or(Path::new("."));
        let config = match raw.validate(base) {
            Ok(config) if problems.is_empty() => return Ok(config),
            Ok(_) => None,
            Err(more) => Some(more),
        };
        problems.extend(config.into_iter().flatten());
        let lines = lines::Lines::new(text);
        let mut problems: Vec<ConfigProblem> = problems
            .into_iter()
            .map(|p| ConfigProblem {
                path: path.to_owned(),
                line: lines.of(&p.section, p.index, &p.key),
                section: p.section,
                index: p.index,
                key: p.key,
                message: p.reason,
            })
            .collect();
        problems.sort_by_key(|p| p.line);
        Err(ConfigError::Invalid(ConfigProblems(problems)))
    }

    /// The URL to connect to the store with: `store_url` with the configured password put in
    /// (percent-encoded) for PostgreSQL. Never log it.
    pub fn store_connect_url(&self) -> crate::pii::Redacted<String> {
        let url = match &self.store_password {
            Some(password) => with_password(&self.store_url, password.expose()),
            None => self.store_url.clone(),
        };
        crate::pii::Redacted::new(url)
    }

    /// The built-in defaults, used when no file is given and `./carecall.toml` is absent.
    pub fn defaults() -> Config {
        Config::parse("", Path::new("<built-in defaults>"))
            .unwrap_or_else(|e| unreachable!("built-in defaults are valid: {e}"))
    }

    /// The schedule's time zone (`[schedule] time_zone`), in which exports give local times.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(self.schedule.time_zone_name()).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// The trunk whose allowed sources contain `ip`, if any.
    pub fn trunk_for_source(&self, ip: IpAddr) -> Option<&TrunkConfig> {
        self.trunks
            .iter()
            .find(|t| t.allowed_sources.iter().any(|n| n.contains(ip)))
    }
}

/// `postgres://user@host/db` + `pw` → `postgres://user:pw@host/db` (a password already in the
/// URL is replaced; without a user, `postgres` is assumed).
fn with_password(url: &str, password: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (userinfo.split(':').next().unwrap_or(""), host),
        None => ("", authority),
    };
    let user = if user.is_empty() { "postgres" } else { user };
    let encoded: String = password
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{scheme}://{user}:{encoded}@{host}{tail}")
}

/// An IP network (`10.0.0.0/8`, `::1/128`, or a plain address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `addr/n`.
    pub fn parse(s: &str) -> Option<IpNet> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Whether `ip` is inside this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for IpNet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IpNet::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("{s:?} is not an IP address or network"))
        })
    }
}

#[cfg(test)]
mod tests;
