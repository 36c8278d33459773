//! A stream of arbitrary RTP datagrams fed to the telephone-event receiver: never panics,
//! and no packet yields more digits than it has event blocks.
#![no_main]

use carecall::rtp::{RtpPacket, TelephoneEvents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut events = TelephoneEvents::new(101);
    // Datagrams separated by a length byte.
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let (datagram, next) = tail.split_at(usize::from(len).min(tail.len()));
        rest = next;
        if let Ok(mut p) = RtpPacket::parse(datagram) {
            p.header.payload_type = 101;
            let digits = events.receive(&p.header, p.payload).count();
            assert!(digits <= p.payload.len() / 4);
        }
    }
});
