//! The leg on a manual clock: `t0` plus offsets, no sockets, no sleeping. [`inbound`]: what is
//! accepted and heard (latching, digits, AMD); [`outbound`]: frames, hold, timers, playback.

mod inbound;
mod outbound;

use std::f64::consts::PI;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::rtp::packet::RtpHeader;
use crate::rtp::DigitMethod;

pub(super) const TE: u8 = 101;
pub(super) const TIMEOUT: Duration = Duration::from_secs(5);

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The signalled address, the peer's real (NAT) source, and a stranger.
pub(super) fn signalled() -> SocketAddr {
    addr("127.0.0.2:4000")
}
pub(super) fn nat_source() -> SocketAddr {
    addr("127.0.0.3:5000")
}
pub(super) fn stranger() -> SocketAddr {
    addr("127.0.0.66:6000")
}

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn params(telephone_event: Option<u8>) -> MediaParams {
    MediaParams {
        law: Law::Pcmu,
        audio_pt: 0,
        telephone_event,
        remote: signalled(),
        hold: false,
    }
}

/// `a`: 400 samples (2½ frames) of 1000; `b`: 160 samples of −2000.
pub(super) fn prompts() -> PromptSet {
    PromptSet::from_linear([
        (Language::Ja, "a", vec![1000i16; 400]),
        (Language::Ja, "b", vec![-2000i16; 160]),
    ])
}

pub(super) fn leg(telephone_event: Option<u8>, t0: Instant) -> MediaLeg {
    let sender = RtpSender::new(0xC0FFEE, 1000, 50_000);
    MediaLeg::new(params(telephone_event), sender, prompts(), TIMEOUT, t0)
}

pub(super) fn rtp(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    let header = RtpHeader {
        marker: false,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc: 0x5EED,
    };
    let mut out = Vec::new();
    header.write(payload, &mut out);
    out
}

pub(super) fn silence_packet(seq: u16) -> Vec<u8> {
    rtp(0, seq, u32::from(seq) * 160, &[0xFF; 160])
}

pub(super) fn events(leg: &mut MediaLeg) -> Vec<MediaEvent> {
    std::iter::from_fn(|| leg.poll_event()).collect()
}

pub(super) fn digits(events: &[MediaEvent]) -> Vec<(char, DigitMethod)> {
    events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::Digit(d) => Some((d.digit.to_char(), d.method)),
            _ => None,
        })
        .collect()
}

/// μ-law RTP packets, 20 ms each, of `keys` as DTMF tones (−10 dBm0 per tone, 60 ms on,
/// 60 ms off, 100 ms lead-in).
pub(super) fn tone_packets(keys: &str) -> Vec<Vec<u8>> {
    let (on, off) = (480, 480);
    let mut samples = vec![0i16; 800];
    for key in keys.chars() {
        let (low, high) = dtmf_pair(key);
        let amp = 22_700.0 * 10f64.powf(-10.0 / 20.0);
        samples.extend((0..on).map(|n| {
            let t = f64::from(n) / 8000.0;
            (amp * ((2.0 * PI * low * t).sin() + (2.0 * PI * high * t).sin())) as i16
        }));
        samples.extend(std::iter::repeat_n(0i16, off));
    }
    samples
        .chunks(160)
        .enumerate()
        .map(|(i, frame)| {
            let payload: Vec<u8> = frame.iter().map(|&s| Law::Pcmu.encode(s)).collect();
            rtp(0, i as u16, i as u32 * 160, &payload)
        })
        .collect()
}

pub(super) fn dtmf_pair(key: char) -> (f64, f64) {
    const LOW: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const HIGH: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    let pos = "123A456B789C*0#D".find(key).unwrap();
    (LOW[pos / 4], HIGH[pos % 4])
}

/// RFC 4733 packets of one press of `key` starting at `ts`: three updates, three ends.
pub(super) fn event_packets(key: char, ts: u32, seq: u16) -> Vec<Vec<u8>> {
    let code = crate::rtp::Digit::from_char(key).unwrap().event_code();
    (0..6u16)
        .map(|i| {
            let end = if i >= 3 { 0x80 } else { 0 };
            let duration = 160 * (i.min(3) + 1);
            let [hi, lo] = duration.to_be_bytes();
            rtp(TE, seq + i, ts, &[code, end | 10, hi, lo])
        })
        .collect()
}
