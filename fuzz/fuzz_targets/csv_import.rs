//! Any patients CSV (arbitrary bytes, the reader decodes): checking it gives rows or problems,
//! never a panic, and every accepted row's period is in order.
#![no_main]

use carecall::report::LocalTime;
use carecall::store::parse_patients;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let allowed: Vec<LocalTime> = [(9, 0), (11, 0), (14, 0), (16, 0)]
        .into_iter()
        .filter_map(|(h, m)| LocalTime::new(h, m))
        .collect();
    if let Ok(rows) = parse_patients(data, &allowed) {
        for row in rows {
            assert!(row.observation_start <= row.observation_end);
        }
    }
});
