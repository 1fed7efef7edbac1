//! Importing the old browser app's export from Settings: the file is chosen in the system
//! dialog (which grants it, see `grants`), then imported by the core in one transaction.

use salesdesk_core::import::ImportReport;
use tauri::State;

use crate::error::CommandError;
use crate::state::DesktopState;

/// Opens the system dialog for a `.json` export; the chosen file becomes importable.
/// `None` when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn pick_import_file(
    state: State<'_, DesktopState>,
) -> Result<Option<String>, CommandError> {
    Ok(state
        .pick_import_file()
        .map(|path| path.display().to_string()))
}

/// Imports a chosen (or dropped) export file; re-importing the same file changes nothing.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn import_browser_export(
    state: State<'_, DesktopState>,
    path: String,
) -> Result<ImportReport, CommandError> {
    let path = state.grants.check(std::path::Path::new(&path))?;
    Ok(state.core()?.import_export(&path).await?)
}
