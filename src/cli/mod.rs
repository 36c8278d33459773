//! Subcommands of the `carecall` binary: thin glue from arguments to the library.

pub mod calls;
pub mod check;
pub mod live;
pub mod loadgen;
pub mod patients;
pub mod records;
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
    /// The configured SQLite file does not exist (a command run in the wrong folder, or
    /// before `serve` created the store).
    #[error(
        "no report store at {} (carecall serve creates it; or pass --config)",
        .0.display()
    )]
    NoStore(std::path::PathBuf),
    /// `staff add --centre NAME` names no existing health centre (and `--create-centre` was
    /// not given).
    #[error(
        "no health centre named {name:?}; existing centres: {}; add --create-centre to create it",
        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
    )]
    NoCentre {
        /// The name given.
        name: String,
        /// The centres in the store.
        known: Vec<String>,
    },
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

/// Opens the configured report store (running its migrations), creating a missing SQLite
/// file: for `serve` and `demo` only.
pub async fn open_store(config: &Config) -> Result<Store, CliError> {
    let url = config.store_connect_url();
    Ok(Store::open_with(url.expose(), config.store_options.clone()).await?)
}

/// Opens the configured report store, which must exist: a missing SQLite file is
/// [`CliError::NoStore`] (and is not created), for every command but `serve` and `demo`.
pub async fn open_existing_store(config: &Config) -> Result<Store, CliError> {
    if let Some(file) = carecall::store::sqlite_file(&config.store_url) {
        if !file.exists() {
            return Err(CliError::NoStore(
                std::path::absolute(&file).unwrap_or(file),
            ));
        }
    }
    open_store(config).await
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
