//! The store's own checks: its files name no call, SIP or schedule module.

/// Every source file of the store, for the dependency check.
const SOURCES: [(&str, &str); 23] = [
    ("mod.rs", include_str!("mod.rs")),
    ("alerts.rs", include_str!("alerts.rs")),
    ("attempts.rs", include_str!("attempts.rs")),
    ("audit.rs", include_str!("audit.rs")),
    ("call_conn.rs", include_str!("call_conn.rs")),
    ("calls.rs", include_str!("calls.rs")),
    ("error.rs", include_str!("error.rs")),
    ("identify.rs", include_str!("identify.rs")),
    ("import.rs", include_str!("import.rs")),
    ("journal.rs", include_str!("journal.rs")),
    ("journal_replay.rs", include_str!("journal_replay.rs")),
    ("listings.rs", include_str!("listings.rs")),
    ("login_failures.rs", include_str!("login_failures.rs")),
    ("patients.rs", include_str!("patients.rs")),
    ("patients_api.rs", include_str!("patients_api.rs")),
    ("patients_csv.rs", include_str!("patients_csv.rs")),
    ("reports.rs", include_str!("reports.rs")),
    ("requests.rs", include_str!("requests.rs")),
    ("schedule.rs", include_str!("schedule.rs")),
    ("sessions.rs", include_str!("sessions.rs")),
    ("staff.rs", include_str!("staff.rs")),
    ("staff_reports.rs", include_str!("staff_reports.rs")),
    ("tests.rs", include_str!("tests.rs")),
];

#[test]
fn the_store_maps_rows_to_domain_types_and_names_no_call_sip_or_schedule_module() {
    let listed = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/store"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "rs")
        })
        .count();
    assert_eq!(
        listed,
        SOURCES.len(),
        "a store file is missing from SOURCES"
    );
    for (file, text) in SOURCES {
        for module in ["call", "sip", "schedule"] {
            let path = format!("crate::{module}::");
            let import = format!("crate::{module}::{{");
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
            assert!(
                !code.contains(&path) && !code.contains(&import),
                "store/{file} names crate::{module}"
            );
        }
    }
}
