//! `RawConfig::validate`: every value that parses but makes no sense, all of them at once,
//! and the checked [`Config`] when there is none.

use std::path::Path;
use std::time::Duration;

use super::super::problem::Problem;
use super::super::{AlertConfig, CallsConfig, Config, IpNet, RtpConfig, SipConfig, TrunkConfig};
use super::{
    control_socket_path, default_node_id, journal_path, loopback_trunk, resolve, RawAlert,
    RawConfig,
};

/// Collects problems of one section.
struct Checks<'a> {
    section: &'static str,
    index: Option<usize>,
    out: &'a mut Vec<Problem>,
}

impl Checks<'_> {
    fn fail(&mut self, key: &str, reason: impl Into<String>) {
        self.out
            .push(Problem::new(self.section, self.index, key, reason));
    }

    fn require(&mut self, ok: bool, key: &str, reason: &str) {
        if !ok {
            self.fail(key, reason);
        }
    }
}

fn checks<'a>(section: &'static str, out: &'a mut Vec<Problem>) -> Checks<'a> {
    Checks {
        section,
        index: None,
        out,
    }
}

impl RawConfig {
    /// The checked configuration, or every problem found. Relative folders are resolved
    /// against `base`.
    pub(in crate::config) fn validate(&self, base: &Path) -> Result<Config, Vec<Problem>> {
        let mut problems = Vec::new();
        let rtp = &self.rtp;
        let mut c = checks("rtp", &mut problems);
        if rtp.port_min > rtp.port_max || rtp.port_max - rtp.port_min < 1 {
            let reason = format!(
                "port range {}..{} holds no RTP port pair",
                rtp.port_min, rtp.port_max
            );
            c.fail("port_min", reason);
        }
        c.require(
            rtp.media_timeout_ms >= 1000,
            "media_timeout_ms",
            "must be at least 1000",
        );
        c.require(
            (-20..=19).contains(&rtp.worker_nice),
            "worker_nice",
            "must be a nice value from -20 to 19",
        );
        let calls = &self.calls;
        let mut c = checks("calls", &mut problems);
        c.require(
            calls.max_concurrent > 0,
            "max_concurrent",
            "expected a positive integer",
        );
        c.require(
            calls.attempt_lease_s >= 10,
            "attempt_lease_s",
            "must be at least 10",
        );
        if let Some(id) = &calls.node_id {
            c.require(
                !(id.is_empty() || id.len() > 64 || id.chars().any(|c| c.is_whitespace())),
                "node_id",
                "must be 1 to 64 characters without spaces",
            );
        }
        let schedule = self.schedule.validate().map_err(|e| {
            let field = e.field();
            let key = field.trim_start_matches("schedule.").to_owned();
            Problem::new("schedule", None, &key, e.to_string())
        });
        let schedule = match schedule {
            Ok(s) => Some(s),
            Err(p) => {
                problems.push(p);
                None
            }
        };
        let store_password = self.check_store(&mut problems);
        let hc = &self.health_call;
        let mut c = checks("health_call", &mut problems);
        c.require(
            hc.lock_after_failed_calls > 0,
            "lock_after_failed_calls",
            "must be at least 1",
        );
        c.require(
            hc.lock_window_hours > 0,
            "lock_window_hours",
            "must be at least 1",
        );
        let mut c = checks("sip", &mut problems);
        for (ok, key) in [
            (self.sip.tcp_max_connections > 0, "tcp_max_connections"),
            (self.sip.tcp_max_per_source > 0, "tcp_max_per_source"),
        ] {
            c.require(ok, key, "must be at least 1");
        }
        let mut c = checks("http", &mut problems);
        for (ok, key) in [
            (
                self.http.simulator_max_connections > 0,
                "simulator_max_connections",
            ),
            (
                self.http.simulator_max_per_source > 0,
                "simulator_max_per_source",
            ),
        ] {
            c.require(ok, key, "must be at least 1");
        }
        let f = &self.flags;
        let mut c = checks("flags", &mut problems);
        c.require(
            (34.0..=42.9).contains(&f.fever_celsius),
            "fever_celsius",
            "must be within 34.0..=42.9",
        );
        for (key, v) in [
            (
                "spo2_with_breathlessness_below",
                f.spo2_with_breathlessness_below,
            ),
            ("spo2_at_or_below", f.spo2_at_or_below),
        ] {
            c.require((50..=100).contains(&v), key, "must be within 50..=100");
        }
        let alert = self.alert.validate(&mut problems);
        let trunks = self.trunks(&mut problems);
        let (Some(schedule), Some(alert), true) = (schedule, alert, problems.is_empty()) else {
            return Err(problems);
        };
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
                tcp: crate::config::TcpLimits {
                    max_connections: self.sip.tcp_max_connections,
                    max_per_source: self.sip.tcp_max_per_source,
                    idle_timeout: Duration::from_millis(self.sip.tcp_idle_timeout_ms),
                },
            },
            rtp: RtpConfig {
                port_min: rtp.port_min,
                port_max: rtp.port_max,
                media_timeout: Duration::from_millis(rtp.media_timeout_ms),
                workers,
                io_uring: rtp.io_uring,
                worker_nice: rtp.worker_nice,
            },
            calls: CallsConfig {
                max_concurrent: calls.max_concurrent,
                retry_after: Duration::from_secs(calls.retry_after_s),
                drain_limit: Duration::from_secs(calls.drain_limit_s),
                ring_timeout: Duration::from_millis(calls.ring_timeout_ms),
                answer_delay: Duration::from_millis(calls.answer_delay_ms),
                threads: match calls.threads {
                    0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                    n => n,
                },
                answering_machine_detection: calls.answering_machine_detection,
                attempt_lease: Duration::from_secs(calls.attempt_lease_s),
                node_id: calls.node_id.clone().unwrap_or_else(default_node_id),
                automatic_calls: calls.automatic_calls,
                control_socket: control_socket_path(calls, &self.store),
            },
            schedule,
            store_url: self.store.url.clone(),
            store_password,
            journal: crate::config::JournalConfig {
                path: journal_path(&self.store),
                write_timeout: Duration::from_millis(self.store.write_timeout_ms),
                retry: Duration::from_millis(self.store.journal_retry_ms),
            },
            store_options,
            http_listen: self.http.listen,
            simulator: crate::config::SimulatorLimits {
                origins: self.http.simulator_origins.clone(),
                max_connections: self.http.simulator_max_connections,
                max_per_source: self.http.simulator_max_per_source,
            },
            prompts_dir: resolve(base, self.prompts.dir.as_deref().unwrap_or("prompts")),
            dialplans_dir: resolve(base, self.dialplans.dir.as_deref().unwrap_or("dialplans")),
            trunks,
            alert,
        })
    }

    /// `[store]`: the URL's scheme, the journal settings, and the database password from
    /// `password_env` or `password_file` (PostgreSQL only).
    fn check_store(&self, problems: &mut Vec<Problem>) -> Option<crate::pii::Redacted<String>> {
        let store = &self.store;
        let mut c = checks("store", problems);
        let url = store.url.as_str();
        let postgres = url.starts_with("postgres:") || url.starts_with("postgresql:");
        if !(url.starts_with("sqlite:") || postgres) {
            c.fail("url", "neither sqlite://… nor postgres://…");
        }
        for (key, ms) in [
            ("write_timeout_ms", store.write_timeout_ms),
            ("journal_retry_ms", store.journal_retry_ms),
        ] {
            c.require(ms > 0, key, "must be at least 1");
        }
        c.require(
            !store
                .journal
                .as_deref()
                .is_some_and(|j| j.trim().is_empty()),
            "journal",
            "names no file",
        );
        let password = match (&store.password_env, &store.password_file) {
            (None, None) => return None,
            (Some(_), Some(_)) => {
                c.fail(
                    "password_file",
                    "give password_env or password_file, not both",
                );
                return None;
            }
            (Some(var), None) => match std::env::var(var) {
                Ok(p) if !p.is_empty() => (p, "password_env"),
                _ => {
                    c.fail(
                        "password_env",
                        format!("environment variable {var} is not set"),
                    );
                    return None;
                }
            },
            (None, Some(file)) => match std::fs::read_to_string(file) {
                Ok(text) => {
                    let line = text.lines().next().unwrap_or("").trim_end().to_owned();
                    if line.is_empty() {
                        c.fail("password_file", format!("{file}: holds no password"));
                        return None;
                    }
                    (line, "password_file")
                }
                Err(e) => {
                    c.fail("password_file", format!("{file}: cannot read: {e}"));
                    return None;
                }
            },
        };
        if !postgres {
            c.fail(password.1, "a password is only used with postgres://… URLs");
            return None;
        }
        Some(crate::pii::Redacted::new(password.0))
    }

    fn trunks(&self, problems: &mut Vec<Problem>) -> Vec<TrunkConfig> {
        let Some(raw) = &self.trunk else {
            return vec![loopback_trunk()];
        };
        let mut out: Vec<TrunkConfig> = Vec::with_capacity(raw.len());
        for (i, t) in raw.iter().enumerate() {
            let mut c = Checks {
                section: "trunk",
                index: Some(i),
                out: problems,
            };
            c.require(!t.name.is_empty(), "name", "must not be empty");
            if out.iter().any(|o| o.name == t.name) && !t.name.is_empty() {
                c.fail("name", format!("duplicate trunk name {:?}", t.name));
            }
            c.require(t.channels > 0, "channels", "must be at least 1");
            let password = match (&t.password, &t.password_env) {
                (Some(p), None) => Some(p.clone()),
                (None, Some(var)) => match std::env::var(var) {
                    Ok(p) => Some(p),
                    Err(_) => {
                        c.fail(
                            "password_env",
                            format!("environment variable {var} is not set"),
                        );
                        None
                    }
                },
                (None, None) => None,
                (Some(_), Some(_)) => {
                    c.fail("password_env", "give password or password_env, not both");
                    None
                }
            };
            let credentials = match (&t.username, password) {
                (Some(u), Some(p)) => Some((u.clone(), p)),
                (None, Some(_)) => {
                    c.fail("username", "a password needs a username");
                    None
                }
                (Some(_), None) if t.password_env.is_none() => {
                    c.fail("password", "a username needs a password");
                    None
                }
                _ => None,
            };
            let Some(proxy) = t.proxy else {
                c.fail("proxy", "required: the outbound proxy as host:port");
                continue;
            };
            out.push(TrunkConfig {
                name: t.name.clone(),
                proxy,
                transport: t.transport,
                caller_id: t.caller_id.clone(),
                credentials,
                register_expires: t
                    .register
                    .then(|| Duration::from_secs(t.register_expires_s)),
                channels: t.channels,
                allowed_sources: t
                    .allowed_sources
                    .clone()
                    .unwrap_or_else(|| IpNet::parse(&proxy.ip().to_string()).into_iter().collect()),
            });
        }
        out
    }
}

impl RawAlert {
    fn validate(&self, problems: &mut Vec<Problem>) -> Option<AlertConfig> {
        let mut c = checks("alert", problems);
        let webhook = match &self.webhook_url {
            Some(text) => match crate::alert::WebhookUrl::parse(text) {
                Ok(url) => Some(url),
                Err(e) => {
                    c.fail("webhook_url", e.to_string());
                    None
                }
            },
            None => None,
        };
        c.require(
            (100..=60_000).contains(&self.timeout_ms),
            "timeout_ms",
            "must be within 100..=60000",
        );
        c.require(
            (1..=100).contains(&self.max_attempts),
            "max_attempts",
            "must be within 1..=100",
        );
        c.require(
            (10..=300_000).contains(&self.first_retry_ms),
            "first_retry_ms",
            "must be within 10..=300000",
        );
        let token = match &self.token_env {
            Some(var) => {
                let token = std::env::var(var).unwrap_or_default();
                if token.is_empty() {
                    c.fail(
                        "token_env",
                        format!("environment variable {var} is not set"),
                    );
                } else if !token.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                    c.fail(
                        "token_env",
                        format!(
                            "environment variable {var} holds characters a header cannot carry"
                        ),
                    );
                }
                Some(crate::pii::Redacted::new(token))
            }
            None => None,
        };
        Some(AlertConfig {
            webhook,
            token,
            timeout: Duration::from_millis(self.timeout_ms),
            max_attempts: self.max_attempts,
            first_retry: Duration::from_millis(self.first_retry_ms),
        })
    }
}
