//! Team sync, as the window sees it: the status (status bar, Status page) and giving up a change
//! the team database refused. Running rounds is the core's background engine, not the UI's.

use salesdesk_core::sync::{self, SyncStatus};
use tauri::State;

use crate::error::CommandError;
use crate::state::DesktopState;

/// Queued and refused local changes, last push and pull, last error. Reads the local store
/// only: works offline and in local mode.
#[tauri::command]
#[specta::specta]
pub async fn sync_status(state: State<'_, DesktopState>) -> Result<SyncStatus, CommandError> {
    Ok(sync::status(state.core()?.store()).await?)
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
    Ok(sync::discard_rejected(state.core()?.store(), &table, &row_id).await?)
}
