//! Subcommands of the `carecall` binary: thin glue from arguments to the library.

pub mod calls;
pub mod check;
pub mod live;
pub mod loadgen;
pub mod patients;
pub mod reports;
pub mod schedbench;
pub mod serve;
pub mod staff;

use carecall::config::Config;
use carecall::store::Store;

/// Why a command failed; printed as `carecall: <message>` with a non-zero exit.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] carecall::config::ConfigError),
    /// The prompts are incomplete or unreadable.
    #[error("prompts: {0}")]
    Prompts(#[from] carecall::media::PromptError),
    /// The prompts or dialplans have problems (each listed).
    #[error(transparent)]
    Assets(#[from] carecall::runtime::AssetProblems),
    /// The engine could not start.
    #[error(transparent)]
    Runtime(#[from] carecall::runtime::RuntimeError),
    /// The staff HTTP API could not start.
    #[error(transparent)]
    Http(#[from] carecall::http::HttpError),
    /// A staff account could not be created.
    #[error("staff account: {0}")]
    Staff(String),
    /// An I/O failure outside the engine (the tokio runtime, a socket of the load generator).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The report store failed.
    #[error("report store: {0}")]
    Store(#[from] carecall::store::StoreError),
    /// A patients file was refused (nothing from it was written).
    #[error("{0}: {1}")]
    Import(String, carecall::store::ImportError),
    /// A file could not be opened.
    #[error("{0}: {1}")]
    File(String, std::io::Error),
    /// Writing an export failed.
    #[error("export: {0}")]
    Export(String),
    /// What the command was asked to act on does not exist.
    #[error("{0}")]
    NotFound(&'static str),
    /// `check` found problems (already printed).
    #[error("{0} problem(s) found")]
    Problems(usize),
    /// A load-generator argument makes no sense.
    #[error("{0}")]
    Usage(&'static str),
    /// The running engine's control socket could not be reached.
    #[error(transparent)]
    Control(#[from] carecall::runtime::ControlError),
    /// The running engine's answer on the control socket could not be read.
    #[error("the engine's answer on the control socket could not be read: {0}")]
    ControlAnswer(serde_json::Error),
}

/// Opens the configured report store (running its migrations).
pub async fn open_store(config: &Config) -> Result<Store, CliError> {
    Ok(Store::open_with(&config.store_url, config.store_options.clone()).await?)
}

/// Runs a short command on a single-threaded runtime.
pub fn block_on<T>(
    f: impl std::future::Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}
