//! The `carecall` binary: command line → config → telemetry → runtime. No logic here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use carecall::config::Config;

mod cli;

/// carecall: a SIP/RTP IVR engine for daily health observation calls.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the engine.
    Serve {
        /// Configuration file (default: ./carecall.toml if present, else built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the engine with demo settings on the embedded store, ready for a call.
    Demo {
        /// Configuration file (default: built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate the configuration, dialplans and prompts; name every problem.
    Check {
        /// Configuration file (default: ./carecall.toml if present, else built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print the problems as one JSON document (`{"ok", "problems": [{file, line, field,
        /// message}]}`).
        #[arg(long)]
        json: bool,
    },
    /// Patients: import a CSV file, unlock Health Call.
    Patients {
        #[command(subcommand)]
        command: PatientsCommand,
        /// Configuration file (default: ./carecall.toml if present, else built-in defaults).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// Reports: export.
    Reports {
        #[command(subcommand)]
        command: ReportsCommand,
        /// Configuration file (default: ./carecall.toml if present, else built-in defaults).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// Automatic calls: the day's plan and backlog, one call now.
    Calls {
        #[command(subcommand)]
        command: CallsCommand,
        /// Configuration file (default: ./carecall.toml if present, else built-in defaults).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// Staff accounts of the staff API: add.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
        /// Configuration file (default: ./carecall.toml if present, else built-in defaults).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// Reload dialplans and prompts in the running engine (as SIGHUP does); calls in progress
    /// keep theirs. A set that fails the checks is refused, and why is printed.
    Reload {
        /// Configuration file (default: ./carecall.toml if present, else built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Benchmark: an in-process engine under many concurrent SIP+RTP calls with DTMF.
    Loadgen(cli::loadgen::Args),
    /// Benchmark: planning and claiming one slot of many patients on a real store.
    Schedbench(cli::schedbench::Args),
}

#[derive(Subcommand)]
enum PatientsCommand {
    /// Upsert patients from a CSV file (hersys_id, name, birthday, phone, language, call_times,
    /// observation_start, observation_end, auto_call, health_center, risk).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Print the result (or every problem) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lift the Health Call lock on a HER-SYS ID.
    Unlock {
        /// The HER-SYS ID.
        hersys_id: String,
    },
}

#[derive(Subcommand)]
enum CallsCommand {
    /// The day's slot calls, their state, backlog and expected finish.
    Plan {
        /// Local date (YYYY-MM-DD) in the schedule's time zone; default today.
        #[arg(long)]
        date: Option<String>,
        /// Print the plan as one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Queue one call to a patient now (for staff testing); a running `carecall serve`
    /// places it.
    Now {
        /// The patient's HER-SYS ID.
        hersys_id: String,
        /// Seconds to wait for the outcome.
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// This node's live calls (direction, dialplan step, duration, trunk), asked of the
    /// running `carecall serve` through its control socket.
    List {
        /// Machine-readable JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Call records: export.
    Records {
        #[command(subcommand)]
        command: RecordsCommand,
    },
}

#[derive(Subcommand)]
enum RecordsCommand {
    /// Write call records (one per call leg) to standard output; caller and called numbers
    /// only with --with-numbers.
    Export {
        /// Only calls started on or after this local date (YYYY-MM-DD, schedule's zone).
        #[arg(long)]
        since: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: cli::records::Format,
        /// Include the caller and called numbers (personal data).
        #[arg(long)]
        with_numbers: bool,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account. The password is read from CARECALL_STAFF_PASSWORD or the first
    /// line of standard input (never an argument).
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// `staff` or `admin`.
        #[arg(long, default_value = "staff")]
        role: String,
        /// Health centre name (it must exist, see --create-centre); required for staff,
        /// optional for an admin (an admin without one sees every centre).
        #[arg(long)]
        centre: Option<String>,
        /// Create the health centre named by --centre if it does not exist yet.
        #[arg(long, requires = "centre")]
        create_centre: bool,
    },
}

#[derive(Subcommand)]
enum ReportsCommand {
    /// Write reports to standard output.
    Export {
        /// Only reports started on or after this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: cli::reports::Format,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    carecall::runtime::telemetry::init();
    let result = match cli.command {
        Command::Serve { config } => {
            load(config.as_deref()).and_then(|c| cli::serve::run(c, config_path(config.as_deref())))
        }
        Command::Demo { config } => load(config.as_deref()).and_then(cli::serve::demo),
        Command::Check { config, json } => cli::check::run(load(config.as_deref()), json),
        Command::Patients { command, config } => {
            load(config.as_deref()).and_then(|c| match command {
                PatientsCommand::Import { file, json } => cli::patients::import(c, &file, json),
                PatientsCommand::Unlock { hersys_id } => cli::patients::unlock(c, hersys_id),
            })
        }
        Command::Reports { command, config } => {
            load(config.as_deref()).and_then(|c| match command {
                ReportsCommand::Export { since, format } => cli::reports::export(c, since, format),
            })
        }
        Command::Calls { command, config } => load(config.as_deref()).and_then(|c| match command {
            CallsCommand::Plan { date, json } => cli::calls::plan(c, date, json),
            CallsCommand::Now { hersys_id, wait } => cli::calls::now(c, hersys_id, wait),
            CallsCommand::Records {
                command:
                    RecordsCommand::Export {
                        since,
                        format,
                        with_numbers,
                    },
            } => cli::records::export(c, since, format, with_numbers),
            CallsCommand::List { json } => cli::live::list(c, json),
        }),
        Command::Staff { command, config } => load(config.as_deref()).and_then(|c| match command {
            StaffCommand::Add {
                username,
                role,
                centre,
                create_centre,
            } => cli::staff::add(c, username, role, centre, create_centre),
        }),
        Command::Reload { config } => load(config.as_deref()).and_then(cli::live::reload),
        Command::Loadgen(args) => cli::loadgen::run(args),
        Command::Schedbench(args) => cli::schedbench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("carecall: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The file [`load`] reads, `None` for the built-in defaults.
fn config_path(path: Option<&Path>) -> Option<PathBuf> {
    match path {
        Some(p) => Some(p.to_owned()),
        None if Path::new("carecall.toml").exists() => Some(PathBuf::from("carecall.toml")),
        None => None,
    }
}

/// The configuration: the given file, else `./carecall.toml`, else the built-in defaults.
fn load(path: Option<&Path>) -> Result<Config, cli::CliError> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None if Path::new("carecall.toml").exists() => {
            Ok(Config::load(Path::new("carecall.toml"))?)
        }
        None => Ok(Config::defaults()),
    }
}
