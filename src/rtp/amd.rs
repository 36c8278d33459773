//! Answering-machine detection on the first seconds of an answered outbound call, the way
//! Asterisk's `AMD()` does it: a person answers with a short word ("Hello?") and waits; a
//! machine plays a long continuous greeting, or many words, or says nothing at all.
//!
//! Pure: feed decoded 20 ms frames in order; the first decision is final.

/// What the start of the call sounded like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmdResult {
    /// A short greeting followed by silence.
    Human,
    /// A machine, for the reason given.
    Machine(MachineReason),
    /// Nothing conclusive: silence from the start, or no decision within the analysis time.
    /// Treated as a person: an elderly patient may pick up and wait in silence for the
    /// machine to speak, and hanging up on a patient is worse than asking a machine.
    NotSure,
}

/// Why the audio was taken for a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineReason {
    /// One utterance went on longer than a greeting.
    LongGreeting,
    /// More words than a person says before waiting for an answer.
    TooManyWords,
}

impl AmdResult {
    /// The result in plain words, for logs.
    pub fn label(self) -> &'static str {
        match self {
            AmdResult::Human => "person",
            AmdResult::Machine(reason) => reason.label(),
            AmdResult::NotSure => "not sure (treated as a person)",
        }
    }
}

impl MachineReason {
    /// The reason in plain words, for logs.
    pub fn label(self) -> &'static str {
        match self {
            MachineReason::LongGreeting => "long greeting",
            MachineReason::TooManyWords => "too many words",
        }
    }
}

/// Detection thresholds, in milliseconds (Asterisk `amd.conf` defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmdParams {
    /// Silence before any speech after which carecall stops waiting and speaks (2500;
    /// Asterisk calls this a machine, carecall `NotSure`).
    pub initial_silence_ms: u32,
    /// Speech longer than this in the greeting means a machine (1500).
    pub greeting_ms: u32,
    /// Silence after speech that means a person waiting for a reply (800).
    pub after_greeting_silence_ms: u32,
    /// Give up and say `NotSure` after this long (5000).
    pub total_analysis_ms: u32,
    /// Speech shorter than this is noise, not a word (100).
    pub min_word_ms: u32,
    /// Silence that separates two words (50).
    pub between_words_silence_ms: u32,
    /// This many words means a machine (3).
    pub max_words: u32,
    /// Mean absolute sample value below which a frame is silence (256 of 32768).
    pub silence_threshold: u32,
}

impl Default for AmdParams {
    fn default() -> Self {
        AmdParams {
            initial_silence_ms: 2500,
            greeting_ms: 1500,
            after_greeting_silence_ms: 800,
            total_analysis_ms: 5000,
            min_word_ms: 100,
            between_words_silence_ms: 50,
            max_words: 3,
            silence_threshold: 256,
        }
    }
}

/// The detector for one call.
#[derive(Debug, Clone)]
pub struct AmdDetector {
    params: AmdParams,
    elapsed_ms: u32,
    silence_ms: u32,
    voice_ms: u32,
    greeting_voice_ms: u32,
    words: u32,
    in_word: bool,
    heard_voice: bool,
    result: Option<AmdResult>,
}

impl AmdDetector {
    /// A detector with `params`.
    pub fn new(params: AmdParams) -> Self {
        AmdDetector {
            params,
            elapsed_ms: 0,
            silence_ms: 0,
            voice_ms: 0,
            greeting_voice_ms: 0,
            words: 0,
            in_word: false,
            heard_voice: false,
            result: None,
        }
    }

    /// The decision, once made.
    pub fn result(&self) -> Option<AmdResult> {
        self.result
    }

    /// Feeds one frame of 8 kHz samples (any length; 160 = 20 ms). Returns the decision the
    /// first time it is made, `None` before and after.
    pub fn push(&mut self, samples: &[i16]) -> Option<AmdResult> {
        if self.result.is_some() || samples.is_empty() {
            return None;
        }
        let ms = (samples.len() as u32).div_ceil(8);
        self.elapsed_ms += ms;
        let level = samples
            .iter()
            .map(|&s| u32::from(s.unsigned_abs()))
            .sum::<u32>()
            / samples.len() as u32;
        let decision = if level < self.params.silence_threshold {
            self.on_silence(ms)
        } else {
            self.on_voice(ms)
        };
        let decision = decision.or_else(|| {
            (self.elapsed_ms >= self.params.total_analysis_ms).then_some(AmdResult::NotSure)
        });
        self.result = decision;
        decision
    }

    fn on_silence(&mut self, ms: u32) -> Option<AmdResult> {
        let p = self.params;
        self.silence_ms += ms;
        if self.silence_ms >= p.between_words_silence_ms {
            if self.in_word && self.voice_ms >= p.min_word_ms {
                self.words += 1;
            }
            self.in_word = false;
            self.voice_ms = 0;
        }
        if !self.heard_voice && self.silence_ms >= p.initial_silence_ms {
            return Some(AmdResult::NotSure);
        }
        if self.heard_voice && self.silence_ms >= p.after_greeting_silence_ms {
            return Some(AmdResult::Human);
        }
        None
    }

    fn on_voice(&mut self, ms: u32) -> Option<AmdResult> {
        let p = self.params;
        self.voice_ms += ms;
        self.greeting_voice_ms += ms;
        // A click shorter than a word does not interrupt the silence around it.
        if self.voice_ms >= p.min_word_ms {
            self.silence_ms = 0;
            self.heard_voice = true;
            if !self.in_word {
                self.in_word = true;
                if self.words + 1 >= p.max_words {
                    return Some(AmdResult::Machine(MachineReason::TooManyWords));
                }
            }
        }
        (self.greeting_voice_ms >= p.greeting_ms)
            .then_some(AmdResult::Machine(MachineReason::LongGreeting))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noise-like "speech" at a speaking level for `ms`, or silence.
    fn audio(parts: &[(bool, u32)]) -> Vec<i16> {
        let mut seed = 0x1234_5678u32;
        let mut out = Vec::new();
        for &(voice, ms) in parts {
            for _ in 0..ms * 8 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let noise = ((seed >> 16) as i16) / 8; // ±4096
                out.push(if voice { noise } else { noise / 64 });
            }
        }
        out
    }

    fn run(samples: &[i16]) -> AmdResult {
        let mut amd = AmdDetector::new(AmdParams::default());
        for frame in samples.chunks(160) {
            if let Some(r) = amd.push(frame) {
                assert_eq!(amd.push(frame), None, "decided once");
                return r;
            }
        }
        panic!("no decision")
    }

    #[test]
    fn a_short_hello_then_waiting_is_a_person() {
        assert_eq!(
            run(&audio(&[(false, 400), (true, 500), (false, 1000)])),
            AmdResult::Human
        );
        // "Moshi moshi": two short words, then waiting.
        assert_eq!(
            run(&audio(&[
                (false, 300),
                (true, 300),
                (false, 150),
                (true, 300),
                (false, 1000)
            ])),
            AmdResult::Human
        );
    }

    #[test]
    fn a_long_greeting_is_a_machine() {
        assert_eq!(
            run(&audio(&[(false, 200), (true, 4000)])),
            AmdResult::Machine(MachineReason::LongGreeting)
        );
    }

    #[test]
    fn many_words_are_a_machine() {
        let words: Vec<(bool, u32)> = (0..6).flat_map(|_| [(true, 200), (false, 120)]).collect();
        assert_eq!(
            run(&audio(&words)),
            AmdResult::Machine(MachineReason::TooManyWords)
        );
    }

    #[test]
    fn silence_is_not_sure_and_clicks_are_not_words() {
        let mut amd = AmdDetector::new(AmdParams::default());
        let silence = audio(&[(false, 3000)]);
        let decided: Vec<(usize, AmdResult)> = silence
            .chunks(160)
            .enumerate()
            .filter_map(|(i, f)| amd.push(f).map(|r| (i, r)))
            .collect();
        assert_eq!(
            decided,
            vec![(124, AmdResult::NotSure)],
            "after 2.5 s of silence"
        );
        // 40 ms clicks every 500 ms never make a word.
        let clicks: Vec<(bool, u32)> = (0..8).flat_map(|_| [(true, 40), (false, 460)]).collect();
        assert_eq!(run(&audio(&clicks)), AmdResult::NotSure);
    }

    #[test]
    fn a_real_recorded_greeting_is_a_machine() {
        // The English closing prompt: about ten seconds of continuous synthesised speech.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/en/closing.wav");
        let bytes = std::fs::read(path).unwrap();
        let data = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
        let samples: Vec<i16> = bytes[data..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert!(matches!(run(&samples), AmdResult::Machine(_)));
    }
}
