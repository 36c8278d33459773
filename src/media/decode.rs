//! Audio file → G.711 at 8 kHz: decode any WAV, FLAC, MP3 or Ogg Vorbis file with symphonia,
//! mix it to mono, resample it to 8 kHz (see [`super::resample`]) and encode it once to both
//! laws.
//!
//! This is start-up code: it reads one file into memory (WAV files are first reduced to their
//! `fmt ` and `data` chunks, see [`super::riff`]). Decoding is strict: a malformed packet
//! anywhere in the file, or a lossless file shorter than its header says, is an error, so a
//! damaged studio recording is reported at start rather than played with a gap.

use std::io::{self, Cursor};
use std::path::Path;
use std::sync::Arc;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{
    CodecType, DecoderOptions, CODEC_TYPE_MP3, CODEC_TYPE_NULL, CODEC_TYPE_VORBIS,
};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::resample::{self, Resamplers};
use super::riff;
use crate::rtp::g711::{alaw_encode, ulaw_encode};

/// A decoded file mixed to mono: samples in −1.0..=1.0 at the file's own rate.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    /// Sample rate in Hz, as declared by the file.
    pub rate: u32,
    /// One sample per frame, the mean of the file's channels.
    pub samples: Vec<f32>,
}

/// A prompt encoded once, shared by every call that plays it: cloning copies two pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPrompt {
    /// μ-law (PCMU) bytes at 8 kHz, one byte per sample.
    pub pcmu: Arc<[u8]>,
    /// A-law (PCMA) bytes at 8 kHz, one byte per sample.
    pub pcma: Arc<[u8]>,
}

impl EncodedPrompt {
    /// Encodes 8 kHz 16-bit linear samples to both laws.
    pub fn from_linear(samples: &[i16]) -> EncodedPrompt {
        EncodedPrompt {
            pcmu: samples.iter().map(|&s| ulaw_encode(s)).collect(),
            pcma: samples.iter().map(|&s| alaw_encode(s)).collect(),
        }
    }

    /// The number of 8 kHz samples (bytes per law).
    pub fn len(&self) -> usize {
        self.pcmu.len()
    }

    /// True when the prompt holds no samples.
    pub fn is_empty(&self) -> bool {
        self.pcmu.is_empty()
    }
}

/// Why an audio file could not be turned into a prompt. The caller adds the path.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be opened or read.
    #[error("cannot read: {0}")]
    Open(#[source] io::Error),
    /// No supported container format was recognised.
    #[error("not a WAV, FLAC, MP3 or Ogg Vorbis file: {0}")]
    UnknownFormat(#[source] SymphoniaError),
    /// The container holds no audio track.
    #[error("no audio track")]
    NoAudioTrack,
    /// The track's codec is not one symphonia was built with.
    #[error("unsupported codec: {0}")]
    UnsupportedCodec(#[source] SymphoniaError),
    /// The stream is malformed, truncated in a way the demuxer rejects, or otherwise invalid.
    #[error("malformed audio: {0}")]
    Malformed(#[source] SymphoniaError),
    /// A lossless file (WAV, FLAC) decodes to fewer samples than its header declares: it is
    /// truncated, or damaged frames were skipped.
    #[error("damaged or truncated: {decoded} of {declared} samples could be decoded")]
    Incomplete {
        /// Samples per channel the header declares.
        declared: u64,
        /// Samples per channel actually decoded.
        decoded: u64,
    },
    /// The sample rate or channel count changes partway through the file.
    #[error("the sample rate or channel count changes within the file")]
    FormatChanged,
    /// The declared sample rate is outside 1 kHz–768 kHz.
    #[error("unsupported sample rate {0} Hz")]
    UnsupportedRate(u32),
    /// The file decodes to no samples at all.
    #[error("the file contains no audio")]
    Empty,
    /// The resampler could not be built for this rate.
    #[error("cannot resample from this rate: {0}")]
    ResamplerSetup(#[source] rubato::ResamplerConstructionError),
    /// The resampler rejected a buffer (a bug in the loader, reported rather than panicking).
    #[error("resampling failed: {0}")]
    Resample(#[source] rubato::ResampleError),
    /// The decoder panicked on this file (a decoder bug triggered by malformed input).
    #[error("the decoder crashed on this file")]
    DecoderPanicked,
}

/// Decodes `path` and returns it as 8 kHz G.711 in both laws.
///
/// `resamplers` caches one resampler per input rate; pass the same cache for many files.
/// A panic inside the decoder is caught and returned as [`DecodeError::DecoderPanicked`].
pub fn encode_file(path: &Path, resamplers: &mut Resamplers) -> Result<EncodedPrompt, DecodeError> {
    let decoded = std::panic::catch_unwind(|| decode_file(path))
        .map_err(|_| DecodeError::DecoderPanicked)??;
    let linear = resample::to_phone_rate(&decoded, resamplers)?;
    Ok(EncodedPrompt::from_linear(&linear))
}

/// Decodes every packet of the first audio track of `path` and mixes it to mono.
pub fn decode_file(path: &Path) -> Result<MonoAudio, DecodeError> {
    let mut bytes = std::fs::read(path).map_err(DecodeError::Open)?;
    if let Some(tidy) = riff::essential_chunks(&bytes) {
        bytes = tidy;
    }
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::IoError(io) if io.kind() != io::ErrorKind::UnexpectedEof => {
                DecodeError::Open(io)
            }
            SymphoniaError::IoError(eof) => DecodeError::Malformed(SymphoniaError::IoError(eof)),
            other => DecodeError::UnknownFormat(other),
        })?;
    decode_track(probed.format)
}

fn decode_track(mut reader: Box<dyn FormatReader>) -> Result<MonoAudio, DecodeError> {
    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(DecodeError::NoAudioTrack)?;
    let track_id = track.id;
    let declared = track
        .codec_params
        .n_frames
        .filter(|_| exact_length(track.codec_params.codec));
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(DecodeError::UnsupportedCodec)?;

    let mut mixer = Mixer::default();
    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(DecodeError::Malformed(e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = decoder.decode(&packet).map_err(DecodeError::Malformed)?;
        mixer.push(decoded)?;
    }
    let decoded = mixer.samples.len() as u64;
    match declared {
        Some(declared) if decoded < declared => Err(DecodeError::Incomplete { declared, decoded }),
        _ => mixer.finish(),
    }
}

/// True for codecs whose header states the exact length (the lossless PCM and FLAC); the
/// lengths of the lossy MP3 and Vorbis are estimates and are not checked.
fn exact_length(codec: CodecType) -> bool {
    codec != CODEC_TYPE_MP3 && codec != CODEC_TYPE_VORBIS
}

/// Accumulates decoded packets as mono samples.
#[derive(Default)]
struct Mixer {
    spec: Option<(u32, usize)>,
    buffer: Option<SampleBuffer<f32>>,
    samples: Vec<f32>,
}

impl Mixer {
    fn push(
        &mut self,
        decoded: symphonia::core::audio::AudioBufferRef<'_>,
    ) -> Result<(), DecodeError> {
        let spec = *decoded.spec();
        let channels = spec.channels.count();
        match self.spec {
            None => self.spec = Some((spec.rate, channels)),
            Some(seen) if seen != (spec.rate, channels) => return Err(DecodeError::FormatChanged),
            Some(_) => {}
        }
        if channels == 0 || decoded.frames() == 0 {
            return Ok(());
        }
        let capacity = decoded.capacity() as u64;
        let buffer = match &mut self.buffer {
            Some(b) if b.capacity() as u64 >= capacity * channels as u64 => b,
            slot => slot.insert(SampleBuffer::new(capacity, spec)),
        };
        buffer.copy_interleaved_ref(decoded);
        let scale = 1.0 / channels as f32;
        self.samples.extend(
            buffer
                .samples()
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() * scale),
        );
        Ok(())
    }

    fn finish(self) -> Result<MonoAudio, DecodeError> {
        let rate = match self.spec {
            Some((rate, _)) if !self.samples.is_empty() => rate,
            _ => return Err(DecodeError::Empty),
        };
        if !(1_000..=768_000).contains(&rate) {
            return Err(DecodeError::UnsupportedRate(rate));
        }
        Ok(MonoAudio {
            rate,
            samples: self.samples,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testaudio::{flac, interleave, rms, sine, tone_amplitude, wav, TempDir};
    use crate::rtp::g711::{ulaw_decode, Law};

    fn encode_bytes(dir: &TempDir, name: &str, bytes: &[u8]) -> Result<EncodedPrompt, DecodeError> {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        encode_file(&path, &mut Resamplers::default())
    }

    fn linear(prompt: &EncodedPrompt) -> Vec<i16> {
        prompt.pcmu.iter().map(|&c| ulaw_decode(c)).collect()
    }

    /// Asserts the output is a 1 kHz tone. A tone of exactly 1 kHz repeats every 8 samples,
    /// so any pitch error shows up between the harmonics (at least 40 dB down), while
    /// G.711's own quantisation distortion can only sit on the harmonics (30 dB down).
    fn assert_is_1khz_tone(samples: &[i16]) {
        // 4000 samples from the middle: whole periods of every frequency measured.
        let mid = &samples[samples.len() / 2 - 2000..samples.len() / 2 + 2000];
        let at_1k = tone_amplitude(mid, 8000, 1000.0);
        assert!(at_1k > 15_000.0, "1 kHz amplitude {at_1k}");
        for freq in [250.0, 500.0, 750.0, 1250.0, 1500.0, 2500.0, 3500.0] {
            let a = tone_amplitude(mid, 8000, freq);
            assert!(a < at_1k / 100.0, "{freq} Hz: {a} vs {at_1k}");
        }
        for freq in [2000.0, 3000.0] {
            let a = tone_amplitude(mid, 8000, freq);
            assert!(a < at_1k / 31.0, "{freq} Hz: {a} vs {at_1k}");
        }
    }

    #[test]
    fn a_44k1_stereo_wav_becomes_8khz_g711_of_the_same_duration_and_pitch() {
        let dir = TempDir::new("wav44");
        let mono = sine(44_100, 1000.0, 1.5, 0.5);
        let prompt = encode_bytes(&dir, "t.wav", &wav(44_100, 2, &interleave(&mono, 2))).unwrap();
        assert_eq!(prompt.pcmu.len(), prompt.pcma.len());
        assert!(
            prompt.len().abs_diff(12_000) <= 160,
            "{} samples",
            prompt.len()
        );
        assert_is_1khz_tone(&linear(&prompt));
        // Both laws carry the same signal.
        let alaw: Vec<i16> = prompt.pcma.iter().map(|&c| Law::Pcma.decode(c)).collect();
        assert_is_1khz_tone(&alaw);
    }

    #[test]
    fn a_48k_flac_becomes_8khz_g711_of_the_same_duration_and_pitch() {
        let dir = TempDir::new("flac48");
        let mono = sine(48_000, 1000.0, 2.0, 0.5);
        let prompt = encode_bytes(&dir, "t.flac", &flac(48_000, 2, &interleave(&mono, 2))).unwrap();
        assert!(
            prompt.len().abs_diff(16_000) <= 160,
            "{} samples",
            prompt.len()
        );
        assert_is_1khz_tone(&linear(&prompt));
    }

    #[test]
    fn a_6khz_tone_at_44k1_is_removed_not_aliased_to_2khz() {
        let dir = TempDir::new("alias");
        let input = sine(44_100, 6000.0, 1.0, 0.5);
        let prompt = encode_bytes(&dir, "t.wav", &wav(44_100, 1, &input)).unwrap();
        let out = linear(&prompt);
        let in_rms = rms(&input);
        let db = |x: f64| 20.0 * (x.max(1e-9) / in_rms).log10();
        let mid = &out[2000..6000];
        let alias = tone_amplitude(mid, 8000, 2000.0) / std::f64::consts::SQRT_2;
        assert!(db(alias) < -60.0, "alias at 2 kHz {:.1} dB", db(alias));
        assert!(db(rms(&out)) < -40.0, "overall {:.1} dB", db(rms(&out)));
    }

    #[test]
    fn an_8khz_mono_wav_is_encoded_sample_for_sample() {
        let dir = TempDir::new("wav8");
        let input = sine(8000, 440.0, 0.25, 0.3);
        let prompt = encode_bytes(&dir, "t.wav", &wav(8000, 1, &input)).unwrap();
        let want: Vec<u8> = input.iter().map(|&s| ulaw_encode(s)).collect();
        assert_eq!(&prompt.pcmu[..], &want[..]);
    }

    #[test]
    fn garbage_and_damaged_files_are_errors_not_panics() {
        let dir = TempDir::new("bad");
        let junk: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for name in ["j.wav", "j.flac", "j.mp3", "j.ogg"] {
            assert!(encode_bytes(&dir, name, &junk).is_err(), "{name}");
        }
        // A FLAC with a damaged frame (its CRC fails, so the demuxer skips it) and a WAV cut
        // short: both decode to fewer samples than declared.
        let mut damaged = flac(48_000, 1, &sine(48_000, 440.0, 0.5, 0.5));
        let at = damaged.len() / 2;
        damaged[at..at + 64].fill(0x55);
        let err = encode_bytes(&dir, "d.flac", &damaged).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Incomplete {
                    declared: 24_000,
                    ..
                }
            ),
            "{err}"
        );
        let mut cut = wav(8000, 1, &sine(8000, 440.0, 0.5, 0.5));
        cut.truncate(cut.len() - 1000);
        let err = encode_bytes(&dir, "c.wav", &cut).unwrap_err();
        assert!(
            matches!(err, DecodeError::Incomplete { declared: 4000, .. }),
            "{err}"
        );
        // A WAV header with no samples.
        assert!(matches!(
            encode_bytes(&dir, "e.wav", &wav(8000, 1, &[])),
            Err(DecodeError::Empty | DecodeError::Malformed(_))
        ));
        let missing = encode_file(&dir.path().join("none.wav"), &mut Resamplers::default());
        assert!(matches!(missing, Err(DecodeError::Open(_))));
    }
}
