//! A prompt as a WAV file for the browser: 8 kHz, mono, 16-bit linear PCM, decoded from the
//! μ-law the calls play (so the page hears exactly what a caller hears). Pure.

use crate::media::EncodedPrompt;
use crate::rtp::g711::ulaw_decode;

/// The sample rate of every prompt.
pub const RATE: u32 = 8000;

/// `prompt` as a RIFF/WAVE file (44-byte header, then the samples).
pub fn encode(prompt: &EncodedPrompt) -> Vec<u8> {
    let data_len = u32::try_from(prompt.pcmu.len() * 2).unwrap_or(u32::MAX - 36) & !1;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for &code in prompt.pcmu.iter().take(data_len as usize / 2) {
        out.extend_from_slice(&ulaw_decode(code).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_becomes_a_playable_8khz_wav() {
        let samples: Vec<i16> = (0..800).map(|i| ((i % 40) * 500 - 10_000) as i16).collect();
        let wav = encode(&EncodedPrompt::from_linear(&samples));
        assert_eq!(wav.len(), 44 + 1600);
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[4..8].try_into().unwrap()), 36 + 1600);
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 1, "PCM");
        assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 8000);
        assert_eq!(&wav[36..40], b"data");
        // The media decoder reads it back as the same audio (within μ-law's step).
        let path =
            std::env::temp_dir().join(format!("carecall-sim-{:x}.wav", rand::random::<u64>()));
        std::fs::write(&path, &wav).unwrap();
        let back = crate::media::decode::decode_file(&path);
        let _ = std::fs::remove_file(&path);
        let back = back.unwrap();
        assert_eq!((back.rate, back.samples.len()), (8000, 800));
        for (a, b) in samples.iter().zip(&back.samples) {
            let b = (b * 32768.0) as i32;
            assert!((i32::from(*a) - b).abs() <= 700, "{a} vs {b}");
        }
    }
}
