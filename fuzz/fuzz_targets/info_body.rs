//! Any INFO body under either DTMF content type: parsing never panics.
#![no_main]

use carecall::rtp::parse_info_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_info_body("application/dtmf-relay", data);
    let _ = parse_info_body("application/dtmf", data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_info_body(text, b"Signal=5");
    }
});
