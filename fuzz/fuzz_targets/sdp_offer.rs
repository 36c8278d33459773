//! Any SDP offer: parsing and negotiating an answer never panic.
#![no_main]

use carecall::sip::sdp::{accept_answer, answer, parse, LocalMedia};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse(text);
    let _ = accept_answer(text);
    let local = LocalMedia {
        addr: "127.0.0.1:40000".parse().unwrap(),
        session_id: 1,
        version: 1,
    };
    let _ = answer(text, local);
});
