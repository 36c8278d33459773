//! Any dialplan text: loading it (includes read as missing) gives a plan or problems, never a
//! panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let read = |_: &Path| Err(std::io::Error::from(std::io::ErrorKind::NotFound));
    let _ = carecall::ivr::parse(Path::new("fuzz.toml"), text, &read, &|_| true);
});
