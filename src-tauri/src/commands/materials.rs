//! The training-materials library's commands: list and search, add files the user dropped
//! (or picked) with a progress channel per file, cancel, retry, discard, edit, delete/restore,
//! pin/unpin, and a verified local copy to preview. Each calls one core function.

use std::collections::HashMap;
use std::sync::Mutex;

use salesdesk_core::data::materials::{Material, MaterialMeta, MaterialQuery, MaterialUpdate};
use salesdesk_core::files::{CancelFlag, Progress, Transfer};
use salesdesk_core::materials::{MaterialEntry, MaterialPreview, PendingMaterial, ShareLink};
use tauri::State;
use tauri::ipc::Channel;

use crate::error::CommandError;
use crate::state::DesktopState;

/// Transfers in progress, by the job id the UI chose, so that the UI can cancel them.
#[derive(Default)]
pub struct MaterialTransfers {
    running: Mutex<HashMap<String, CancelFlag>>,
}

impl MaterialTransfers {
    fn start(&self, job_id: &str) -> CancelFlag {
        let flag = CancelFlag::new();
        self.lock().insert(job_id.to_owned(), flag.clone());
        flag
    }

    fn finish(&self, job_id: &str) {
        self.lock().remove(job_id);
    }

    fn cancel(&self, job_id: &str) {
        if let Some(flag) = self.lock().get(job_id) {
            flag.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancelFlag>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The library, newest first, with each file's state.
#[tauri::command]
#[specta::specta]
pub async fn list_materials(
    state: State<'_, DesktopState>,
    query: MaterialQuery,
) -> Result<Vec<MaterialEntry>, CommandError> {
    Ok(state.core()?.materials().await?.list(&query).await?)
}

/// Additions not finished yet (queued, uploading, failed with a reason).
#[tauri::command]
#[specta::specta]
pub async fn pending_materials(
    state: State<'_, DesktopState>,
) -> Result<Vec<PendingMaterial>, CommandError> {
    Ok(state.core()?.materials().await?.pending().await?)
}

/// Opens the system dialog to choose files (several at once); the chosen files become
/// readable by `queue_material`. Empty when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn pick_material_files(
    state: State<'_, DesktopState>,
) -> Result<Vec<String>, CommandError> {
    Ok(state
        .pick_files()
        .into_iter()
        .map(|p| p.display().to_string())
        .collect())
}

/// Checks a dropped or picked file and its metadata and queues it; nothing is recorded when
/// a check fails. Only files the user granted (dropped or picked) are accepted.
#[tauri::command]
#[specta::specta]
pub async fn queue_material(
    state: State<'_, DesktopState>,
    path: String,
    meta: MaterialMeta,
) -> Result<PendingMaterial, CommandError> {
    let path = state.grants.check(std::path::Path::new(&path))?;
    Ok(state.core()?.materials().await?.queue(&path, &meta).await?)
}

/// Stores a queued material's file (resuming what an earlier attempt sent) and records it,
/// streaming progress to `on_progress`. Also the retry of a failed addition.
#[tauri::command]
#[specta::specta]
pub async fn upload_material(
    state: State<'_, DesktopState>,
    transfers: State<'_, MaterialTransfers>,
    id: String,
    job_id: String,
    on_progress: Channel<Progress>,
) -> Result<Material, CommandError> {
    let core = state.core()?;
    let transfer = Transfer {
        cancel: transfers.start(&job_id),
        ..Transfer::with_progress(move |p| {
            // A closed page is no reason to stop the upload.
            let _ = on_progress.send(p);
        })
    };
    let result = core.materials().await?.upload(&id, &transfer).await;
    transfers.finish(&job_id);
    Ok(result?)
}

/// Stops a transfer at its next chunk; what the server has is kept for a retry.
#[tauri::command]
#[specta::specta]
pub async fn cancel_material_transfer(
    transfers: State<'_, MaterialTransfers>,
    job_id: String,
) -> Result<(), CommandError> {
    transfers.cancel(&job_id);
    Ok(())
}

/// Forgets a pending addition (the user's file is untouched).
#[tauri::command]
#[specta::specta]
pub async fn discard_material(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<(), CommandError> {
    Ok(state.core()?.materials().await?.discard(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn update_material(
    state: State<'_, DesktopState>,
    id: String,
    change: MaterialUpdate,
) -> Result<Material, CommandError> {
    Ok(state
        .core()?
        .materials()
        .await?
        .update(&id, &change)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_material(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<(), CommandError> {
    Ok(state.core()?.materials().await?.delete(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_material(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<(), CommandError> {
    Ok(state.core()?.materials().await?.restore(&id).await?)
}

/// Keeps a material available offline (downloads it now in team mode).
#[tauri::command]
#[specta::specta]
pub async fn pin_material(state: State<'_, DesktopState>, id: String) -> Result<(), CommandError> {
    Ok(state
        .core()?
        .materials()
        .await?
        .pin(&id, &Transfer::default())
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn unpin_material(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<(), CommandError> {
    Ok(state.core()?.materials().await?.unpin(&id).await?)
}

/// A verified local copy of an image, video or audio material for the page to show through
/// the asset protocol (allowed for the previews folder only, see `lib.rs`).
#[tauri::command]
#[specta::specta]
pub async fn preview_material(
    state: State<'_, DesktopState>,
    id: String,
) -> Result<MaterialPreview, CommandError> {
    let core = state.core()?;
    let dir = previews_dir(core.paths().root());
    Ok(core.materials().await?.preview_copy(&id, &dir).await?)
}

/// Where preview copies go; the only folder the asset protocol may serve.
pub fn previews_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("cache").join("previews")
}

/// Opens a material's file with the system's app for its type (documents, slides, PDFs the
/// page cannot show). The path is resolved here from the id, to a verified copy under the
/// data directory's `cache/open` folder: the webview never names a path, so it cannot make
/// the system open anything else. The opener plugin's own commands are not registered.
#[tauri::command]
#[specta::specta]
pub async fn open_material(state: State<'_, DesktopState>, id: String) -> Result<(), CommandError> {
    let core = state.core()?;
    let dir = core.paths().root().join("cache").join("open");
    let path = core.materials().await?.open_copy(&id, &dir).await?;
    tauri_plugin_opener::open_path(&path, None::<&str>).map_err(|e| {
        // The opener's message names the path; keep it in the log, not on the page.
        tracing::warn!(error = %e, "the system could not open a material");
        CommandError {
            kind: salesdesk_core::ErrorKind::Unavailable,
            message: "no app on this computer opened the file: save it (Download) and open it \
                      from your files"
                .into(),
        }
    })
}

/// A download link to the material's file for someone without the app, valid for `hours`
/// (team mode only).
#[tauri::command]
#[specta::specta]
pub async fn share_material(
    state: State<'_, DesktopState>,
    id: String,
    hours: u32,
) -> Result<ShareLink, CommandError> {
    let valid_for = std::time::Duration::from_secs(u64::from(hours) * 3600);
    Ok(state
        .core()?
        .materials()
        .await?
        .share_link(&id, valid_for)
        .await?)
}
