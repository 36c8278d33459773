//! G.711 μ-law (PCMU) and A-law (PCMA), ITU-T G.711.
//!
//! Encoding is bit-exact with the reference (Sun `g711.c`) segment search; decoding uses
//! 256-entry tables computed at compile time.

/// The two G.711 laws; the RTP static payload types are 0 (PCMU) and 8 (PCMA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// μ-law, RTP payload type 0.
    Pcmu,
    /// A-law, RTP payload type 8.
    Pcma,
}

impl Law {
    /// The static RTP payload type of this law.
    pub fn payload_type(self) -> u8 {
        match self {
            Law::Pcmu => 0,
            Law::Pcma => 8,
        }
    }

    /// Encodes one 16-bit linear sample.
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Law::Pcmu => ulaw_encode(sample),
            Law::Pcma => alaw_encode(sample),
        }
    }

    /// Decodes one code to a 16-bit linear sample.
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Law::Pcmu => ULAW_DECODE[code as usize],
            Law::Pcma => ALAW_DECODE[code as usize],
        }
    }

    /// The code for digital silence.
    pub fn silence(self) -> u8 {
        self.encode(0)
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// Encodes a linear sample to μ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0
    };
    pcm = pcm.min(ULAW_CLIP) + ULAW_BIAS;
    let exponent = (7 - ((pcm as u32) << 17).leading_zeros().min(7)) as i32;
    let mantissa = (pcm >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// Decodes a μ-law code.
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_DECODE[code as usize]
}

/// Encodes a linear sample to A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    let pcm = sample as i32 >> 3; // 13-bit magnitude domain
    let (mask, magnitude) = if pcm >= 0 {
        (0xD5, pcm)
    } else {
        (0x55, -pcm - 1)
    };
    let magnitude = magnitude.min(0x0FFF);
    let code = if magnitude < 0x20 {
        magnitude >> 1
    } else {
        let segment = 31 - (magnitude as u32).leading_zeros() as i32 - 4; // 1..=7
        (segment << 4) | ((magnitude >> segment) & 0x0F)
    };
    (code ^ mask) as u8
}

/// Decodes an A-law code.
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[code as usize]
}

const fn ulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let t = ((((u & 0x0F) as i32) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
    if u & 0x80 != 0 {
        (ULAW_BIAS - t) as i16
    } else {
        (t - ULAW_BIAS) as i16
    }
}

const fn alaw_to_linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let segment = ((a & 0x70) >> 4) as i32;
    match segment {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= segment - 1;
        }
    }
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn table(law_ulaw: bool) -> [i16; 256] {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = if law_ulaw {
            ulaw_to_linear(i as u8)
        } else {
            alaw_to_linear(i as u8)
        };
        i += 1;
    }
    out
}

static ULAW_DECODE: [i16; 256] = table(true);
static ALAW_DECODE: [i16; 256] = table(false);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_codes_are_the_usual_ones() {
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(alaw_decode(0xD5), 8);
    }

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            // μ-law has two zeros (0x7F and 0xFF); both decode to 0 and re-encode to 0xFF.
            let u = ulaw_decode(code);
            let back = ulaw_encode(u);
            assert!(back == code || (u == 0 && back == 0xFF), "ulaw {code:#x}");
            assert_eq!(alaw_encode(alaw_decode(code)), code, "alaw {code:#x}");
        }
    }

    #[test]
    fn quantisation_error_is_within_half_a_step() {
        for law in [Law::Pcmu, Law::Pcma] {
            for s in (-32768i32..32767).step_by(7) {
                let s = s as i16;
                let d = law.decode(law.encode(s)) as i32;
                let err = (d - s as i32).abs();
                // Largest G.711 step is 1024 (μ-law) / 1024 (A-law) at the top segment.
                let bound = (s as i32).abs() / 16 + 16;
                assert!(err <= bound.max(64), "{law:?} {s} -> {d}");
            }
        }
    }

    #[test]
    fn extremes_saturate() {
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }
}
