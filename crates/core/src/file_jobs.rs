//! The library's background file work in an app that stays open (the desktop): uploads the
//! files a local-mode library (and the local-mode avatar) still holds once the device is in a
//! team, then downloads every pinned file not cached yet. A pass runs at start (without holding the start up), when woken
//! (sign-in, settings saved, "sync now" / the network is back, a new pin, on demand), after a
//! sync pull brought training-material rows, and on a timer that backs off while passes fail.
//!
//! Transfers in flight are kept here with their progress for the UI to show. Left out: what a
//! pass does (`materials::{pins, joining}`), and who is signed in (`team`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

use crate::error::Result;
use crate::files::{CancelFlag, Progress, Transfer};
use crate::materials::{FilePassReport, TransferDirection};
use crate::salesdesk::Salesdesk;

/// Between passes when nothing failed: catches what no trigger announced.
const IDLE_RECHECK: Duration = Duration::from_secs(300);
/// The first wait after a failed pass; doubled per failed pass in a row, up to the idle wait.
const FIRST_RETRY: Duration = Duration::from_secs(15);

/// A file moving now, as the Training page shows it (a bar per file).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct FileTransferProgress {
    pub material_id: String,
    pub direction: TransferDirection,
    pub progress: Progress,
}

/// The background file work of one data directory. Cheap to share (`Arc`).
#[derive(Default)]
pub struct FileJobs {
    wake: Arc<Notify>,
    /// One pass at a time (the loop's and an on-demand one).
    pass: Mutex<()>,
    moving: StdMutex<HashMap<String, (FileTransferProgress, CancelFlag)>>,
    task: StdMutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for FileJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileJobs").finish_non_exhaustive()
    }
}

impl FileJobs {
    /// Asks the loop (if started) for a pass now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Transfers in flight with their progress, in no particular order.
    pub fn moving(&self) -> Vec<FileTransferProgress> {
        self.lock().values().map(|(p, _)| p.clone()).collect()
    }

    /// Stops the transfers in flight at their next chunk (they stay queued for a later pass).
    pub fn cancel_all(&self) {
        for (_, flag) in self.lock().values() {
            flag.cancel();
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (FileTransferProgress, CancelFlag)>> {
        // Entries are replaced whole: a poisoned lock holds nothing half-written.
        self.moving.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A transfer for one material whose progress lands in [`Self::moving`].
    fn transfer(self: &Arc<Self>, id: &str, direction: TransferDirection) -> Transfer {
        let flag = CancelFlag::new();
        let entry = FileTransferProgress {
            material_id: id.to_owned(),
            direction,
            progress: Progress {
                done: 0,
                total: 0,
                bytes_per_sec: 0.0,
                eta_secs: None,
            },
        };
        // Files of one direction move one after another: a new one means the last one ended,
        // and the page reads the list again when an entry goes.
        let mut moving = self.lock();
        moving.retain(|_, (p, _)| p.direction != direction);
        moving.insert(id.to_owned(), (entry, flag.clone()));
        drop(moving);
        let this = Arc::downgrade(self);
        let key = id.to_owned();
        Transfer {
            cancel: flag,
            ..Transfer::with_progress(move |p| {
                if let Some(jobs) = this.upgrade()
                    && let Some(entry) = jobs.lock().get_mut(&key)
                {
                    entry.0.progress = p;
                }
            })
        }
    }

    /// Drops the finished transfers of one direction (passes run one at a time).
    fn forget(&self, direction: TransferDirection) {
        self.lock().retain(|_, (p, _)| p.direction != direction);
    }

    /// One pass over `core`'s library: uploads first (the team needs them), then pinned
    /// downloads. Local mode and signed out do nothing.
    pub async fn run_pass(self: &Arc<Self>, core: &Salesdesk) -> Result<FilePassReport> {
        let _one = self.pass.lock().await;
        let library = match core.materials().await {
            Ok(library) if library.is_team() => library,
            // Local mode has nothing to move; signed out, the library already says "sign in".
            Ok(_) => return Ok(FilePassReport::default()),
            Err(e) if e.kind() == crate::ErrorKind::SignedOut => {
                return Ok(FilePassReport::default());
            }
            Err(e) => return Err(e),
        };
        let role = core.account_status().await?.role;
        let uploads = library
            .upload_local_files(role.as_deref(), |m| {
                self.transfer(&m.id, TransferDirection::Upload)
            })
            .await;
        self.forget(TransferDirection::Upload);
        let mut report = uploads?;
        // The avatar too; a failure costs nothing but a retry at the next pass.
        if let Err(e) = core.upload_local_avatar().await {
            tracing::info!(error = %e, "the local-mode avatar is not uploaded yet");
        }
        let stopped = report.failed.iter().any(|(_, p)| p.reason.stops_the_pass());
        if !stopped {
            let downloads = library
                .fetch_pinned(|m| self.transfer(&m.id, TransferDirection::Download))
                .await;
            self.forget(TransferDirection::Download);
            report.merge(downloads?);
        }
        Ok(report)
    }

    /// Starts the loop on the current tokio runtime (once; later calls do nothing). The loop
    /// holds `core` until [`Self::stop`].
    pub fn start(self: &Arc<Self>, core: Salesdesk) {
        let mut slot = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return;
        }
        let this = self.clone();
        let mut pulls = core.store().subscribe_material_pulls();
        *slot = Some(tokio::spawn(async move {
            let mut failed_passes = 0u32;
            loop {
                let wait = match this.run_pass(&core).await {
                    // A role's refusal waits for a role change, not for a retry.
                    Ok(report)
                        if report.failed.iter().all(|(_, p)| {
                            p.reason == crate::materials::FileProblemReason::Forbidden
                        }) =>
                    {
                        failed_passes = 0;
                        IDLE_RECHECK
                    }
                    Ok(report) => {
                        tracing::info!(
                            failed = report.failed.len(),
                            waiting = report.waiting,
                            "some library files could not move; retrying later"
                        );
                        failed_passes = failed_passes.saturating_add(1);
                        retry_wait(failed_passes)
                    }
                    Err(e) => {
                        // Signed out and local mode come back as Ok; this is a store error.
                        tracing::warn!(error = %e, "library file pass failed");
                        failed_passes = failed_passes.saturating_add(1);
                        retry_wait(failed_passes)
                    }
                };
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = this.wake.notified() => {}
                    changed = pulls.changed() => {
                        if changed.is_err() {
                            return;
                        }
                    }
                }
            }
        }));
    }

    /// Stops the loop and the transfers in flight (the app is closing). What was not done
    /// stays queued for the next start.
    pub async fn stop(&self) {
        self.cancel_all();
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }
}

fn retry_wait(failed_passes: u32) -> Duration {
    let factor = 2u32.saturating_pow(failed_passes.saturating_sub(1).min(8));
    FIRST_RETRY.saturating_mul(factor).min(IDLE_RECHECK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_the_idle_wait() {
        assert_eq!(retry_wait(1), FIRST_RETRY);
        assert_eq!(retry_wait(2), FIRST_RETRY * 2);
        assert_eq!(retry_wait(3), FIRST_RETRY * 4);
        assert_eq!(retry_wait(40), IDLE_RECHECK);
    }
}
