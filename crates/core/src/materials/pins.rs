//! Pins that wait for the network: a pin is recorded at once (it survives a restart), the file
//! is "queued download" until it is cached, and [`MaterialLibrary::fetch_pinned`] downloads
//! every pinned file not cached yet, recording why one failed (offline, signed out, not found,
//! disk full) for the library to show and the next pass to retry. Left out: when passes run
//! (the caller's triggers, see `crate::file_jobs`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use super::{Files, MaterialLibrary};
use crate::data::local::LocalStore;
use crate::data::materials::{self as meta_rows, Material};
use crate::error::{CoreError, Result};
use crate::files::{FileError, Transfer};
use crate::time::now_rfc3339;

/// Which way a material's file has to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TransferDirection {
    /// From the team's storage into this device's cache (a pin).
    Download,
    /// From this device's local-mode file store to the team's storage (joining a team).
    Upload,
}

/// Why a file transfer failed, for the UI to branch on; the message says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FileProblemReason {
    /// The storage server could not be reached: retried when the network returns.
    Offline,
    /// Nobody is signed in (or the session ended): retried after sign-in.
    SignedOut,
    /// The server has no such file.
    NotFound,
    /// This device's disk is full: free some space (or lower the cache size).
    DiskFull,
    /// The team role does not allow it (a rep cannot write the library): the file stays local.
    Forbidden,
    Other,
}

impl FileProblemReason {
    pub fn of(e: &CoreError) -> Self {
        match e {
            CoreError::Files(FileError::Network { .. }) => Self::Offline,
            CoreError::Files(FileError::DiskFull { .. }) | CoreError::DiskFull => Self::DiskFull,
            CoreError::Files(FileError::NotFound { .. }) => Self::NotFound,
            // A server error after the client's own retries: busy or down, like offline.
            CoreError::Files(FileError::Rejected { status, .. }) if *status >= 500 => Self::Offline,
            CoreError::Files(FileError::Rejected { .. }) => Self::Other,
            // Bytes that do not match the record are no network trouble: say what happened.
            CoreError::Files(FileError::Integrity { .. }) => Self::Other,
            _ => match e.kind() {
                crate::ErrorKind::SignedOut => Self::SignedOut,
                crate::ErrorKind::Forbidden => Self::Forbidden,
                crate::ErrorKind::NotFound => Self::NotFound,
                // Auth unreachable while refreshing the token is being offline too.
                crate::ErrorKind::Remote | crate::ErrorKind::Unavailable => Self::Offline,
                _ => Self::Other,
            },
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::SignedOut => "signed_out",
            Self::NotFound => "not_found",
            Self::DiskFull => "disk_full",
            Self::Forbidden => "forbidden",
            Self::Other => "other",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "offline" => Self::Offline,
            "signed_out" => Self::SignedOut,
            "not_found" => Self::NotFound,
            "disk_full" => Self::DiskFull,
            "forbidden" => Self::Forbidden,
            _ => Self::Other,
        }
    }

    /// Whether the next pass stops early: every other file would fail the same way.
    pub fn stops_the_pass(self) -> bool {
        matches!(self, Self::Offline | Self::SignedOut)
    }
}

/// Why a material's file is not where this device wants it, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct FileProblem {
    pub direction: TransferDirection,
    pub reason: FileProblemReason,
    /// What happened and what to do, for the user.
    pub message: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// RFC 3339, UTC.
    pub failed_at: String,
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct FilePassReport {
    /// Materials whose file moved in this pass.
    pub done: Vec<String>,
    /// Materials whose file failed to move, with why.
    pub failed: Vec<(String, FileProblem)>,
    /// Materials left for a later pass (the pass stopped early: offline, signed out, cancelled).
    pub waiting: u32,
}

impl FilePassReport {
    pub fn merge(&mut self, other: FilePassReport) {
        self.done.extend(other.done);
        self.failed.extend(other.failed);
        self.waiting += other.waiting;
    }

    /// `left` files wait for a later pass.
    pub(super) fn wait(&mut self, left: usize) {
        self.waiting += u32::try_from(left).unwrap_or(u32::MAX);
    }

    /// Records why material `id`'s file did not move (for the library and the next pass) and
    /// whether the pass stops there: offline or signed out, the `left` after it would fail too,
    /// so they wait instead.
    pub(super) async fn fail(
        &mut self,
        store: &LocalStore,
        id: String,
        direction: TransferDirection,
        reason: FileProblemReason,
        message: &str,
        left: usize,
    ) -> Result<bool> {
        let problem = record_problem(store, &id, direction, reason, message).await?;
        self.failed.push((id, problem));
        let stop = reason.stops_the_pass();
        if stop {
            self.wait(left);
        }
        Ok(stop)
    }
}

/// The recorded problems, by material id.
pub(super) async fn problems(store: &LocalStore) -> Result<HashMap<String, FileProblem>> {
    let rows = sqlx::query(
        "SELECT material_id, direction, reason, message, attempts, failed_at \
         FROM material_file_problems",
    )
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let direction = if r.get::<&str, _>("direction") == "upload" {
                TransferDirection::Upload
            } else {
                TransferDirection::Download
            };
            (
                r.get("material_id"),
                FileProblem {
                    direction,
                    reason: FileProblemReason::parse(r.get("reason")),
                    message: r.get("message"),
                    attempts: u32::try_from(r.get::<i64, _>("attempts")).unwrap_or(1),
                    failed_at: r.get("failed_at"),
                },
            )
        })
        .collect())
}

/// Records (or counts again) a failed transfer; returns the problem as now recorded.
pub(super) async fn record_problem(
    store: &LocalStore,
    id: &str,
    direction: TransferDirection,
    reason: FileProblemReason,
    message: &str,
) -> Result<FileProblem> {
    let direction_str = match direction {
        TransferDirection::Download => "download",
        TransferDirection::Upload => "upload",
    };
    let now = now_rfc3339();
    let attempts: i64 = sqlx::query_scalar(
        "INSERT INTO material_file_problems \
         (material_id, direction, reason, message, attempts, failed_at) \
         VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (material_id) DO UPDATE SET \
         direction = excluded.direction, reason = excluded.reason, message = excluded.message, \
         attempts = CASE WHEN direction = excluded.direction THEN attempts + 1 ELSE 1 END, \
         failed_at = excluded.failed_at RETURNING attempts",
    )
    .bind(id)
    .bind(direction_str)
    .bind(reason.as_str())
    .bind(message)
    .bind(&now)
    .fetch_one(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(FileProblem {
        direction,
        reason,
        message: message.to_owned(),
        attempts: u32::try_from(attempts).unwrap_or(1),
        failed_at: now,
    })
}

pub(super) async fn clear_problem(store: &LocalStore, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM material_file_problems WHERE material_id = ?")
        .bind(id)
        .execute(store.pool())
        .await
        .map_err(|e| store.err(e))?;
    Ok(())
}

/// A message for a failed download that says what to do.
fn download_message(m: &Material, reason: FileProblemReason, e: &CoreError) -> String {
    let title = &m.title;
    match reason {
        FileProblemReason::Offline => format!(
            "“{title}” could not be downloaded: the team's file storage is unreachable. It \
             downloads when the network is back"
        ),
        FileProblemReason::SignedOut => {
            format!("sign in to download “{title}” for offline use")
        }
        FileProblemReason::NotFound => format!(
            "“{title}” is not in the team's file storage (it may have been replaced or removed); \
             it is retried after the next sync"
        ),
        FileProblemReason::DiskFull => format!(
            "“{title}” could not be kept offline: this device's disk is full. Free some space; \
             it is retried later"
        ),
        FileProblemReason::Forbidden | FileProblemReason::Other => {
            format!("“{title}” could not be downloaded: {e}")
        }
    }
}

impl MaterialLibrary {
    /// Keeps a material available offline. The pin is recorded at once; in team mode the file
    /// is then "queued download" until a pass of [`Self::fetch_pinned`] caches it (local mode
    /// files are always on the device).
    pub async fn pin(&self, id: &str) -> Result<()> {
        let m = meta_rows::get(&self.store, id).await?;
        sqlx::query("INSERT OR IGNORE INTO material_pins (material_id, pinned_at) VALUES (?, ?)")
            .bind(&m.id)
            .bind(now_rfc3339())
            .execute(self.store.pool())
            .await
            .map_err(|e| self.store.err(e))?;
        if let Files::Team(team) = &self.files {
            self.load_pins_into(&team.cache).await?;
        }
        Ok(())
    }

    pub async fn unpin(&self, id: &str) -> Result<()> {
        let uuid = meta_rows::parse_id(id)?.to_string();
        sqlx::query("DELETE FROM material_pins WHERE material_id = ?")
            .bind(&uuid)
            .execute(self.store.pool())
            .await
            .map_err(|e| self.store.err(e))?;
        // A failed download of an unpinned file is nobody's concern any more.
        sqlx::query(
            "DELETE FROM material_file_problems WHERE material_id = ? AND direction = 'download'",
        )
        .bind(&uuid)
        .execute(self.store.pool())
        .await
        .map_err(|e| self.store.err(e))?;
        Ok(())
    }

    /// Pinned live materials whose team file is not cached here, oldest pin first.
    pub async fn pinned_not_cached(&self) -> Result<Vec<Material>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT p.material_id FROM material_pins p JOIN training_materials m \
             ON m.id = p.material_id WHERE m.deleted_at IS NULL AND m.file_path IS NOT NULL \
             ORDER BY p.pinned_at, p.material_id",
        )
        .fetch_all(self.store.pool())
        .await
        .map_err(|e| self.store.err(e))?;
        let mut out = Vec::new();
        for id in ids {
            let m = meta_rows::get(&self.store, &id).await?;
            let Some(key) = m.file_path.as_deref() else {
                continue;
            };
            // A local-mode key names a file that is not in the team's storage yet: nothing to
            // download (it is "queued upload").
            if !super::is_team_key(key) {
                continue;
            }
            // This device's own local-mode copy of the content needs no download.
            if self.local_copy(key).is_some() {
                continue;
            }
            let cached = match &self.files {
                Files::Team(team) => team.cache.is_cached(key),
                Files::SignedOut(cache) => super::cache_has(cache, key),
                Files::Local(_) => true,
            };
            if !cached {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Downloads every pinned file not cached yet into the cache (where pins are never
    /// evicted). A failure is recorded with its reason and the pass goes on with the next
    /// file, except offline or signed out, which would fail them all: the pass stops and the
    /// rest stay queued. Does nothing in local mode; signed out, it changes nothing (the
    /// library already says "sign in").
    pub async fn fetch_pinned(
        &self,
        transfer_for: impl Fn(&Material) -> Transfer,
    ) -> Result<FilePassReport> {
        let mut report = FilePassReport::default();
        let Files::Team(team) = &self.files else {
            return Ok(report);
        };
        self.load_pins_into(&team.cache).await?;
        let wanted = self.pinned_not_cached().await?;
        let total = wanted.len();
        for (i, m) in wanted.into_iter().enumerate() {
            let Some(key) = m.file_path.as_deref() else {
                continue;
            };
            let transfer = transfer_for(&m);
            match team.cache.fetch(key, &transfer).await {
                Ok(()) => {
                    clear_problem(&self.store, &m.id).await?;
                    report.done.push(m.id);
                }
                Err(FileError::Cancelled) => {
                    report.wait(total - i);
                    break;
                }
                Err(e) => {
                    let e = CoreError::from(e);
                    let reason = FileProblemReason::of(&e);
                    let message = download_message(&m, reason, &e);
                    tracing::info!(material = %m.id, reason = reason.as_str(), "pinned file not downloaded");
                    let direction = TransferDirection::Download;
                    let left = total - i - 1;
                    let stop = report
                        .fail(&self.store, m.id, direction, reason, &message, left)
                        .await?;
                    if stop {
                        break;
                    }
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::files::FileError;

    #[test]
    fn failures_map_to_reasons_a_user_can_act_on() {
        let cases: Vec<(CoreError, FileProblemReason)> = vec![
            (
                FileError::Network {
                    message: "connection refused".into(),
                }
                .into(),
                FileProblemReason::Offline,
            ),
            (
                FileError::Rejected {
                    status: 503,
                    message: "busy".into(),
                }
                .into(),
                FileProblemReason::Offline,
            ),
            (
                FileError::Rejected {
                    status: 400,
                    message: "bad".into(),
                }
                .into(),
                FileProblemReason::Other,
            ),
            (
                FileError::DiskFull {
                    path: PathBuf::from("cache"),
                }
                .into(),
                FileProblemReason::DiskFull,
            ),
            (CoreError::DiskFull, FileProblemReason::DiskFull),
            (
                FileError::NotFound { key: "k".into() }.into(),
                FileProblemReason::NotFound,
            ),
            (
                crate::auth::AuthError::NotSignedIn.into(),
                FileProblemReason::SignedOut,
            ),
            (
                FileError::Forbidden {
                    bucket: "training-materials".into(),
                    message: "rls".into(),
                }
                .into(),
                FileProblemReason::Forbidden,
            ),
            (
                FileError::Integrity {
                    expected: "a".into(),
                    got: "b".into(),
                }
                .into(),
                FileProblemReason::Other,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(FileProblemReason::of(&e), want, "{e}");
        }
        assert!(FileProblemReason::Offline.stops_the_pass());
        assert!(FileProblemReason::SignedOut.stops_the_pass());
        assert!(!FileProblemReason::NotFound.stops_the_pass());
        assert!(!FileProblemReason::DiskFull.stops_the_pass());
    }

    #[test]
    fn a_disk_full_message_says_to_free_space() {
        let m = crate::data::materials::Material {
            id: "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d".into(),
            owner_id: None,
            title: "Deck".into(),
            description: None,
            tags: vec![],
            file_path: None,
            file_size: None,
            file_sha256: None,
            mime_type: None,
            kind: crate::data::materials::MaterialKind::Pdf,
            created_at: String::new(),
            updated_at: String::new(),
            deleted_at: None,
        };
        let e = CoreError::DiskFull;
        let msg = download_message(&m, FileProblemReason::DiskFull, &e);
        assert!(msg.contains("Free some space"), "{msg}");
        let msg = download_message(&m, FileProblemReason::SignedOut, &e);
        assert!(msg.starts_with("sign in to download “Deck”"), "{msg}");
    }

    #[tokio::test]
    async fn problems_count_attempts_per_direction_and_pins_refuse_bad_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("s.db")).await.unwrap();
        let id = "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d";
        let d = TransferDirection::Download;
        let p = record_problem(&store, id, d, FileProblemReason::Offline, "m")
            .await
            .unwrap();
        assert_eq!(p.attempts, 1);
        let p = record_problem(&store, id, d, FileProblemReason::Offline, "m")
            .await
            .unwrap();
        assert_eq!(p.attempts, 2);
        // The other way starts counting again.
        let u = TransferDirection::Upload;
        let p = record_problem(&store, id, u, FileProblemReason::Forbidden, "stays")
            .await
            .unwrap();
        assert_eq!(p.attempts, 1);
        let all = problems(&store).await.unwrap();
        assert_eq!(all[id].direction, TransferDirection::Upload);
        assert_eq!(all[id].message, "stays");
        clear_problem(&store, id).await.unwrap();
        assert!(problems(&store).await.unwrap().is_empty());

        let lib = MaterialLibrary::local(store, dir.path().join("files"));
        let err = lib.pin("../../etc/passwd").await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        let err = lib.pin(id).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotFound, "{err}");
        assert!(lib.pins().await.unwrap().is_empty(), "nothing recorded");
    }
}
