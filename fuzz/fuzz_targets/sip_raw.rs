//! Any datagram through the guard in front of the SIP library (the raw answers: 501, 505, 400,
//! 403) for a trunk's source and a stranger's, and any request the library parses through the
//! transport hook (repair, then the sent-by fold of the top Via's branch). Never panics; a
//! raw answer is one well-framed response; the fold comes undone to the tidied Via, byte for
//! byte, and the library reads the folded branch as the peer's with carecall's suffix added.
#![no_main]

use std::net::SocketAddr;

use carecall::sip::fuzzing::{fold, guard, incoming_via, library_branch, restore, Guarded};
use libfuzzer_sys::fuzz_target;

/// `.cc-sb` and 16 hex digits.
const SUFFIX_LEN: usize = 22;

fuzz_target!(|data: &[u8]| {
    let source: SocketAddr = "192.0.2.1:5070".parse().unwrap();
    for (trunk, reject) in [(true, true), (false, true), (false, false)] {
        match guard(data, source, trunk, reject) {
            Guarded::Pass => {}
            Guarded::Drop => {}
            Guarded::Answer(code, text) => {
                assert!(trunk || reject, "a dropped stranger gets no answer");
                assert_eq!(code == 403, !trunk, "403 for strangers, and for them alone");
                assert!(text.starts_with(format!("SIP/2.0 {code} ").as_bytes()));
                assert!(text.ends_with(b"\r\nContent-Length: 0\r\n\r\n"));
            }
        }
    }
    if let Some((tidied, hooked)) = incoming_via(data) {
        if hooked != tidied {
            assert_eq!(restore(&hooked).as_deref(), Some(tidied.as_str()));
            if let Some(branch) = library_branch(&tidied) {
                let seen = library_branch(&hooked).expect("the folded Via still parses");
                // The library reads a comma-joined Via's branch up to the next `;`, past the
                // first value: the suffix then sits inside what it reads, not at its end. In a
                // Via left untidied by an unclosed quote, the library may read another `branch`
                // parameter than carecall folds: that request is keyed without its sent-by.
                if seen != branch {
                    assert_eq!(
                        seen.len(),
                        branch.len() + SUFFIX_LEN,
                        "{seen} from {branch}"
                    );
                    assert!(seen.contains(".cc-sb"));
                }
            }
        }
    }
    // Any text as a Via value: a fold always comes undone.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(folded) = fold(text) {
            assert_eq!(restore(&folded).as_deref(), Some(text));
        }
    }
});
