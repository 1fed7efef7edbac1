//! The Tauri commands. Each is one call into the core.

use salesdesk_core::data::analyses::{AnalysisSummary, CallAnalysisRecord};
use salesdesk_core::health::Health;
use tauri::State;

use crate::error::CommandError;
use crate::state::DesktopState;

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

#[tauri::command]
#[specta::specta]
pub async fn get_analysis(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<CallAnalysisRecord, CommandError> {
    Ok(state.core()?.get_analysis(&id).await?)
}
