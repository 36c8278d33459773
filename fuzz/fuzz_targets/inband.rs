//! Arbitrary G.711 audio in arbitrary chunks: the in-band detector never panics and gives
//! the same digits whatever the chunking.
#![no_main]

use carecall::rtp::g711::Law;
use carecall::rtp::InbandDetector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, audio)) = data.split_first() else {
        return;
    };
    let (mut whole, mut chunked) = (InbandDetector::new(), InbandDetector::new());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    whole.push_g711(Law::Pcmu, audio, &mut a);
    for part in audio.chunks(usize::from(chunk).max(1)) {
        chunked.push_g711(Law::Pcmu, part, &mut b);
    }
    assert_eq!(a, b);
});
