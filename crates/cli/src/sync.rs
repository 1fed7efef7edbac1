//! `salesdesk sync`: one sync round between this machine's local store and the team database
//! (push the queued local changes, pull the remote ones), as the user signed in with
//! `salesdesk auth signin` (the session in the OS keyring).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use salesdesk_core::auth::{SessionManager, SessionStore};
use salesdesk_core::data::remote::{RemoteConfig, RemoteStore};
use salesdesk_core::secrets::SecretString;
use salesdesk_core::sync::{SyncEngine, SyncReport, SyncStatus};
use salesdesk_core::team::TeamSetup;
use salesdesk_core::{CoreError, DataPaths, Salesdesk};

use crate::auth::Project;
use crate::output::{print_json, print_line};
use crate::{CliResult, Failure};

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    project: Project,
    /// Connection URL of the team database as the app role (`salesdesk_app`), e.g. the
    /// transaction pooler: postgres://salesdesk_app.PROJECT:PASSWORD@HOST:6543/postgres
    /// (default: the one saved in the app's Settings > Team, password from the keyring).
    #[arg(
        long,
        env = "SALESDESK_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Print the round's report (with the sync status) as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(paths: DataPaths, args: SyncArgs) -> CliResult {
    let client = crate::auth::client(&args.project, &paths).await?;
    let core = Salesdesk::open(paths).await?.with_team(TeamSetup::cli());
    let url = match args.database_url {
        Some(url) => SecretString::new(url),
        None => match core.team_database_url().await {
            Ok(Some(url)) => url,
            Ok(None) => {
                core.close().await;
                return Err(Failure::user(
                    "no team database is set: pass --database-url, set SALESDESK_DATABASE_URL, \
                     or save it in the app's Settings > Team"
                        .into(),
                ));
            }
            Err(e) => {
                core.close().await;
                return Err(e.into());
            }
        },
    };
    let config = match RemoteConfig::from_url(url.expose()) {
        Ok(config) => config,
        Err(e) => {
            core.close().await;
            return Err(CoreError::from(e).into());
        }
    };
    let result = async {
        let remote = RemoteStore::connect(&config)
            .await
            .map_err(CoreError::from)?;
        let manager = SessionManager::new(client, SessionStore::keyring());
        let engine = SyncEngine::new(core.store().clone(), remote.clone(), Arc::new(manager));
        let report = engine.sync_once().await;
        remote.close().await;
        report
    }
    .await;
    core.close().await;
    let report = result?;
    if args.json {
        print_json(&report)?;
    } else {
        print_report(&report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &SyncReport) -> Result<(), Failure> {
    print_line(&format!(
        "Pushed {} change(s) ({} already up to date); pulled {} row(s).",
        report.pushed, report.already_current, report.pulled
    ))?;
    if report.kept_local > 0 {
        print_line(&format!(
            "Kept {} local version(s) newer than the team's (or still queued).",
            report.kept_local
        ))?;
    }
    if report.skipped > 0 {
        print_line(&format!(
            "Skipped {} remote row(s) that do not fit this version's local tables (see the log).",
            report.skipped
        ))?;
    }
    if let Some(status) = &report.status {
        print_status(status)?;
    }
    Ok(())
}

fn print_status(status: &SyncStatus) -> Result<(), Failure> {
    print_line(&format!("{} change(s) still queued.", status.queued))?;
    if status.rejected_count > 0 {
        print_line(&format!(
            "{} change(s) refused by the team database (kept on this machine):",
            status.rejected_count
        ))?;
        for r in &status.rejected {
            print_line(&format!("  {} {}: {}", r.table, r.row_id, r.reason))?;
        }
    }
    Ok(())
}
