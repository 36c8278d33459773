//! A DTMF digit and how it arrived. All three transports deliver the same [`DigitEvent`].

/// One keypad key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Digit {
    /// Keys `0`–`9`.
    Num(u8),
    /// `*`.
    Star,
    /// `#`.
    Hash,
    /// Keys `A`–`D` (event codes 12–15), rare on patient phones.
    Letter(char),
}

impl Digit {
    /// The RFC 4733 event code (0–9, `*` = 10, `#` = 11, A–D = 12–15).
    pub fn event_code(self) -> u8 {
        match self {
            Digit::Num(n) => n,
            Digit::Star => 10,
            Digit::Hash => 11,
            Digit::Letter(c) => 12 + (c as u8 - b'A'),
        }
    }

    /// The digit for an RFC 4733 event code; `None` for codes above 15 (not DTMF).
    pub fn from_event_code(code: u8) -> Option<Digit> {
        match code {
            0..=9 => Some(Digit::Num(code)),
            10 => Some(Digit::Star),
            11 => Some(Digit::Hash),
            12..=15 => Some(Digit::Letter((b'A' + code - 12) as char)),
            _ => None,
        }
    }

    /// The digit for a keypad character (`0`–`9`, `*`, `#`, `A`–`D`, case-insensitive).
    pub fn from_char(c: char) -> Option<Digit> {
        match c {
            '0'..='9' => Some(Digit::Num(c as u8 - b'0')),
            '*' => Some(Digit::Star),
            '#' => Some(Digit::Hash),
            'A'..='D' => Some(Digit::Letter(c)),
            'a'..='d' => Some(Digit::Letter(c.to_ascii_uppercase())),
            _ => None,
        }
    }

    /// The keypad character.
    pub fn to_char(self) -> char {
        match self {
            Digit::Num(n) => (b'0' + n) as char,
            Digit::Star => '*',
            Digit::Hash => '#',
            Digit::Letter(c) => c,
        }
    }
}

/// How a digit reached carecall; a label of the `carecall_dtmf_digits_total` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigitMethod {
    /// RFC 4733 telephone-event in RTP.
    Rfc4733,
    /// SIP INFO (`application/dtmf-relay` or `application/dtmf`).
    SipInfo,
    /// In-band tones detected in the audio.
    Inband,
}

impl DigitMethod {
    /// The metric label value.
    pub fn label(self) -> &'static str {
        match self {
            DigitMethod::Rfc4733 => "rfc4733",
            DigitMethod::SipInfo => "sip_info",
            DigitMethod::Inband => "inband",
        }
    }
}

/// A digit delivered to a call. Its `Debug` shows the method only: digits are personal data.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DigitEvent {
    /// The key pressed.
    pub digit: Digit,
    /// The transport it came by.
    pub method: DigitMethod,
}

impl std::fmt::Debug for DigitEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DigitEvent({})", self.method.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_and_chars_round_trip() {
        for code in 0..16 {
            let d = Digit::from_event_code(code).unwrap();
            assert_eq!(d.event_code(), code);
            assert_eq!(Digit::from_char(d.to_char()), Some(d));
        }
        assert_eq!(Digit::from_event_code(16), None);
        assert_eq!(Digit::from_char('x'), None);
    }
}
