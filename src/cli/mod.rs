//! Subcommands of the `carecall` binary: thin glue from arguments to the library.

pub mod check;
pub mod loadgen;
pub mod serve;

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
    /// An I/O failure outside the engine (the tokio runtime, a socket of the load generator).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// `check` found problems (already printed).
    #[error("{0} problem(s) found")]
    Problems(usize),
    /// A load-generator argument makes no sense.
    #[error("{0}")]
    Usage(&'static str),
}
