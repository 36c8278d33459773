//! One call's media leg as a sans-IO core: packets and `now` in, frames and events out.
//!
//! [`MediaLeg`] holds everything a call's RTP does besides moving bytes: symmetric RTP
//! latching ([`inbound`]), hold, the media timeout, the choice of DTMF transport (RFC 4733
//! telephone-events when negotiated, else the in-band detector), answering-machine feeding,
//! the prompt player and the outbound RTP header. It owns no socket, thread or clock: the
//! runtime's media worker calls, for each call,
//!
//! - [`MediaLeg::poll_transmit`] once per 20 ms slot and sends what it returns;
//! - [`MediaLeg::handle_packet`] for every datagram its socket received;
//! - [`MediaLeg::handle_timeout`] on its slot (a spurious call is harmless), and
//! - [`MediaLeg::poll_event`] until `None` after any of these, forwarding the events.
//!
//! Timers ([`LegTimer`]): the next frame and the media timeout; [`MediaLeg::poll_timeout`]
//! is the earlier of the two.
//!
//! The [`Player`] lives inside the leg, not beside it: the frame that ends the queue and its
//! [`MediaEvent::PlaybackDone`] must come out of one step (the call hangs up after that frame
//! has left, plus a tail), hold pauses the player while the RTP timestamp runs on, the RTP
//! marker comes from the player's prompt starts, and a new codec needs a new player. Beside
//! the leg, the shell would have to do all that coordination itself: call logic in the shell.

mod inbound;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::amd::{AmdDetector, AmdParams, AmdResult};
use super::g711::Law;
use super::sender::RtpSender;
use super::{Digit, DigitEvent};
use crate::lang::Language;
use crate::media::{PlayError, PlayItem, Player, PlayerEvent, PromptSet, FRAME_SAMPLES};
use inbound::{DigitSource, SymmetricRtp};

pub use inbound::Inbound;

/// One frame period: 160 samples of 8 kHz G.711.
pub const FRAME: Duration = Duration::from_millis(20);
/// The fixed RTP header carecall writes.
const HEADER_BYTES: usize = 12;

/// What a call's media reports to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// A digit from telephone-events or in-band tones.
    Digit(DigitEvent),
    /// The playback queue ran empty: reported with the frame that ended it.
    PlaybackDone,
    /// No RTP arrived (nor any activity was noted) for the configured media timeout.
    MediaTimeout,
    /// Answering-machine detection decided (outbound calls that asked for it).
    Amd(AmdResult),
}

/// What SDP agreed for the audio, as plain numbers (the runtime converts the SIP side's
/// negotiation result; this module knows no SDP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaParams {
    /// The G.711 law of the audio.
    pub law: Law,
    /// The audio payload type.
    pub audio_pt: u8,
    /// The telephone-event payload type, when the peer supports RFC 4733.
    pub telephone_event: Option<u8>,
    /// Where the peer said to send RTP.
    pub remote: SocketAddr,
    /// The peer put the call on hold: send nothing and run no media timeout.
    pub hold: bool,
}

/// The leg's timers; the next deadline is the earliest that is armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegTimer {
    /// The next 20 ms frame is due (served by [`MediaLeg::poll_transmit`]).
    Frame,
    /// Silence for the media timeout (served by [`MediaLeg::handle_timeout`]); disarmed
    /// while on hold and once it has fired.
    MediaTimeout,
}

/// One RTP datagram to send: a borrowed view into the leg, valid until its next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// Where to send it (the latched source, else the signalled address).
    pub destination: SocketAddr,
    /// The RTP header and 160 bytes of G.711.
    pub payload: &'a [u8],
}

/// The media of one call. See the module doc for the calling contract.
pub struct MediaLeg {
    params: MediaParams,
    peer: SymmetricRtp,
    sender: RtpSender,
    player: Player,
    prompts: PromptSet,
    digits: DigitSource,
    found: Vec<Digit>,
    amd: Option<AmdDetector>,
    next_frame: Instant,
    last_activity: Instant,
    media_timeout: Duration,
    timed_out: bool,
    events: VecDeque<MediaEvent>,
    out: Vec<u8>,
}

impl MediaLeg {
    /// A leg that starts at `now`: the first frame is due at once (silence until something is
    /// played), and the media timeout counts from `now`. `sender` carries the stream's random
    /// SSRC, sequence number and timestamp (drawn by the caller, so tests are deterministic).
    pub fn new(
        params: MediaParams,
        sender: RtpSender,
        prompts: PromptSet,
        media_timeout: Duration,
        now: Instant,
    ) -> MediaLeg {
        MediaLeg {
            params,
            peer: SymmetricRtp::new(params.remote),
            sender,
            player: Player::new(prompts.clone(), Language::Ja, params.law),
            prompts,
            digits: DigitSource::for_payload_type(params.telephone_event),
            found: Vec::with_capacity(4),
            amd: None,
            next_frame: now,
            last_activity: now,
            media_timeout,
            timed_out: false,
            events: VecDeque::with_capacity(4),
            out: Vec::with_capacity(HEADER_BYTES + FRAME_SAMPLES),
        }
    }

    /// Analyses the answer audio for a machine: exactly one [`MediaEvent::Amd`] follows (a
    /// digit before the decision means a person).
    pub fn detect_machine(mut self, params: AmdParams) -> MediaLeg {
        self.amd = Some(AmdDetector::new(params));
        self
    }

    /// Applies a renegotiation (hold, unhold, new address, codec, telephone-event).
    ///
    /// A new signalled IP address sends to it and learns the source again from the next
    /// packet; the same IP keeps the latched source. The media timeout restarts (while held
    /// the peer may send nothing, and coming back starts a fresh wait). A codec change drops
    /// what was playing and reports [`MediaEvent::PlaybackDone`] if anything was, so the call
    /// never waits for a prompt that will not end.
    pub fn update(&mut self, params: MediaParams, now: Instant) {
        self.peer.signal(params.remote);
        if params.law != self.params.law {
            let lang = self.player.language();
            let was_playing = !self.player.is_idle();
            self.player = Player::new(self.prompts.clone(), lang, params.law);
            if was_playing {
                self.events.push_back(MediaEvent::PlaybackDone);
            }
        }
        if params.telephone_event != self.params.telephone_event {
            self.digits = DigitSource::for_payload_type(params.telephone_event);
        }
        self.params = params;
        self.note_activity(now);
    }

    /// The far end showed it is there by signalling (a SIP INFO digit, any in-dialog
    /// request): the media timeout restarts as if a packet had arrived at `now`.
    pub fn note_activity(&mut self, now: Instant) {
        self.last_activity = self.last_activity.max(now);
    }

    /// Queues prompts after whatever is playing. An unknown prompt queues nothing, reports
    /// [`MediaEvent::PlaybackDone`] (never leave the call waiting) and is returned for the
    /// caller to log. Only empty items: `PlaybackDone` at once.
    pub fn play(&mut self, items: &[PlayItem<'_>]) -> Result<(), PlayError> {
        let queued = self.player.enqueue(items);
        if queued.is_err() || self.player.poll_event().is_some() {
            self.events.push_back(MediaEvent::PlaybackDone);
        }
        queued
    }

    /// Barge-in: drops the prompt being played and the queue; no `PlaybackDone` for them.
    pub fn stop(&mut self) {
        self.player.stop();
    }

    /// The frame due at `now`, if one is: call once per 20 ms slot and send it.
    ///
    /// `None` when the next frame is not due yet, and on hold (the period passes unsent: the
    /// RTP timestamp moves on and the player waits). Sends silence when nothing is queued.
    /// Called more than a period late, the periods missed are skipped rather than sent in a
    /// burst (the timestamp jumps, the prompt goes on where it was). The frame that ends
    /// the queue makes [`MediaEvent::PlaybackDone`] pending.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit<'_>> {
        if now < self.next_frame {
            return None;
        }
        self.next_frame += FRAME;
        if now >= self.next_frame {
            // A period or more behind (rare): skip what was missed, send the frame due now.
            let missed = ((now - self.next_frame).as_micros() / FRAME.as_micros()) as u32 + 1;
            self.sender.skip_frames(missed);
            self.next_frame += FRAME * missed;
        }
        if self.params.hold {
            self.sender.skip_frames(1);
            return None;
        }
        let audio_pt = self.params.audio_pt;
        self.out.clear();
        match self.player.next_frame() {
            Some(frame) => {
                let header = self.sender.next(audio_pt, frame.starts_prompt);
                header.write(frame.payload, &mut self.out);
            }
            None => {
                let header = self.sender.next(audio_pt, false);
                let silence = [self.params.law.silence(); FRAME_SAMPLES];
                header.write(&silence, &mut self.out);
            }
        }
        if let Some(PlayerEvent::Finished) = self.player.poll_event() {
            self.events.push_back(MediaEvent::PlaybackDone);
        }
        Some(Transmit {
            destination: self.peer.remote(),
            payload: &self.out,
        })
    }

    /// Fires the media timeout if it is due at `now`: one [`MediaEvent::MediaTimeout`] per
    /// leg, never while on hold. Harmless at any other time.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(at) = self.deadline(LegTimer::MediaTimeout) {
            if now >= at {
                self.timed_out = true;
                self.events.push_back(MediaEvent::MediaTimeout);
            }
        }
    }

    /// The earliest armed deadline: the next frame or the media timeout.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [LegTimer::Frame, LegTimer::MediaTimeout]
            .into_iter()
            .filter_map(|t| self.deadline(t))
            .min()
    }

    /// When `timer` is due; `None` if it is not armed.
    pub fn deadline(&self, timer: LegTimer) -> Option<Instant> {
        match timer {
            LegTimer::Frame => Some(self.next_frame),
            LegTimer::MediaTimeout => (!self.params.hold && !self.timed_out)
                .then(|| self.last_activity + self.media_timeout),
        }
    }

    /// The next pending event, in order; `None` when there is none.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// Where frames go now: the latched source, else the signalled address.
    pub fn remote(&self) -> SocketAddr {
        self.peer.remote()
    }

    /// The outbound stream's state (SSRC, next sequence number and timestamp).
    pub fn sender(&self) -> &RtpSender {
        &self.sender
    }
}
