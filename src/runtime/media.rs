//! Media worker threads. Each worker owns a set of calls' RTP sockets and paces all of them
//! from one timer: a 20 ms period cut into twenty 1 ms slots, each call pinned to the slot
//! with the fewest calls. On its slot a call drains its socket (RTP in: symmetric latching,
//! telephone-events, in-band tones, media timeout) and sends its next 20 ms frame.
//!
//! Workers are plain threads, not tokio tasks: a sleeping thread wakes within tens of
//! microseconds, where tokio's timer wheel rounds to a millisecond.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::ports::PortAllocator;
use crate::call::PromptRef;
use crate::config::RtpConfig;
use crate::lang::Language;
use crate::media::{PlayItem, Player, PlayerEvent, PromptSet};
use crate::rtp::amd::{AmdDetector, AmdParams, AmdResult};
use crate::rtp::g711::Law;
use crate::rtp::inband::InbandDetector;
use crate::rtp::packet::{RtpHeader, RtpPacket};
use crate::rtp::rfc4733::TelephoneEvents;
use crate::rtp::sender::RtpSender;
use crate::rtp::{DigitEvent, DigitMethod};
use crate::sip::sdp::Negotiated;

const SLOTS: usize = 20;
const SLOT: Duration = Duration::from_millis(1);
const FRAME_BYTES: usize = 160;

/// What a call's media reports to its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// A digit from telephone-events or in-band tones.
    Digit(DigitEvent),
    /// The playback queue ran empty.
    PlaybackDone,
    /// No RTP arrived for the configured media timeout.
    MediaTimeout,
    /// Answering-machine detection decided (outbound calls that asked for it).
    Amd(AmdResult),
}

enum Command {
    Add(Box<MediaCall>),
    Play(u64, Vec<PromptRef>),
    Stop(u64),
    Update(u64, Negotiated),
    Activity(u64),
    Remove(u64),
    Shutdown,
}

/// Lateness buckets, upper bounds in microseconds (the last is open).
pub const LATENESS_BOUNDS_US: [u64; 9] = [50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000];

#[derive(Default)]
struct StatsInner {
    frames_sent: AtomicU64,
    packets_received: AtomicU64,
    send_errors: AtomicU64,
    lateness: [AtomicU64; LATENESS_BOUNDS_US.len() + 1],
    max_lateness_us: AtomicU64,
    calls: AtomicUsize,
}

/// A snapshot of the media workers' figures.
#[derive(Debug, Clone, Default)]
pub struct MediaStats {
    /// RTP frames sent.
    pub frames_sent: u64,
    /// RTP packets received.
    pub packets_received: u64,
    /// Sends the kernel refused.
    pub send_errors: u64,
    /// Frames per lateness bucket (see [`LATENESS_BOUNDS_US`]; the last bucket is beyond).
    pub lateness: Vec<u64>,
    /// The latest frame, in microseconds after its due time.
    pub max_lateness_us: u64,
    /// Calls with media now.
    pub calls: usize,
}

impl MediaStats {
    /// The lateness (µs, bucket upper bound) at quantile `q` (0.0–1.0).
    pub fn lateness_quantile_us(&self, q: f64) -> u64 {
        let total: u64 = self.lateness.iter().sum();
        let target = (total as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.lateness.iter().enumerate() {
            seen += n;
            if seen >= target && *n > 0 {
                return LATENESS_BOUNDS_US
                    .get(i)
                    .copied()
                    .unwrap_or(self.max_lateness_us);
            }
        }
        0
    }
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
            let worker = Worker::new(rx, stats.clone());
            std::thread::Builder::new()
                .name(format!("carecall-media-{n}"))
                .spawn(move || worker.run())?;
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
        let mut call = MediaCall::new(
            id,
            port.0,
            negotiated,
            prompts.clone(),
            self.media_timeout,
            events_tx,
        );
        if detect_machine {
            call.amd = Some(AmdDetector::new(AmdParams::default()));
        }
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
        let s = &self.stats;
        MediaStats {
            frames_sent: s.frames_sent.load(Ordering::Relaxed),
            packets_received: s.packets_received.load(Ordering::Relaxed),
            send_errors: s.send_errors.load(Ordering::Relaxed),
            lateness: s
                .lateness
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            max_lateness_us: s.max_lateness_us.load(Ordering::Relaxed),
            calls: s.calls.load(Ordering::Relaxed),
        }
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
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Remove(self.id));
    }
}

/// Incoming digits: telephone-events when negotiated, else tones in the audio.
enum DigitSource {
    Events(Box<TelephoneEvents>),
    Inband(Box<InbandDetector>),
}

impl DigitSource {
    fn for_payload_type(telephone_event: Option<u8>) -> DigitSource {
        match telephone_event {
            Some(pt) => DigitSource::Events(Box::new(TelephoneEvents::new(pt))),
            None => DigitSource::Inband(Box::default()),
        }
    }
}

struct MediaCall {
    id: u64,
    socket: UdpSocket,
    remote: SocketAddr,
    signalled_ip: std::net::IpAddr,
    latched: bool,
    law: Law,
    audio_pt: u8,
    telephone_event: Option<u8>,
    hold: bool,
    sender: RtpSender,
    player: Player,
    prompts: PromptSet,
    digits: DigitSource,
    last_rx: Option<Instant>,
    started: Instant,
    media_timeout: Duration,
    timed_out: bool,
    amd: Option<AmdDetector>,
    events: mpsc::Sender<MediaEvent>,
}

impl MediaCall {
    fn new(
        id: u64,
        socket: UdpSocket,
        n: Negotiated,
        prompts: PromptSet,
        media_timeout: Duration,
        events: mpsc::Sender<MediaEvent>,
    ) -> Self {
        let digits = DigitSource::for_payload_type(n.telephone_event);
        MediaCall {
            id,
            socket,
            remote: n.remote,
            signalled_ip: n.remote.ip(),
            latched: false,
            law: n.law,
            audio_pt: n.audio_pt,
            telephone_event: n.telephone_event,
            hold: n.on_hold(),
            sender: RtpSender::new(rand::random(), rand::random(), rand::random()),
            player: Player::new(prompts.clone(), Language::Ja, n.law),
            prompts,
            digits,
            last_rx: None,
            started: crate::clock::now(),
            media_timeout,
            timed_out: false,
            amd: None,
            events,
        }
    }

    fn update(&mut self, n: Negotiated) {
        if n.remote.ip() != self.signalled_ip || !self.latched {
            self.remote = n.remote;
        }
        self.signalled_ip = n.remote.ip();
        self.hold = n.on_hold();
        if n.law != self.law {
            let lang = self.player.language();
            self.player = Player::new(self.prompts.clone(), lang, n.law);
            self.law = n.law;
        }
        self.audio_pt = n.audio_pt;
        if n.telephone_event != self.telephone_event {
            self.telephone_event = n.telephone_event;
            self.digits = DigitSource::for_payload_type(n.telephone_event);
        }
        // While held the peer may send nothing: restart the media timeout on every change.
        self.last_rx = Some(crate::clock::now());
    }

    fn play(&mut self, prompts: &[PromptRef]) {
        let items: Vec<PlayItem<'_>> = prompts
            .iter()
            .map(|p| PlayItem::PromptIn(p.lang, p.id.as_str()))
            .collect();
        if let Err(e) = self.player.enqueue(&items) {
            // The dialplan checker makes this unreachable; never end a call over it.
            tracing::error!(error = %e, "prompt missing at play time");
            self.emit(MediaEvent::PlaybackDone);
        }
    }

    fn emit(&self, event: MediaEvent) {
        let _ = self.events.try_send(event);
    }

    fn receive(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        digits: &mut Vec<crate::rtp::Digit>,
        stats: &StatsInner,
    ) {
        while let Ok((len, from)) = self.socket.recv_from(buf) {
            let Ok(pkt) = RtpPacket::parse(&buf[..len]) else {
                continue;
            };
            // Symmetric RTP: latch onto the first packet, re-latch only from the signalled IP.
            if !self.latched || from.ip() == self.signalled_ip {
                self.remote = from;
                self.latched = true;
            } else if from != self.remote {
                continue;
            }
            stats.packets_received.fetch_add(1, Ordering::Relaxed);
            self.last_rx = Some(now);
            let header = pkt.header;
            if header.payload_type == self.audio_pt {
                self.detect_machine(pkt.payload);
            }
            digits.clear();
            let method = match &mut self.digits {
                DigitSource::Events(events)
                    if Some(header.payload_type) == self.telephone_event =>
                {
                    digits.extend(events.receive(&header, pkt.payload));
                    DigitMethod::Rfc4733
                }
                DigitSource::Inband(detector) if header.payload_type == self.audio_pt => {
                    detector.push_g711(self.law, pkt.payload, digits);
                    DigitMethod::Inband
                }
                _ => continue,
            };
            if !digits.is_empty() {
                // A key pressed while we listen for a machine: a person is there.
                self.amd_decided(AmdResult::Human);
            }
            for &digit in digits.iter() {
                self.emit(MediaEvent::Digit(DigitEvent { digit, method }));
            }
        }
    }

    fn detect_machine(&mut self, payload: &[u8]) {
        let Some(amd) = &mut self.amd else { return };
        let mut samples = [0i16; FRAME_BYTES];
        let n = payload.len().min(FRAME_BYTES);
        for (s, &b) in samples.iter_mut().zip(&payload[..n]) {
            *s = self.law.decode(b);
        }
        if let Some(result) = amd.push(&samples[..n]) {
            self.amd_decided(result);
        }
    }

    fn amd_decided(&mut self, result: AmdResult) {
        if self.amd.take().is_some() {
            self.emit(MediaEvent::Amd(result));
        }
    }

    fn check_timeout(&mut self, now: Instant) {
        let since = self.last_rx.unwrap_or(self.started);
        if !self.hold && !self.timed_out && now.duration_since(since) > self.media_timeout {
            self.timed_out = true;
            self.emit(MediaEvent::MediaTimeout);
        }
    }

    fn send(&mut self, due: Instant, out: &mut Vec<u8>, stats: &StatsInner) {
        if self.hold {
            self.sender.skip_frames(1);
            return;
        }
        let silence = [self.law.silence(); FRAME_BYTES];
        out.clear();
        match self.player.next_frame() {
            Some(frame) => {
                let header: RtpHeader = self.sender.next(self.audio_pt, frame.starts_prompt);
                header.write(frame.payload, out);
            }
            None => {
                let header: RtpHeader = self.sender.next(self.audio_pt, false);
                header.write(&silence, out);
            }
        }
        if let Some(PlayerEvent::Finished) = self.player.poll_event() {
            self.emit(MediaEvent::PlaybackDone);
        }
        let sent = self.socket.send_to(out, self.remote);
        let late = crate::clock::now().saturating_duration_since(due);
        record(stats, late, sent.is_ok());
    }
}

fn record(stats: &StatsInner, late: Duration, ok: bool) {
    if !ok {
        stats.send_errors.fetch_add(1, Ordering::Relaxed);
        return;
    }
    stats.frames_sent.fetch_add(1, Ordering::Relaxed);
    let us = late.as_micros() as u64;
    let bucket = LATENESS_BOUNDS_US
        .iter()
        .position(|&b| us < b)
        .unwrap_or(LATENESS_BOUNDS_US.len());
    stats.lateness[bucket].fetch_add(1, Ordering::Relaxed);
    stats.max_lateness_us.fetch_max(us, Ordering::Relaxed);
}

struct Worker {
    commands: std_mpsc::Receiver<Command>,
    slots: Vec<Vec<MediaCall>>,
    slot_of: HashMap<u64, usize>,
    stats: Arc<StatsInner>,
    running: bool,
}

impl Worker {
    fn new(commands: std_mpsc::Receiver<Command>, stats: Arc<StatsInner>) -> Self {
        Worker {
            commands,
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            slot_of: HashMap::new(),
            stats,
            running: true,
        }
    }

    fn run(mut self) {
        let mut buf = vec![0u8; 2048];
        let mut out = Vec::with_capacity(12 + FRAME_BYTES);
        let mut digits = Vec::with_capacity(4);
        let epoch = crate::clock::now();
        let mut tick: u64 = 0;
        while self.running {
            let due = epoch + SLOT * tick as u32;
            let now = crate::clock::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            self.drain_commands();
            let slot = (tick % SLOTS as u64) as usize;
            let now = crate::clock::now();
            // Sending is what must be on time: every due frame goes out first, then the
            // sockets are drained.
            for call in &mut self.slots[slot] {
                call.send(due, &mut out, &self.stats);
            }
            for call in &mut self.slots[slot] {
                call.receive(now, &mut buf, &mut digits, &self.stats);
                call.check_timeout(now);
            }
            tick += 1;
            // Far behind (a stall of more than a period): resynchronise instead of bursting.
            let behind = crate::clock::now().saturating_duration_since(epoch + SLOT * tick as u32);
            if behind > SLOT * SLOTS as u32 {
                tick += (behind.as_millis() as u64 / SLOTS as u64) * SLOTS as u64;
            }
        }
    }

    fn drain_commands(&mut self) {
        while let Ok(cmd) = self.commands.try_recv() {
            match cmd {
                Command::Add(call) => {
                    let slot = (0..SLOTS).min_by_key(|&s| self.slots[s].len()).unwrap_or(0);
                    self.slot_of.insert(call.id, slot);
                    self.slots[slot].push(*call);
                    self.stats.calls.fetch_add(1, Ordering::Relaxed);
                }
                Command::Play(id, prompts) => self.with(id, |c| c.play(&prompts)),
                Command::Stop(id) => self.with(id, |c| c.player.stop()),
                Command::Update(id, n) => self.with(id, |c| c.update(n)),
                Command::Activity(id) => self.with(id, |c| c.last_rx = Some(crate::clock::now())),
                Command::Remove(id) => {
                    if let Some(slot) = self.slot_of.remove(&id) {
                        self.slots[slot].retain(|c| c.id != id);
                        self.stats.calls.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                Command::Shutdown => self.running = false,
            }
        }
    }

    fn with(&mut self, id: u64, f: impl FnOnce(&mut MediaCall)) {
        if let Some(&slot) = self.slot_of.get(&id) {
            if let Some(call) = self.slots[slot].iter_mut().find(|c| c.id == id) {
                f(call);
            }
        }
    }
}
