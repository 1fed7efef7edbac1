//! `salesdesk migrate`: applies `migrations/remote/` to a team database and, optionally,
//! installs the project's JWT secret and enables the app role's login.
//!
//! Secrets are read from environment variables named on the command line, never from the
//! arguments themselves: arguments are visible to every user of the machine (`ps`) and end up
//! in shell history.

use std::process::ExitCode;

use clap::Args;
use salesdesk_core::data::remote::{MigrateOptions, RemoteConfig, RemoteError, migrate};

use crate::output::{print_json, print_line};
use crate::{CliResult, Failure};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Connection URL of the team database, as the project's owner role (`postgres` on
    /// Supabase), direct connection or session pooler: postgres://postgres:PASSWORD@HOST:5432/postgres
    #[arg(
        long,
        env = "SALESDESK_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: String,

    /// Name of an environment variable holding the project's JWT secret (Supabase dashboard:
    /// Project Settings > JWT Keys > legacy JWT secret), to install for the token verifier.
    #[arg(long, value_name = "VAR")]
    jwt_secret_env: Option<String>,

    /// Name of an environment variable holding a new password for the `salesdesk_app` role;
    /// enables its login. This is the password the desktop app is configured with.
    #[arg(long, value_name = "VAR")]
    app_password_env: Option<String>,

    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: MigrateArgs) -> CliResult {
    let options = MigrateOptions {
        jwt_secret: read_secret_env(args.jwt_secret_env.as_deref(), "--jwt-secret-env")?,
        app_password: read_secret_env(args.app_password_env.as_deref(), "--app-password-env")?,
    };
    let config = RemoteConfig::from_url(&args.database_url).map_err(core_failure)?;
    let report = migrate(&config, &options).await.map_err(core_failure)?;
    if args.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    if report.applied.is_empty() {
        print_line(&format!("Schema up to date ({} migrations).", report.known))?;
    } else {
        print_line(&format!(
            "Applied {} of {} migrations:",
            report.applied.len(),
            report.known
        ))?;
        for step in &report.applied {
            print_line(&format!("  {}  {}", step.version, step.description))?;
        }
    }
    if report.jwt_secret_installed {
        print_line("JWT secret installed.")?;
    }
    if report.app_login_enabled {
        print_line("Login enabled for role salesdesk_app with the new password.")?;
    }
    if report.jwt_secrets == 0 {
        print_line(
            "Warning: no JWT secret is installed, so nobody can sign in to team mode yet. \
             Run again with --jwt-secret-env VAR (see docs/team-mode.md).",
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_secret_env(var: Option<&str>, flag: &str) -> Result<Option<String>, Failure> {
    let Some(var) = var else { return Ok(None) };
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(Some(value)),
        _ => Err(Failure::user(format!(
            "{flag} names the environment variable {var}, but it is not set or empty"
        ))),
    }
}

fn core_failure(e: RemoteError) -> Failure {
    Failure::from(salesdesk_core::CoreError::from(e))
}
