//! Test support: audio files written by the tests themselves (WAV, and FLAC with VERBATIM
//! subframes), sine generators, a Goertzel tone meter and a self-deleting temp folder.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A temp folder removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh, empty folder unique to this process and call.
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("carecall-media-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `seconds` of a sine at `freq` Hz, peak `amplitude` (full scale 1.0), as 16-bit samples.
pub fn sine(rate: u32, freq: f64, seconds: f64, amplitude: f64) -> Vec<i16> {
    let n = (f64::from(rate) * seconds).round() as usize;
    (0..n)
        .map(|i| (amplitude * 32767.0 * (TAU * freq * i as f64 / f64::from(rate)).sin()) as i16)
        .collect()
}

/// Interleaves a mono signal into `channels` identical channels.
pub fn interleave(mono: &[i16], channels: usize) -> Vec<i16> {
    mono.iter()
        .flat_map(|&s| std::iter::repeat_n(s, channels))
        .collect()
}

/// Amplitude (full scale 32768) of the `freq` component of `samples`, by the Goertzel
/// algorithm; exact when `samples` spans whole periods of `freq`.
pub fn tone_amplitude(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let coeff = 2.0 * (TAU * freq / f64::from(rate)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / samples.len() as f64
}

/// Root mean square of `samples`.
pub fn rms(samples: &[i16]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}

/// A 16-bit PCM WAV file of interleaved `samples`.
pub fn wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let block_align = channels * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

const FLAC_BLOCK: usize = 4096;

/// A 16-bit FLAC file of interleaved `samples`: STREAMINFO, then fixed-size frames whose
/// subframes are VERBATIM (uncompressed), each frame with its CRC-8 header and CRC-16 footer.
pub fn flac(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
    let ch = usize::from(channels);
    let total = (samples.len() / ch) as u64;
    let mut out = b"fLaC".to_vec();
    out.extend_from_slice(&[0x80, 0, 0, 34]); // last metadata block, STREAMINFO, 34 bytes
    out.extend_from_slice(&(FLAC_BLOCK as u16).to_be_bytes()); // min block size
    out.extend_from_slice(&(FLAC_BLOCK as u16).to_be_bytes()); // max block size
    out.extend_from_slice(&[0; 6]); // min and max frame size unknown
    let packed = (u64::from(rate) << 44)
        | (u64::from(channels - 1) << 41)
        | (15 << 36) // bits per sample − 1
        | total;
    out.extend_from_slice(&packed.to_be_bytes());
    out.extend_from_slice(&[0; 16]); // MD5 unknown
    for (number, block) in samples.chunks(FLAC_BLOCK * ch).enumerate() {
        flac_frame(&mut out, number, channels, block);
    }
    out
}

fn flac_frame(out: &mut Vec<u8>, number: usize, channels: u16, block: &[i16]) {
    let ch = usize::from(channels);
    let len = block.len() / ch;
    let start = out.len();
    out.extend_from_slice(&[0xFF, 0xF8]); // sync, fixed block size
    out.push(0x70); // block size: 16 bits at the end of the header; rate from STREAMINFO
    out.push(((channels as u8 - 1) << 4) | (0b100 << 1)); // independent channels, 16 bits
    out.extend_from_slice(&utf8_number(number));
    out.extend_from_slice(&((len - 1) as u16).to_be_bytes());
    let crc8 = crc(&out[start..], 0x07, 8);
    out.push(crc8 as u8);
    for c in 0..ch {
        out.push(0b0000_0010); // VERBATIM, no wasted bits
        for frame in block.chunks_exact(ch) {
            out.extend_from_slice(&frame[c].to_be_bytes());
        }
    }
    let crc16 = crc(&out[start..], 0x8005, 16);
    out.extend_from_slice(&(crc16 as u16).to_be_bytes());
}

/// FLAC's UTF-8-like coding of a frame number (up to 0xFFFF here).
fn utf8_number(n: usize) -> Vec<u8> {
    match n {
        0..=0x7F => vec![n as u8],
        0x80..=0x7FF => vec![0xC0 | (n >> 6) as u8, 0x80 | (n & 0x3F) as u8],
        _ => vec![
            0xE0 | (n >> 12) as u8,
            0x80 | ((n >> 6) & 0x3F) as u8,
            0x80 | (n & 0x3F) as u8,
        ],
    }
}

/// MSB-first CRC with initial value 0, of width 8 or 16.
fn crc(bytes: &[u8], poly: u32, width: u32) -> u32 {
    let top = 1u32 << (width - 1);
    let mask = (1u32 << width) - 1;
    let mut reg = 0u32;
    for &b in bytes {
        reg ^= u32::from(b) << (width - 8);
        for _ in 0..8 {
            reg = if reg & top != 0 {
                (reg << 1) ^ poly
            } else {
                reg << 1
            } & mask;
        }
    }
    reg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crcs_match_published_check_values() {
        // CRC-8 (poly 0x07) and CRC-16/UMTS (poly 0x8005, init 0) of "123456789".
        assert_eq!(crc(b"123456789", 0x07, 8), 0xF4);
        assert_eq!(crc(b"123456789", 0x8005, 16), 0xFEE8);
    }

    #[test]
    fn goertzel_reads_the_amplitude_of_a_tone() {
        let s = sine(8000, 1000.0, 1.0, 0.5);
        let a = tone_amplitude(&s, 8000, 1000.0);
        assert!((a - 16383.0).abs() < 50.0, "{a}");
        assert!(tone_amplitude(&s, 8000, 1500.0) < 10.0);
    }
}
