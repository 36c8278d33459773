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

mod raw;

pub use raw::{Transport, UnknownSource};

/// A configuration problem, naming where it is.
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
    /// The TOML is malformed, a key is unknown or a value has the wrong type.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message, with line, column and key.
        message: String,
    },
    /// A value parses but makes no sense (an empty port range, a duplicate trunk name…).
    #[error("{path}:{line}: field `{field}`: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line of the field (1-based; 0 when the field is absent and its default is at fault).
        line: usize,
        /// The dotted field name, e.g. `trunk[1].proxy`.
        field: String,
        /// What is wrong.
        reason: String,
    },
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
    /// Report store URL (`sqlite://…` or `postgres://…`).
    pub store_url: String,
    /// Health Call lockout and flag thresholds, for the store.
    pub store_options: crate::store::StoreOptions,
    /// The local journal of what calls could not write to the store in time.
    pub journal: JournalConfig,
    /// Staff HTTP listener.
    pub http_listen: SocketAddr,
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
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: raw::RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        raw.validate(base).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            line: raw::locate(text, &e.section, e.index, &e.key),
            field: e.field(),
            reason: e.reason,
        })
    }

    /// The built-in defaults, used when no file is given and `./carecall.toml` is absent.
    pub fn defaults() -> Config {
        Config::parse("", Path::new("<built-in defaults>"))
            .unwrap_or_else(|e| unreachable!("built-in defaults are valid: {e}"))
    }

    /// The trunk whose allowed sources contain `ip`, if any.
    pub fn trunk_for_source(&self, ip: IpAddr) -> Option<&TrunkConfig> {
        self.trunks
            .iter()
            .find(|t| t.allowed_sources.iter().any(|n| n.contains(ip)))
    }
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
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/carecall/carecall.toml"))
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::defaults();
        assert_eq!(c.sip.listen, "127.0.0.1:5060".parse().unwrap());
        assert_eq!(c.http_listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.store_url, "sqlite://carecall.db");
        assert_eq!(c.rtp.media_timeout, Duration::from_secs(30));
        assert!(c.trunk_for_source("127.0.0.1".parse().unwrap()).is_some());
        assert!(c.trunk_for_source("192.0.2.1".parse().unwrap()).is_none());
    }

    #[test]
    fn the_sample_configuration_parses_to_the_defaults() {
        let sample = include_str!("../carecall.sample.toml");
        let c = parse(sample).unwrap();
        let d = Config::defaults();
        assert_eq!(format!("{:?}", c.sip), format!("{:?}", d.sip));
        assert_eq!(format!("{:?}", c.rtp), format!("{:?}", d.rtp));
        assert_eq!(format!("{:?}", c.calls), format!("{:?}", d.calls));
        assert_eq!(c.store_url, d.store_url);
        assert_eq!(c.http_listen, d.http_listen);
        assert_eq!(format!("{:?}", c.schedule), format!("{:?}", d.schedule));
        assert_eq!(c.trunks.len(), 1);
        assert_eq!(format!("{:?}", c.alert), format!("{:?}", d.alert));
        // The commented-out webhook URL is valid.
        let alert = sample
            .lines()
            .skip_while(|l| !l.starts_with("[alert]"))
            .take_while(|l| !l.starts_with("[prompts]"))
            .map(|l| {
                l.strip_prefix("# webhook_url")
                    .map_or(l.to_owned(), |r| format!("webhook_url{r}"))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse(&alert).unwrap();
        assert!(c.alert.webhook.is_some(), "{alert}");
        // Every commented-out trunk key is a real key.
        let trunk: String = sample
            .lines()
            .skip_while(|l| !l.starts_with("# [[trunk]]"))
            .map(|l| l.trim_start_matches("# ").trim_start_matches('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let trunk = trunk.replace(
            "password_env = \"CARECALL_TRUNK_A_PASSWORD\"",
            "password = \"x\"",
        );
        parse(&trunk).unwrap();
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse("[sip]\nlisten = \"127.0.0.1:5060\"\nlistne = \"x\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("carecall.toml"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("listne"), "{msg}");
    }

    #[test]
    fn semantic_errors_name_file_line_and_field() {
        let text = "[rtp]\nport_min = 30000\nport_max = 20000\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(
            msg.starts_with("/etc/carecall/carecall.toml:2: field `rtp.port_min`"),
            "{msg}"
        );

        let text = "[[trunk]]\nname = \"a\"\nproxy = \"127.0.0.1:5070\"\n\n[[trunk]]\nname = \"a\"\nproxy = \"127.0.0.1:5071\"\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(msg.contains(":6: field `trunk[1].name`"), "{msg}");
        assert!(msg.contains("duplicate"), "{msg}");
    }

    #[test]
    fn the_journal_has_defaults_and_its_errors_name_line_and_field() {
        let c = Config::defaults();
        assert_eq!(
            c.journal.path,
            std::path::PathBuf::from("carecall.db.journal")
        );
        let pg = parse("[store]\nurl = \"postgres://u@h/db\"\n").unwrap();
        assert_eq!(
            pg.journal.path,
            std::path::PathBuf::from("carecall.journal")
        );
        let abs = parse("[store]\nurl = \"sqlite:///var/lib/carecall/c.db?mode=rwc\"\n").unwrap();
        assert_eq!(
            abs.journal.path,
            std::path::PathBuf::from("/var/lib/carecall/c.db.journal")
        );
        assert_eq!(c.journal.write_timeout, Duration::from_secs(2));
        assert_eq!(c.journal.retry, Duration::from_secs(5));
        let text = "[store]\nurl = \"sqlite://x.db\"\nwrite_timeout_ms = 0\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(msg.contains(":3: field `store.write_timeout_ms`"), "{msg}");
        let c =
            parse("[store]\njournal = \"/var/lib/carecall/j\"\njournal_retry_ms = 250\n").unwrap();
        assert_eq!(
            c.journal.path,
            std::path::PathBuf::from("/var/lib/carecall/j")
        );
        assert_eq!(c.journal.retry, Duration::from_millis(250));
    }

    #[test]
    fn schedule_errors_name_line_and_field() {
        let text = "[store]\nurl = \"sqlite://x.db\"\n[schedule]\ntime_zone = \"Asia/Tokyo\"\nslots = [\"09:00\", \"25:00\"]\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(msg.contains(":5: field `schedule.slots[1]`"), "{msg}");
        let text = "[schedule]\nretry_offsets_minutes = [0, 40, 20]\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(
            msg.contains(":2: field `schedule.retry_offsets_minutes[2]`"),
            "{msg}"
        );
        let text = "[schedule]\nquiet_hours = { start = \"7:00\", end = \"08:00\" }\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(
            msg.contains(":2: field `schedule.quiet_hours.start`"),
            "{msg}"
        );
        let text = "[schedule]\nwindow_minutes = 60\nminute_seconds = 2\n";
        let c = parse(text).unwrap();
        assert_eq!(c.schedule.window(), Duration::from_secs(120));
        assert_eq!(c.schedule.attempt_offsets()[2], Duration::from_secs(80));
        let msg = parse("[calls]\nattempt_lease_s = 1\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains(":2: field `calls.attempt_lease_s`"), "{msg}");
    }

    #[test]
    fn bad_address_is_a_syntax_error_naming_the_key() {
        let msg = parse("[sip]\nlisten = \"nowhere\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("listen"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn flag_thresholds_and_lockout_reach_the_store_options() {
        let c = parse("[flags]\nfever_celsius = 38.0\nspo2_at_or_below = 90\n[health_call]\nlock_after_failed_calls = 3\n").unwrap();
        assert_eq!(c.store_options.flag_rules.fever_tenths, 380);
        assert_eq!(c.store_options.flag_rules.spo2_at_or_below, 90);
        assert_eq!(
            c.store_options.flag_rules.spo2_with_breathlessness_below,
            96
        );
        assert_eq!(c.store_options.lock_after_failed_calls, 3);
        let msg = parse("[flags]\nfever_celsius = 45.0\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains(":2: field `flags.fever_celsius`"), "{msg}");
    }

    #[test]
    fn alert_section_is_checked_at_load() {
        let d = Config::defaults().alert;
        assert!(
            d.webhook.is_none(),
            "no alerts unless a webhook is configured"
        );
        assert_eq!((d.timeout, d.max_attempts), (Duration::from_secs(5), 12));
        let c = parse("[alert]\nwebhook_url = \"http://127.0.0.1:9000/hook\"\ntimeout_ms = 800\nmax_attempts = 3\nfirst_retry_ms = 50\n").unwrap();
        let a = c.alert;
        assert_eq!(a.webhook.unwrap().to_string(), "http://127.0.0.1:9000/hook");
        assert_eq!((a.timeout, a.max_attempts), (Duration::from_millis(800), 3));
        assert_eq!(a.first_retry, Duration::from_millis(50));
        let msg = parse("[alert]\n\nwebhook_url = \"https://pager.example/\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains(":3: field `alert.webhook_url`"), "{msg}");
        assert!(msg.contains("https"), "{msg}");
        let msg = parse("[alert]\nmax_attempts = 0\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains(":2: field `alert.max_attempts`"), "{msg}");
        let msg = parse("[alert]\ntimeout_ms = 0\n").unwrap_err().to_string();
        assert!(msg.contains(":2: field `alert.timeout_ms`"), "{msg}");
        let msg = parse("[alert]\ntoken_env = \"CARECALL_TEST_ALERT_TOKEN_UNSET\"\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains(":2: field `alert.token_env`"), "{msg}");
        assert!(msg.contains("CARECALL_TEST_ALERT_TOKEN_UNSET"), "{msg}");
        let path = std::env::var("PATH").unwrap();
        let c = parse("[alert]\ntoken_env = \"PATH\"\n").unwrap();
        assert_eq!(c.alert.token.as_ref().map(|t| t.expose()), Some(&path));
        assert!(
            !format!("{:?}", c.alert).contains("/usr"),
            "the token is not printed"
        );
        let msg = parse("[alert]\nwebhook = \"x\"\n").unwrap_err().to_string();
        assert!(msg.contains("line 2") && msg.contains("webhook"), "{msg}");
    }

    #[test]
    fn networks_match_addresses() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(IpNet::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(IpNet::parse("::1")
            .unwrap()
            .contains("::1".parse().unwrap()));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
        assert!(IpNet::parse("example.org").is_none());
    }

    #[test]
    fn trunk_password_may_come_from_the_environment() {
        let text = "[[trunk]]\nname = \"t\"\nproxy = \"127.0.0.1:5070\"\nusername = \"u\"\npassword_env = \"CARECALL_TEST_TRUNK_PW_UNSET\"\n";
        let msg = parse(text).unwrap_err().to_string();
        assert!(msg.contains("trunk[0].password_env"), "{msg}");
        assert!(msg.contains("CARECALL_TEST_TRUNK_PW_UNSET"), "{msg}");
    }
}
