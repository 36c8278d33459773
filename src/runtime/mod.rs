//! The I/O shell: the SIP endpoint, media worker threads, one tokio task per call, admission
//! control and graceful shutdown.
//!
//! Owns: every socket, task, thread and timer of the engine. Must not contain call logic
//! (that is [`crate::call`] and [`crate::ivr`]) or SQL (that is [`crate::store`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};

use crate::call::{CallFlow, Direction};
use crate::config::{Config, TrunkConfig};
use crate::lang::Language;
use crate::media::PromptSet;
use crate::pii::Redacted;
use crate::rtp::DigitEvent;
use crate::sip::outcome::Disposition;
use crate::sip::{PendingInvite, Rejection, SipEndpoint, SipSettings};

mod assets;
pub mod control;
mod driver;
mod journal;
mod live;
pub mod media;
mod ports;
pub mod process;
mod reload;
mod reports;
pub mod scheduler;
mod session;
pub mod telemetry;

pub use assets::{AssetProblems, Assets, REQUIRED_DIALPLANS};
pub use control::{ControlError, ControlHandler, ControlRequest, ControlServer};
pub use live::{LiveCall, LiveCalls, LiveList};
pub use media::{MediaPool, MediaStats};
pub use reload::{ReloadReport, RELOADS_FAILED, RELOADS_OK};
pub use reports::STORE_ERRORS;

/// A failure to start the engine.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The SIP endpoint could not start.
    #[error(transparent)]
    Sip(#[from] crate::sip::SipError),
    /// A media worker thread could not start.
    #[error("cannot start media worker: {0}")]
    Media(std::io::Error),
    /// The journal cannot be taken (held by another process, or its folder not writable).
    #[error(transparent)]
    Journal(#[from] crate::store::JournalError),
}

/// Something observable about a call, for tests, metrics and the staff page. Carries no
/// personal data: digits are [`DigitEvent`]s whose `Debug` hides the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// A call leg started (INVITE received or sent).
    Started {
        /// carecall's call id.
        call: u64,
        /// Inbound or outbound.
        direction: Direction,
    },
    /// The call was answered and media is flowing.
    Answered {
        /// carecall's call id.
        call: u64,
    },
    /// A digit arrived.
    Digit {
        /// carecall's call id.
        call: u64,
        /// The digit and its transport.
        digit: DigitEvent,
    },
    /// The call ended.
    Ended {
        /// carecall's call id.
        call: u64,
        /// Its disposition.
        disposition: Disposition,
        /// The final SIP status of the INVITE (0 when none).
        sip_status: u16,
    },
}

/// Builds the flow for a new call.
pub type FlowFactory = Arc<dyn Fn(Direction, Language) -> Box<dyn CallFlow> + Send + Sync>;

pub(crate) struct Shared {
    config: Config,
    media: MediaPool,
    set: RwLock<Arc<reload::CallSet>>,
    live: LiveCalls,
    store: Option<crate::store::Store>,
    alerts: crate::alert::Alerts,
    journal: Option<crate::store::Journal>,
    events: broadcast::Sender<CallEvent>,
    active: AtomicUsize,
    draining: AtomicBool,
    next_call: AtomicU64,
    stop: watch::Sender<bool>,
}

/// A running engine.
pub struct Engine {
    shared: Arc<Shared>,
    sip: SipEndpoint,
    registrations: Vec<(String, watch::Receiver<crate::sip::RegistrationState>)>,
}

impl Engine {
    /// Starts SIP and media on the configured addresses. Calls run `flows`; their answers and
    /// call records go to `store` (`None` runs without one: identification always fails).
    pub async fn start(
        config: Config,
        prompts: PromptSet,
        flows: FlowFactory,
        store: Option<crate::store::Store>,
    ) -> Result<Engine, RuntimeError> {
        // Taken first: a journal another process holds stops the start before any socket.
        let journal = match &store {
            Some(_) => Some(crate::store::Journal::open(config.journal.path.clone())?),
            None => None,
        };
        let allowed_cfg = config.clone();
        let settings = SipSettings {
            listen: config.sip.listen,
            public_ip: config.sip.public_ip,
            unknown_source: config.sip.unknown_source,
            allowed: Arc::new(move |ip| allowed_cfg.trunk_for_source(ip).is_some()),
            queue: 256,
            retry_after_s: config.calls.retry_after.as_secs(),
            tcp: config.sip.tcp,
        };
        let (sip, invites) = SipEndpoint::start(settings).await?;
        let media = MediaPool::start_on(&config.rtp, config.sip.listen.ip())
            .map_err(RuntimeError::Media)?;
        let (events, _) = broadcast::channel(4096);
        let (stop, _) = watch::channel(false);
        let alerts = match &store {
            Some(store) => crate::alert::Alerts::spawn(store.clone(), &config.alert),
            None => crate::alert::Alerts::disabled(),
        };
        let flag_rules = match &store {
            Some(store) => store.flag_rules().clone(),
            None => config.store_options.flag_rules.clone(),
        };
        let shared = Arc::new(Shared {
            config,
            media,
            set: RwLock::new(Arc::new(reload::CallSet {
                flows,
                prompts,
                store: store.clone(),
                flag_rules,
            })),
            live: LiveCalls::default(),
            store,
            alerts,
            journal,
            events,
            active: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            next_call: AtomicU64::new(1),
            stop,
        });
        let registrations = shared
            .config
            .trunks
            .iter()
            .filter_map(|t| {
                let expires = t.register_expires?;
                let req = crate::sip::RegisterRequest {
                    trunk: t.name.clone(),
                    proxy: t.proxy,
                    credentials: t.credentials.clone(),
                    expires: u32::try_from(expires.as_secs()).unwrap_or(u32::MAX),
                };
                Some((t.name.clone(), sip.register(req)))
            })
            .collect();
        if let (Some(store), Some(j)) = (&shared.store, &shared.journal) {
            let retry = shared.config.journal.retry;
            let (alerts, stop) = (shared.alerts.clone(), shared.stop.subscribe());
            journal::spawn(store.clone(), j.clone(), alerts, retry, stop);
        }
        tokio::spawn(accept_loop(shared.clone(), invites));
        if let (Some(store), true) = (&shared.store, shared.config.calls.automatic_calls) {
            scheduler::start(shared.clone(), sip.clone(), store.clone());
        }
        Ok(Engine {
            shared,
            sip,
            registrations,
        })
    }

    /// The SIP address (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip.local_addr()
    }

    /// The alert worker's handle (disabled without a store or a webhook), for the HTTP server
    /// to wake when staff enter a red report.
    pub fn alerts(&self) -> crate::alert::Alerts {
        self.shared.alerts.clone()
    }

    /// A stream of call events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CallEvent> {
        self.shared.events.subscribe()
    }

    /// What the staff API and the control socket read of the running engine.
    pub fn view(&self) -> EngineView {
        EngineView {
            shared: self.shared.clone(),
        }
    }

    /// Each registering trunk and where its registration stands.
    pub fn registrations(&self) -> Vec<(String, crate::sip::RegistrationState)> {
        self.registrations
            .iter()
            .map(|(name, rx)| (name.clone(), *rx.borrow()))
            .collect()
    }

    /// Calls currently up or being set up.
    pub fn active_calls(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }

    /// Media pacing figures (frames sent, lateness histogram).
    pub fn media_stats(&self) -> MediaStats {
        self.shared.media.stats()
    }

    /// Places a call to `number` through `trunk`, to be conducted in `language`; returns
    /// carecall's call id at once. The outcome arrives as [`CallEvent::Ended`].
    pub fn dial(&self, trunk: &TrunkConfig, number: Redacted<String>, language: Language) -> u64 {
        let call = self.shared.next_call.fetch_add(1, Ordering::Relaxed);
        let shared = self.shared.clone();
        let sip = self.sip.clone();
        let trunk = trunk.clone();
        let target = session::Target {
            number,
            language,
            patient: None,
            slot: None,
            done: None,
        };
        tokio::spawn(session::outbound(shared, sip, trunk, target, call));
        call
    }

    /// Graceful shutdown: refuse new calls (503), let active ones finish for up to the drain
    /// limit, then BYE the rest and stop SIP and media.
    pub async fn shutdown(self) {
        self.shared.draining.store(true, Ordering::SeqCst);
        let limit = self.shared.config.calls.drain_limit;
        let deadline = tokio::time::Instant::now() + limit;
        while self.active_calls() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.shared.stop.send(true);
        let hard = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.active_calls() > 0 && tokio::time::Instant::now() < hard {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.sip.shutdown();
        self.shared.media.shutdown();
        if let (Some(store), Some(j)) = (&self.shared.store, &self.shared.journal) {
            if j.has_entries() {
                let last = journal::replay(store, j, &self.shared.alerts);
                match tokio::time::timeout(Duration::from_secs(10), last).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "journal entries left for the next start")
                    }
                    Err(_) => {
                        tracing::warn!("journal entries left for the next start (store too slow)")
                    }
                }
            }
        }
        self.shared.alerts.shutdown().await;
    }
}

/// A read-only view of a running engine: its live calls and media figures. Cheap to clone.
#[derive(Clone)]
pub struct EngineView {
    shared: Arc<Shared>,
}

impl EngineView {
    /// This node's live calls now.
    pub fn live_calls(&self) -> LiveList {
        let node = &self.shared.config.calls.node_id;
        self.shared.live.list(node, crate::clock::now())
    }

    /// Media figures (RTP packets in and out, pacing lateness).
    pub fn media_stats(&self) -> MediaStats {
        self.shared.media.stats()
    }
}

async fn accept_loop(shared: Arc<Shared>, mut invites: mpsc::Receiver<PendingInvite>) {
    while let Some(invite) = invites.recv().await {
        let retry_after_s = shared.config.calls.retry_after.as_secs();
        if shared.draining.load(Ordering::SeqCst) {
            tracing::info!(
                active = shared.active.load(Ordering::SeqCst),
                "draining: new call refused with 503"
            );
            invite.reject(Rejection::Overloaded { retry_after_s });
            continue;
        }
        // Reserve a slot before answering so a burst cannot overshoot the limit.
        let max = shared.config.calls.max_concurrent;
        let admitted = shared
            .active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            tracing::warn!(limit = max, "at call capacity: 503");
            invite.reject(Rejection::Overloaded { retry_after_s });
            continue;
        }
        let call = shared.next_call.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(session::inbound(shared.clone(), invite, call));
    }
}

/// Tells systemd (`Type=notify`) that the engine is ready, when `NOTIFY_SOCKET` is set.
pub fn notify_ready() {
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram};
        let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
            return;
        };
        let path = path.to_string_lossy().into_owned();
        let addr = match path.strip_prefix('@') {
            Some(name) => UnixAddr::from_abstract_name(name.as_bytes()),
            None => UnixAddr::from_pathname(&path),
        };
        let sent = addr.and_then(|addr| {
            let socket = UnixDatagram::unbound()?;
            socket.send_to_addr(b"READY=1", &addr)
        });
        if let Err(e) = sent {
            tracing::warn!(error = %e, "cannot notify systemd");
        }
    }
}
