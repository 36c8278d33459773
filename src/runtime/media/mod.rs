//! Media worker threads. Each worker owns a set of calls' RTP sockets and paces all of them
//! from one timer: a 20 ms period cut into twenty 1 ms slots, each call pinned to one slot
//! (a worker wakes only for slots that hold calls, and fills an open slot before waking for
//! another: `slots`). On its slot a call sends the frame its [`MediaLeg`] has due, then
//! hands every datagram its socket received to the leg and forwards the leg's events. All
//! media logic (symmetric latching, hold, media timeout, DTMF transport, AMD, the player, RTP
//! headers) is in the leg, a sans-IO core in `rtp::leg`; this file owns threads, sockets,
//! slots, the clock readings it hands the leg, and the figures.
//!
//! Workers are plain threads, not tokio tasks: a sleeping thread wakes within tens of
//! microseconds, where tokio's timer wheel rounds to a millisecond.

mod priority;
mod slots;
mod stats;
#[cfg(test)]
mod tests;
mod uring;
mod worker;

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Duration;

use tokio::sync::mpsc;

use super::ports::PortAllocator;
use crate::call::PromptRef;
use crate::config::RtpConfig;
use crate::media::PromptSet;
use crate::rtp::amd::AmdParams;
use crate::rtp::leg::{MediaLeg, MediaParams};
use crate::rtp::sender::RtpSender;
use crate::sip::sdp::Negotiated;
use stats::StatsInner;
pub use uring::{Batch, Ring};
use worker::{MediaCall, Worker};

/// What a call's media reports to its task (defined with the leg that produces it).
pub use crate::rtp::leg::MediaEvent;
pub use stats::{MediaStats, LATENESS_BOUNDS_US};

enum Command {
    Add(Box<MediaCall>),
    Play(u64, Vec<PromptRef>),
    Stop(u64),
    Update(u64, Negotiated),
    Activity(u64),
    /// Read the call's socket and hand on its pending events now, then answer.
    Flush(u64, tokio::sync::oneshot::Sender<()>),
    Remove(u64),
    Shutdown,
}

/// A socket reserved for a call that is being set up.
pub struct ReservedPort(UdpSocket);

impl ReservedPort {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.0
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }
}

/// The media workers of one engine.
pub struct MediaPool {
    workers: Vec<std_mpsc::Sender<Command>>,
    next_worker: AtomicUsize,
    next_id: AtomicU64,
    ports: PortAllocator,
    media_timeout: Duration,
    stats: Arc<StatsInner>,
}

impl MediaPool {
    /// Starts `config.workers` threads.
    pub fn start(config: &RtpConfig) -> io::Result<MediaPool> {
        Self::start_on(config, "0.0.0.0".parse().map_err(io::Error::other)?)
    }

    /// Starts workers whose sockets bind `ip`.
    pub fn start_on(config: &RtpConfig, ip: std::net::IpAddr) -> io::Result<MediaPool> {
        let stats = Arc::new(StatsInner::default());
        let mut workers = Vec::with_capacity(config.workers);
        for n in 0..config.workers.max(1) {
            let (tx, rx) = std_mpsc::channel();
            let worker = Worker::new(rx, stats.clone(), config.io_uring);
            let nice = config.worker_nice;
            std::thread::Builder::new()
                .name(format!("carecall-media-{n}"))
                .spawn(move || {
                    priority::apply(nice);
                    worker.run()
                })?;
            workers.push(tx);
        }
        Ok(MediaPool {
            workers,
            next_worker: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            ports: PortAllocator::new(ip, config.port_min, config.port_max),
            media_timeout: config.media_timeout,
            stats,
        })
    }

    /// Binds an RTP socket for a new call.
    pub fn reserve(&self) -> io::Result<ReservedPort> {
        self.ports.bind().map(ReservedPort)
    }

    /// Starts media on `port` with what SDP agreed. Sending starts at once (silence until the
    /// first prompt); receiving latches onto the peer's real source address.
    /// With `detect_machine`, the answer audio is analysed and one [`MediaEvent::Amd`] follows.
    /// The call plays from `prompts` (the set it started with) to its end.
    pub fn attach(
        &self,
        port: ReservedPort,
        negotiated: Negotiated,
        detect_machine: bool,
        prompts: &PromptSet,
    ) -> MediaSession {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let worker = self.next_worker.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        let (events_tx, events_rx) = mpsc::channel(64);
        let sender = RtpSender::new(rand::random(), rand::random(), rand::random());
        let mut leg = MediaLeg::new(
            MediaParams::from(&negotiated),
            sender,
            prompts.clone(),
            self.media_timeout,
            crate::clock::now(),
        );
        if detect_machine {
            leg = leg.detect_machine(AmdParams::default());
        }
        let call = MediaCall {
            id,
            socket: port.0,
            leg,
            events: events_tx,
        };
        let commands = self.workers[worker].clone();
        let _ = commands.send(Command::Add(Box::new(call)));
        MediaSession {
            id,
            commands,
            events: events_rx,
        }
    }

    /// Figures so far.
    pub fn stats(&self) -> MediaStats {
        self.stats.snapshot()
    }

    /// Stops every worker (their calls' sockets close).
    pub fn shutdown(&self) {
        for w in &self.workers {
            let _ = w.send(Command::Shutdown);
        }
    }
}

/// A call's handle on its media. Dropping it stops the media and closes the socket.
pub struct MediaSession {
    id: u64,
    commands: std_mpsc::Sender<Command>,
    events: mpsc::Receiver<MediaEvent>,
}

impl MediaSession {
    /// Queues prompts after whatever is playing.
    pub fn play(&self, prompts: Vec<PromptRef>) {
        let _ = self.commands.send(Command::Play(self.id, prompts));
    }

    /// Stops playback and drops the queue (barge-in).
    pub fn stop(&self) {
        let _ = self.commands.send(Command::Stop(self.id));
    }

    /// Applies a renegotiation (hold, unhold, new address).
    pub fn update(&self, negotiated: Negotiated) {
        let _ = self.commands.send(Command::Update(self.id, negotiated));
    }

    /// The far end showed it is there by signalling (a SIP INFO digit, any in-dialog
    /// request): the media timeout restarts as if a packet had arrived.
    pub fn note_activity(&self) {
        let _ = self.commands.send(Command::Activity(self.id));
    }

    /// The next media event; `None` when the worker has gone.
    pub async fn next_event(&mut self) -> Option<MediaEvent> {
        self.events.recv().await
    }

    /// Every event of what the call's socket has received so far, now: the worker reads the
    /// socket and hands on what it holds (it otherwise does so once a period), so a key the
    /// caller pressed just before hanging up is heard before the hang-up is. Waits at most
    /// [`FLUSH_WAIT`] for a busy worker; what came by then is returned.
    pub async fn flush(&mut self) -> Vec<MediaEvent> {
        let (done, flushed) = tokio::sync::oneshot::channel();
        if self.commands.send(Command::Flush(self.id, done)).is_ok() {
            let _ = tokio::time::timeout(FLUSH_WAIT, flushed).await;
        }
        let mut events = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            events.push(event);
        }
        events
    }
}

/// How long [`MediaSession::flush`] waits for the worker.
const FLUSH_WAIT: Duration = Duration::from_millis(200);

impl Drop for MediaSession {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Remove(self.id));
    }
}
