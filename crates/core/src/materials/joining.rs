//! A library built in local mode joins a team: each material whose file is still in this
//! device's local store (its key is a bare SHA-256) is uploaded to the team's bucket, then its
//! row is pointed at the team key. The row itself was queued in the outbox when it was made,
//! so other devices may pull it before the file is up: a bare-digest key reads "queued upload"
//! there (see `MaterialLibrary::file_state`), never a broken download. Uploads reuse the
//! resumable-upload machinery (`file_uploads`), so a cut or an exit resumes. A role that may
//! not write the bucket (a rep) leaves the files local, with the reason recorded; nothing is
//! deleted either way.

use super::pins::{FilePassReport, FileProblemReason, TransferDirection, clear_problem};
use super::{BUCKET, Files, MaterialLibrary, file_name_for};
use crate::data::materials::{self as meta_rows, Material};
use crate::error::{CoreError, Result};
use crate::files::names::key_slug;
use crate::files::queue::put_content_keyed;
use crate::files::{FileError, SourceFacts, Transfer};

/// Team roles allowed to write the `training-materials` bucket (the storage policy's rule).
const WRITERS: [&str; 1] = ["admin"];

impl MaterialLibrary {
    /// Materials whose file is only in this device's local file store, oldest first (deleted
    /// ones too: a restore must bring the file back).
    pub async fn local_only(&self) -> Result<Vec<Material>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM training_materials WHERE file_path IS NOT NULL \
             AND instr(file_path, '/') = 0 ORDER BY created_at, id",
        )
        .fetch_all(self.store.pool())
        .await
        .map_err(|e| self.store.err(e))?;
        let mut out = Vec::new();
        for id in ids {
            let m = meta_rows::get_any(&self.store, &id).await?;
            if self.local_source(&m).is_some() {
                out.push(m);
            }
        }
        Ok(out)
    }

    fn local_source(&self, m: &Material) -> Option<std::path::PathBuf> {
        let local = self.local_files.as_ref()?;
        let key = m.file_path.as_deref()?;
        local.object_path(key).filter(|p| p.is_file())
    }

    /// Uploads the local-mode files of this device's materials to the team's bucket and points
    /// their rows at the team keys. `role` is the signed-in user's team role when known: a
    /// role that may not write the library records "stays on this device" without a request;
    /// an unknown role tries, and the server decides. Does nothing outside team mode.
    pub async fn upload_local_files(
        &self,
        role: Option<&str>,
        transfer_for: impl Fn(&Material) -> Transfer,
    ) -> Result<FilePassReport> {
        let mut report = FilePassReport::default();
        let Files::Team(team) = &self.files else {
            return Ok(report);
        };
        let todo = self.local_only().await?;
        let total = todo.len();
        for (i, m) in todo.into_iter().enumerate() {
            let (Some(src), Some(digest)) = (self.local_source(&m), m.file_path.clone()) else {
                continue;
            };
            if let Some(role) = role.filter(|r| !WRITERS.contains(r)) {
                let message = format!(
                    "“{}” stays on this device: only a team admin can add files to the team \
                     library (your role is {role}). Nothing is lost; ask an admin to add it",
                    m.title
                );
                // Forbidden never stops the pass: the next material is tried all the same.
                let (direction, reason) = (TransferDirection::Upload, FileProblemReason::Forbidden);
                report
                    .fail(&self.store, m.id, direction, reason, &message, 0)
                    .await?;
                continue;
            }
            let transfer = transfer_for(&m);
            match self.upload_one(team, &m, &src, &digest, &transfer).await {
                Ok(()) => {
                    clear_problem(&self.store, &m.id).await?;
                    report.done.push(m.id);
                }
                Err(CoreError::Files(FileError::Cancelled)) => {
                    report.wait(total - i);
                    break;
                }
                Err(e) => {
                    let reason = FileProblemReason::of(&e);
                    let message = match reason {
                        FileProblemReason::Forbidden => format!(
                            "“{}” stays on this device: your team role may not add files to \
                             the team library. Nothing is lost; ask an admin to add it",
                            m.title
                        ),
                        FileProblemReason::Offline => format!(
                            "“{}” waits to be uploaded to the team library: the team's file \
                             storage is unreachable. It goes when the network is back",
                            m.title
                        ),
                        FileProblemReason::SignedOut => {
                            format!("sign in to upload “{}” to the team library", m.title)
                        }
                        _ => format!(
                            "“{}” could not be uploaded to the team library: {e}",
                            m.title
                        ),
                    };
                    tracing::info!(material = %m.id, error = %e, "local file not uploaded");
                    let direction = TransferDirection::Upload;
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

    async fn upload_one(
        &self,
        team: &super::TeamStores,
        m: &Material,
        src: &std::path::Path,
        digest: &str,
        transfer: &Transfer,
    ) -> Result<()> {
        let name = file_name_for(m);
        let mime = m
            .mime_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        let facts = SourceFacts::of(src)?;
        team.storage
            .check_limits(BUCKET, &name, facts.size, &mime)?;
        // Same shape as a team-mode addition: the id and content name the object.
        let key = format!("{}/{digest}/{}", m.id, key_slug(&name));
        let size = facts.size;
        // An object already there is an earlier attempt that stopped before the row moved.
        put_content_keyed(
            &team.storage,
            BUCKET,
            &key,
            src,
            &mime,
            facts,
            digest.to_owned(),
            transfer,
        )
        .await?;
        // The file stays on this device through the cache, where team keys are looked for.
        if size <= team.budget / 4 {
            self.load_pins_into(&team.cache).await?;
            team.cache.remember(src).await;
        }
        let mut tx = self.store.begin_write().await?;
        meta_rows::move_file_key(&mut tx, &m.id, digest, &key).await?;
        tx.commit().await?;
        Ok(())
    }
}
