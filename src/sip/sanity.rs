//! Checks on a parsed request that the SIP library lets through but RFC 3261 (and RFC 4475's
//! torture messages) call malformed: such a request gets 400 before anything acts on it.

use rsipstack::sip::{Header, Request};

/// Why a request is refused with 400, or `None` when it may go on.
pub(super) fn malformed(req: &Request) -> Option<&'static str> {
    let mut lengths = req.headers.iter().filter_map(|h| match h {
        Header::ContentLength(v) => Some(value_of(&v.to_string())),
        _ => None,
    });
    if let Some(declared) = lengths.next() {
        // RFC 3261 §18.3: a datagram shorter than its Content-Length, or a length that is
        // not a number (RFC 4475 §3.1.2.2, §3.1.2.3), is a framing error.
        match declared.parse::<usize>() {
            Ok(n) if n == req.body.len() => {}
            _ => return Some("Content-Length does not frame the body"),
        }
    }
    let cseq = req.headers.iter().find_map(|h| match h {
        Header::CSeq(v) => Some(value_of(&v.to_string())),
        _ => None,
    });
    match cseq {
        Some(c) => {
            let mut parts = c.split_whitespace();
            let number = parts.next().and_then(|n| n.parse::<u32>().ok());
            let method = parts.next();
            if number.is_none() {
                return Some("CSeq number out of range");
            }
            // RFC 3261 §8.1.1.5: the CSeq method matches the request's.
            if method != Some(req.method.to_string().as_str()) {
                return Some("CSeq method differs from the request's");
            }
        }
        None => return Some("no CSeq"),
    }
    None
}

/// The value part of a header's `Name: value` text.
fn value_of(text: &str) -> String {
    text.split_once(':')
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// What the endpoint would do with `bytes` arriving from a trunk, decided the same way as its
/// incoming loop but without sockets: for fuzzing the SIP path (fuzz/fuzz_targets/sip_message.rs).
pub fn triage(bytes: &[u8]) -> &'static str {
    use rsipstack::sip::prelude::*;
    use rsipstack::sip::{Method, SipMessage};
    if !super::datagram::library_takes(bytes) {
        return unparsable(bytes);
    }
    let Ok(msg) = SipMessage::try_from(bytes) else {
        return "dropped: unparsable";
    };
    let mut req = match msg {
        SipMessage::Response(r) => {
            let _ = r.via_received();
            return "dropped: response without a transaction";
        }
        SipMessage::Request(r) => r,
    };
    super::repair::tidy_request(&mut req);
    let via = req
        .via_header()
        .ok()
        .and_then(|v| v.typed().ok())
        .map(|v| v.sent_by().host.to_string());
    if via.is_none() {
        return "400: no usable Via";
    }
    if malformed(&req).is_some() {
        return "400: malformed";
    }
    if req.method == Method::Invite {
        let body = String::from_utf8_lossy(&req.body);
        return match super::sdp::parse(&body) {
            Ok(_) => "call: SDP offer parsed",
            Err(_) => "488: offer not acceptable",
        };
    }
    match req.method {
        Method::Options => "200",
        Method::Ack => "absorbed",
        Method::Bye | Method::Info | Method::Cancel | Method::Update => "481",
        _ => "405",
    }
}

/// What [`triage`] says of bytes the library cannot parse: the answer of
/// [`super::datagram::Guard`] for a trunk's source.
fn unparsable(bytes: &[u8]) -> &'static str {
    use super::raw::{RawRequest, Status};
    let Some(req) = RawRequest::parse(bytes) else {
        return "dropped: unparsable";
    };
    if req.is_ack() {
        return "dropped: unparsable ACK";
    }
    let status = req.status();
    let source = std::net::SocketAddr::from(([192, 0, 2, 1], 5060));
    let _ = req.response(status, source, "INVITE", "carecall");
    match status {
        Status::BadRequest => "400: unparsable",
        Status::Forbidden => "403",
        Status::NotImplemented => "501: unknown method",
        Status::VersionNotSupported => "505",
    }
}

#[cfg(test)]
mod tests {
    use super::malformed;
    use rsipstack::sip::Request;

    fn fixture(name: &str) -> Request {
        let path = format!(
            "{}/tests/fixtures/rfc4475/{name}.dat",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(path).expect("fixture");
        Request::try_from(bytes.as_slice()).expect("the library parses it")
    }

    #[test]
    fn rfc4475_framing_and_uri_errors_are_malformed() {
        assert!(
            malformed(&fixture("clerr")).is_some(),
            "Content-Length 9999"
        );
        assert!(malformed(&fixture("ncl")).is_some(), "Content-Length -999");
        assert!(
            malformed(&fixture("mismatch01")).is_some(),
            "CSeq INVITE on OPTIONS"
        );
    }

    #[test]
    fn well_formed_requests_pass() {
        for name in [
            "esc01",
            "lwsdisp",
            "semiuri",
            "transports",
            "longreq",
            "escnull",
        ] {
            assert_eq!(malformed(&fixture(name)), None, "{name}");
        }
    }

    #[test]
    fn triage_follows_the_endpoint() {
        let read = |n: &str| {
            std::fs::read(format!(
                "{}/tests/fixtures/rfc4475/{n}.dat",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        assert_eq!(super::triage(&read("lwsdisp")), "200");
        assert_eq!(super::triage(&read("clerr")), "400: malformed");
        assert_eq!(super::triage(&read("esc01")), "call: SDP offer parsed");
        assert_eq!(super::triage(b"\x00garbage"), "dropped: unparsable");
        assert_eq!(super::triage(&read("intmeth")), "501: unknown method");
        assert_eq!(super::triage(&read("esc02")), "501: unknown method");
    }
}
