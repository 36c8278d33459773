//! Requests the SIP library cannot represent, answered from their raw octets.
//!
//! The library's request type has a closed set of methods and one SIP version: a request with
//! an extension method (RFC 4475 §3.1.1.2 `intmeth`, §3.1.1.5 `esc02`: `RE%47IST%45R` is not
//! REGISTER) or another version fails its parse and would be dropped unanswered. RFC 3261
//! §8.2.1 wants 501 (with Allow) for a method the UAS does not know, §8.2.2.x 505 for a version
//! it does not speak. [`answer`] reads just enough of such a request (start line, Via, From,
//! To, Call-ID, CSeq, Content-Length, with folded lines and compact names) to build that
//! response itself. Everything it cannot read is left to the library, which drops it.

use std::net::SocketAddr;

/// The methods the library knows; any other token is an extension method.
const KNOWN: [&str; 14] = [
    "ACK",
    "BYE",
    "CANCEL",
    "INFO",
    "INVITE",
    "MESSAGE",
    "NOTIFY",
    "OPTIONS",
    "PRACK",
    "PUBLISH",
    "REFER",
    "REGISTER",
    "SUBSCRIBE",
    "UPDATE",
];

/// The response carecall gives a request the library could not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// 400: a known method, yet the request does not parse, or its CSeq does not match.
    BadRequest,
    /// 403: the source belongs to no trunk and unknown sources are rejected.
    Forbidden,
    /// 501 with Allow: an extension method.
    NotImplemented,
    /// 505: not SIP/2.0.
    VersionNotSupported,
}

impl Status {
    /// The status code.
    pub fn code(self) -> u16 {
        match self {
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::NotImplemented => 501,
            Status::VersionNotSupported => 505,
        }
    }
    fn reason(self) -> &'static str {
        match self {
            Status::BadRequest => "Bad Request",
            Status::Forbidden => "Forbidden",
            Status::NotImplemented => "Not Implemented",
            Status::VersionNotSupported => "Version Not Supported",
        }
    }
}

/// The parts of a request a response is built from.
pub(super) struct RawRequest<'a> {
    method: &'a [u8],
    version: &'a [u8],
    vias: Vec<Vec<u8>>,
    from: Vec<u8>,
    to: Vec<u8>,
    call_id: Vec<u8>,
    cseq: Vec<u8>,
    content_length: Option<Vec<u8>>,
    body_len: usize,
}

impl<'a> RawRequest<'a> {
    /// Reads a request's start line and the headers a response needs; `None` for a response,
    /// a message without a header end, or one without Via, From, To, Call-ID or CSeq.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
        let mut lines = split_lines(&bytes[..end]);
        let start = lines.next()?;
        let mut parts = start.split(|b| *b == b' ').filter(|p| !p.is_empty());
        let method = parts.next()?;
        let version = parts.next_back()?;
        if method.starts_with(b"SIP/") || !method.iter().all(|b| is_token(*b)) {
            return None;
        }
        let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for line in lines {
            if matches!(line.first(), Some(b' ' | b'\t')) {
                let (_, value) = headers.last_mut()?;
                value.push(b' ');
                value.extend_from_slice(trim(line));
                continue;
            }
            let colon = line.iter().position(|b| *b == b':')?;
            let name = trim(&line[..colon]).to_ascii_lowercase();
            headers.push((name, trim(&line[colon + 1..]).to_vec()));
        }
        let find = |long: &str, short: &str| {
            headers
                .iter()
                .find(|(n, _)| n == long.as_bytes() || n == short.as_bytes())
                .map(|(_, v)| v.clone())
        };
        let vias = headers
            .iter()
            .filter(|(n, _)| n == b"via" || n == b"v")
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>();
        if vias.is_empty() {
            return None;
        }
        Some(RawRequest {
            method,
            version,
            vias,
            from: find("from", "f")?,
            to: find("to", "t")?,
            call_id: find("call-id", "i")?,
            cseq: find("cseq", "cseq")?,
            content_length: find("content-length", "l"),
            body_len: bytes.len() - end - 4,
        })
    }

    /// Whether this is an ACK, which is never answered.
    pub fn is_ack(&self) -> bool {
        self.method == b"ACK"
    }

    /// The response this request gets when the library cannot take it.
    pub fn status(&self) -> Status {
        if !self.version.eq_ignore_ascii_case(b"SIP/2.0") {
            return Status::VersionNotSupported;
        }
        let mut cseq = self
            .cseq
            .split(|b| b.is_ascii_whitespace())
            .filter(|p| !p.is_empty());
        let number_ok = cseq
            .next()
            .and_then(|n| std::str::from_utf8(n).ok())
            .is_some_and(|n| n.parse::<u32>().is_ok());
        // RFC 3261 §8.1.1.5: the CSeq method is the request's, octet for octet.
        let method_ok = cseq.next() == Some(self.method) && cseq.next().is_none();
        let framed = match &self.content_length {
            None => true,
            Some(l) => std::str::from_utf8(l)
                .ok()
                .and_then(|l| l.trim().parse::<usize>().ok())
                .is_some_and(|n| n == self.body_len),
        };
        if !number_ok || !method_ok || !framed {
            return Status::BadRequest;
        }
        let known = KNOWN.iter().any(|m| m.as_bytes() == self.method);
        if known {
            Status::BadRequest
        } else {
            Status::NotImplemented
        }
    }

    /// The response text: the request's Via (the top one with `received`, and `rport` filled
    /// in when asked for, RFC 3581), From, To (with a tag of carecall's when it had none),
    /// Call-ID, CSeq; Allow on 501.
    pub fn response(
        &self,
        status: Status,
        source: SocketAddr,
        allow: &str,
        agent: &str,
    ) -> Vec<u8> {
        let mut out = format!("SIP/2.0 {} {}\r\n", status.code(), status.reason()).into_bytes();
        for (i, via) in self.vias.iter().enumerate() {
            out.extend_from_slice(b"Via: ");
            if i == 0 {
                out.extend_from_slice(&top_via(via, source));
            } else {
                out.extend_from_slice(via);
            }
            out.extend_from_slice(b"\r\n");
        }
        let header = |out: &mut Vec<u8>, name: &str, value: &[u8]| {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        };
        header(&mut out, "From", &self.from);
        let mut to = self.to.clone();
        if !has_tag(&to) {
            let seed = [&self.call_id[..], &self.from[..], &self.vias[0][..]].concat();
            to.extend_from_slice(format!(";tag=cc{:x}", super::sent_by::fnv1a(&seed)).as_bytes());
        }
        header(&mut out, "To", &to);
        header(&mut out, "Call-ID", &self.call_id);
        header(&mut out, "CSeq", &self.cseq);
        if status == Status::NotImplemented {
            header(&mut out, "Allow", allow.as_bytes());
        }
        header(&mut out, "Server", agent.as_bytes());
        out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        out
    }
}

/// The top Via value with `;received=` (and `rport`'s value) added to its first value.
fn top_via(via: &[u8], source: SocketAddr) -> Vec<u8> {
    let text = String::from_utf8_lossy(via);
    let end = super::sent_by::first_value_end(&text);
    let (first, rest) = text.split_at(end);
    let mut params: Vec<String> = first.trim_end().split(';').map(str::to_owned).collect();
    for p in params.iter_mut().skip(1) {
        if p.trim().eq_ignore_ascii_case("rport") {
            *p = format!("rport={}", source.port());
        }
    }
    params.retain(|p| !p.trim().to_ascii_lowercase().starts_with("received"));
    params.push(format!("received={}", source.ip()));
    format!("{}{}", params.join(";"), rest).into_bytes()
}

/// Whether a To value has a tag parameter (outside its `<…>` and quoted display name).
fn has_tag(to: &[u8]) -> bool {
    let text = String::from_utf8_lossy(to);
    let params = match text.rfind('>') {
        Some(i) => &text[i..],
        None => text.split_once(';').map_or("", |(_, p)| p),
    };
    params.split(';').any(|p| {
        p.split_once('=')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("tag"))
    })
}

fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                rest = Some(&r[i + 2..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// RFC 3261 §25.1 `token` characters.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/rfc4475/{name}.dat",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).expect("fixture")
    }

    fn answer(name: &str) -> (Status, String) {
        let bytes = fixture(name);
        let req = RawRequest::parse(&bytes).expect("a request");
        let status = req.status();
        let source: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let text = req.response(status, source, "INVITE, ACK", "carecall/test");
        (status, String::from_utf8_lossy(&text).into_owned())
    }

    #[test]
    fn extension_methods_get_501_with_allow_and_the_request_s_headers() {
        let (status, text) = answer("intmeth");
        assert_eq!(status, Status::NotImplemented);
        assert!(
            text.starts_with("SIP/2.0 501 Not Implemented\r\n"),
            "{text}"
        );
        assert!(text.contains(
            "\r\nVia: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~;received=127.0.0.1\r\n"
        ));
        assert!(
            text.contains("\r\nCSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\r\n")
        );
        assert!(text.contains("\r\nAllow: INVITE, ACK\r\n"));
        assert!(text.contains(";tag=cc"), "a To tag of carecall's: {text}");
        assert!(text.ends_with("\r\nContent-Length: 0\r\n\r\n"));
        let (status, text) = answer("esc02");
        assert_eq!(
            status,
            Status::NotImplemented,
            "RE%47IST%45R is not REGISTER"
        );
        assert!(text.contains("\r\nCSeq: 29344 RE%47IST%45R\r\n"), "{text}");
    }

    #[test]
    fn other_versions_get_505_and_mismatched_cseqs_400() {
        assert_eq!(answer("badvers").0, Status::VersionNotSupported);
        assert_eq!(answer("mismatch02").0, Status::BadRequest);
        assert_eq!(answer("lwsruri").0, Status::BadRequest);
    }

    #[test]
    fn responses_and_headless_bytes_are_not_requests() {
        assert!(RawRequest::parse(&fixture("unreason")).is_none());
        assert!(RawRequest::parse(b"garbage\r\n\r\n").is_none());
        assert!(RawRequest::parse(b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n").is_none());
    }

    #[test]
    fn rport_is_filled_in_and_a_present_to_tag_is_kept() {
        let via = top_via(
            b"SIP/2.0/UDP a.example;rport;branch=z9hG4bK1, SIP/2.0/UDP b",
            "10.0.0.9:5070".parse().unwrap(),
        );
        assert_eq!(
            String::from_utf8(via).unwrap(),
            "SIP/2.0/UDP a.example;rport=5070;branch=z9hG4bK1;received=10.0.0.9, SIP/2.0/UDP b"
        );
        assert!(has_tag(b"<sip:a@b>;tag=1"));
        assert!(has_tag(b"sip:a@b ; tag = 1"));
        assert!(!has_tag(b"\"tag=x\" <sip:a@b;tag=2>"));
    }
}
