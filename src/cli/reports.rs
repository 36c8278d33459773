//! `carecall reports export [--since DATE] [--format json|csv]`.

use carecall::config::Config;
use carecall::report::date::Date;
use carecall::report::export::{write_csv, write_json};

use super::{block_on, open_existing_store, CliError};

/// Output format of `reports export`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// One JSON array of reports.
    Json,
    /// One CSV row per report; times local in the schedule's zone with their offset.
    Csv,
}

/// Writes every report since `since` (a date, from 00:00 UTC) to standard output.
pub fn export(config: Config, since: Option<String>, format: Format) -> Result<(), CliError> {
    let since = match since {
        Some(s) => Some(
            s.parse::<Date>()
                .map_err(|_| CliError::Usage("--since takes a date as YYYY-MM-DD"))?
                .start_utc(),
        ),
        None => None,
    };
    block_on(async {
        let store = open_existing_store(&config).await?;
        let reports = store.export_reports(since).await?;
        let out = std::io::stdout().lock();
        match format {
            Format::Json => write_json(&reports, out),
            Format::Csv => write_csv(&reports, &config.time_zone(), out),
        }
        .map_err(|e| CliError::Export(e.to_string()))
    })
}
