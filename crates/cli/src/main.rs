//! `salesdesk`: the product core, headless, for scripts, admins and CI.
//!
//! Exit codes: 0 success, 1 a problem the user can act on (bad arguments, unknown id, unusable
//! store; the message on stderr says what to do), 2 an internal error.

mod auth;
mod batch;
mod commands;
mod import;
mod materials;
mod migrate;
mod output;
mod sync;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use salesdesk_core::data::analyses::SearchQuery;
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
    /// Analyze a call transcript and save the result: judged by the AI providers when a key is
    /// set (GEMINI_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY), else by the offline analyzer.
    ///
    /// Reads plain text (`Speaker: text` lines, optional [mm:ss] timestamps), WebVTT, SRT
    /// and JSON segments, in UTF-8, UTF-16 or common legacy encodings, up to 32 MB.
    ///
    /// Several files, or folders (searched recursively for .txt, .vtt, .srt and .json files,
    /// in path order), are analyzed one after another: one result line per file (with --json,
    /// an array of entries), a progress bar on a terminal, and exit code 1 if any failed.
    Analyze {
        /// Transcript files or folders; `-` reads standard input (alone).
        #[arg(required = true, value_name = "FILE_OR_FOLDER")]
        files: Vec<PathBuf>,
        /// The title to save it under (default: the file name; one file only).
        #[arg(long, value_name = "T")]
        title: Option<String>,
        /// The rep's speaker name as written in the transcript (default: a stated guess).
        #[arg(long, value_name = "NAME")]
        rep: Option<String>,
        /// A competitor name to track; repeat for several.
        #[arg(long = "competitor", value_name = "NAME")]
        competitors: Vec<String>,
        /// Print the saved record as JSON instead of a summary (several files: an array with
        /// one entry per file, see the README).
        #[arg(long)]
        json: bool,
    },
    /// List, show and delete saved call analyses.
    #[command(subcommand)]
    Analyses(AnalysesCommand),
    /// Set up or upgrade a team database (Supabase Postgres) for team mode. Run by an admin.
    Migrate(migrate::MigrateArgs),
    /// Team account: sign up, sign in, verify an email, reset a password, sign out, status
    /// (Supabase Auth).
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Import the old browser app's JSON export (clients, analyses, campaigns, signups,
    /// training materials). Safe to run again: unchanged records are left alone.
    Import {
        /// The export file (format in docs/import.md).
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Run one team sync round: push queued local changes, pull the team's (needs
    /// `salesdesk auth signin`, SUPABASE_URL, SUPABASE_ANON_KEY and SALESDESK_DATABASE_URL).
    Sync(sync::SyncArgs),
    /// Training materials: add files, list, search, fetch, delete and restore.
    #[command(subcommand)]
    Materials(materials::MaterialsCommand),
}

#[derive(Debug, Subcommand)]
enum AnalysesCommand {
    /// List saved analyses, newest first, optionally filtered.
    List {
        /// Only analyses whose title or transcript contains all these words (`word*` for a
        /// prefix).
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Created on or after this date (YYYY-MM-DD, UTC, or an RFC 3339 time).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Created on or before this date (YYYY-MM-DD includes the whole day, UTC).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Only analyses scoring at least N (0-100).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
        min_score: Option<u32>,
        /// Only analyses scoring at most N (0-100).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
        max_score: Option<u32>,
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

impl Failure {
    /// A problem the user can fix (exit code 1).
    pub(crate) fn user(message: String) -> Self {
        Failure { code: 1, message }
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        let code = match e.kind() {
            ErrorKind::Internal => 2,
            ErrorKind::NotFound
            | ErrorKind::InvalidInput
            | ErrorKind::Store
            | ErrorKind::Remote
            | ErrorKind::SignedOut
            | ErrorKind::Forbidden
            | ErrorKind::Unavailable
            | ErrorKind::Cancelled => 1,
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
        Command::Migrate(args) => migrate::run(args).await,
        Command::Auth(cmd) => auth::run(cmd, paths).await,
        Command::Import { file, json } => {
            let core = salesdesk_core::Salesdesk::open(paths).await?;
            let result = import::run(&core, &file, json).await;
            core.close().await;
            result
        }
        Command::Sync(args) => sync::run(paths, args).await,
        Command::Materials(cmd) => materials::run(paths, cmd).await,
        Command::Analyze {
            files,
            title,
            rep,
            competitors,
            json,
        } => {
            let options = salesdesk_core::analysis::AnalyzeOptions {
                title,
                rep,
                competitors,
                signed_in_user: None,
            };
            // One file: one record, as always; several or a folder: one entry per file.
            batch::analyze(paths, &files, options, json).await
        }
        Command::Analyses(cmd) => {
            let core = salesdesk_core::Salesdesk::open(paths).await?;
            let result = match cmd {
                AnalysesCommand::List {
                    search,
                    since,
                    until,
                    min_score,
                    max_score,
                    json,
                } => {
                    let query = SearchQuery {
                        text: search,
                        since,
                        until,
                        min_score,
                        max_score,
                        limit: None,
                    };
                    commands::list_analyses(&core, query, json).await
                }
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
