//! Any datagram through carecall's SIP facade: parse, the malformed-request checks, Via,
//! method dispatch and the SDP offer of an INVITE. Never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = carecall::sip::triage(data);
});
