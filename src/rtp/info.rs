//! DTMF carried in SIP INFO bodies: `application/dtmf-relay` and `application/dtmf`.
//!
//! Neither format has a formal standard, so the parser is tolerant the way deployed gateways
//! need: `application/dtmf-relay` is `key=value` lines (`Signal=5`, `Duration=160`) with any
//! case, spaces around keys and values, CRLF or LF line ends, and other lines ignored;
//! `application/dtmf` is the key alone (`5`), surrounding whitespace allowed. A key is `0`–`9`,
//! `*`, `#`, `A`–`D` (either case), or its RFC 4733 event code written in decimal (`10` for
//! `*`, `11` for `#`, as some gateways send). The duration is not needed (one INFO is one
//! press) and is ignored.

use thiserror::Error;

use super::Digit;

/// Why an INFO body is not one DTMF key. Carries no body text: it may hold keyed digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InfoDtmfError {
    /// The content type is neither `application/dtmf-relay` nor `application/dtmf`.
    #[error("content type is not a DTMF INFO type")]
    UnsupportedContentType,
    /// The body is not UTF-8 text.
    #[error("DTMF INFO body is not text")]
    NotText,
    /// An `application/dtmf-relay` body has no `Signal=` line.
    #[error("dtmf-relay body has no Signal line")]
    MissingSignal,
    /// An `application/dtmf-relay` body has `Signal=` lines naming different keys.
    #[error("dtmf-relay body has conflicting Signal lines")]
    ConflictingSignals,
    /// An `application/dtmf` body is empty or blank.
    #[error("dtmf body is empty")]
    EmptyBody,
    /// The signal is not a DTMF key (e.g. `Signal=x`, `Signal=16` flash, `Signal=55`).
    #[error("DTMF INFO signal is not a keypad key")]
    InvalidSignal,
}

/// The two INFO body formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InfoFormat {
    DtmfRelay,
    Dtmf,
}

/// Parses the body of a SIP INFO request. `content_type` is the Content-Type header value,
/// matched case-insensitively with any parameters (`; charset=…`) ignored. Returns the key, or
/// why the body is not one DTMF key; never panics on any input.
pub fn parse_info_body(content_type: &str, body: &[u8]) -> Result<Digit, InfoDtmfError> {
    let format = info_format(content_type).ok_or(InfoDtmfError::UnsupportedContentType)?;
    let text = std::str::from_utf8(body).map_err(|_| InfoDtmfError::NotText)?;
    match format {
        InfoFormat::DtmfRelay => parse_dtmf_relay(text),
        InfoFormat::Dtmf => parse_key(text.trim()).ok_or_else(|| {
            if text.trim().is_empty() {
                InfoDtmfError::EmptyBody
            } else {
                InfoDtmfError::InvalidSignal
            }
        }),
    }
}

/// Whether a Content-Type value names a DTMF INFO body this module parses.
pub fn is_dtmf_content_type(content_type: &str) -> bool {
    info_format(content_type).is_some()
}

fn info_format(content_type: &str) -> Option<InfoFormat> {
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case("application/dtmf-relay") {
        Some(InfoFormat::DtmfRelay)
    } else if media_type.eq_ignore_ascii_case("application/dtmf") {
        Some(InfoFormat::Dtmf)
    } else {
        None
    }
}

fn parse_dtmf_relay(text: &str) -> Result<Digit, InfoDtmfError> {
    let mut found: Option<Digit> = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("signal") {
            continue;
        }
        let digit = parse_key(value.trim()).ok_or(InfoDtmfError::InvalidSignal)?;
        match found {
            Some(previous) if previous != digit => return Err(InfoDtmfError::ConflictingSignals),
            _ => found = Some(digit),
        }
    }
    found.ok_or(InfoDtmfError::MissingSignal)
}

/// One key as written in a body: a keypad character or a decimal event code 0–15.
fn parse_key(value: &str) -> Option<Digit> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c),
        _ if value.len() <= 2 && value.bytes().all(|b| b.is_ascii_digit()) => {
            value.parse::<u8>().ok().and_then(Digit::from_event_code)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: &str = "application/dtmf-relay";

    #[test]
    fn dtmf_relay_canonical_body() {
        assert_eq!(
            parse_info_body(RELAY, b"Signal=5\r\nDuration=160\r\n"),
            Ok(Digit::Num(5))
        );
    }

    #[test]
    fn dtmf_relay_is_tolerant_of_case_spaces_line_ends_and_missing_duration() {
        let cases: [(&[u8], Digit); 8] = [
            (b"signal=1", Digit::Num(1)),
            (b"SIGNAL = 2\nDURATION = 250\n", Digit::Num(2)),
            (b"Signal= *\r\nDuration= 100", Digit::Star),
            (b"Signal=#", Digit::Hash),
            (b"Duration=160\r\nSignal=9\r\n", Digit::Num(9)),
            (b"  Signal\t=\t0  \n", Digit::Num(0)),
            (b"Signal=d\r\n", Digit::Letter('D')),
            (b"Signal=10\r\nDuration=160", Digit::Star),
        ];
        for (body, want) in cases {
            assert_eq!(parse_info_body(RELAY, body), Ok(want), "{body:?}");
        }
        assert_eq!(
            parse_info_body(RELAY, b"Signal=11\nSignal=#\n"),
            Ok(Digit::Hash)
        );
    }

    #[test]
    fn content_type_is_case_insensitive_and_parameters_are_ignored() {
        for ct in [
            "Application/DTMF-Relay",
            " application/dtmf-relay ; charset=utf-8",
            "APPLICATION/DTMF-RELAY;foo=bar",
        ] {
            assert_eq!(parse_info_body(ct, b"Signal=4"), Ok(Digit::Num(4)), "{ct}");
            assert!(is_dtmf_content_type(ct));
        }
        assert_eq!(
            parse_info_body("Application/DTMF; x=y", b"7"),
            Ok(Digit::Num(7))
        );
        assert!(!is_dtmf_content_type("application/sdp"));
    }

    #[test]
    fn application_dtmf_is_the_key_alone() {
        let ct = "application/dtmf";
        assert_eq!(parse_info_body(ct, b"5"), Ok(Digit::Num(5)));
        assert_eq!(parse_info_body(ct, b" #\r\n"), Ok(Digit::Hash));
        assert_eq!(parse_info_body(ct, b"*"), Ok(Digit::Star));
        assert_eq!(parse_info_body(ct, b"11"), Ok(Digit::Hash));
        assert_eq!(parse_info_body(ct, b""), Err(InfoDtmfError::EmptyBody));
        assert_eq!(parse_info_body(ct, b" \r\n"), Err(InfoDtmfError::EmptyBody));
        assert_eq!(
            parse_info_body(ct, b"55"),
            Err(InfoDtmfError::InvalidSignal)
        );
        assert_eq!(
            parse_info_body(ct, b"5 6"),
            Err(InfoDtmfError::InvalidSignal)
        );
        assert_eq!(
            parse_info_body(ct, b"Signal=5"),
            Err(InfoDtmfError::InvalidSignal)
        );
    }

    #[test]
    fn malformed_bodies_are_typed_errors() {
        use InfoDtmfError::*;
        let cases: [(&str, &[u8], InfoDtmfError); 11] = [
            ("application/sdp", b"Signal=5", UnsupportedContentType),
            (
                "application/dtmf-relayx",
                b"Signal=5",
                UnsupportedContentType,
            ),
            ("", b"5", UnsupportedContentType),
            (RELAY, b"", MissingSignal),
            (RELAY, b"Duration=160", MissingSignal),
            (RELAY, b"Signal 5\r\n", MissingSignal),
            (RELAY, b"Signal=\r\n", InvalidSignal),
            (RELAY, b"Signal=x", InvalidSignal),
            (RELAY, b"Signal=16", InvalidSignal),
            (RELAY, b"Signal=5\r\nSignal=6", ConflictingSignals),
            (RELAY, b"Signal=\xff\xfe", NotText),
        ];
        for (ct, body, want) in cases {
            assert_eq!(parse_info_body(ct, body), Err(want), "{ct} {body:?}");
        }
        assert_eq!(
            parse_info_body(RELAY, b"Signal=123"),
            Err(InvalidSignal),
            "three digits"
        );
    }

    #[test]
    fn random_bodies_never_panic() {
        let alphabet = b"Signal=Duration 0123456789*#ABCDabcd\r\n;=\xff\x00";
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 40) as usize;
            let body: Vec<u8> = (0..len)
                .map(|k| {
                    alphabet[(state.rotate_left(k as u32 * 3) % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = parse_info_body(RELAY, &body);
            let _ = parse_info_body("application/dtmf", &body);
        }
    }

    #[test]
    fn errors_never_echo_the_body() {
        let err = parse_info_body(RELAY, b"Signal=12345678").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("1234"));
    }
}
