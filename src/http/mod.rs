//! Staff HTTP API (`/api/v1/…`, JSON, OpenAPI at `/api/v1/openapi.json`), the staff page
//! (`/staff`), Prometheus `/metrics`, `/healthz` and `/readyz`, served by `carecall serve` on
//! `[http] listen`.
//!
//! Owns: the HTTP listener, request parsing and per-field validation, authentication
//! (Argon2id passwords, bearer tokens, session cookie with CSRF token, login rate limits),
//! the centre scope of every request, and writing the audit log for every read or change of
//! personal data. Must not touch: SQL (handlers call [`crate::store`]), call logic, the clock
//! outside [`crate::clock`]. Logs name routes (path templates such as
//! `/api/v1/patients/{id}`), never a path, query, body or personal value.
//!
//! The route table ([`routes::table`]) is the one list of endpoints: the router is built
//! from it and a test checks it against the OpenAPI document both ways.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crate::alert::Alerts;
use crate::config::Config;
use crate::report::FlagRules;
use crate::runtime::CallEvent;
use crate::simulator::SimContext;
use crate::store::Store;

mod admin;
mod auth;
mod calls;
mod error;
mod extract;
mod limiter;
pub mod metrics;
mod metrics_engine;
mod openapi;
mod pages;
mod patient_input;
mod patients;
mod problem;
mod reports;
pub mod routes;
pub mod secret;
mod simulator;
mod staff_reports;

pub use error::{ApiError, FieldErrors};
pub use limiter::LoginLimits;
pub use problem::Problem;

/// The HTTP server could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The `[http] listen` address could not be bound.
    #[error("cannot listen for HTTP on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: Config,
    limits: LoginLimits,
    metrics: metrics::CallMetrics,
    ready: AtomicBool,
    simulator: Option<Arc<SimContext>>,
    alerts: Option<Alerts>,
    engine: Option<crate::runtime::EngineView>,
}

/// What a running engine lends the HTTP server; [`EngineLinks::default`] (none of them) is
/// a server over the store alone, as the API tests run it.
#[derive(Default)]
pub struct EngineLinks {
    /// The engine's call events, for the call metrics (`None`: they stay at zero).
    pub events: Option<broadcast::Receiver<CallEvent>>,
    /// The flow simulator (`None`: its routes answer 404).
    pub simulator: Option<Arc<SimContext>>,
    /// The engine's alert worker, woken when staff enter a red report (`None`: a red staff
    /// report waits in the outbox for a worker's next look, if a webhook is configured).
    pub alerts: Option<Alerts>,
    /// The running engine's live calls and media figures (`None`: no live calls, RTP
    /// counters at zero).
    pub engine: Option<crate::runtime::EngineView>,
}

impl AppState {
    /// State over `store` with `config` (the schedule's zone and slots, the flag thresholds)
    /// and what the engine lends (`links.events` is not kept here).
    pub fn new(store: Store, config: Config, links: &EngineLinks) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                limits: LoginLimits::default(),
                metrics: metrics::CallMetrics::default(),
                ready: AtomicBool::new(false),
                simulator: links.simulator.clone(),
                alerts: links.alerts.clone(),
                engine: links.engine.clone(),
            }),
        }
    }

    pub(crate) fn simulator(&self) -> Option<Arc<SimContext>> {
        self.inner.simulator.clone()
    }

    pub(crate) fn alerts(&self) -> Option<&Alerts> {
        self.inner.alerts.as_ref()
    }

    pub(crate) fn engine(&self) -> Option<&crate::runtime::EngineView> {
        self.inner.engine.as_ref()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The flag rules reports are assessed with now: the running engine's set (so a reload
    /// that passed applies here as it does to new calls), or on a server over the store alone
    /// the configured ones.
    pub(crate) fn flag_rules(&self) -> FlagRules {
        match self.engine() {
            Some(engine) => engine.flag_rules(),
            None => self.config().store_options.flag_rules.clone(),
        }
    }

    /// The store, assessing answers stored through it with the engine's current flag rules
    /// (see [`AppState::flag_rules`]); on a server over the store alone, the store as given.
    pub(crate) fn assessing_store(&self) -> Store {
        match self.engine() {
            Some(engine) => self.store().with_flag_rules(engine.flag_rules()),
            None => self.store().clone(),
        }
    }
}

/// A running HTTP server.
pub struct HttpServer {
    addr: SocketAddr,
    state: AppState,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// Binds `config.http_listen` and serves the API over `store`, with what the engine lends
    /// in `links`. Not ready (`/readyz` 503) until [`HttpServer::set_ready`].
    pub async fn start(
        config: Config,
        store: Store,
        links: EngineLinks,
    ) -> Result<HttpServer, HttpError> {
        let addr = config.http_listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| HttpError::Bind { addr, source })?;
        let addr = listener.local_addr().unwrap_or(addr);
        let state = AppState::new(store, config, &links);
        if let Some(events) = links.events {
            tokio::spawn(metrics::collect(state.clone(), events));
        }
        let app = routes::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });
        tracing::info!(http = %addr, "staff API listening");
        Ok(HttpServer {
            addr,
            state,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Marks the engine started (`true`) or stopping (`false`) for `/readyz`.
    pub fn set_ready(&self, ready: bool) {
        self.state.inner.ready.store(ready, Ordering::SeqCst);
    }

    /// Stops accepting connections and waits for requests in progress.
    pub async fn shutdown(self) {
        self.set_ready(false);
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// `t` as RFC 3339 UTC with milliseconds.
pub(crate) fn utc(t: std::time::SystemTime) -> String {
    crate::report::date::epoch_millis(t)
        .map(crate::report::date::rfc3339_utc)
        .unwrap_or_default()
}
