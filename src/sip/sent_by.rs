//! Server transactions told apart by the top Via's sent-by as well as its branch
//! (RFC 3261 §17.2.3: branch, sent-by and method; ACK and CANCEL match their INVITE).
//!
//! The SIP library (rsipstack 0.7.14, `transaction::key`) keys a server transaction by method,
//! CSeq, Call-ID, From tag and the branch, never the sent-by: two requests that share all of
//! those but come from different sent-bys are one transaction to it, and the second gets the
//! first one's response as a retransmission. carecall cannot change that key, so it changes
//! what the key is made of: every incoming request's top-Via branch is folded with a hash of
//! its sent-by before the library sees it ([`SentByKey`], a transport hook that runs before the
//! key is computed), and every response carecall sends has that branch restored
//! ([`Hooks::before_send`]), so the peer sees its own branch, byte for byte. A retransmission,
//! its ACK and its CANCEL carry the same branch and sent-by, so they fold to the same key.

use std::future::Future;
use std::pin::Pin;

use rsipstack::sip::{Header, Request, SipMessage};
use rsipstack::transaction::endpoint::{MessageInspector, TransportEventInspector};
use rsipstack::transport::{SipAddr, TransportEvent};

/// What separates the peer's branch from the hash carecall appends: a token (RFC 3261 §25.1).
const MARK: &str = ".cc-sb";
/// Hex digits of the hash.
const HASH_LEN: usize = 16;

/// The transport hook: folds the sent-by into each incoming request's top-Via branch.
pub(super) struct SentByKey;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl TransportEventInspector for SentByKey {
    // The trait is `#[async_trait]`; written out by hand, without the macro crate.
    fn handle<'life0, 'async_trait>(
        &'life0 self,
        event: TransportEvent,
    ) -> Boxed<'async_trait, Option<TransportEvent>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Some(fold_event(event)) })
    }
}

fn fold_event(event: TransportEvent) -> TransportEvent {
    match event {
        TransportEvent::Incoming(SipMessage::Request(mut req), connection, from) => {
            fold_request(&mut req);
            TransportEvent::Incoming(SipMessage::Request(req), connection, from)
        }
        other => other,
    }
}

/// What [`SentByKey`] does to an incoming request: tidies it ([`super::repair`]) and folds
/// its top Via's branch with its sent-by.
pub(super) fn fold_request(req: &mut Request) {
    super::repair::tidy_request(req);
    if let Some(Header::Via(via)) = req.headers.iter_mut().find(|h| matches!(h, Header::Via(_))) {
        if let Some(folded) = fold(via.value()) {
            via.replace(folded);
        }
    }
}

/// The message hook: restores the peer's branch in responses, and counts them
/// ([`super::counters`]).
pub(super) struct Hooks;

impl MessageInspector for Hooks {
    fn before_send(&self, msg: SipMessage, _dest: Option<&SipAddr>) -> SipMessage {
        let msg = match msg {
            SipMessage::Response(mut resp) => {
                if let Some(Header::Via(via)) = resp
                    .headers
                    .iter_mut()
                    .find(|h| matches!(h, Header::Via(_)))
                {
                    if let Some(restored) = restore(via.value()) {
                        via.replace(restored);
                    }
                }
                SipMessage::Response(resp)
            }
            other => other,
        };
        super::counters::observe(&msg);
        msg
    }

    fn after_received(&self, msg: SipMessage, _from: Option<&SipAddr>) -> SipMessage {
        super::counters::observe(&msg);
        msg
    }
}

/// A Via header value with its first value's branch folded with that value's sent-by, or
/// `None` when it has no branch or no sent-by to read.
pub fn fold(via: &str) -> Option<String> {
    let first = &via[..first_value_end(via)];
    let key = sent_by(first)?;
    let (start, end) = branch_span(first)?;
    let mut out = String::with_capacity(via.len() + MARK.len() + HASH_LEN);
    out.push_str(&via[..end]);
    out.push_str(MARK);
    out.push_str(&format!(
        "{:0width$x}",
        fnv1a(key.as_bytes()),
        width = HASH_LEN
    ));
    out.push_str(&via[end..]);
    (end > start).then_some(out)
}

/// A Via header value with the fold of [`fold`] undone, or `None` when its first value's
/// branch carries no fold of its own sent-by (so restoring twice changes nothing).
pub fn restore(via: &str) -> Option<String> {
    let first = &via[..first_value_end(via)];
    let key = sent_by(first)?;
    let (start, end) = branch_span(first)?;
    let suffix = format!("{MARK}{:0width$x}", fnv1a(key.as_bytes()), width = HASH_LEN);
    let branch = &via[start..end];
    if branch.len() <= suffix.len() || !branch.ends_with(&suffix) {
        return None;
    }
    let cut = end - suffix.len();
    Some(format!("{}{}", &via[..cut], &via[end..]))
}

/// Where the first value of a (possibly comma-joined) Via header value ends.
pub(super) fn first_value_end(via: &str) -> usize {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in via.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => return i,
            _ => {}
        }
    }
    via.len()
}

/// The sent-by of one Via value, as compared: host lower-cased, LWS removed, the transport's
/// default port written out (RFC 3261 §18.2.1, §19.1.2).
fn sent_by(value: &str) -> Option<String> {
    let head = value.split(';').next()?;
    let mut slashes = head.splitn(3, '/');
    let (_, _, rest) = (slashes.next()?, slashes.next()?, slashes.next()?.trim());
    let (transport, host) = rest.split_once(|c: char| c.is_ascii_whitespace())?;
    let host: String = host
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let has_port = match host.rfind(']') {
        Some(bracket) => host[bracket..].contains(':'),
        None => host.contains(':'),
    };
    if has_port {
        return Some(host);
    }
    let port = if transport.eq_ignore_ascii_case("TLS") {
        5061
    } else {
        5060
    };
    Some(format!("{host}:{port}"))
}

/// The byte range of the branch parameter's value in one Via value.
fn branch_span(value: &str) -> Option<(usize, usize)> {
    let mut at = value.find(';')?;
    loop {
        let start = at + 1;
        let end = value[start..].find(';').map_or(value.len(), |i| start + i);
        let param = &value[start..end];
        if let Some((name, v)) = param.split_once('=') {
            if name.trim().eq_ignore_ascii_case("branch") {
                let offset = start + name.len() + 1;
                let lead = v.len() - v.trim_start().len();
                let vstart = offset + lead;
                let vend = vstart + v.trim().len();
                return (vend > vstart).then_some((vstart, vend));
            }
        }
        if end >= value.len() {
            return None;
        }
        at = end;
    }
}

/// FNV-1a, 64 bits: stable across builds and runs, so a retransmission folds the same.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIA: &str = "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK776;received=127.0.0.1;rport=5070";

    #[test]
    fn the_fold_depends_on_the_sent_by_and_comes_undone() {
        let a = fold(VIA).unwrap();
        let b = fold(&VIA.replace("5070;branch", "5071;branch")).unwrap();
        assert_ne!(a, b, "another sent-by, another branch");
        assert!(a.starts_with("SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK776.cc-sb"));
        assert!(a.ends_with(";received=127.0.0.1;rport=5070"));
        assert_eq!(restore(&a).as_deref(), Some(VIA));
        assert_eq!(restore(VIA), None, "nothing folded, nothing restored");
        assert_eq!(fold(VIA), fold(VIA), "a retransmission folds the same");
    }

    #[test]
    fn sent_by_is_compared_as_rfc_3261_says() {
        let default_port = fold("SIP/2.0/UDP Host.Example.com;branch=x1").unwrap();
        let explicit = fold("SIP / 2.0 / UDP host.example.com : 5060 ;branch = x1").unwrap();
        let tail = |s: &str| s.rsplit(MARK).next().unwrap()[..HASH_LEN].to_string();
        assert_eq!(tail(&default_port), tail(&explicit));
        let v6 = fold("SIP/2.0/TCP [2001:db8::1];branch=x1").unwrap();
        let v6_port = fold("SIP/2.0/TCP [2001:db8::1]:5060;branch=x1").unwrap();
        assert_eq!(tail(&v6), tail(&v6_port));
    }

    #[test]
    fn only_the_first_value_is_touched_and_odd_values_are_left_alone() {
        let two = "SIP/2.0/UDP a.example;branch=one , SIP/2.0/UDP b.example;branch=two";
        let folded = fold(two).unwrap();
        assert!(folded.ends_with(", SIP/2.0/UDP b.example;branch=two"));
        assert_eq!(restore(&folded).as_deref(), Some(two));
        assert_eq!(fold("SIP/2.0/UDP a.example"), None, "no branch (RFC 2543)");
        assert_eq!(fold("SIP/2.0/UDP a.example;branch="), None);
        assert_eq!(fold("garbage"), None);
        // A peer's own branch that looks folded (for another sent-by) is kept as it is.
        let lookalike = format!("SIP/2.0/UDP a.example;branch=x{MARK}0123456789abcdef");
        assert_eq!(restore(&lookalike), None);
    }
}
