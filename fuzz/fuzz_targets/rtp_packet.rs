//! Any datagram: parsing never panics, and a parsed packet's parts lie inside it.
#![no_main]

use carecall::rtp::RtpPacket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = RtpPacket::parse(data) {
        assert!(12 + 4 * p.csrc_count() + p.payload.len() <= data.len());
        assert_eq!(p.csrcs().count(), p.csrc_count());
        let mut out = Vec::new();
        p.header.write(p.payload, &mut out);
        let again = RtpPacket::parse(&out).expect("a written packet parses");
        assert_eq!(again.header, p.header);
        assert_eq!(again.payload, p.payload);
    }
});
