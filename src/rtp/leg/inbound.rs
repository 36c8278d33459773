//! The receiving half of a [`MediaLeg`]: which sources are accepted (symmetric RTP), which
//! DTMF transport is listened to, and the answering-machine detector's feed.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::{MediaEvent, MediaLeg};
use crate::media::FRAME_SAMPLES;
use crate::rtp::amd::AmdResult;
use crate::rtp::inband::InbandDetector;
use crate::rtp::packet::RtpPacket;
use crate::rtp::rfc4733::TelephoneEvents;
use crate::rtp::{DigitEvent, DigitMethod};

/// What became of one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    /// An RTP packet from the peer: it counts as activity and was analysed.
    Accepted,
    /// Not a valid RTP packet; ignored.
    NotRtp,
    /// RTP from a source other than the latched one and not from the signalled IP (a
    /// spoofed or stray sender); ignored, and it does not keep the call alive.
    UnknownSource,
}

/// Symmetric RTP (RFC 4961 practice, as behind NAT): send where the peer's packets come
/// from. The first packet latches its source; later a packet from the signalled IP (any
/// port) re-latches, and any other source is ignored.
#[derive(Debug, Clone, Copy)]
pub(super) struct SymmetricRtp {
    remote: SocketAddr,
    signalled_ip: IpAddr,
    latched: bool,
}

impl SymmetricRtp {
    /// Sending to the signalled `remote` until a packet arrives.
    pub(super) fn new(remote: SocketAddr) -> Self {
        SymmetricRtp {
            remote,
            signalled_ip: remote.ip(),
            latched: false,
        }
    }

    /// A renegotiated address. A new IP is sent to at once and learnt again from the next
    /// packet (the peer moved, perhaps behind another NAT); the same IP keeps a latched
    /// source, else the new port is used.
    pub(super) fn signal(&mut self, remote: SocketAddr) {
        if remote.ip() != self.signalled_ip {
            *self = SymmetricRtp::new(remote);
        } else if !self.latched {
            self.remote = remote;
        }
    }

    /// Whether a packet from `from` is the peer's; latches onto it if so.
    pub(super) fn accept(&mut self, from: SocketAddr) -> bool {
        if !self.latched || from.ip() == self.signalled_ip {
            self.remote = from;
            self.latched = true;
            true
        } else {
            from == self.remote
        }
    }

    /// Where to send.
    pub(super) fn remote(&self) -> SocketAddr {
        self.remote
    }
}

/// Incoming digits: telephone-events when negotiated, else tones in the audio (never both,
/// so a phone that sends both does not type every key twice).
pub(super) enum DigitSource {
    Events(Box<TelephoneEvents>),
    Inband(Box<InbandDetector>),
}

impl DigitSource {
    pub(super) fn for_payload_type(telephone_event: Option<u8>) -> DigitSource {
        match telephone_event {
            Some(pt) => DigitSource::Events(Box::new(TelephoneEvents::new(pt))),
            None => DigitSource::Inband(Box::default()),
        }
    }
}

impl MediaLeg {
    /// Feeds one datagram received from `from` at `now`. An accepted packet restarts the
    /// media timeout, goes to the answering-machine detector (audio payload type) and to the
    /// negotiated DTMF transport; each new digit becomes a [`MediaEvent::Digit`] with its
    /// method. Never fails: bad or foreign input is ignored and said so in the result.
    pub fn handle_packet(&mut self, datagram: &[u8], from: SocketAddr, now: Instant) -> Inbound {
        let Ok(pkt) = RtpPacket::parse(datagram) else {
            return Inbound::NotRtp;
        };
        if !self.peer.accept(from) {
            return Inbound::UnknownSource;
        }
        self.note_activity(now);
        let header = pkt.header;
        let is_audio = header.payload_type == self.params.audio_pt;
        if is_audio {
            self.feed_machine_detector(pkt.payload);
        }
        self.found.clear();
        let method = match &mut self.digits {
            DigitSource::Events(events)
                if Some(header.payload_type) == self.params.telephone_event =>
            {
                self.found.extend(events.receive(&header, pkt.payload));
                DigitMethod::Rfc4733
            }
            DigitSource::Inband(detector) if is_audio => {
                detector.push_g711(self.params.law, pkt.payload, &mut self.found);
                DigitMethod::Inband
            }
            _ => return Inbound::Accepted,
        };
        if !self.found.is_empty() {
            // A key pressed while we listen for a machine: a person is there.
            self.machine_decided(AmdResult::Human);
        }
        for &digit in &self.found {
            self.events
                .push_back(MediaEvent::Digit(DigitEvent { digit, method }));
        }
        Inbound::Accepted
    }

    fn feed_machine_detector(&mut self, payload: &[u8]) {
        let Some(amd) = &mut self.amd else { return };
        let mut samples = [0i16; FRAME_SAMPLES];
        let n = payload.len().min(FRAME_SAMPLES);
        for (s, &b) in samples.iter_mut().zip(&payload[..n]) {
            *s = self.params.law.decode(b);
        }
        if let Some(result) = amd.push(&samples[..n]) {
            self.machine_decided(result);
        }
    }

    fn machine_decided(&mut self, result: AmdResult) {
        if self.amd.take().is_some() {
            self.events.push_back(MediaEvent::Amd(result));
        }
    }
}
