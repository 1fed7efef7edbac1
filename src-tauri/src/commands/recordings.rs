//! Call recordings' commands: store a dropped or picked audio/video file with an analysis
//! (progress on a channel), list an analysis's recordings and unfinished attaches, retry or
//! discard one, and give the page a verified copy to play, save or open. Each calls one core
//! function.

use salesdesk_core::files::{Progress, Transfer};
use salesdesk_core::recordings::{PendingRecording, Recording, RecordingPreview};
use tauri::State;
use tauri::ipc::Channel;

use crate::error::CommandError;
use crate::state::DesktopState;

fn transfer_to(on_progress: Channel<Progress>) -> Transfer {
    Transfer::with_progress(move |p| {
        // A closed page is no reason to stop the upload.
        let _ = on_progress.send(p);
    })
}

/// Stores the recording of an analysis: only a file the user dropped or picked (see
/// `grants.rs`); refused before upload when it is not audio or video, empty, or too large.
/// An upload cut by quitting resumes at the next start.
#[tauri::command]
#[specta::specta]
pub async fn attach_recording(
    state: State<'_, DesktopState>,
    analysis_id: String,
    path: String,
    on_progress: Channel<Progress>,
) -> Result<Recording, CommandError> {
    let path = state.grants.check(std::path::Path::new(&path))?;
    Ok(state
        .core()?
        .attach_recording(&analysis_id, &path, &transfer_to(on_progress))
        .await?)
}

/// The recordings of an analysis, whoever attached them (a manager sees the rep's).
#[tauri::command]
#[specta::specta]
pub async fn list_recordings(
    state: State<'_, DesktopState>,
    analysis_id: String,
) -> Result<Vec<Recording>, CommandError> {
    Ok(state.core()?.recordings(&analysis_id).await?)
}

/// Attaches of this analysis not finished yet (queued, uploading, failed with a reason).
#[tauri::command]
#[specta::specta]
pub async fn pending_recordings(
    state: State<'_, DesktopState>,
    analysis_id: String,
) -> Result<Vec<PendingRecording>, CommandError> {
    Ok(state
        .core()?
        .recordings_library()
        .await?
        .pending(Some(&analysis_id))
        .await?)
}

/// Retries a failed attach (resuming what the server already has).
#[tauri::command]
#[specta::specta]
pub async fn retry_recording(
    state: State<'_, DesktopState>,
    id: String,
    on_progress: Channel<Progress>,
) -> Result<Recording, CommandError> {
    Ok(state
        .core()?
        .recordings_library()
        .await?
        .upload(&id, &transfer_to(on_progress))
        .await?)
}

/// Forgets an unfinished attach (the user's file is untouched).
#[tauri::command]
#[specta::specta]
pub async fn discard_recording(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<(), CommandError> {
    Ok(state
        .core()?
        .recordings_library()
        .await?
        .discard(&id)
        .await?)
}

/// A verified local copy for the page's player, in the previews folder the asset protocol
/// serves (see `lib.rs`); downloaded first when a team recording is not cached.
#[tauri::command]
#[specta::specta]
pub async fn preview_recording(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<RecordingPreview, CommandError> {
    let core = state.core()?;
    let dir = super::materials::previews_dir(core.paths().root());
    Ok(core
        .recordings_library()
        .await?
        .preview_copy(&id, &dir)
        .await?)
}

/// Asks where to save a recording (the system's "save" dialog, named after the file) and
/// writes a verified copy there. `None` when the user cancelled the dialog.
#[tauri::command]
#[specta::specta]
pub async fn save_recording(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<Option<String>, CommandError> {
    let core = state.core()?;
    let library = core.recordings_library().await?;
    let recording = library.get(&id).await?;
    let Some(dest) = state.pick_save_path(&recording.file_name) else {
        return Ok(None);
    };
    library
        .get_file(&recording.id, &dest, &Transfer::default())
        .await?;
    Ok(Some(dest.display().to_string()))
}

/// Opens a recording with the system's app for its type, from a verified copy under the data
/// directory's `cache/open` folder: the webview never names a path.
#[tauri::command]
#[specta::specta]
pub async fn open_recording(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<(), CommandError> {
    let core = state.core()?;
    let dir = core.paths().root().join("cache").join("open");
    let path = core
        .recordings_library()
        .await?
        .open_copy(&id, &dir)
        .await?;
    tauri_plugin_opener::open_path(&path, None::<&str>).map_err(|e| {
        // The opener's message names the path; keep it in the log, not on the page.
        tracing::warn!(error = %e, "the system could not open a recording");
        CommandError {
            kind: salesdesk_core::ErrorKind::Unavailable,
            message: "no app on this computer opened the recording: save it (Save as…) and \
                      open it from your files"
                .into(),
        }
    })
}

/// Resumes the attaches an exit or a crash interrupted, in the background (at start).
pub fn resume_uploads(state: &DesktopState) {
    let Ok(core) = state.core() else { return };
    let core = core.clone();
    tauri::async_runtime::spawn(async move {
        match core
            .resume_pending_recordings(|_| Transfer::default())
            .await
        {
            Ok(done) => {
                for r in done {
                    if let Err(e) = r.result {
                        tracing::warn!(id = %r.id, error = %e, "an interrupted recording attach failed to resume");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot check for interrupted recording attaches"),
        }
    });
}
