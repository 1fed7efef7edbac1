//! The AI chain's settings for the Settings page: provider order per capability, base URLs,
//! models, Azure's header style. A save reaches the running chain at once.

use salesdesk_core::AiSetup;
use salesdesk_core::ai::settings::AiSettings;
use salesdesk_core::ai::settings_edit::AiSettingsView;
use tauri::State;

use crate::error::CommandError;
use crate::state::DesktopState;

/// The saved settings, the defaults (for "reset") and the environment variables that
/// override them in the CLI.
#[tauri::command]
#[specta::specta]
pub async fn get_ai_settings(
    state: State<'_, DesktopState>,
) -> Result<AiSettingsView, CommandError> {
    Ok(state.core()?.ai_settings(&AiSetup::desktop()).await?)
}

/// Validates and saves; an invalid field is an `invalid_input` error naming it, and nothing
/// is changed.
#[tauri::command]
#[specta::specta]
pub async fn save_ai_settings(
    state: State<'_, DesktopState>,
    settings: AiSettings,
) -> Result<AiSettingsView, CommandError> {
    Ok(state
        .core()?
        .save_ai_settings(&AiSetup::desktop(), settings)
        .await?)
}
