//! `salesdesk`: the product core, headless, for scripts, admins and CI.
//!
//! Exit codes: 0 success, 1 a problem the user can act on (bad arguments, unknown id, unusable
//! store; the message on stderr says what to do), 2 an internal error.

mod commands;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use salesdesk_core::{CoreError, DataPaths, ErrorKind};

#[derive(Debug, Parser)]
#[command(
    name = "salesdesk",
    version,
    about = "Salesdesk from the command line: call analyses, health checks and data tools",
    long_about = None,
    after_help = "Data lives in the OS data directory unless --data-dir or SALESDESK_DATA_DIR says otherwise.\n\
                  Exit codes: 0 ok, 1 user error (message on stderr), 2 internal error."
)]
struct Cli {
    /// Use this data directory instead of the OS default.
    #[arg(long, global = true, env = "SALESDESK_DATA_DIR", value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the data directory, the local store and the AI providers.
    Health {
        /// Print the report as JSON (format documented in the README; AI providers under
        /// `providers`, see docs/ai-chain.md).
        #[arg(long)]
        json: bool,
        /// Also check each AI provider alone through its models list (costs no tokens;
        /// results are reused for 5 minutes).
        #[arg(long)]
        probe: bool,
    },
    /// Show the AI providers as the chain sees them: breaker, key, model, latency.
    Providers {
        #[arg(long)]
        json: bool,
        /// Check each provider alone through its models list (costs no tokens).
        #[arg(long)]
        probe: bool,
    },
    /// List, show and delete saved call analyses.
    #[command(subcommand)]
    Analyses(AnalysesCommand),
}

#[derive(Debug, Subcommand)]
enum AnalysesCommand {
    /// List saved analyses, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one analysis in full.
    Show {
        /// The analysis id (a UUID, as printed by `analyses list`).
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an analysis (it can be brought back with `analyses restore`).
    Delete { id: String },
    /// Bring back a deleted analysis.
    Restore { id: String },
}

/// A failure and the exit code it maps to.
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        let code = match e.kind() {
            ErrorKind::Internal => 2,
            ErrorKind::NotFound
            | ErrorKind::InvalidInput
            | ErrorKind::Store
            | ErrorKind::Unavailable => 1,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        // Writing to stdout failed: a closed pipe (`| head`) is not worth a message.
        Failure {
            code: if e.kind() == std::io::ErrorKind::BrokenPipe {
                0
            } else {
                2
            },
            message: format!("cannot write output: {e}"),
        }
    }
}

pub(crate) type CliResult = Result<ExitCode, Failure>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(1),
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(failure) => {
            if failure.code != 0 {
                eprintln!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli) -> CliResult {
    let paths = match cli.data_dir {
        Some(dir) => DataPaths::at(dir),
        None => DataPaths::from_env()?,
    };
    // Best effort: logging must not stop a command when the directory is unusable; the
    // command itself reports that.
    let _ = paths.ensure_exists();
    salesdesk_core::telemetry::init(
        &paths.log_dir(),
        salesdesk_core::telemetry::StderrLevel::Quiet,
    );
    match cli.command {
        Command::Health { json, probe } => commands::health(paths, json, probe).await,
        Command::Providers { json, probe } => {
            let core = salesdesk_core::Salesdesk::open(paths).await?;
            let result = commands::providers(&core, json, probe).await;
            core.close().await;
            result
        }
        Command::Analyses(cmd) => {
            let core = salesdesk_core::Salesdesk::open(paths).await?;
            let result = match cmd {
                AnalysesCommand::List { json } => commands::list_analyses(&core, json).await,
                AnalysesCommand::Show { id, json } => {
                    commands::show_analysis(&core, &id, json).await
                }
                AnalysesCommand::Delete { id } => commands::delete_analysis(&core, &id).await,
                AnalysesCommand::Restore { id } => commands::restore_analysis(&core, &id).await,
            };
            core.close().await;
            result
        }
    }
}
