//! Team account and team settings commands. Passwords come in and never go back out; replies
//! carry only [`AccountStatus`]-style facts, never a token (the session stays in the keyring).

use salesdesk_core::auth::SignOutReport;
use salesdesk_core::secrets::SecretString;
use salesdesk_core::team::{
    AccountStatus, SignUpResult, TeamSettingsInput, TeamSettingsView, VerifyInput,
};
use tauri::State;

use crate::error::CommandError;
use crate::state::DesktopState;

/// The team project settings for Settings > Team (whether a database password is set, not it).
#[tauri::command]
#[specta::specta]
pub async fn get_team_settings(
    state: State<'_, DesktopState>,
) -> Result<TeamSettingsView, CommandError> {
    Ok(state.core()?.team_settings().await?)
}

/// Saves the team project settings; the database password goes to the OS keyring.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn save_team_settings(
    state: State<'_, DesktopState>,
    settings: TeamSettingsInput,
) -> Result<TeamSettingsView, CommandError> {
    Ok(state.core()?.save_team_settings(settings).await?)
}

/// Who is signed in, the team role, and whether the app is offline. No network needed.
#[tauri::command]
#[specta::specta]
pub async fn account_status(state: State<'_, DesktopState>) -> Result<AccountStatus, CommandError> {
    Ok(state.core()?.account_status().await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn sign_up(
    state: State<'_, DesktopState>,
    email: String,
    password: String,
) -> Result<SignUpResult, CommandError> {
    let password = SecretString::new(password);
    Ok(state.core()?.sign_up(&email, &password).await?)
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn sign_in(
    state: State<'_, DesktopState>,
    email: String,
    password: String,
) -> Result<AccountStatus, CommandError> {
    let password = SecretString::new(password);
    Ok(state.core()?.sign_in(&email, &password).await?)
}

/// Signs out of this device, or of every device with `everywhere`.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn sign_out(
    state: State<'_, DesktopState>,
    everywhere: bool,
) -> Result<SignOutReport, CommandError> {
    Ok(state.core()?.sign_out(everywhere).await?)
}

/// Emails a password-reset link and code.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn request_password_reset(
    state: State<'_, DesktopState>,
    email: String,
) -> Result<(), CommandError> {
    Ok(state.core()?.request_password_reset(&email).await?)
}

/// Completes a confirmation or password-reset email (code or pasted link) and signs in.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn verify_email(
    state: State<'_, DesktopState>,
    input: VerifyInput,
) -> Result<AccountStatus, CommandError> {
    Ok(state.core()?.verify_email(input).await?)
}

/// Sets a new password for the signed-in account.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn update_password(
    state: State<'_, DesktopState>,
    new_password: String,
) -> Result<(), CommandError> {
    let password = SecretString::new(new_password);
    Ok(state.core()?.update_password(&password).await?)
}
