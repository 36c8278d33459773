//! RFC 4733 telephone-event receiver: RTP event packets in, one [`Digit`] per key press out.
//!
//! A key press is sent as many packets sharing one RTP timestamp (the event's start) with a
//! growing duration, ended by a packet with the E bit that is usually sent three times. An
//! event is identified by (SSRC, start timestamp), so duplicates, reordering and the repeated
//! end packets are harmless, a second press of the same key (new timestamp) counts again, and
//! events on another SSRC than the audio are accepted. The digit is reported on the first
//! packet seen of an event (whichever it is), so a prompt can be interrupted at once.
//!
//! Long events (RFC 4733 §2.5.1.3): a press longer than the 16-bit duration field (~8 s) is
//! sent as segments with the same event code, each segment's timestamp being the previous
//! segment's start plus its duration and only the last segment ended; the later segments are
//! recognised as continuations and not counted. Several events packed into one packet
//! (§2.5.1.5) each start at the packet timestamp plus the durations of the blocks before them.

use super::packet::RtpHeader;
use super::Digit;

/// Events remembered for duplicate detection, across all SSRCs.
const HISTORY: usize = 16;
/// Event blocks read from one packet; further blocks are ignored.
pub const MAX_EVENTS_PER_PACKET: usize = 4;
/// A segment shorter than this (in 8 kHz units, ~4 s) cannot be followed by a continuation.
const MIN_SEGMENT: u32 = 0x8000;
/// A packet for an unknown event that starts at most this long (4 s) before the newest event
/// of its SSRC is a late straggler of a forgotten event, not a new press.
const LATE_WINDOW: u32 = 4 * 8000;

/// Receiver state for the telephone-event payload type of one call.
#[derive(Debug, Clone)]
pub struct TelephoneEvents {
    payload_type: u8,
    recent: [Option<Tracked>; HISTORY],
    inserted: u64,
}

#[derive(Debug, Clone, Copy)]
struct Tracked {
    ssrc: u32,
    start: u32,
    code: u8,
    ended: bool,
    max_duration: u16,
    order: u64,
}

/// The digits newly pressed according to one packet: none for almost every packet, one on
/// the first packet of a press, more only for a packed packet. Iterate it to consume them.
/// Its `Debug` shows the count only (digits are personal data).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct NewDigits {
    digits: [Option<Digit>; MAX_EVENTS_PER_PACKET],
    next: usize,
    len: usize,
}

impl TelephoneEvents {
    /// A receiver for the dynamic payload type negotiated for `telephone-event/8000`.
    pub fn new(payload_type: u8) -> Self {
        TelephoneEvents {
            payload_type,
            recent: [None; HISTORY],
            inserted: 0,
        }
    }

    /// The payload type this receiver accepts.
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Feeds one received RTP packet. Packets of another payload type, payloads shorter than
    /// one 4-byte event block, and event codes above 15 (not DTMF) yield nothing. Returns
    /// the digits whose press starts with this packet.
    pub fn receive(&mut self, header: &RtpHeader, payload: &[u8]) -> NewDigits {
        let mut out = NewDigits::default();
        if header.payload_type != self.payload_type {
            return out;
        }
        let mut start = header.timestamp;
        for block in payload.chunks_exact(4).take(MAX_EVENTS_PER_PACKET) {
            let code = block[0];
            let ended = block[1] & 0x80 != 0;
            let duration = u16::from_be_bytes([block[2], block[3]]);
            if let Some(digit) = Digit::from_event_code(code) {
                if self.observe(header.ssrc, start, code, ended, duration) {
                    out.push(digit);
                }
            }
            start = start.wrapping_add(u32::from(duration));
        }
        out
    }

    /// Records one event block; true if it begins a new key press.
    fn observe(&mut self, ssrc: u32, start: u32, code: u8, ended: bool, duration: u16) -> bool {
        if let Some(known) = self
            .recent
            .iter_mut()
            .flatten()
            .find(|t| t.ssrc == ssrc && t.start == start)
        {
            known.ended |= ended;
            known.max_duration = known.max_duration.max(duration);
            return false;
        }
        let newest = self.newest(ssrc);
        if let Some(n) = newest {
            let behind = n.start.wrapping_sub(start);
            if behind != 0 && behind <= LATE_WINDOW {
                return false;
            }
        }
        let continues = newest.is_some_and(|n| n.is_continued_by(start, code));
        self.insert(Tracked {
            ssrc,
            start,
            code,
            ended,
            max_duration: duration,
            order: 0,
        });
        !continues
    }

    fn newest(&self, ssrc: u32) -> Option<Tracked> {
        self.recent
            .iter()
            .flatten()
            .filter(|t| t.ssrc == ssrc)
            .max_by_key(|t| t.order)
            .copied()
    }

    fn insert(&mut self, mut tracked: Tracked) {
        self.inserted += 1;
        tracked.order = self.inserted;
        let slot = self
            .recent
            .iter()
            .position(Option::is_none)
            .unwrap_or_else(|| self.oldest_slot());
        self.recent[slot] = Some(tracked);
    }

    fn oldest_slot(&self) -> usize {
        (0..HISTORY)
            .min_by_key(|&i| self.recent[i].map_or(0, |t| t.order))
            .unwrap_or(0)
    }
}

impl Tracked {
    /// Whether an event starting at `start` with `code` is the next segment of this one
    /// (RFC 4733 §2.5.1.3): same code, this one not ended, and starting where this one's
    /// (long) duration ends.
    fn is_continued_by(&self, start: u32, code: u8) -> bool {
        let delta = start.wrapping_sub(self.start);
        code == self.code
            && !self.ended
            && delta >= MIN_SEGMENT.max(u32::from(self.max_duration))
            && delta <= 0x1_0000
    }
}

impl NewDigits {
    fn push(&mut self, digit: Digit) {
        if let Some(slot) = self.digits.get_mut(self.len) {
            *slot = Some(digit);
            self.len += 1;
        }
    }

    /// True if the packet started no key press.
    pub fn is_empty(&self) -> bool {
        self.next == self.len
    }

    /// The first new digit, if any, without consuming it.
    pub fn first(&self) -> Option<Digit> {
        self.digits.get(self.next).copied().flatten()
    }
}

impl Iterator for NewDigits {
    type Item = Digit;

    fn next(&mut self) -> Option<Digit> {
        if self.next >= self.len {
            return None;
        }
        self.next += 1;
        self.digits[self.next - 1]
    }
}

impl std::fmt::Debug for NewDigits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewDigits({} digits)", self.len - self.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PT: u8 = 101;

    fn header(seq: u16, ts: u32, ssrc: u32) -> RtpHeader {
        RtpHeader {
            marker: false,
            payload_type: PT,
            sequence: seq,
            timestamp: ts,
            ssrc,
        }
    }

    fn block(code: u8, end: bool, duration: u16) -> [u8; 4] {
        let d = duration.to_be_bytes();
        [code, if end { 0x80 | 10 } else { 10 }, d[0], d[1]]
    }

    /// The packets a phone sends for one press: 20 ms updates, then the end packet three times.
    fn press(code: u8, ts: u32, ssrc: u32, frames: u16) -> Vec<(RtpHeader, [u8; 4])> {
        let mut v: Vec<_> = (1..=frames)
            .map(|i| (header(i, ts, ssrc), block(code, false, 160 * i)))
            .collect();
        for r in 0..3 {
            v.push((
                header(frames + 1 + r, ts, ssrc),
                block(code, true, 160 * frames),
            ));
        }
        v
    }

    fn feed(te: &mut TelephoneEvents, packets: &[(RtpHeader, [u8; 4])]) -> Vec<Digit> {
        packets.iter().flat_map(|(h, p)| te.receive(h, p)).collect()
    }

    #[test]
    fn one_digit_per_press_reported_on_the_first_packet() {
        let mut te = TelephoneEvents::new(PT);
        let packets = press(5, 1000, 7, 10);
        let first = te.receive(&packets[0].0, &packets[0].1);
        assert_eq!(first.first(), Some(Digit::Num(5)));
        assert_eq!(feed(&mut te, &packets[1..]), vec![]);
    }

    #[test]
    fn held_key_is_one_digit_and_end_packets_count_once() {
        let mut te = TelephoneEvents::new(PT);
        assert_eq!(feed(&mut te, &press(11, 5000, 7, 100)), vec![Digit::Hash]);
    }

    #[test]
    fn same_key_pressed_again_counts_again() {
        let mut te = TelephoneEvents::new(PT);
        let mut all = press(1, 1000, 7, 5);
        all.extend(press(1, 1000 + 160 * 5 + 640, 7, 5));
        assert_eq!(feed(&mut te, &all), vec![Digit::Num(1), Digit::Num(1)]);
    }

    #[test]
    fn same_key_again_after_all_end_packets_were_lost_counts_again() {
        let mut te = TelephoneEvents::new(PT);
        let mut all = press(3, 1000, 7, 5);
        all.truncate(5); // no end packets arrived
        all.extend(press(3, 1000 + 160 * 5 + 320, 7, 5));
        assert_eq!(feed(&mut te, &all), vec![Digit::Num(3), Digit::Num(3)]);
    }

    #[test]
    fn events_on_another_ssrc_than_the_audio_are_accepted_and_tracked_apart() {
        let mut te = TelephoneEvents::new(PT);
        let mut a = press(2, 4000, 0xAAAA, 4);
        let b = press(2, 4000, 0xBBBB, 4); // same timestamp, other source: another press
        a.splice(2..2, b);
        assert_eq!(feed(&mut te, &a), vec![Digit::Num(2), Digit::Num(2)]);
    }

    #[test]
    fn duplicates_and_reordering_are_harmless() {
        let mut te = TelephoneEvents::new(PT);
        let mut packets = press(9, 800, 7, 6);
        packets.extend(press(4, 800 + 160 * 6 + 800, 7, 6));
        let mut shuffled = packets.clone();
        shuffled.swap(1, 4);
        shuffled.swap(7, 2);
        shuffled.swap(3, 9); // the next press's first packet overtakes this one's
        shuffled.extend(packets.iter().copied()); // every packet again
        shuffled.push(packets[0]); // a straggler after the next press began
        assert_eq!(feed(&mut te, &shuffled), vec![Digit::Num(9), Digit::Num(4)]);
    }

    #[test]
    fn a_press_whose_first_packets_were_lost_is_still_reported_once() {
        let mut te = TelephoneEvents::new(PT);
        let packets = press(0, 100, 7, 8);
        assert_eq!(feed(&mut te, &packets[6..]), vec![Digit::Num(0)]);
    }

    #[test]
    fn long_event_split_into_segments_counts_once() {
        let mut te = TelephoneEvents::new(PT);
        let start = u32::MAX - 30_000; // the segments also cross the timestamp wrap
        let mut seq = 0u16;
        let mut got = Vec::new();
        // 20 s press: segments of 0xFFFF, 0xFFFF, then the rest, ended.
        let mut seg_start = start;
        for (len, last) in [(0xFFFFu32, false), (0xFFFF, false), (29_930, true)] {
            let mut d = 0u32;
            while d < len {
                d = (d + 160).min(len);
                seq = seq.wrapping_add(1);
                let p = block(7, false, d as u16);
                got.extend(te.receive(&header(seq, seg_start, 7), &p));
            }
            if last {
                for _ in 0..3 {
                    seq = seq.wrapping_add(1);
                    let p = block(7, true, len as u16);
                    got.extend(te.receive(&header(seq, seg_start, 7), &p));
                }
            }
            seg_start = seg_start.wrapping_add(len);
        }
        assert_eq!(got, vec![Digit::Num(7)]);
        // and a new press of the same key afterwards is a new digit
        let again = press(7, seg_start.wrapping_add(800), 7, 3);
        assert_eq!(feed(&mut te, &again), vec![Digit::Num(7)]);
    }

    #[test]
    fn event_codes_above_15_and_other_payload_types_are_ignored() {
        let mut te = TelephoneEvents::new(PT);
        assert!(te
            .receive(&header(1, 0, 7), &block(16, false, 160))
            .is_empty());
        assert!(te
            .receive(&header(2, 0, 7), &block(70, false, 160))
            .is_empty());
        let mut audio = header(3, 500, 7);
        audio.payload_type = 0;
        assert!(te.receive(&audio, &block(5, false, 160)).is_empty());
        assert!(te.receive(&header(4, 900, 7), &[5, 0, 0]).is_empty());
        assert_eq!(
            te.receive(&header(5, 900, 7), &block(15, false, 160))
                .first(),
            Some(Digit::Letter('D'))
        );
        assert_eq!(te.payload_type(), PT);
    }

    #[test]
    fn random_packets_never_panic_nor_yield_more_digits_than_blocks() {
        let mut te = TelephoneEvents::new(PT);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for i in 0..20_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let bytes = state.to_be_bytes();
            let len = (bytes[7] % 24) as usize;
            let payload: Vec<u8> = (0..len)
                .map(|k| bytes[k % 8].rotate_left(k as u32))
                .collect();
            // Few SSRCs and timestamps, so events collide, repeat and interleave.
            let h = header(
                i as u16,
                u32::from(bytes[0] % 8) * 4000,
                u32::from(bytes[1] % 3),
            );
            assert!(te.receive(&h, &payload).count() <= len / 4);
        }
    }

    #[test]
    fn packed_events_are_each_reported_once() {
        let mut te = TelephoneEvents::new(PT);
        let mut payload = Vec::new();
        payload.extend_from_slice(&block(1, true, 800));
        payload.extend_from_slice(&block(2, true, 800));
        payload.extend_from_slice(&block(3, false, 400));
        let h = header(1, 10_000, 7);
        let digits: Vec<Digit> = te.receive(&h, &payload).collect();
        assert_eq!(digits, vec![Digit::Num(1), Digit::Num(2), Digit::Num(3)]);
        // The last event continues in its own packets, starting at 10_000 + 1600.
        let cont = te.receive(&header(2, 11_600, 7), &block(3, true, 800));
        assert!(cont.is_empty());
        assert_eq!(
            format!("{:?}", te.receive(&h, &payload)),
            "NewDigits(0 digits)"
        );
    }
}
