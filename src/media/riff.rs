//! WAV tidy-up before decoding: keep only the `fmt ` and `data` chunks.
//!
//! symphonia 0.5's RIFF reader rejects a whole file when a metadata chunk it does not need is
//! laid out loosely, e.g. a `LIST` chunk whose odd-sized sub-chunk's pad byte is counted
//! outside the `LIST` size ("chunk length exceeds parent (list) chunk length"), which common
//! writers produce. Audio decoding never needs those chunks, so the loader rebuilds the file
//! from the two it does need and lets symphonia decode that. Walking the chunks accepts both
//! pad-byte conventions because a chunk of size `n` always occupies `n + (n & 1)` bytes.

/// A WAV file rebuilt from its `fmt ` and `data` chunks, or `None` when `file` is not a
/// RIFF/WAVE file or lacks either chunk (symphonia then reports the original file's error).
///
/// The `data` chunk keeps its declared size even when the file is cut short, so a truncated
/// file still decodes to fewer samples than declared and is reported as incomplete. A
/// declared size of 0 or `0xFFFF_FFFF` (a writer that never went back to fill it in) is
/// replaced by the bytes actually present.
pub fn essential_chunks(file: &[u8]) -> Option<Vec<u8>> {
    if file.get(0..4)? != b"RIFF" || file.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut fmt: Option<&[u8]> = None;
    let mut pos = 12usize;
    while let Some(header) = file.get(pos..pos.checked_add(8)?) {
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let body = pos + 8;
        match &header[..4] {
            b"fmt " => fmt = Some(file.get(body..body.checked_add(size as usize)?)?),
            b"data" => {
                let present = file.len() - body;
                let size = match size {
                    0 | u32::MAX => u32::try_from(present).ok()?,
                    declared => declared,
                };
                let data = &file[body..body + present.min(size as usize)];
                return Some(rebuild(fmt?, size, data));
            }
            _ => {}
        }
        pos = body
            .checked_add(size as usize)?
            .checked_add(size as usize & 1)?;
    }
    None
}

fn rebuild(fmt: &[u8], data_size: u32, data: &[u8]) -> Vec<u8> {
    let fmt_len = fmt.len() + (fmt.len() & 1);
    let riff_size = (4 + 8 + fmt_len as u64 + 8 + u64::from(data_size)).min(u64::from(u32::MAX));
    let mut out = Vec::with_capacity(12 + 8 + fmt_len + 8 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(riff_size as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    out.extend_from_slice(fmt);
    if fmt.len() & 1 == 1 {
        out.push(0);
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_size.to_le_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::decode::{encode_file, DecodeError};
    use crate::media::resample::Resamplers;
    use crate::media::testaudio::{sine, wav, TempDir};

    /// Inserts a `LIST`/`INFO`/`ISFT` chunk with a 33-byte string after `fmt `, with the
    /// sub-chunk's pad byte counted inside (`strict`) or outside the `LIST` size.
    fn with_list_chunk(plain: &[u8], strict: bool) -> Vec<u8> {
        let text = b"carecall scripts/make_prompts.py\0";
        let mut info = b"INFOISFT".to_vec();
        info.extend_from_slice(&(text.len() as u32).to_le_bytes());
        info.extend_from_slice(text);
        if strict {
            info.push(0);
        }
        let mut list = b"LIST".to_vec();
        list.extend_from_slice(&(info.len() as u32).to_le_bytes());
        list.extend_from_slice(&info);
        if info.len() & 1 == 1 {
            list.push(0);
        }
        let mut out = plain[..36].to_vec();
        out.extend_from_slice(&list);
        out.extend_from_slice(&plain[36..]);
        let riff_size = (out.len() - 8) as u32;
        out[4..8].copy_from_slice(&riff_size.to_le_bytes());
        out
    }

    #[test]
    fn metadata_chunks_in_either_pad_convention_do_not_stop_decoding() {
        let dir = TempDir::new("riff");
        let samples = sine(8000, 440.0, 0.5, 0.3);
        let plain = wav(8000, 1, &samples);
        for strict in [true, false] {
            let file = with_list_chunk(&plain, strict);
            assert_eq!(essential_chunks(&file).as_deref(), Some(&plain[..]));
            let path = dir.path().join(format!("list-{strict}.wav"));
            std::fs::write(&path, &file).unwrap();
            let prompt = encode_file(&path, &mut Resamplers::default()).unwrap();
            assert_eq!(prompt.len(), samples.len());
        }
    }

    #[test]
    fn an_unknown_data_size_means_the_bytes_present() {
        let plain = wav(8000, 1, &[1, 2, 3]);
        for unknown in [0u32, u32::MAX] {
            let mut file = plain.clone();
            file[40..44].copy_from_slice(&unknown.to_le_bytes());
            assert_eq!(essential_chunks(&file).as_deref(), Some(&plain[..]));
        }
    }

    #[test]
    fn non_wav_or_chunkless_input_is_left_to_symphonia() {
        assert_eq!(essential_chunks(b"fLaC\0\0\0\x22"), None);
        assert_eq!(essential_chunks(b"RIFF\x04\0\0\0WAVE"), None);
        let plain = wav(8000, 1, &[1, 2, 3]);
        // A chunk size running past the end before any data chunk.
        let mut broken = plain[..36].to_vec();
        broken.extend_from_slice(b"LIST\xff\xff\xff\x7f");
        assert_eq!(essential_chunks(&broken), None);
        let dir = TempDir::new("riff-bad");
        let path = dir.path().join("broken.wav");
        std::fs::write(&path, &broken).unwrap();
        let err = encode_file(&path, &mut Resamplers::default()).unwrap_err();
        assert!(!matches!(err, DecodeError::Open(_)), "{err}");
    }
}
