//! Talk-off: speech must never produce a digit. Reads the committed speech fixtures and, once
//! the prompts exist, every `prompts/<lang>/<id>.wav`, at their own level and 10 dB down,
//! linear and through both G.711 laws. Also checks the detector stays cheap on speech.

use std::path::{Path, PathBuf};

use super::{detect, LAWS};
use crate::rtp::g711::Law;
use crate::rtp::inband::analysis::{classify, confirm, CONFIRM_LEN, SCREEN, WINDOW};
use crate::rtp::inband::InbandDetector;

#[test]
fn speech_fixtures_give_no_digit() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech");
    let files = wav_files(&dir);
    assert!(
        files.len() >= 4,
        "speech fixtures missing in {}",
        dir.display()
    );
    for file in files {
        assert_no_talk_off(&file);
    }
}

#[test]
fn prompts_give_no_digit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    let langs = std::fs::read_dir(&root).expect("prompts/ is part of the repository");
    let mut dirs: Vec<PathBuf> = langs
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 8, "eight languages of prompts");
    // Prompts play back to back on a call (number words are a fraction of a second), so each
    // language's whole set is checked as one stream, in file order.
    for dir in dirs {
        let files = wav_files(&dir);
        assert!(!files.is_empty(), "{} has no prompts", dir.display());
        let stream: Vec<i16> = files.iter().flat_map(|f| read_wav_8k(f)).collect();
        assert_samples_no_talk_off(&stream, &dir.display().to_string());
    }
}

#[test]
fn confirmation_alone_rejects_every_speech_window_that_passes_screening() {
    // Defence in depth: speech never builds a run of strict windows long enough to be
    // confirmed, and even if it did, the confirmation step would refuse it.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech");
    let mut screened = 0;
    for file in wav_files(&dir) {
        let x: Vec<f32> = read_wav_8k(&file).iter().map(|&s| f32::from(s)).collect();
        for end in (CONFIRM_LEN..x.len()).step_by(21) {
            if let Some(key) = classify(&x[end - WINDOW..end], &SCREEN) {
                screened += 1;
                assert!(!confirm(&x[..end], key), "{} at {end}", file.display());
            }
        }
    }
    assert!(
        screened > 0,
        "the speech never even looked like a key: test proves nothing"
    );
}

#[test]
fn speech_costs_little_more_than_silence() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech");
    let (mut windows, mut frames) = (0u64, 0u64);
    for file in wav_files(&dir) {
        let samples = read_wav_8k(&file);
        let mut det = InbandDetector::new();
        let mut digits = Vec::new();
        for frame in samples.chunks(160) {
            det.push(frame, &mut digits);
            frames += 1;
        }
        windows += det.windows_analysed();
    }
    let per_frame = windows as f64 / frames as f64;
    eprintln!("speech: {per_frame:.3} window analyses per 20 ms frame");
    assert!(per_frame < 2.0, "{per_frame} windows per frame");
}

fn assert_no_talk_off(file: &Path) {
    let samples = read_wav_8k(file);
    assert_samples_no_talk_off(&samples, &file.display().to_string());
}

fn assert_samples_no_talk_off(samples: &[i16], name: &str) {
    assert!(samples.len() > 8000, "{name} is shorter than 1 s");
    let samples = samples.to_vec();
    let quieter: Vec<i16> = samples
        .iter()
        .map(|&s| (f32::from(s) * 0.316) as i16)
        .collect();
    for (signal, level) in [(&samples, "as recorded"), (&quieter, "-10 dB")] {
        for law in LAWS {
            let got = detect(signal, law);
            assert_eq!(got, "", "talk-off in {name} ({level}, {law:?})");
        }
    }
}

fn wav_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")))
        .collect();
    files.sort();
    files
}

/// Reads a RIFF/WAVE file (PCM 16-bit, or G.711 μ-law/A-law, any channel count and rate) as
/// 8 kHz mono. Panics naming the file on anything else: a talk-off test must not skip audio.
fn read_wav_8k(file: &Path) -> Vec<i16> {
    let bytes = std::fs::read(file).unwrap();
    let name = file.display();
    assert!(
        bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE",
        "{name}: not WAVE"
    );
    let (mut format, mut channels, mut rate, mut bits, mut data) = (0u16, 0u16, 0u32, 0u16, None);
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &bytes[at + 8..(at + 8 + len).min(bytes.len())];
        if id == b"fmt " {
            format = u16::from_le_bytes([body[0], body[1]]);
            channels = u16::from_le_bytes([body[2], body[3]]);
            rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
            bits = u16::from_le_bytes([body[14], body[15]]);
            if format == 0xFFFE && body.len() >= 26 {
                format = u16::from_le_bytes([body[24], body[25]]); // extensible: sub-format
            }
        } else if id == b"data" {
            data = Some(body);
        }
        at += 8 + len + (len & 1);
    }
    let data = data.unwrap_or_else(|| panic!("{name}: no data chunk"));
    let samples: Vec<i16> = match (format, bits) {
        (1, 16) => data
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect(),
        (7, 8) => data.iter().map(|&c| Law::Pcmu.decode(c)).collect(),
        (6, 8) => data.iter().map(|&c| Law::Pcma.decode(c)).collect(),
        _ => panic!("{name}: WAV format {format} with {bits} bits is not read by this test"),
    };
    let channels = usize::from(channels.max(1));
    let mono: Vec<f32> = samples
        .chunks_exact(channels)
        .map(|c| c.iter().map(|&s| f32::from(s)).sum::<f32>() / channels as f32)
        .collect();
    resample_to_8k(&mono, rate)
        .iter()
        .map(|&s| s.round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Box-filters to the output period and interpolates linearly: crude but alias-poor enough
/// for a talk-off test, and linear in time.
fn resample_to_8k(x: &[f32], rate: u32) -> Vec<f32> {
    if rate == 8000 || x.is_empty() {
        return x.to_vec();
    }
    let step = f64::from(rate) / 8000.0;
    let width = step.ceil().max(1.0) as usize;
    let smoothed: Vec<f32> = if step > 1.0 {
        let mut acc = 0.0f32;
        let mut out = Vec::with_capacity(x.len());
        for i in 0..x.len() {
            acc += x[i];
            if i >= width {
                acc -= x[i - width];
            }
            out.push(acc / width.min(i + 1) as f32);
        }
        out
    } else {
        x.to_vec()
    };
    let count = (x.len() as f64 / step) as usize;
    (0..count)
        .map(|n| {
            let t = n as f64 * step;
            let i = t as usize;
            let frac = (t - i as f64) as f32;
            let a = smoothed[i];
            let b = *smoothed.get(i + 1).unwrap_or(&a);
            a + (b - a) * frac
        })
        .collect()
}
