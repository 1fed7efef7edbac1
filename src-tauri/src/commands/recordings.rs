//! Call recordings' commands: store a dropped or picked audio/video file with an analysis
//! (progress on a channel), and list an analysis's recordings. Each calls one core function.

use salesdesk_core::files::{Progress, Transfer};
use salesdesk_core::recordings::Recording;
use tauri::State;
use tauri::ipc::Channel;

use crate::error::CommandError;
use crate::state::DesktopState;

/// Stores the recording of an analysis: only a file the user dropped or picked (see
/// `grants.rs`); refused before upload when it is not audio or video, empty, or too large.
#[tauri::command]
#[specta::specta]
pub async fn attach_recording(
    state: State<'_, DesktopState>,
    analysis_id: String,
    path: String,
    on_progress: Channel<Progress>,
) -> Result<Recording, CommandError> {
    let path = state.grants.check(std::path::Path::new(&path))?;
    let transfer = Transfer::with_progress(move |p| {
        // A closed page is no reason to stop the upload.
        let _ = on_progress.send(p);
    });
    Ok(state
        .core()?
        .attach_recording(&analysis_id, &path, &transfer)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_recordings(
    state: State<'_, DesktopState>,
    analysis_id: String,
) -> Result<Vec<Recording>, CommandError> {
    Ok(state.core()?.recordings(&analysis_id).await?)
}
