//! One function per subcommand: call the core, print the result.

use std::path::Path;
use std::process::ExitCode;

use salesdesk_core::ai::health::ProviderHealth;
use salesdesk_core::analysis::report::CallAnalysis;
use salesdesk_core::analysis::transcript::format_clock;
use salesdesk_core::analysis::{AnalyzeOptions, input};
use salesdesk_core::data::analyses::{CallAnalysisRecord, SearchQuery};
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
        if let Some(sync) = &report.sync {
            print_line(&format!(
                "team sync       {}, {} queued, {} refused{}",
                sync.state.as_str(),
                sync.queued,
                sync.rejected_count,
                sync.last_pull_at
                    .as_deref()
                    .map(|t| format!(", last pull {t}"))
                    .unwrap_or_default()
            ))?;
            if let Some(error) = &sync.last_error {
                print_line(&format!("  {error}"))?;
            }
        }
        print_providers(&report.providers)?;
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub async fn list_analyses(core: &Salesdesk, query: SearchQuery, json: bool) -> CliResult {
    let filtered = query != SearchQuery::default();
    let rows = core.search_analyses(query).await?;
    if json {
        print_json(&rows)?;
    } else if rows.is_empty() {
        print_line(if filtered {
            "No analyses match."
        } else {
            "No analyses yet. Create one with: salesdesk analyze TRANSCRIPT_FILE"
        })?;
    } else {
        print_line(&format!(
            "{:<36}  {:<24}  {:>5}  {:<10}  TITLE",
            "ID", "CREATED", "SCORE", "PROVIDER"
        ))?;
        for row in rows {
            let score = row.score.map_or("-".to_owned(), |s| s.to_string());
            print_line(&format!(
                "{:<36}  {:<24}  {:>5}  {:<10}  {}",
                row.id, row.created_at, score, row.provider, row.title
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

/// A transcript to analyze: its bytes and, for a file, its name (the default title).
pub struct Input {
    bytes: Vec<u8>,
    name: Option<String>,
}

/// Reads the transcript file, or standard input for `-`, within the size limit.
pub fn read_input(file: &Path) -> Result<Input, crate::Failure> {
    if file.as_os_str() == "-" {
        let bytes = input::read_stream(std::io::stdin().lock(), "standard input")?;
        return Ok(Input { bytes, name: None });
    }
    let bytes = input::read_file(file)?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    Ok(Input { bytes, name })
}

pub async fn analyze(
    core: &Salesdesk,
    input: Input,
    mut options: AnalyzeOptions,
    json: bool,
) -> CliResult {
    if options.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        options.title = input.name;
    }
    let record = core.analyze_transcript(input.bytes, options).await?;
    if json {
        print_json(&record)?;
    } else {
        print_summary(&record)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(record: &CallAnalysisRecord) -> Result<(), crate::Failure> {
    let analysis: CallAnalysis =
        serde_json::from_value(record.analysis.clone()).map_err(|e| crate::Failure {
            code: 2,
            message: format!("the saved analysis cannot be read back: {e}"),
        })?;
    let m = &analysis.metrics;
    print_line(&format!(
        "Saved analysis {}  \"{}\"",
        record.id, record.title
    ))?;
    print_line(&format!(
        "Score {}/100  ({} analyzer, {})",
        analysis.score, analysis.provider, analysis.model
    ))?;
    print_line(&analysis.summary)?;
    print_line("")?;
    if let Some(metrics) = metrics_view(m) {
        for line in metrics {
            print_line(&line)?;
        }
        print_line("")?;
    }
    let sections = [
        ("Strengths", "+", &analysis.strengths),
        ("Improvements", "-", &analysis.improvements),
    ];
    for (heading, mark, items) in sections {
        if items.is_empty() {
            continue;
        }
        print_line(&format!("{heading}:"))?;
        for item in items {
            print_line(&format!("  {mark} {}: {}", item.title, item.detail))?;
        }
    }
    if !analysis.objections.is_empty() {
        print_line("Objections:")?;
        for o in &analysis.objections {
            let kind = serde_json::to_value(o.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let turn = o
                .turn_index
                .map_or(String::new(), |t| format!(" (turn {})", t + 1));
            print_line(&format!("  {kind}{turn}: {}", o.said))?;
        }
    }
    if !analysis.next_steps.is_empty() {
        print_line("Next steps:")?;
        for step in &analysis.next_steps {
            print_line(&format!("  {step}"))?;
        }
    }
    if !analysis.notes.is_empty() {
        print_line("Notes:")?;
        for note in &analysis.notes {
            print_line(&format!("  ! {note}"))?;
        }
    }
    Ok(())
}

fn metrics_view(value: &serde_json::Value) -> Option<Vec<String>> {
    // The metrics are read back as JSON: only the fields shown here are needed.
    let m: MetricsView = serde_json::from_value(value.clone()).ok()?;
    let stretch = |s: &Option<StretchView>| match s {
        Some(StretchView {
            seconds: Some(secs),
            words,
            speaker,
        }) => {
            format!("{} ({words} words, {speaker})", format_clock(*secs))
        }
        Some(StretchView { words, speaker, .. }) => format!("{words} words ({speaker})"),
        None => "-".to_owned(),
    };
    let basis = if m.talk_basis == "seconds" {
        "by time"
    } else {
        "by words"
    };
    let duration = if m.duration_estimated {
        format!("about {} (estimated)", format_clock(m.duration_seconds))
    } else {
        format_clock(m.duration_seconds)
    };
    Some(vec![
        format!(
            "Duration            {duration}, {} turns, {} words",
            m.turn_count, m.word_count
        ),
        format!(
            "Talk ratio          rep {:.1}% : customer {:.1}% ({basis}; rep: {})",
            m.rep_talk_share, m.customer_talk_share, m.rep
        ),
        format!(
            "Questions           rep {} ({:.2}/min), customer {}",
            m.rep_questions, m.rep_questions_per_minute, m.customer_questions
        ),
        format!("Longest monologue   {}", stretch(&m.longest_rep_monologue)),
        format!("Longest story       {}", stretch(&m.longest_customer_story)),
        format!(
            "Interactivity       {:.2} switches/min; patience {}",
            m.interactivity_per_minute,
            m.patience_seconds
                .map_or("not measured".to_owned(), |p| format!("{p:.2} s"))
        ),
        format!("Rep filler words    {:.2}/min", m.rep_fillers_per_minute),
    ])
}

#[derive(serde::Deserialize)]
struct MetricsView {
    talk_basis: String,
    rep: String,
    duration_seconds: f64,
    duration_estimated: bool,
    turn_count: u32,
    word_count: u32,
    rep_talk_share: f64,
    customer_talk_share: f64,
    longest_rep_monologue: Option<StretchView>,
    longest_customer_story: Option<StretchView>,
    interactivity_per_minute: f64,
    patience_seconds: Option<f64>,
    rep_questions: u32,
    rep_questions_per_minute: f64,
    customer_questions: u32,
    rep_fillers_per_minute: f64,
}

#[derive(serde::Deserialize)]
struct StretchView {
    speaker: String,
    seconds: Option<f64>,
    words: u32,
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
