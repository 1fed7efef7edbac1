//! One function per subcommand: call the core, print the result.

use std::process::ExitCode;

use salesdesk_core::ai::health::ProviderHealth;
use salesdesk_core::health::Health;
use salesdesk_core::{AiSetup, DataPaths, Salesdesk};

use crate::CliResult;
use crate::output::{print_json, print_line};

/// Prints the report; exits 1 when the store is not OK so monitoring can alert on the code.
pub async fn health(paths: DataPaths, json: bool, probe: bool) -> CliResult {
    let report = match Salesdesk::open(paths.clone()).await {
        Ok(core) => {
            let report = core.health_with_providers(AiSetup::cli(), probe).await;
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
        print_providers(&report.providers)?;
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

/// The AI providers alone (the `providers` section of `health`).
pub async fn providers(core: &Salesdesk, json: bool, probe: bool) -> CliResult {
    let chain = core.ai_chain(AiSetup::cli()).await?;
    let report = if probe {
        chain.probe_providers(false).await
    } else {
        chain.providers_health().await
    };
    if json {
        print_json(&report)?;
    } else {
        print_providers(&report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_providers(report: &[ProviderHealth]) -> Result<(), crate::Failure> {
    for p in report {
        let key = match (&p.key_source, p.key_set) {
            (Some(source), true) => format!("key from {source}"),
            _ => "no key".to_owned(),
        };
        let state = if !p.enabled {
            "disabled".to_owned()
        } else if p.misconfigured.is_some() {
            "misconfigured".to_owned()
        } else {
            serde_json::to_value(p.breaker)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let latency = match (p.latency_p50_ms, p.latency_p95_ms) {
            (Some(p50), Some(p95)) => format!("p50 {p50} ms, p95 {p95} ms"),
            _ => "no recent calls".to_owned(),
        };
        print_line(&format!(
            "provider {:<10} {:<14} {:<22} {} ({key}; {latency})",
            p.provider.as_str(),
            state,
            p.model,
            p.base_url
        ))?;
        if let Some(reason) = &p.misconfigured {
            print_line(&format!("  {reason}"))?;
        }
        if let Some(until) = &p.open_until
            && p.breaker != salesdesk_core::ai::breaker::BreakerState::Closed
        {
            print_line(&format!(
                "  breaker open until {until}: {}",
                p.open_reason.as_deref().unwrap_or("")
            ))?;
        }
        if let Some(message) = p.model_status.as_ref().and_then(|m| m.message.as_ref()) {
            print_line(&format!("  {message}"))?;
        }
        if let Some(probe) = &p.probe {
            let verdict = if probe.ok {
                "ok".to_owned()
            } else {
                probe.error.clone().unwrap_or_else(|| "failed".into())
            };
            let cached = if probe.cached { ", cached" } else { "" };
            print_line(&format!(
                "  probe {verdict} ({} ms at {}{cached})",
                probe.latency_ms, probe.checked_at
            ))?;
        }
    }
    Ok(())
}
