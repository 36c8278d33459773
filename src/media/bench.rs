//! Start-up measurement of the prompt loader, for a `carecall prompts bench` subcommand.

use std::path::Path;
use std::time::Duration;

use super::error::PromptError;
use super::prompts::PromptSet;
use crate::clock;

/// What one timed load of a prompts folder found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadTiming {
    /// Wall time taken by [`PromptSet::load`].
    pub elapsed: Duration,
    /// Number of (language, id) prompts loaded.
    pub prompts: usize,
    /// Total audio loaded, in seconds at 8 kHz.
    pub audio_seconds: f64,
    /// Memory held by the encoded prompts, both laws, in bytes.
    pub bytes: usize,
}

/// Loads `dir` (a prompts folder) once with no required ids and reports how long it took.
///
/// Reads the clock through [`crate::clock`]; the loader's errors are returned unchanged.
pub fn measure_load(dir: &Path) -> Result<LoadTiming, PromptError> {
    let started = clock::now();
    let set = PromptSet::load::<&str>(dir, &[])?;
    let elapsed = clock::now().saturating_duration_since(started);
    let samples = set.total_samples();
    Ok(LoadTiming {
        elapsed,
        prompts: set.len(),
        audio_seconds: samples as f64 / 8000.0,
        bytes: samples * 2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Language;
    use crate::media::testaudio::{interleave, sine, wav, TempDir};

    /// A folder shaped like the shipped one: `ids` prompts × 8 languages of `seconds` each.
    fn synthetic_folder(ids: usize, seconds: f64, rate: u32, channels: u16) -> TempDir {
        let dir = TempDir::new("bench");
        let mut catalogue = String::new();
        for i in 0..ids {
            catalogue.push_str(&format!("[prompts.p{i}]\n"));
            for lang in Language::ALL {
                catalogue.push_str(&format!("\"{lang}\" = \"text\"\n"));
            }
        }
        std::fs::write(dir.path().join("catalogue.toml"), catalogue).unwrap();
        let mono = sine(rate, 440.0, seconds, 0.3);
        let audio = wav(rate, channels, &interleave(&mono, usize::from(channels)));
        for lang in Language::ALL {
            let lang_dir = dir.path().join(lang.code());
            std::fs::create_dir(&lang_dir).unwrap();
            for i in 0..ids {
                std::fs::write(lang_dir.join(format!("p{i}.wav")), &audio).unwrap();
            }
        }
        dir
    }

    /// `cargo test --lib media::bench -- --ignored --nocapture`
    #[test]
    #[ignore = "timing; run by hand"]
    fn load_time_of_synthetic_folders() {
        for (rate, channels) in [(8000, 1), (44_100, 2)] {
            let dir = synthetic_folder(40, 4.0, rate, channels);
            let timing = measure_load(dir.path()).unwrap();
            println!(
                "{rate} Hz × {channels} ch: {} prompts ({:.0} s of audio) in {:?}",
                timing.prompts, timing.audio_seconds, timing.elapsed
            );
            assert_eq!(timing.prompts, 320);
        }
    }

    /// `cargo test --lib media::bench -- --ignored --nocapture`; measures the repository's
    /// `prompts/`, or the folder named by `CARECALL_PROMPTS_DIR`.
    #[test]
    #[ignore = "timing on the real prompts/ folder; run by hand"]
    fn load_time_of_the_real_prompts_folder() {
        let dir = std::env::var_os("CARECALL_PROMPTS_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts"));
        if !dir.join("catalogue.toml").exists() {
            println!("no {}: nothing to measure", dir.display());
            return;
        }
        let timing = measure_load(&dir).unwrap();
        println!(
            "loaded {} prompts ({:.1} s of audio, {} KiB) in {:?}",
            timing.prompts,
            timing.audio_seconds,
            timing.bytes / 1024,
            timing.elapsed
        );
        assert!(timing.elapsed < Duration::from_secs(2));
    }
}
