//! One media worker thread: its calls in twenty 1 ms slots of the 20 ms frame period
//! ([`SlotLoad`] picks a new call's slot), and the loop that wakes for each slot holding
//! calls, on time, sends its calls' due frames (in one batch: [`Ring`]), then feeds them
//! what their sockets received (read in one batch too); once a period it hands the calls'
//! events to their tasks (at once for a call whose task asks: [`Command::Flush`]).
//! A worker without calls sleeps until a command comes. Each call is a socket beside a [`MediaLeg`]; this file moves bytes
//! and events and reads the clock, the leg decides everything else.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::slots::{SlotLoad, SLOTS};
use super::stats::{StatsInner, Tally};
use super::uring::{Batch, Ring};
use super::{Command, MediaEvent};
use crate::call::PromptRef;
use crate::media::PlayItem;
use crate::rtp::leg::{Inbound, MediaLeg, MediaParams};
use crate::sip::sdp::Negotiated;

const SLOT: Duration = Duration::from_millis(1);
/// A peer sends one packet a period, so on most periods a call's socket is read once: reading
/// on until the socket is empty would cost a second system call (the empty read) per call and
/// period. Every `DRAIN_EVERY`th period it is read until empty, so a burst (jitter, a peer's
/// catching up, RFC 4733 end packets sent three times) waits at most that many periods.
const DRAIN_EVERY: u64 = 5;
/// The most datagrams a drain takes from one socket (a flood of one call's port must not hold
/// up the others' frames).
const DRAIN_LIMIT: usize = 64;

/// A call on a worker: its socket, its leg and where its events go. The shell only moves
/// bytes: datagrams in to the leg, frames out to the socket, events out to the call's task.
pub(super) struct MediaCall {
    pub(super) id: u64,
    pub(super) socket: UdpSocket,
    pub(super) leg: MediaLeg,
    pub(super) events: mpsc::Sender<MediaEvent>,
}

impl MediaCall {
    fn play(&mut self, prompts: &[PromptRef]) {
        let items: Vec<PlayItem<'_>> = prompts
            .iter()
            .map(|p| PlayItem::PromptIn(p.lang, p.id.as_str()))
            .collect();
        if let Err(e) = self.leg.play(&items) {
            // The dialplan checker makes this unreachable; the leg reports PlaybackDone.
            tracing::error!(error = %e, "prompt missing at play time");
        }
    }

    /// Forwards the leg's pending events (dropped if the call's task is far behind).
    fn flush_events(&mut self) {
        forward_events(&mut self.leg, &self.events);
    }

    /// Queues the frame the leg has due in `batch` (the socket stays borrowed until the
    /// batch is flushed).
    fn send<'a>(&'a mut self, due: Instant, batch: &mut Batch<'a>) {
        let MediaCall { socket, leg, .. } = self;
        if let Some(frame) = leg.poll_transmit(due) {
            batch.push(socket, frame.payload, frame.destination);
        }
    }

    /// Reads what the socket holds (up to [`DRAIN_LIMIT`] datagrams, counted in `tally` as
    /// the slot's reads are) and hands on every pending event.
    fn flush(&mut self, buf: &mut [u8], tally: &mut Tally) {
        let now = crate::clock::now();
        for _ in 0..DRAIN_LIMIT {
            let Ok((n, from)) = self.socket.recv_from(buf) else {
                break;
            };
            if self.leg.handle_packet(&buf[..n], from, now) == Inbound::Accepted {
                tally.packet_received();
            }
        }
        self.flush_events();
    }
}

/// Hands each call's leg what its socket holds: at most `limit` datagrams (see
/// [`DRAIN_EVERY`]), read in rounds of one datagram per socket that still had one.
fn receive(
    ring: &mut Ring,
    calls: &mut [MediaCall],
    wanted: &mut Vec<bool>,
    limit: usize,
    now: Instant,
    tally: &mut Tally,
) {
    wanted.clear();
    wanted.resize(calls.len(), true);
    for _ in 0..limit {
        let read = ring.receive(
            calls,
            wanted,
            |call| &call.socket,
            |call, datagram, from| {
                if call.leg.handle_packet(datagram, from, now) == Inbound::Accepted {
                    tally.packet_received();
                }
            },
        );
        if read == 0 {
            break;
        }
    }
    for call in calls {
        call.leg.handle_timeout(now);
    }
}

fn forward_events(leg: &mut MediaLeg, events: &mpsc::Sender<MediaEvent>) {
    while let Some(event) = leg.poll_event() {
        let _ = events.try_send(event);
    }
}

/// The SIP side's negotiation as the leg's plain numbers: the runtime is where `sip` and
/// `rtp` meet, so neither names the other.
impl From<&Negotiated> for MediaParams {
    fn from(n: &Negotiated) -> MediaParams {
        MediaParams {
            law: n.law,
            audio_pt: n.audio_pt,
            telephone_event: n.telephone_event,
            remote: n.remote,
            hold: n.on_hold(),
        }
    }
}

pub(super) struct Worker {
    commands: std_mpsc::Receiver<Command>,
    slots: Vec<Vec<MediaCall>>,
    slot_of: HashMap<u64, usize>,
    load: SlotLoad,
    stats: Arc<StatsInner>,
    io_uring: bool,
    running: bool,
}

impl Worker {
    /// A worker that sends through `io_uring` when `io_uring` and the kernel allows it.
    pub(super) fn new(
        commands: std_mpsc::Receiver<Command>,
        stats: Arc<StatsInner>,
        io_uring: bool,
    ) -> Self {
        Worker {
            commands,
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            slot_of: HashMap::new(),
            load: SlotLoad::default(),
            stats,
            io_uring,
            running: true,
        }
    }

    pub(super) fn run(mut self) {
        let mut tally = Tally::default();
        // The ring is the thread's own (its memory holds raw pointers: it is not `Send`).
        let mut ring = Ring::new(self.io_uring);
        let mut wanted = Vec::new();
        let epoch = crate::clock::now();
        let mut tick: u64 = 0;
        while self.running {
            self.drain_commands();
            if self.load.is_empty() {
                // No calls: nothing is due until a command comes.
                match self.commands.recv() {
                    Ok(cmd) => self.apply(cmd),
                    Err(_) => break,
                }
                tick = tick.max(ticks_since(epoch));
                continue;
            }
            // Wake only for the next slot that holds calls.
            let slot = (tick % SLOTS as u64) as usize;
            tick += self.load.ticks_to_next(slot).unwrap_or(0) as u64;
            let due = epoch + SLOT * tick as u32;
            let now = crate::clock::now();
            if due > now {
                std::thread::sleep(due - now);
                self.drain_commands();
            }
            let slot = (tick % SLOTS as u64) as usize;
            let now = crate::clock::now();
            // Sending is what must be on time: every due frame goes out first, in one
            // batch, then the sockets are drained.
            let mut batch = ring.batch();
            for call in &mut self.slots[slot] {
                call.send(due, &mut batch);
            }
            let (sent, failed) = batch.flush();
            tally.record_sends(
                crate::clock::now().saturating_duration_since(due),
                sent,
                failed,
            );
            let limit = if (tick / SLOTS as u64).is_multiple_of(DRAIN_EVERY) {
                DRAIN_LIMIT
            } else {
                1
            };
            receive(
                &mut ring,
                &mut self.slots[slot],
                &mut wanted,
                limit,
                now,
                &mut tally,
            );
            if self.load.first_open() == Some(slot) {
                self.forward_all_events();
            }
            self.stats.add(&mut tally);
            tick += 1;
            // Far behind (a stall of more than a period): resynchronise instead of bursting.
            let behind = crate::clock::now().saturating_duration_since(epoch + SLOT * tick as u32);
            if behind > SLOT * SLOTS as u32 {
                tick += (behind.as_millis() as u64 / SLOTS as u64) * SLOTS as u64;
            }
        }
    }

    /// Hands every call's pending events (digits, a prompt's end, the media time-out) to its
    /// task, once a period (at the first slot holding calls): each hand-off to a sleeping
    /// call runtime wakes its thread, and on this kind of VM a wake-up costs more of that
    /// thread's CPU than the event's own work. One hand-off a period wakes it at most 50
    /// times a second per worker, not once per event; an event waits at most one period
    /// (20 ms), which a caller does not hear. The race that wait would open, a key pressed
    /// just before a hang-up losing to the BYE, is closed by [`Command::Flush`]: the call's
    /// task asks for its events before it handles the hang-up.
    fn forward_all_events(&mut self) {
        for call in self.slots.iter_mut().flatten() {
            call.flush_events();
        }
    }

    fn drain_commands(&mut self) {
        while let Ok(cmd) = self.commands.try_recv() {
            self.apply(cmd);
        }
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::Add(call) => {
                let slot = self.load.join();
                self.slot_of.insert(call.id, slot);
                self.slots[slot].push(*call);
                self.stats.call_count(true);
            }
            Command::Play(id, prompts) => self.with(id, |c| {
                c.play(&prompts);
                c.flush_events();
            }),
            Command::Stop(id) => self.with(id, |c| c.leg.stop()),
            Command::Update(id, n) => self.with(id, |c| {
                c.leg.update(MediaParams::from(&n), crate::clock::now());
                c.flush_events();
            }),
            Command::Activity(id) => self.with(id, |c| c.leg.note_activity(crate::clock::now())),
            Command::Flush(id, done) => {
                let (mut buf, mut tally) = ([0u8; 2048], Tally::default());
                self.with(id, |c| c.flush(&mut buf, &mut tally));
                self.stats.add(&mut tally);
                let _ = done.send(());
            }
            Command::Remove(id) => {
                if let Some(slot) = self.slot_of.remove(&id) {
                    self.slots[slot].retain(|c| c.id != id);
                    self.load.leave(slot);
                    self.stats.call_count(false);
                }
            }
            Command::Shutdown => self.running = false,
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

/// Whole slots since `epoch`, rounded up: the first tick not yet past.
fn ticks_since(epoch: Instant) -> u64 {
    let micros = crate::clock::now()
        .saturating_duration_since(epoch)
        .as_micros() as u64;
    micros.div_ceil(SLOT.as_micros() as u64)
}
