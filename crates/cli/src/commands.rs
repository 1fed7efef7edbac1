//! One function per subcommand: call the core, print the result.

use std::process::ExitCode;

use salesdesk_core::health::Health;
use salesdesk_core::{DataPaths, Salesdesk};

use crate::CliResult;
use crate::output::{print_json, print_line};

/// Prints the report; exits 1 when the store is not OK so monitoring can alert on the code.
pub async fn health(paths: DataPaths, json: bool) -> CliResult {
    let report = match Salesdesk::open(paths.clone()).await {
        Ok(core) => {
            let report = core.health().await;
            core.close().await;
            report
        }
        Err(e) => Health::unavailable(&paths, &e),
    };
    if json {
        print_json(&report)?;
    } else {
        let status = if report.store.ok { "OK" } else { "ERROR" };
        print_line(&format!("Salesdesk {}", report.version))?;
        print_line(&format!("data directory  {}", report.data_dir))?;
        print_line(&format!("store           {}", report.store_path))?;
        print_line(&format!("logs            {}", report.log_dir))?;
        print_line(&format!("schema version  {}", report.schema_version))?;
        print_line(&format!("store status    {status}"))?;
        if let Some(message) = &report.store.message {
            print_line(&format!("  {message}"))?;
        }
        print_line(&format!("analyses        {}", report.counts.call_analyses))?;
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub async fn list_analyses(core: &Salesdesk, json: bool) -> CliResult {
    let rows = core.list_analyses().await?;
    if json {
        print_json(&rows)?;
    } else if rows.is_empty() {
        print_line("No analyses yet.")?;
    } else {
        print_line(&format!(
            "{:<36}  {:<24}  {:<10}  TITLE",
            "ID", "CREATED", "PROVIDER"
        ))?;
        for row in rows {
            print_line(&format!(
                "{:<36}  {:<24}  {:<10}  {}",
                row.id, row.created_at, row.provider, row.title
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn show_analysis(core: &Salesdesk, id: &str, json: bool) -> CliResult {
    let record = core.get_analysis(id).await?;
    if json {
        print_json(&record)?;
    } else {
        print_line(&record.title)?;
        print_line(&format!("id        {}", record.id))?;
        print_line(&format!("created   {}", record.created_at))?;
        print_line(&format!("updated   {}", record.updated_at))?;
        let model = record.model.as_deref().unwrap_or("-");
        print_line(&format!("provider  {} ({model})", record.provider))?;
        print_line("")?;
        let analysis = serde_json::to_string_pretty(&record.analysis)
            .unwrap_or_else(|_| record.analysis.to_string());
        print_line(&analysis)?;
        print_line("")?;
        print_line("Transcript:")?;
        print_line(&record.transcript)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn delete_analysis(core: &Salesdesk, id: &str) -> CliResult {
    core.delete_analysis(id).await?;
    print_line(&format!(
        "Deleted analysis {id}. Undo with: salesdesk analyses restore {id}"
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub async fn restore_analysis(core: &Salesdesk, id: &str) -> CliResult {
    core.restore_analysis(id).await?;
    print_line(&format!("Restored analysis {id}."))?;
    Ok(ExitCode::SUCCESS)
}
