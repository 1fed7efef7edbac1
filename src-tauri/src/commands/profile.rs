//! Settings → Profile commands: set the avatar from a dropped or picked image, show it (a
//! preview copy the asset protocol serves), remove it. Each calls one core function.

use salesdesk_core::avatars::AvatarPreview;
use salesdesk_core::files::Transfer;
use tauri::State;

use crate::error::CommandError;
use crate::state::DesktopState;

/// Sets the avatar: only a file the user dropped or picked (see `grants.rs`); refused before
/// upload when it is not a PNG, JPEG, WebP or GIF image, empty, or over 5 MiB. Returns the new
/// avatar's preview.
#[tauri::command]
#[specta::specta]
pub async fn set_avatar(
    state: State<'_, DesktopState>,
    path: String,
) -> Result<Option<AvatarPreview>, CommandError> {
    let path = state.grants.check(std::path::Path::new(&path))?;
    let core = state.core()?;
    core.set_avatar(&path, &Transfer::default()).await?;
    let dir = super::materials::previews_dir(core.paths().root());
    Ok(core.avatar_preview(&dir).await?)
}

/// The avatar in force as a local copy for display, `null` when none is set.
#[tauri::command]
#[specta::specta]
pub async fn get_avatar_preview(
    state: State<'_, DesktopState>,
) -> Result<Option<AvatarPreview>, CommandError> {
    let core = state.core()?;
    let dir = super::materials::previews_dir(core.paths().root());
    Ok(core.avatar_preview(&dir).await?)
}

/// Clears the avatar; `false` when none was set.
#[tauri::command]
#[specta::specta]
pub async fn remove_avatar(state: State<'_, DesktopState>) -> Result<bool, CommandError> {
    Ok(state.core()?.remove_avatar().await?)
}
