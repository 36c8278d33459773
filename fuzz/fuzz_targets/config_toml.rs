//! Any configuration text: parsing gives a configuration or problems, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = carecall::config::Config::parse(text, Path::new("fuzz.toml"));
});
