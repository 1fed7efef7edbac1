//! Settings → Offline files: the budget of this device's copies of team files, what they take,
//! and emptying them. Each calls one core function.

use salesdesk_core::files::offline::OfflineFiles;
use tauri::State;

use crate::error::CommandError;
use crate::state::DesktopState;

/// The budget, the space the copies take and the pinned share of it.
#[tauri::command]
#[specta::specta]
pub async fn get_offline_files(
    state: State<'_, DesktopState>,
) -> Result<OfflineFiles, CommandError> {
    Ok(state.core()?.offline_files().await?)
}

/// Sets the budget in MiB (256 MiB to 1 TiB); copies over it go at once, pinned ones stay.
#[tauri::command]
#[specta::specta]
pub async fn set_offline_budget(
    state: State<'_, DesktopState>,
    mib: u32,
) -> Result<OfflineFiles, CommandError> {
    let bytes = u64::from(mib) * 1024 * 1024;
    Ok(state.core()?.set_offline_budget(bytes).await?)
}

/// Drops every unpinned copy; they download again when opened.
#[tauri::command]
#[specta::specta]
pub async fn clear_offline_files(
    state: State<'_, DesktopState>,
) -> Result<OfflineFiles, CommandError> {
    Ok(state.core()?.clear_offline_files().await?)
}
