//! In-band DTMF detection on 8 kHz linear audio, for calls without telephone-event.
//!
//! Owns the detector and its signal analysis; knows nothing of RTP, sockets or time (the
//! sample count is the clock). Feed it every received frame in order with
//! [`InbandDetector::push`] (or [`InbandDetector::push_g711`] for a G.711 payload); chunk sizes
//! do not matter, the same samples give the same digits.
//!
//! # Design
//!
//! - **Screening**: every 105 samples (13.1 ms) eight Goertzel filters and the block energy
//!   decide whether the block looks like a key: strongest row and column tone ≥ −38 dBm0,
//!   twist within −16…+14 dB, each ≥ 2 dB over the rest of its group, the pair holding ≥ 45 %
//!   of the energy (re-measured at ±1.5 % of each chosen frequency before giving up, so an
//!   off-frequency key is not lost in a 76 Hz bin). This is all a quiet line costs: 1.52
//!   window analyses per 20 ms frame (1.7 on speech), no allocation.
//! - **Tracking**: once a block passes, 105-sample windows are tested every 21 samples with
//!   stricter limits (3 dB peak ratio, ≥ 65 % of the energy, which also means the window is
//!   mostly filled by the tone). A press is a run of passing windows (one miss tolerated, for
//!   noise); its length measures the tone's duration to within a few ms.
//! - **Confirmation**: when a run spans 189 samples, the last 192 samples are checked
//!   precisely: both frequencies measured (phase advance of a Hann-windowed DFT) within
//!   ±2.5 %, the two tones fitted by least squares for level (≥ −38 dBm0 each) and twist
//!   (−10…+8 dB, high group relative to low), the residual ≤ 16 % of the energy, and the
//!   second harmonic of each tone (in the residual) ≥ 16 dB down. Speech fails this step on
//!   its own (a test checks it on every speech window that passes screening).
//! - **Release**: a key stays held until no window has matched it for 240 samples (30 ms), so
//!   a 10 ms drop-out does not split a held key and a 40 ms pause separates two presses.
//!
//! # Figures (each limit proven by a test in `tests.rs`; measured edges in brackets)
//!
//! - frequency error: ±1.5 % accepted, ±3.5 % rejected [edge ±2.5 %];
//! - duration: 40 ms tones with 40 ms pauses accepted, under 23 ms rejected [edge ~31 ms];
//!   pauses of 40 ms separate presses [edge ~28 ms], drop-outs of 10 ms do not [20 ms bridged];
//! - twist: +4 dB and −8 dB accepted, ±12 dB rejected [edges +8 / −10 dB];
//! - noise: detects at 15 dB SNR, the two tones' total power against white Gaussian noise
//!   measured over the whole 0–4 kHz band, pauses included [edge ~8–10 dB];
//! - level: −25 to 0 dBm0 per tone accepted (0 dBm0 means a sine of peak 22 700, the G.711
//!   digital milliwatt; two such tones clip and still pass), −45 dBm0 ignored [edge ~−37];
//! - talk-off: nothing in the speech fixtures (en, es, pt, ko, ja) nor in `prompts/`;
//! - all of it also through G.711 μ-law and A-law.

mod analysis;
mod fit;
#[cfg(test)]
mod tests;

use super::g711::Law;
use super::Digit;
use analysis::{classify, confirm, Key, CONFIRM_LEN, SCREEN, STRICT, WINDOW};

/// Spacing of the tracking windows.
const HOP: usize = 21;
/// A run of passing windows must span this many samples before the key is confirmed.
const MIN_RUN_SPAN: u64 = 189;
/// A run survives one window that fails (noise), not two.
const MAX_RUN_GAP: u64 = 2 * HOP as u64;
/// A held key is released after this many samples without a matching window.
const RELEASE_GAP: u64 = 240;
/// Samples kept for analysis: the confirmation length, and one window plus one block back.
const HISTORY: usize = CONFIRM_LEN + WINDOW;
/// Buffer size; history is shifted to the front when it fills.
const BUFFER: usize = 1024;

/// DTMF detector for one call's received audio.
#[derive(Clone)]
pub struct InbandDetector {
    buf: Box<[f32; BUFFER]>,
    len: usize,
    /// Samples consumed so far; the sample at `buf[len - 1]` is number `pos - 1`.
    pos: u64,
    next_eval: u64,
    tracking: bool,
    run: Option<Run>,
    held: Option<Held>,
    windows: u64,
}

/// Consecutive windows matching one key (one missed window tolerated).
#[derive(Clone, Copy)]
struct Run {
    key: Key,
    first_end: u64,
    last_end: u64,
}

/// The key last reported and the end of the last window that matched it.
#[derive(Clone, Copy)]
struct Held {
    key: Key,
    last_end: u64,
}

impl InbandDetector {
    /// A detector with no history, for the start of a call's audio.
    pub fn new() -> Self {
        InbandDetector {
            buf: Box::new([0.0; BUFFER]),
            len: 0,
            pos: 0,
            next_eval: WINDOW as u64,
            tracking: false,
            run: None,
            held: None,
            windows: 0,
        }
    }

    /// Feeds the next 8 kHz linear samples and appends to `digits` every key press confirmed
    /// within them (at most one per ~30 ms of audio). Allocates only if `digits` must grow.
    pub fn push(&mut self, samples: &[i16], digits: &mut Vec<Digit>) {
        for &s in samples {
            if self.len == BUFFER {
                self.buf.copy_within(BUFFER - HISTORY.., 0);
                self.len = HISTORY;
            }
            self.buf[self.len] = f32::from(s);
            self.len += 1;
            self.pos += 1;
            if self.pos == self.next_eval {
                self.evaluate(digits);
            }
        }
    }

    /// Decodes a G.711 payload with `law` and feeds it, as [`InbandDetector::push`].
    pub fn push_g711(&mut self, law: Law, payload: &[u8], digits: &mut Vec<Digit>) {
        let mut linear = [0i16; 160];
        for chunk in payload.chunks(linear.len()) {
            for (dst, &code) in linear.iter_mut().zip(chunk) {
                *dst = law.decode(code);
            }
            self.push(&linear[..chunk.len()], digits);
        }
    }

    /// Number of 105-sample windows analysed so far: the detector's cost, ~1.5 per 20 ms of
    /// audio on a quiet line or speech, more only while a tone is present.
    pub fn windows_analysed(&self) -> u64 {
        self.windows
    }

    fn evaluate(&mut self, digits: &mut Vec<Digit>) {
        if self.tracking {
            self.track(self.pos, digits);
        } else {
            self.windows += 1;
            if classify(self.window_ending(self.pos).unwrap_or(&[]), &SCREEN).is_some() {
                self.tracking = true;
                let first = self.pos - WINDOW as u64 + HOP as u64;
                for end in (first..=self.pos).step_by(HOP) {
                    self.track(end, digits);
                }
            }
        }
        if self.tracking && self.run.is_none() && self.held.is_none() {
            self.tracking = false;
        }
        self.next_eval = self.pos + if self.tracking { HOP } else { WINDOW } as u64;
    }

    /// Tests the window ending at sample position `end` and advances run and held state.
    fn track(&mut self, end: u64, digits: &mut Vec<Digit>) {
        self.windows += 1;
        let key = self.window_ending(end).and_then(|w| classify(w, &STRICT));
        if let Some(held) = self.held {
            if Some(held.key) == key {
                self.held = Some(Held {
                    key: held.key,
                    last_end: end,
                });
            } else if end - held.last_end >= RELEASE_GAP {
                self.held = None;
            }
        }
        let Some(key) = key else {
            if self.run.is_some_and(|r| end - r.last_end >= MAX_RUN_GAP) {
                self.run = None;
            }
            return;
        };
        let run = match self.run {
            Some(r) if r.key == key && end - r.last_end <= MAX_RUN_GAP => {
                Run { last_end: end, ..r }
            }
            _ => Run {
                key,
                first_end: end,
                last_end: end,
            },
        };
        self.run = Some(run);
        let already_held = self.held.is_some_and(|h| h.key == key);
        if already_held || end - run.first_end < MIN_RUN_SPAN {
            return;
        }
        if let Some(history) = self.history_ending(end) {
            if confirm(history, key) {
                self.held = Some(Held { key, last_end: end });
                digits.extend(key.digit());
            }
        }
    }

    /// The [`WINDOW`] samples ending at position `end`, if still buffered.
    fn window_ending(&self, end: u64) -> Option<&[f32]> {
        let history = self.history_ending(end)?;
        history.get(history.len().checked_sub(WINDOW)?..)
    }

    /// All buffered samples up to position `end`.
    fn history_ending(&self, end: u64) -> Option<&[f32]> {
        let back = usize::try_from(self.pos.checked_sub(end)?).ok()?;
        self.buf.get(..self.len.checked_sub(back)?)
    }
}

impl Default for InbandDetector {
    fn default() -> Self {
        InbandDetector::new()
    }
}

impl std::fmt::Debug for InbandDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The held key is a keyed digit: personal data, never printed.
        f.debug_struct("InbandDetector")
            .field("samples", &self.pos)
            .field("tracking", &self.tracking)
            .finish_non_exhaustive()
    }
}
