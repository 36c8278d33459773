//! Conformance tests of the in-band detector against the usual ITU-T Q.24 / Bellcore figures.
//! Every tone is generated here (seeded PRNG for noise and phases) and also passed through
//! G.711 μ-law and A-law, as it arrives on a call. Talk-off uses the speech fixtures in
//! `tests/fixtures/speech/` and, when present, every `prompts/*/*.wav`.

mod signal;
mod talkoff;

use super::InbandDetector;
use crate::rtp::g711::Law;
use crate::rtp::Digit;
use signal::{Press, Signal};

const ALL_KEYS: &str = "123A456B789C*0#D";
const LAWS: [Option<Law>; 3] = [None, Some(Law::Pcmu), Some(Law::Pcma)];

/// Runs `samples` through the optional G.711 law and a fresh detector, in 20 ms frames.
fn detect(samples: &[i16], law: Option<Law>) -> String {
    let mut det = InbandDetector::new();
    let mut digits = Vec::new();
    for frame in samples.chunks(160) {
        match law {
            None => det.push(frame, &mut digits),
            Some(law) => {
                let payload: Vec<u8> = frame.iter().map(|&s| law.encode(s)).collect();
                det.push_g711(law, &payload, &mut digits);
            }
        }
    }
    digits.iter().map(|d| d.to_char()).collect()
}

/// Asserts that `signal` gives exactly `want` through linear, μ-law and A-law.
fn assert_detects(signal: &Signal, want: &str, what: &str) {
    let samples = signal.render();
    for law in LAWS {
        assert_eq!(detect(&samples, law), want, "{what} via {law:?}");
    }
}

fn presses(keys: &str, on_ms: f64, off_ms: f64) -> Vec<Press> {
    keys.chars().map(|k| Press::new(k, on_ms, off_ms)).collect()
}

#[test]
fn sixteen_keys_at_40_ms_on_40_ms_off_each_once_at_every_alignment() {
    for lead in (0..105).step_by(15) {
        let s = Signal::new(presses(ALL_KEYS, 40.0, 40.0))
            .lead_samples(lead)
            .seed(lead as u64);
        assert_detects(&s, ALL_KEYS, &format!("lead {lead}"));
    }
}

#[test]
fn tones_shorter_than_23_ms_are_rejected() {
    for on_ms in [10.0, 15.0, 20.0, 23.0] {
        for lead in (0..105).step_by(7) {
            let s = Signal::new(presses("1590#D", on_ms, 60.0))
                .lead_samples(lead)
                .seed(lead as u64);
            assert_detects(&s, "", &format!("{on_ms} ms, lead {lead}"));
        }
    }
}

#[test]
fn frequency_error_of_1_5_percent_is_accepted_and_3_5_percent_rejected() {
    for (low, high) in [
        (0.015, 0.015),
        (-0.015, -0.015),
        (0.015, -0.015),
        (-0.015, 0.015),
    ] {
        let keys = presses(ALL_KEYS, 40.0, 40.0);
        let s = Signal::new(keys).freq_error(low, high).seed(7);
        assert_detects(&s, ALL_KEYS, &format!("error {low}/{high}"));
    }
    for (low, high) in [(0.035, 0.035), (-0.035, -0.035), (0.04, 0.0), (0.0, -0.04)] {
        let s = Signal::new(presses(ALL_KEYS, 60.0, 40.0))
            .freq_error(low, high)
            .seed(8);
        assert_detects(&s, "", &format!("error {low}/{high}"));
    }
}

#[test]
fn twist_of_plus_4_and_minus_8_db_is_accepted_and_12_db_rejected() {
    for twist in [4.0, -8.0] {
        let s = Signal::new(presses(ALL_KEYS, 40.0, 40.0))
            .twist_db(twist)
            .seed(3);
        assert_detects(&s, ALL_KEYS, &format!("twist {twist}"));
    }
    for twist in [12.0, -12.0] {
        let s = Signal::new(presses(ALL_KEYS, 60.0, 40.0))
            .twist_db(twist)
            .seed(4);
        assert_detects(&s, "", &format!("twist {twist}"));
    }
}

#[test]
fn detects_every_key_at_15_db_snr_and_nothing_in_noise_alone() {
    for seed in 1..=4 {
        let s = Signal::new(presses(ALL_KEYS, 40.0, 40.0))
            .snr_db(15.0)
            .level_dbm0(-15.0)
            .seed(seed);
        assert_detects(&s, ALL_KEYS, &format!("15 dB SNR, seed {seed}"));
    }
    let noise_only = Signal::new(presses("", 0.0, 0.0))
        .lead_samples(16_000)
        .noise_dbm0(-10.0);
    assert_detects(&noise_only, "", "noise alone");
}

#[test]
fn worst_combinations_of_frequency_error_twist_noise_and_level_are_accepted() {
    for (error, twist) in [(0.015, 4.0), (-0.015, 4.0), (0.015, -8.0), (-0.015, -8.0)] {
        for level in [-10.0, -25.0] {
            let s = Signal::new(presses(ALL_KEYS, 40.0, 40.0))
                .freq_error(error, error)
                .twist_db(twist)
                .level_dbm0(level)
                .snr_db(15.0)
                .seed(9);
            assert_detects(&s, ALL_KEYS, &format!("{error} {twist} dB {level} dBm0"));
        }
    }
}

#[test]
fn levels_from_minus_25_to_0_dbm0_are_accepted_and_minus_45_ignored() {
    for level in [-25.0, -20.0, -10.0, -3.0, 0.0] {
        let s = Signal::new(presses(ALL_KEYS, 40.0, 40.0))
            .level_dbm0(level)
            .seed(5);
        assert_detects(&s, ALL_KEYS, &format!("{level} dBm0"));
    }
    let quiet = Signal::new(presses(ALL_KEYS, 60.0, 40.0)).level_dbm0(-45.0);
    assert_detects(&quiet, "", "-45 dBm0");
}

#[test]
fn a_held_key_is_one_digit_and_a_40_ms_gap_makes_two() {
    let held = Signal::new(vec![Press::new('5', 500.0, 100.0)]);
    assert_detects(&held, "5", "500 ms press");
    for lead in (0..105).step_by(21) {
        let twice = Signal::new(presses("77", 50.0, 40.0)).lead_samples(lead);
        assert_detects(&twice, "77", &format!("double press, lead {lead}"));
    }
}

#[test]
fn a_10_ms_dropout_does_not_split_a_held_key() {
    let s = Signal::new(vec![
        Press::new('8', 100.0, 10.0),
        Press::new('8', 100.0, 50.0),
    ]);
    assert_detects(&s, "8", "10 ms interruption");
}

#[test]
fn chunk_size_does_not_change_the_result() {
    let samples = Signal::new(presses("9#2*", 45.0, 40.0))
        .snr_db(20.0)
        .seed(11)
        .render();
    let reference = detect(&samples, None);
    assert_eq!(reference, "9#2*");
    for chunk in [1, 7, 104, 105, 106, 333, samples.len()] {
        let mut det = InbandDetector::new();
        let mut digits = Vec::new();
        for part in samples.chunks(chunk) {
            det.push(part, &mut digits);
        }
        let got: String = digits.iter().map(|d| d.to_char()).collect();
        assert_eq!(got, reference, "chunk {chunk}");
    }
}

#[test]
fn g711_helper_takes_whole_payloads_of_any_length() {
    let samples = Signal::new(presses("0", 60.0, 40.0)).render();
    for law in [Law::Pcmu, Law::Pcma] {
        let payload: Vec<u8> = samples.iter().map(|&s| law.encode(s)).collect();
        let mut det = InbandDetector::new();
        let mut digits = Vec::new();
        det.push_g711(law, &payload, &mut digits);
        assert_eq!(digits, vec![Digit::Num(0)], "{law:?}");
    }
}

#[test]
fn cost_is_one_and_a_half_windows_per_frame_on_a_quiet_line() {
    // One window analysis is 105 samples × 8 Goertzel updates (one multiply, two adds each)
    // plus the energy sum: about 2,700 flops, i.e. ~4,000 flops per 20 ms frame when idle.
    let mut det = InbandDetector::new();
    let mut digits = Vec::new();
    let frames = 500u64;
    for _ in 0..frames {
        det.push(&[0i16; 160], &mut digits);
    }
    assert!(digits.is_empty());
    let per_frame = det.windows_analysed() as f64 / frames as f64;
    assert!((per_frame - 160.0 / 105.0).abs() < 0.01, "{per_frame}");
    assert!(format!("{det:?}").starts_with("InbandDetector"));
}
