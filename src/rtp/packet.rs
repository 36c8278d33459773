//! RTP packets (RFC 3550 §5.1): a zero-copy parser and a writer.
//!
//! [`RtpPacket::parse`] checks everything the header claims against the buffer (version,
//! CSRC list, header extension, padding) and returns a view that borrows the payload; every
//! malformed packet is an [`RtpParseError`], never a panic. [`RtpHeader::write`] and
//! [`RtpHeader::write_into`] produce the 12-byte fixed header carecall sends (no CSRC, no
//! extension, no padding) followed by the payload.

use thiserror::Error;

/// The fields of the fixed RTP header that carecall reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtpHeader {
    /// Marker bit; for audio, the first packet of a talkspurt (RFC 3551 §4.1).
    pub marker: bool,
    /// Payload type, 0–127.
    pub payload_type: u8,
    /// Sequence number, +1 per packet, wrapping.
    pub sequence: u16,
    /// Media timestamp in clock units (8 kHz for G.711 and telephone-event), wrapping.
    pub timestamp: u32,
    /// Synchronisation source of the stream.
    pub ssrc: u32,
}

/// A parsed RTP packet borrowing the received buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The fixed header.
    pub header: RtpHeader,
    /// The header extension (X bit), if present.
    pub extension: Option<RtpExtension<'a>>,
    /// The payload, with any padding removed.
    pub payload: &'a [u8],
    csrc: &'a [u8],
}

/// An RTP header extension (RFC 3550 §5.3.1): a profile word and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// The 16-bit "defined by profile" word (e.g. `0xBEDE` for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension data, a multiple of four bytes.
    pub data: &'a [u8],
}

/// Why a datagram is not a valid RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpParseError {
    /// Shorter than the 12-byte fixed header.
    #[error("packet of {len} bytes is shorter than the RTP fixed header")]
    TooShort {
        /// The datagram length.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {version} is not 2")]
    BadVersion {
        /// The version found.
        version: u8,
    },
    /// The CSRC count claims more identifiers than the packet holds.
    #[error("CSRC list of {count} entries overruns the packet")]
    CsrcOverrun {
        /// The CSRC count from the header.
        count: u8,
    },
    /// The X bit is set but the extension header or its data overruns the packet.
    #[error("header extension overruns the packet")]
    ExtensionOverrun,
    /// The P bit is set but the padding count is zero or larger than what follows the header.
    #[error("padding count {count} is invalid for the packet")]
    BadPadding {
        /// The last byte of the packet.
        count: u8,
    },
}

/// Why a packet could not be written into a caller's slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpWriteError {
    /// The slice is shorter than header plus payload.
    #[error("buffer of {available} bytes cannot hold a {needed}-byte packet")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
}

impl RtpHeader {
    /// Length of the fixed header carecall writes.
    pub const LEN: usize = 12;

    /// Appends the 12-byte header and then `payload` to `out`. Only the low 7 bits of
    /// `payload_type` are used.
    pub fn write(&self, payload: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&self.fixed_bytes());
        out.extend_from_slice(payload);
    }

    /// Writes the header and `payload` at the start of `out` and returns the packet length;
    /// `out` is left unchanged if it is too small.
    pub fn write_into(&self, payload: &[u8], out: &mut [u8]) -> Result<usize, RtpWriteError> {
        let needed = Self::LEN + payload.len();
        let Some(dst) = out.get_mut(..needed) else {
            return Err(RtpWriteError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        };
        dst[..Self::LEN].copy_from_slice(&self.fixed_bytes());
        dst[Self::LEN..].copy_from_slice(payload);
        Ok(needed)
    }

    fn fixed_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[0] = 2 << 6;
        b[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7F);
        b[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        b[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        b[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        b
    }
}

impl<'a> RtpPacket<'a> {
    /// Parses one datagram. Returns a view borrowing `buf`, or the first thing found wrong.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpParseError> {
        if buf.len() < RtpHeader::LEN {
            return Err(RtpParseError::TooShort { len: buf.len() });
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpParseError::BadVersion { version });
        }
        let has_padding = buf[0] & 0x20 != 0;
        let has_extension = buf[0] & 0x10 != 0;
        let csrc_count = buf[0] & 0x0F;
        let header = RtpHeader {
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7F,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        };
        let csrc_end = RtpHeader::LEN + 4 * usize::from(csrc_count);
        let csrc = buf
            .get(RtpHeader::LEN..csrc_end)
            .ok_or(RtpParseError::CsrcOverrun { count: csrc_count })?;
        let (extension, body_start) = if has_extension {
            let (ext, end) = parse_extension(buf, csrc_end)?;
            (Some(ext), end)
        } else {
            (None, csrc_end)
        };
        let body = &buf[body_start..];
        let payload = if has_padding {
            strip_padding(body)?
        } else {
            body
        };
        Ok(RtpPacket {
            header,
            extension,
            payload,
            csrc,
        })
    }

    /// Number of contributing sources listed.
    pub fn csrc_count(&self) -> usize {
        self.csrc.len() / 4
    }

    /// The contributing sources, in header order.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrc
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

fn parse_extension(buf: &[u8], start: usize) -> Result<(RtpExtension<'_>, usize), RtpParseError> {
    let head = buf
        .get(start..start + 4)
        .ok_or(RtpParseError::ExtensionOverrun)?;
    let profile = u16::from_be_bytes([head[0], head[1]]);
    let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
    let data_end = start + 4 + 4 * words;
    let data = buf
        .get(start + 4..data_end)
        .ok_or(RtpParseError::ExtensionOverrun)?;
    Ok((RtpExtension { profile, data }, data_end))
}

fn strip_padding(body: &[u8]) -> Result<&[u8], RtpParseError> {
    let Some(&count) = body.last() else {
        // The P bit with nothing after the header: there is no count byte to read.
        return Err(RtpParseError::BadPadding { count: 0 });
    };
    if count == 0 || usize::from(count) > body.len() {
        return Err(RtpParseError::BadPadding { count });
    }
    Ok(&body[..body.len() - usize::from(count)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RtpHeader {
        RtpHeader {
            marker: true,
            payload_type: 8,
            sequence: 0xBEEF,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x1234_5678,
        }
    }

    #[test]
    fn write_then_parse_round_trips() {
        let mut out = vec![0xAA]; // write appends
        header().write(&[1, 2, 3], &mut out);
        assert_eq!(out.len(), 1 + 12 + 3);
        assert_eq!(&out[1..3], &[0x80, 0x88]);
        let p = RtpPacket::parse(&out[1..]).unwrap();
        assert_eq!(p.header, header());
        assert_eq!(p.payload, &[1, 2, 3]);
        assert_eq!(p.csrc_count(), 0);
        assert_eq!(p.extension, None);
    }

    #[test]
    fn write_into_reports_short_buffers_and_leaves_them_alone() {
        let mut small = [7u8; 14];
        let err = header().write_into(&[1, 2, 3], &mut small).unwrap_err();
        assert_eq!(
            err,
            RtpWriteError::BufferTooSmall {
                needed: 15,
                available: 14
            }
        );
        assert_eq!(small, [7u8; 14]);
        let mut big = [0u8; 200];
        let n = header().write_into(&[9; 160], &mut big).unwrap();
        assert_eq!(n, 172);
        let p = RtpPacket::parse(&big[..n]).unwrap();
        assert_eq!(p.header, header());
        assert_eq!(p.payload, &[9; 160][..]);
    }

    #[test]
    fn parses_csrcs_extension_and_padding() {
        let mut b = vec![0x80 | 0x20 | 0x10 | 2, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        b.extend_from_slice(&[0, 0, 0, 10, 0, 0, 0, 11]); // two CSRCs
        b.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x10, 0xAB, 0, 0]); // extension, 1 word
        b.extend_from_slice(&[5, 6, 7]); // payload
        b.extend_from_slice(&[0, 0, 3]); // 3 bytes of padding
        let p = RtpPacket::parse(&b).unwrap();
        assert_eq!(p.header.sequence, 1);
        assert_eq!(p.header.timestamp, 2);
        assert_eq!(p.header.ssrc, 3);
        assert!(!p.header.marker);
        assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![10, 11]);
        let ext = p.extension.unwrap();
        assert_eq!(ext.profile, 0xBEDE);
        assert_eq!(ext.data, &[0x10, 0xAB, 0, 0]);
        assert_eq!(p.payload, &[5, 6, 7]);
    }

    #[test]
    fn every_malformation_is_a_typed_error() {
        let ok = {
            let mut v = Vec::new();
            header().write(&[1, 2, 3, 4], &mut v);
            v
        };
        assert_eq!(
            RtpPacket::parse(&ok[..11]),
            Err(RtpParseError::TooShort { len: 11 })
        );
        let mut v1 = ok.clone();
        v1[0] = 0x40;
        assert_eq!(
            RtpPacket::parse(&v1),
            Err(RtpParseError::BadVersion { version: 1 })
        );
        let mut cc = ok.clone();
        cc[0] |= 2; // two CSRCs = 8 bytes, only 4 follow
        assert_eq!(
            RtpPacket::parse(&cc),
            Err(RtpParseError::CsrcOverrun { count: 2 })
        );
        let mut ext = ok.clone();
        ext[0] |= 0x10; // extension header is the 4 payload bytes, claiming 0x0304 words
        assert_eq!(RtpPacket::parse(&ext), Err(RtpParseError::ExtensionOverrun));
        let mut ext_short = ok[..14].to_vec();
        ext_short[0] |= 0x10;
        assert_eq!(
            RtpPacket::parse(&ext_short),
            Err(RtpParseError::ExtensionOverrun)
        );
        let mut pad_zero = ok.clone();
        pad_zero[0] |= 0x20;
        *pad_zero.last_mut().unwrap() = 0;
        assert_eq!(
            RtpPacket::parse(&pad_zero),
            Err(RtpParseError::BadPadding { count: 0 })
        );
        let mut pad_big = ok.clone();
        pad_big[0] |= 0x20;
        *pad_big.last_mut().unwrap() = 5;
        assert_eq!(
            RtpPacket::parse(&pad_big),
            Err(RtpParseError::BadPadding { count: 5 })
        );
        let mut pad_empty = ok[..12].to_vec();
        pad_empty[0] |= 0x20;
        assert_eq!(
            RtpPacket::parse(&pad_empty),
            Err(RtpParseError::BadPadding { count: 0 })
        );
    }

    #[test]
    fn padding_may_consume_the_whole_payload() {
        let mut v = Vec::new();
        header().write(&[0, 0, 0, 4], &mut v);
        v[0] |= 0x20;
        assert_eq!(RtpPacket::parse(&v).unwrap().payload, &[] as &[u8]);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut buf = [0u8; 64];
        for _ in 0..50_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 65) as usize;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (state.rotate_left(i as u32 * 5) >> 3) as u8;
            }
            buf[0] = (buf[0] & 0x3F) | 0x80; // mostly version 2, to reach the deeper checks
            if let Ok(p) = RtpPacket::parse(&buf[..len]) {
                assert!(p.payload.len() + 12 <= len);
                assert_eq!(p.csrcs().count(), p.csrc_count());
            }
        }
    }
}
