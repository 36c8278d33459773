//! Logging: JSON lines through `tracing`, level from `RUST_LOG` (default `info`).
//!
//! The SIP library logs whole SIP messages (with caller numbers) at debug level, so its
//! target is capped at `error` whatever `RUST_LOG` says: personal data never reaches a log
//! line, even at `trace`. carecall's own events name steps and outcomes, never digits.

use tracing_subscriber::EnvFilter;

/// The filter for `RUST_LOG` (or `default` when unset), with the SIP library capped.
pub fn filter(rust_log: Option<&str>, default: &str) -> EnvFilter {
    let base = rust_log.filter(|s| !s.trim().is_empty()).unwrap_or(default);
    // The cap comes last so it overrides any directive for the library in `base`.
    // PostgreSQL's notices at start ("relation _sqlx_migrations already exists") are noise.
    EnvFilter::builder().parse_lossy(format!(
        "sqlx::postgres::notice=warn,{base},rsipstack=error"
    ))
}

/// Installs the JSON-lines subscriber on standard error. Safe to call once per process.
pub fn init() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(std::io::stderr)
        .with_env_filter(filter(rust_log.as_deref(), "info"))
        .try_init();
}
