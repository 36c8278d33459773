//! Mono audio at any rate → 16-bit linear at the 8 kHz telephone rate.
//!
//! The resampler is rubato's windowed-sinc `SincFixedIn`, a real anti-aliasing filter: energy
//! above 4 kHz is removed before decimation instead of folding back into the phone band (a
//! 6 kHz tone in a 44.1 kHz file would otherwise come out as a 2 kHz whistle).
//!
//! Filter choice: the sinc is [`TAPS_AT_PHONE_RATE`] output samples long whatever the input
//! rate (so the transition band is the same width at 44.1 kHz and at 96 kHz), windowed with
//! Blackman-Harris squared (side lobes far below the 16-bit floor), with the cut-off rubato
//! computes for that length (about 3.58 kHz, above the 3.4 kHz telephone band). When the rate
//! ratio is a fraction with a small denominator (44.1, 48, 22.05, 16 kHz…) exactly the sinc
//! phases needed are tabulated; otherwise 256 phases per input sample are tabulated and
//! linearly interpolated. 8 kHz input is passed through untouched.

use std::collections::hash_map::{Entry, HashMap};

use rubato::{
    calculate_cutoff, Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use super::decode::{DecodeError, MonoAudio};

/// The telephone sample rate of G.711, in Hz.
pub const PHONE_RATE: u32 = 8_000;

/// Length of the anti-aliasing sinc, counted in 8 kHz output samples.
pub const TAPS_AT_PHONE_RATE: usize = 128;

const OVERSAMPLING: usize = 256;
const MAX_EXACT_PHASES: usize = 1024;
const WINDOW: WindowFunction = WindowFunction::BlackmanHarris2;
const MIN_CHUNK: usize = 4096;

/// One resampler per input rate, built on first use and reused for later files of that rate
/// (building the sinc table costs more than resampling a short prompt).
#[derive(Default)]
pub struct Resamplers {
    by_rate: HashMap<u32, SincFixedIn<f32>>,
}

impl Resamplers {
    fn for_rate(&mut self, rate: u32) -> Result<&mut SincFixedIn<f32>, DecodeError> {
        let resampler = match self.by_rate.entry(rate) {
            Entry::Occupied(held) => held.into_mut(),
            Entry::Vacant(slot) => slot.insert(build(rate)?),
        };
        resampler.reset();
        Ok(resampler)
    }
}

fn build(rate: u32) -> Result<SincFixedIn<f32>, DecodeError> {
    let ratio = f64::from(PHONE_RATE) / f64::from(rate);
    let sinc_len = ((TAPS_AT_PHONE_RATE as f64 / ratio).ceil() as usize).max(TAPS_AT_PHONE_RATE);
    // Output sample k falls at input position k × rate / 8000, whose fractional part is a
    // multiple of 1 / phases: with that many tabulated phases every output sample uses an
    // exact sinc phase (half the work of interpolating between two).
    let phases = (PHONE_RATE / gcd(rate, PHONE_RATE)) as usize;
    let (oversampling_factor, interpolation) = if phases <= MAX_EXACT_PHASES {
        (phases, SincInterpolationType::Nearest)
    } else {
        (OVERSAMPLING, SincInterpolationType::Linear)
    };
    let parameters = SincInterpolationParameters {
        sinc_len,
        f_cutoff: calculate_cutoff(TAPS_AT_PHONE_RATE, WINDOW),
        oversampling_factor,
        interpolation,
        window: WINDOW,
    };
    let chunk = MIN_CHUNK.max(4 * sinc_len);
    SincFixedIn::new(ratio, 1.0, parameters, chunk, 1).map_err(DecodeError::ResamplerSetup)
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Converts `audio` to 16-bit samples at 8 kHz.
///
/// The output has `round(len × 8000 / rate)` samples: the filter delay is removed, so the
/// prompt neither starts late nor loses its tail. Samples beyond full scale are clipped.
pub fn to_phone_rate(audio: &MonoAudio, cache: &mut Resamplers) -> Result<Vec<i16>, DecodeError> {
    if audio.rate == PHONE_RATE {
        return Ok(audio.samples.iter().map(|&s| to_i16(s)).collect());
    }
    let rate = u64::from(audio.rate);
    let expected =
        usize::try_from((audio.samples.len() as u64 * u64::from(PHONE_RATE) + rate / 2) / rate)
            .map_err(|_| DecodeError::UnsupportedRate(audio.rate))?;

    let resampler = cache.for_rate(audio.rate)?;
    let delay = resampler.output_delay();
    let chunk = resampler.input_frames_max();
    let mut buffer = resampler.output_buffer_allocate(true);
    let mut out: Vec<f32> = Vec::with_capacity(expected + delay + buffer[0].len());

    let mut chunks = audio.samples.chunks_exact(chunk);
    for input in &mut chunks {
        let (_, n) = resampler
            .process_into_buffer(&[input], &mut buffer, None)
            .map_err(DecodeError::Resample)?;
        out.extend_from_slice(&buffer[0][..n]);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let (_, n) = resampler
            .process_partial_into_buffer(Some(&[rest]), &mut buffer, None)
            .map_err(DecodeError::Resample)?;
        out.extend_from_slice(&buffer[0][..n]);
    }
    // Flush the filter's delay line with silence until the whole tail is out.
    while out.len() < delay + expected {
        let (_, n) = resampler
            .process_partial_into_buffer(None::<&[&[f32]]>, &mut buffer, None)
            .map_err(DecodeError::Resample)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buffer[0][..n]);
    }

    let mut linear: Vec<i16> = out
        .iter()
        .skip(delay)
        .take(expected)
        .map(|&s| to_i16(s))
        .collect();
    linear.resize(expected, 0);
    Ok(linear)
}

/// Converts a float sample (full scale ±1.0) to 16-bit linear, clipping. The scale is the
/// inverse of symphonia's (`s / 32768`), so 16-bit input comes back unchanged.
fn to_i16(sample: f32) -> i16 {
    (sample * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testaudio::tone_amplitude;

    fn tone(rate: u32, freq: f32, seconds: f32) -> MonoAudio {
        let n = (rate as f32 * seconds) as usize;
        let samples = (0..n)
            .map(|i| 0.5 * (std::f32::consts::TAU * freq * i as f32 / rate as f32).sin())
            .collect();
        MonoAudio { rate, samples }
    }

    #[test]
    fn eight_khz_input_is_passed_through_exactly() {
        let audio = MonoAudio {
            rate: 8000,
            samples: vec![0.0, 0.5, -0.5, 1.0, -1.0, 2.0],
        };
        let out = to_phone_rate(&audio, &mut Resamplers::default()).unwrap();
        assert_eq!(out, vec![0, 16384, -16384, 32767, -32768, 32767]);
    }

    #[test]
    fn length_is_the_duration_at_eight_khz_for_odd_lengths() {
        let mut cache = Resamplers::default();
        for (rate, n) in [
            (44_100, 44_100 * 2 + 37),
            (48_000, 11),
            (22_050, 5000),
            (6_000, 999),
        ] {
            let audio = MonoAudio {
                rate,
                samples: vec![0.1; n],
            };
            let out = to_phone_rate(&audio, &mut cache).unwrap();
            let want = (n as f64 * 8000.0 / rate as f64).round() as usize;
            assert_eq!(out.len(), want, "rate {rate}");
        }
    }

    #[test]
    fn delay_is_removed_so_a_tone_keeps_its_amplitude_from_start_to_end() {
        let out = to_phone_rate(&tone(48_000, 1000.0, 1.0), &mut Resamplers::default()).unwrap();
        // A sine sampled at 8 kHz peaks near ±0.5 FS in every 1 ms period; check the middle
        // and that the first and last 20 ms already (still) carry the tone.
        let peak = |s: &[i16]| s.iter().map(|v| v.unsigned_abs()).max().unwrap();
        assert!((15_500..=16_900).contains(&peak(&out[3000..5000])));
        assert!(peak(&out[40..160]) > 15_000, "start is late");
        assert!(
            peak(&out[out.len() - 160..out.len() - 40]) > 15_000,
            "tail is lost"
        );
    }

    #[test]
    fn a_tone_comes_out_clean_from_every_common_rate() {
        let mut cache = Resamplers::default();
        for rate in [
            11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 96_000, 47_999,
        ] {
            let out = to_phone_rate(&tone(rate, 1000.0, 1.5), &mut cache).unwrap();
            let mid = &out[4000..8000];
            let at_1k = tone_amplitude(mid, 8000, 1000.0);
            assert!((at_1k - 16384.0).abs() < 200.0, "{rate}: {at_1k}");
            // Everything else at least 80 dB down (resampler only, no G.711 here).
            for k in (1..16).filter(|&k| k != 4) {
                let a = tone_amplitude(mid, 8000, f64::from(k) * 250.0);
                assert!(a < at_1k * 1e-4, "{rate} Hz input: {} Hz at {a}", k * 250);
            }
        }
    }

    #[test]
    fn a_cached_resampler_gives_the_same_result_twice() {
        let mut cache = Resamplers::default();
        let audio = tone(44_100, 440.0, 0.3);
        let a = to_phone_rate(&audio, &mut cache).unwrap();
        let b = to_phone_rate(&audio, &mut cache).unwrap();
        assert_eq!(a, b);
    }
}
