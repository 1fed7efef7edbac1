//! Team sync, as the window sees it: the status (status bar, Status page), "Sync now", and giving
//! up a change the team database refused. The background rounds are the core's engine, started
//! with the app (`Salesdesk::start_sync`).

use salesdesk_core::sync::{SyncReport, SyncStatus};
use tauri::State;

use crate::error::CommandError;
use crate::state::DesktopState;

/// Queued and refused local changes, last push and pull, last error. Reads the local store
/// only: works offline and in local mode.
#[tauri::command]
#[specta::specta]
pub async fn sync_status(state: State<'_, DesktopState>) -> Result<SyncStatus, CommandError> {
    Ok(state.core()?.sync_status().await?)
}

/// Drops a refused change (its local version goes; the team's comes back at the next sync).
/// `false` when that row has no refused change.
#[tauri::command]
#[specta::specta]
pub async fn discard_rejected_change(
    state: State<'_, DesktopState>,
    table: String,
    row_id: String,
) -> Result<bool, CommandError> {
    Ok(state
        .core()?
        .discard_rejected_change(&table, &row_id)
        .await?)
}

/// Runs one round now (and refreshes the session when due): the "Sync now" button, and the
/// window's "network is back". Fails with what to do in local mode, signed out or offline.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn sync_now(state: State<'_, DesktopState>) -> Result<SyncReport, CommandError> {
    Ok(state.core()?.sync_now().await?)
}
