//! The Tauri commands. Each parses its arguments, calls one core function and maps the error.

pub mod account;
pub mod ai_settings;
pub mod import;
pub mod materials;
pub mod offline;

use std::sync::Arc;

use salesdesk_core::AiSetup;
use salesdesk_core::ai::ProviderId;
use salesdesk_core::analysis::AnalyzeOptions;
use salesdesk_core::analysis::job::{AnalyzeProgress, TranscriptPreview, TranscriptSource};
use salesdesk_core::data::analyses::{AnalysisSummary, CallAnalysisRecord, SearchQuery};
use salesdesk_core::health::Health;
use salesdesk_core::secrets::{KeyStatus, SecretString};
use serde::Deserialize;
use tauri::State;
use tauri::ipc::Channel;

use crate::error::CommandError;
use crate::state::DesktopState;

pub mod profile;
pub mod recordings;
pub mod sync;

/// The health report shown on the Status page; never fails, problems are inside it.
#[tauri::command]
#[specta::specta]
pub async fn health(state: State<'_, DesktopState>) -> Result<Health, CommandError> {
    Ok(state.health().await)
}

#[tauri::command]
#[specta::specta]
pub async fn list_analyses(
    state: State<'_, DesktopState>,
) -> Result<Vec<AnalysisSummary>, CommandError> {
    Ok(state.core()?.list_analyses().await?)
}

/// Saved analyses matching text (title and transcript), dates and scores; newest first.
#[tauri::command]
#[specta::specta]
pub async fn search_analyses(
    state: State<'_, DesktopState>,
    query: SearchQuery,
) -> Result<Vec<AnalysisSummary>, CommandError> {
    Ok(state.core()?.search_analyses(query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_analysis(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<CallAnalysisRecord, CommandError> {
    Ok(state.core()?.get_analysis(&id).await?)
}

/// Soft delete; `restore_analysis` undoes it.
#[tauri::command]
#[specta::specta]
pub async fn delete_analysis(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<(), CommandError> {
    Ok(state.core()?.delete_analysis(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_analysis(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<(), CommandError> {
    Ok(state.core()?.restore_analysis(&id).await?)
}

/// Opens the system file dialog; the chosen file becomes readable by the analyze commands.
/// `None` when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn pick_transcript_file(
    state: State<'_, DesktopState>,
) -> Result<Option<String>, CommandError> {
    Ok(state.pick_file().map(|path| path.display().to_string()))
}

/// Format, speakers and the suggested rep of a transcript, before analyzing it.
#[tauri::command]
#[specta::specta]
pub async fn preview_transcript(
    state: State<'_, DesktopState>,
    source: TranscriptSource,
) -> Result<TranscriptPreview, CommandError> {
    let source = state.checked_source(source)?;
    Ok(state.core()?.preview_transcript(source, None).await?)
}

/// What the Analyze page sends besides the transcript.
#[derive(Debug, Deserialize, specta::Type)]
pub struct AnalyzeRequest {
    pub title: Option<String>,
    /// The rep's speaker name; `None` lets Salesdesk guess (and say so).
    pub rep: Option<String>,
    pub competitors: Vec<String>,
    /// An id chosen by the UI so that `cancel_analysis` can stop this run.
    pub job_id: Option<String>,
}

/// Analyzes a transcript and saves the result, streaming progress to `on_progress`.
#[tauri::command]
#[specta::specta]
pub async fn analyze_transcript(
    state: State<'_, DesktopState>,
    source: TranscriptSource,
    options: AnalyzeRequest,
    on_progress: Channel<AnalyzeProgress>,
) -> Result<CallAnalysisRecord, CommandError> {
    let source = state.checked_source(source)?;
    let core = state.core()?;
    let job_id = options.job_id.as_deref();
    let cancel = state.jobs.start(job_id);
    let core_options = AnalyzeOptions {
        title: options.title.clone(),
        rep: options.rep.clone(),
        competitors: options.competitors.clone(),
        signed_in_user: None,
    };
    let progress = Arc::new(move |p: AnalyzeProgress| {
        // A closed page is no reason to stop the analysis.
        let _ = on_progress.send(p);
    });
    let result = core
        .analyze_with_progress(source, core_options, progress, cancel)
        .await;
    state.jobs.finish(job_id);
    Ok(result?)
}

/// Stops a running analysis (at its next stage boundary, before anything is saved).
#[tauri::command]
#[specta::specta]
pub async fn cancel_analysis(
    state: State<'_, DesktopState>,
    job_id: String,
) -> Result<(), CommandError> {
    state.jobs.cancel(&job_id);
    Ok(())
}

/// Checks every AI provider alone through its models list (no tokens spent) and returns the
/// health report with the results: the Status page's "Test providers".
#[tauri::command]
#[specta::specta]
pub async fn probe_providers(state: State<'_, DesktopState>) -> Result<Health, CommandError> {
    Ok(state
        .core()?
        .health_with_providers(AiSetup::desktop(), true)
        .await)
}

/// Stores (or replaces) a provider's API key in the OS keyring. The reply says only whether a
/// key is now set; the key never comes back.
#[tauri::command]
#[specta::specta]
pub async fn set_provider_key(
    state: State<'_, DesktopState>,
    provider: ProviderId,
    key: String,
) -> Result<KeyStatus, CommandError> {
    let chain = state.core()?.ai_chain(AiSetup::desktop()).await?;
    chain.set_key(provider, SecretString::new(key)).await?;
    Ok(chain.key_status(provider).await?)
}

/// Removes a provider's API key from the OS keyring.
#[tauri::command]
#[specta::specta]
pub async fn delete_provider_key(
    state: State<'_, DesktopState>,
    provider: ProviderId,
) -> Result<KeyStatus, CommandError> {
    let chain = state.core()?.ai_chain(AiSetup::desktop()).await?;
    chain.delete_key(provider).await?;
    Ok(chain.key_status(provider).await?)
}
