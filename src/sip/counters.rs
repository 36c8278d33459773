//! SIP responses sent and received, by the method of their request (CSeq) and status class,
//! for `carecall_sip_responses_total{method,class}`. Counted for the whole process, at the
//! library's message hooks, so every response counts: 100 Trying, 180, 200, BYE's 200, 503s.

use std::sync::atomic::{AtomicU64, Ordering};

use rsipstack::sip::{HeadersExt as _, SipMessage};

/// The methods counted by name; any other is `other`.
pub const METHODS: [&str; 9] = [
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "REGISTER", "UPDATE", "other",
];

/// The status classes.
pub const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "6xx"];

static RESPONSES: [[AtomicU64; CLASSES.len()]; METHODS.len()] =
    [const { [const { AtomicU64::new(0) }; CLASSES.len()] }; METHODS.len()];

/// Responses counted so far for `METHODS[m]` and `CLASSES[c]`.
pub fn responses(m: usize, c: usize) -> u64 {
    RESPONSES
        .get(m)
        .and_then(|row| row.get(c))
        .map_or(0, |n| n.load(Ordering::Relaxed))
}

/// Counts one response of `method` with `status`.
pub(super) fn count(method: &str, status: u16) {
    let m = METHODS
        .iter()
        .position(|&known| known == method)
        .unwrap_or(METHODS.len() - 1);
    if !(100..700).contains(&status) {
        return;
    }
    if let Some(n) = RESPONSES[m].get(usize::from(status / 100) - 1) {
        n.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts `msg` if it is a response (called from the endpoint's message hooks,
/// [`super::sent_by::Hooks`]).
pub(super) fn observe(msg: &SipMessage) {
    if let SipMessage::Response(resp) = msg {
        let method = resp
            .cseq_header()
            .ok()
            .and_then(|cseq| cseq.method().ok())
            .map(|m| m.to_string())
            .unwrap_or_default();
        count(&method, resp.status_code.code());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_counted_by_method_and_class() {
        let before = responses(2, 1);
        let other = responses(8, 4);
        count("BYE", 200);
        count("PUBLISH", 503);
        count("BYE", 99);
        assert_eq!(responses(2, 1), before + 1);
        assert_eq!(responses(8, 4), other + 1);
    }
}
