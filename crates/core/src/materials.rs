//! The training-materials library: adds files with their metadata (the file is stored first;
//! the synced row is written only once the file is safe), fetches them back, says where each
//! material's file is, and keeps pinned materials available offline.
//!
//! Local mode keeps files in the data directory's content-addressed store; team mode uploads
//! them to the `training-materials` bucket under `{material id}/{sha256}/{slug of the name}`
//! and caches what is opened or pinned. A material being added lives in the local-only
//! `material_uploads` table (`crate::files::queue`) until its file is stored, so a crash, a
//! cut or a cancel never leaves a row without a file, nor loses the upload (see
//! [`MaterialLibrary::resume_pending`]).
//! Signed out in team mode, the library still lists the rows and opens what is cached here;
//! what needs the server says "sign in to …". Pins wait for the network ([`pins`]), and a
//! library built in local mode goes up when the data directory joins a team ([`joining`]).
//! Left out: hard deletion of files (a deleted material keeps its file so a restore is whole).

mod joining;
mod pins;

pub use pins::{FilePassReport, FileProblem, FileProblemReason, TransferDirection};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::data::local::{LocalStore, WriteTx};
use crate::data::materials::{
    self as meta_rows, Material, MaterialFile, MaterialKind, MaterialMeta, MaterialQuery,
    MaterialUpdate, check_meta,
};
use crate::error::{CoreError, Result};
use crate::files::names::key_slug;
use crate::files::queue::{self, QueuedFile, UploadQueue};
use crate::files::{
    BucketStore, CachedStore, FileError, FileStore, LocalFileStore, SupabaseStorage, Transfer,
    hash_file, preflight,
};
use crate::time::now_rfc3339;

/// The Storage bucket of training materials (created by the remote migrations).
pub const BUCKET: &str = "training-materials";

/// Default size of the local cache of team files (the user's setting replaces it).
pub const DEFAULT_CACHE_BUDGET: u64 = crate::files::offline::DEFAULT_BUDGET;

/// Team-mode file storage: the Storage client and the local cache's budget.
#[derive(Debug, Clone)]
pub struct TeamFiles {
    pub storage: SupabaseStorage,
    pub cache_budget: u64,
}

/// Where a material's file is, as the library shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// Local mode: in this device's file store.
    Stored,
    /// Team mode: in the team's storage, not on this device (opening it downloads it).
    Synced,
    /// Team mode: in the team's storage and cached on this device (opens offline).
    Cached,
    /// The recorded file is not where it should be (local mode) or no file is recorded.
    Missing,
    /// Team mode, pinned: waits to be downloaded for offline use (or is being downloaded).
    QueuedDownload,
    /// Team mode: the file was added in local mode and is not in the team's storage yet; it
    /// goes up from the device that has it once an admin is signed in there.
    QueuedUpload,
    /// Team mode: added in local mode and kept on this device only, as the team role may not
    /// add files to the library (see the entry's `file_problem`). Nothing is lost.
    LocalOnly,
    /// The last download (pin) or upload (joining a team) failed; `file_problem` says why. It
    /// is retried.
    Failed,
}

/// A material with its file's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct MaterialEntry {
    pub material: Material,
    /// A file name to save or open the file under (from the stored name, else the title).
    pub file_name: String,
    pub file_state: FileState,
    /// Kept available offline.
    pub pinned: bool,
    /// Why the file is not where this device wants it (a failed download or upload, or
    /// "sign in"), when that is so.
    pub file_problem: Option<FileProblem>,
}

/// A local copy of a material's file for the app to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct MaterialPreview {
    pub path: String,
    pub mime: String,
    pub kind: MaterialKind,
}

pub use crate::files::queue::UploadState;

/// The additions' queue: `material_uploads`, bound for the team's bucket.
const QUEUE: UploadQueue = UploadQueue {
    table: "material_uploads",
    bucket: BUCKET,
    not_found: |id| CoreError::MaterialNotFound { id: id.to_owned() },
};

/// A material whose file is not stored yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct PendingMaterial {
    /// The id the material will have.
    pub id: String,
    pub title: String,
    pub file_name: String,
    pub file_size: u64,
    /// Bytes the server has confirmed so far (team mode resumable uploads), else 0.
    pub uploaded: u64,
    pub state: UploadState,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub created_at: String,
}

/// The outcome of resuming one interrupted addition.
#[derive(Debug)]
pub struct Resumed {
    pub id: String,
    pub result: Result<Material>,
}

enum Files {
    Local(LocalFileStore),
    Team(Box<TeamStores>),
    /// Team mode with nobody signed in: the cache of team files only (read-only).
    SignedOut(LocalFileStore),
}

struct TeamStores {
    storage: SupabaseStorage,
    cache: CachedStore<BucketStore>,
    budget: u64,
}

/// The library over one local store, in local or team mode.
pub struct MaterialLibrary {
    store: LocalStore,
    files: Files,
    /// Team mode: the data directory's local-mode file store, where files added before the
    /// device joined the team stay until uploaded (see [`joining`]).
    local_files: Option<LocalFileStore>,
}

impl MaterialLibrary {
    /// Local mode: files under `files_root` (normally `<data dir>/files`).
    pub fn local(store: LocalStore, files_root: impl Into<PathBuf>) -> Self {
        Self {
            store,
            files: Files::Local(LocalFileStore::new(files_root)),
            local_files: None,
        }
    }

    /// Team mode with nobody signed in: lists the rows and opens what `cache_root` holds.
    pub fn team_signed_out(store: LocalStore, cache_root: impl Into<PathBuf>) -> Self {
        Self {
            store,
            files: Files::SignedOut(LocalFileStore::new(cache_root)),
            local_files: None,
        }
    }

    /// Team mode: the local-mode file store of the same data directory (`<data dir>/files`),
    /// whose files are uploaded on joining and opened meanwhile.
    pub fn with_local_files(mut self, files_root: impl Into<PathBuf>) -> Self {
        self.local_files = Some(LocalFileStore::new(files_root));
        self
    }

    /// Team mode: files in the team's bucket, cached under `cache_root`.
    pub fn team(store: LocalStore, team: TeamFiles, cache_root: impl Into<PathBuf>) -> Self {
        let bucket = BucketStore::new(team.storage.clone(), BUCKET, "");
        Self {
            store,
            files: Files::Team(Box::new(TeamStores {
                storage: team.storage,
                cache: CachedStore::new(bucket, cache_root, team.cache_budget),
                budget: team.cache_budget,
            })),
            local_files: None,
        }
    }

    /// Team mode, signed in or not.
    pub fn is_team(&self) -> bool {
        !matches!(self.files, Files::Local(_))
    }

    /// Team mode with nobody signed in (what needs the server says "sign in to …").
    pub fn is_signed_out(&self) -> bool {
        matches!(self.files, Files::SignedOut(_))
    }

    /// Checks a file and its metadata and queues it. Nothing is recorded when a check fails:
    /// a hostile or unusable name, content that does not match the extension, an empty file,
    /// a file over the bucket's limit (team mode), bad metadata. An empty title becomes the
    /// file's name without its extension.
    pub async fn queue(&self, src: &Path, meta: &MaterialMeta) -> Result<PendingMaterial> {
        if self.is_signed_out() {
            return Err(CoreError::SignInTo(
                "add materials to the team library".into(),
            ));
        }
        // The name first: a title is derived from it.
        let name = crate::files::names::check_file_name(&file_name_of(src)?)?;
        let mut meta = meta.clone();
        if meta.title.trim().is_empty() {
            meta.title = title_from_name(&name);
        }
        let checked = check_meta(&meta)?;
        let (name, mime, facts) = preflight(src, &name, None)?;
        if let Files::Team(team) = &self.files {
            team.storage
                .check_limits(BUCKET, &name, facts.size, &mime)?;
        }
        let src = std::path::absolute(src).map_err(|e| FileError::io(src, e))?;
        let id = Uuid::now_v7().to_string();
        let now = now_rfc3339();
        let meta_json = serde_json::json!({
            "title": checked.title,
            "description": checked.description,
            "tags": checked.tags,
        });
        let mut tx = self.store.begin_write().await?;
        sqlx::query(
            "INSERT INTO material_uploads (id, source_path, file_name, file_size, meta, \
             object_path, state, error, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, NULL, 'queued', NULL, ?, ?)",
        )
        .bind(&id)
        .bind(src.to_string_lossy().as_ref())
        .bind(&name)
        .bind(i64::try_from(facts.size).unwrap_or(i64::MAX))
        .bind(meta_json.to_string())
        .bind(&now)
        .bind(&now)
        .execute(tx.conn())
        .await
        .map_err(|e| tx.err(e))?;
        tx.commit().await?;
        self.pending_one(&id).await
    }

    /// Stores a queued material's file, then writes its synced row (and forgets the queue
    /// entry) in one transaction. On failure the entry stays with the reason, except when the
    /// input itself is refused (it changed, vanished, or the role may not upload): then the
    /// entry is dropped, as nothing can make it succeed.
    pub async fn upload(&self, id: &str, transfer: &Transfer) -> Result<Material> {
        let job = self.job(id).await?;
        if self.is_signed_out() {
            // Kept queued as it is: it goes after sign-in.
            return Err(CoreError::SignInTo(format!("upload “{}”", job.meta.title)));
        }
        let stored = self.store_file(&job, transfer);
        let record = async |tx: &mut WriteTx, file: MaterialFile| {
            let uuid = meta_rows::parse_id(id)?;
            meta_rows::insert_with_id(tx, uuid, &job.meta, Some(&file)).await
        };
        QUEUE.complete(&self.store, id, stored, record).await
    }

    /// [`Self::queue`] then [`Self::upload`].
    pub async fn add(
        &self,
        src: &Path,
        meta: &MaterialMeta,
        transfer: &Transfer,
    ) -> Result<Material> {
        let pending = self.queue(src, meta).await?;
        self.upload(&pending.id, transfer).await
    }

    /// Drops a pending addition (and its resumable-upload record). The source file is untouched.
    pub async fn discard(&self, id: &str) -> Result<()> {
        QUEUE.discard(&self.store, id).await
    }

    /// Resumes the additions interrupted by an exit or a crash (queued or uploading), oldest
    /// first; failed ones wait for an explicit [`Self::upload`] (retry). `transfer_for` gives
    /// each its progress and cancel handle.
    pub async fn resume_pending(
        &self,
        transfer_for: impl Fn(&PendingMaterial) -> Transfer,
    ) -> Result<Vec<Resumed>> {
        if self.is_signed_out() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for p in queue::to_resume(self.pending().await?, |p| p.state) {
            let result = self.upload(&p.id, &transfer_for(&p)).await;
            out.push(Resumed { id: p.id, result });
        }
        Ok(out)
    }

    /// Additions not finished yet, oldest first.
    pub async fn pending(&self) -> Result<Vec<PendingMaterial>> {
        let ids = QUEUE.ids(&self.store, None).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.pending_one(&id).await?);
        }
        Ok(out)
    }

    async fn pending_one(&self, id: &str) -> Result<PendingMaterial> {
        let (entry, row) = QUEUE.entry(&self.store, id, ", u.meta").await?;
        let meta = meta_of(id, &row)?;
        Ok(PendingMaterial {
            id: entry.id,
            title: meta.title,
            file_name: entry.file_name,
            file_size: entry.file_size,
            uploaded: entry.uploaded,
            state: entry.state,
            error: entry.error,
            created_at: entry.created_at,
        })
    }

    async fn job(&self, id: &str) -> Result<Job> {
        let (file, row) = QUEUE.file(&self.store, id, ", meta").await?;
        Ok(Job {
            meta: meta_of(id, &row)?,
            file,
        })
    }

    async fn store_file(&self, job: &Job, transfer: &Transfer) -> Result<MaterialFile> {
        let file = &job.file;
        let stored = match &self.files {
            Files::SignedOut(_) => {
                return Err(CoreError::SignInTo(format!("upload “{}”", job.meta.title)));
            }
            Files::Local(files) => files.put(&file.src, &file.name, None, transfer).await?,
            Files::Team(team) => {
                let TeamStores {
                    storage,
                    cache,
                    budget,
                } = team.as_ref();
                let stored = QUEUE
                    .upload_to_bucket(
                        &self.store,
                        storage,
                        file,
                        None,
                        |sha256, name| format!("{}/{sha256}/{}", file.id, key_slug(name)),
                        transfer,
                    )
                    .await?;
                // The uploader is likely to open it next; too big for the cache, skip it. (Not
                // as recordings do: this cache holds pins, which keeping a copy must not evict.)
                if stored.size <= *budget / 4 {
                    // Pins first: keeping this copy may evict others, never a pinned one.
                    self.load_pins_into(cache).await?;
                    cache.remember(&file.src).await;
                }
                stored
            }
        };
        Ok(MaterialFile {
            path: stored.key,
            size: stored.size,
            sha256: stored.sha256,
            mime: stored.mime,
        })
    }

    /// The library, newest first, with each file's state and pin.
    pub async fn list(&self, query: &MaterialQuery) -> Result<Vec<MaterialEntry>> {
        let pins = self.pins().await?;
        let mut problems = pins::problems(&self.store).await?;
        let materials = meta_rows::list(&self.store, query).await?;
        Ok(materials
            .into_iter()
            .map(|m| {
                let pinned = pins.iter().any(|p| p == &m.id);
                let problem = problems.remove(&m.id);
                self.entry(m, pinned, problem)
            })
            .collect())
    }

    pub async fn get(&self, id: &str) -> Result<MaterialEntry> {
        let m = meta_rows::get(&self.store, id).await?;
        let pinned = self.pins().await?.contains(&m.id);
        let problem = pins::problems(&self.store).await?.remove(&m.id);
        Ok(self.entry(m, pinned, problem))
    }

    fn entry(&self, m: Material, pinned: bool, problem: Option<FileProblem>) -> MaterialEntry {
        let (file_state, file_problem) = self.file_state(&m, pinned, problem);
        MaterialEntry {
            file_name: file_name_for(&m),
            file_state,
            pinned,
            file_problem,
            material: m,
        }
    }

    /// A material's file state from its key, the pin and any recorded problem. A bare SHA-256
    /// key is a local-mode file; in team mode it means "not in the team's storage yet".
    fn file_state(
        &self,
        m: &Material,
        pinned: bool,
        problem: Option<FileProblem>,
    ) -> (FileState, Option<FileProblem>) {
        let Some(key) = m.file_path.as_deref() else {
            return (FileState::Missing, None);
        };
        let cache = match &self.files {
            Files::Local(files) => {
                return match files.object_path(key) {
                    Some(p) if p.is_file() => (FileState::Stored, None),
                    _ => (FileState::Missing, None),
                };
            }
            Files::Team(team) => team.cache.cache_store(),
            Files::SignedOut(cache) => cache,
        };
        if !is_team_key(key) {
            let here = self
                .local_files
                .as_ref()
                .and_then(|l| l.object_path(key))
                .is_some_and(|p| p.is_file());
            return match problem {
                Some(p) if here && p.direction == TransferDirection::Upload => {
                    if p.reason == FileProblemReason::Forbidden {
                        (FileState::LocalOnly, Some(p))
                    } else {
                        (FileState::Failed, Some(p))
                    }
                }
                _ => (FileState::QueuedUpload, None),
            };
        }
        if cache_has(cache, key) || self.local_copy(key).is_some() {
            return (FileState::Cached, None);
        }
        if !pinned {
            return (FileState::Synced, None);
        }
        if self.is_signed_out() {
            let problem = FileProblem {
                direction: TransferDirection::Download,
                reason: FileProblemReason::SignedOut,
                message: format!("sign in to download “{}” for offline use", m.title),
                attempts: problem.as_ref().map_or(0, |p| p.attempts),
                failed_at: problem.map(|p| p.failed_at).unwrap_or_default(),
            };
            return (FileState::Failed, Some(problem));
        }
        match problem {
            Some(p) if p.direction == TransferDirection::Download => (FileState::Failed, Some(p)),
            _ => (FileState::QueuedDownload, None),
        }
    }

    /// The local-mode store's copy of a team file's content, when this device has one (it
    /// added the file before joining the team).
    fn local_copy(&self, key: &str) -> Option<PathBuf> {
        let digest = crate::files::digest_of_key(key)?;
        self.local_files
            .as_ref()?
            .object_path(digest)
            .filter(|p| p.is_file())
    }

    /// Writes a material's file to `dest` (verified against its SHA-256; atomically).
    pub async fn get_file(&self, id: &str, dest: &Path, transfer: &Transfer) -> Result<u64> {
        let m = meta_rows::get(&self.store, id).await?;
        let key = m.file_path.ok_or_else(|| {
            CoreError::InvalidInput(format!("the material {id} has no file attached"))
        })?;
        // Team mode: this device's own local-mode copy first (not uploaded yet, or kept).
        if let Some(local) = &self.local_files
            && let Some(digest) = crate::files::digest_of_key(&key)
            && local.object_path(digest).is_some_and(|p| p.is_file())
        {
            return Ok(local.get(digest, dest, transfer).await?);
        }
        if self.is_team() && !is_team_key(&key) {
            return Err(CoreError::FileUnavailable(format!(
                "“{}” is not in the team library yet: it was added in local mode on another \
                 device and goes up when an admin is signed in there",
                m.title
            )));
        }
        let size = match &self.files {
            Files::Local(files) => files.get(&key, dest, transfer).await?,
            Files::Team(team) => {
                self.load_pins_into(&team.cache).await?;
                team.cache.get(&key, dest, transfer).await?
            }
            Files::SignedOut(cache) => {
                let digest = crate::files::digest_of_key(&key).unwrap_or(&key);
                match cache.get(digest, dest, transfer).await {
                    Ok(size) => size,
                    Err(FileError::NotFound { .. }) => {
                        return Err(CoreError::SignInTo(format!(
                            "download “{}” (it is not kept on this device)",
                            m.title
                        )));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        Ok(size)
    }

    /// A verified copy of a previewable material (image, video, audio, PDF) in `dir`, named
    /// `{id}.{ext}` so that whatever serves it can tell its type; reused while it matches.
    pub async fn preview_copy(&self, id: &str, dir: &Path) -> Result<MaterialPreview> {
        let m = meta_rows::get(&self.store, id).await?;
        let mime = m.mime_type.clone().unwrap_or_default();
        if !matches!(
            m.kind,
            MaterialKind::Image | MaterialKind::Video | MaterialKind::Audio | MaterialKind::Pdf
        ) {
            return Err(CoreError::InvalidInput(format!(
                "“{}” cannot be previewed in the app; save it and open it with another app",
                m.title
            )));
        }
        let ext = crate::files::sniff::extension_for_mime(&mime).unwrap_or("bin");
        std::fs::create_dir_all(dir).map_err(|e| FileError::io(dir, e))?;
        let dest = dir.join(format!("{}.{ext}", m.id));
        let fresh = std::fs::metadata(&dest)
            .map(|meta| Some(meta.len()) == m.file_size)
            .unwrap_or(false);
        if !fresh {
            self.get_file(&m.id, &dest, &Transfer::default()).await?;
        }
        Ok(MaterialPreview {
            path: dest.display().to_string(),
            mime,
            kind: m.kind,
        })
    }

    /// A verified copy of a material's file for the system's own app to open, at
    /// `dir/{id}/{file name}` (the app shows the name in its title). A copy already there is
    /// reused only when its SHA-256 still matches the record: the opened app may have changed
    /// it, and that must not reach the next opening.
    pub async fn open_copy(&self, id: &str, dir: &Path) -> Result<PathBuf> {
        let m = meta_rows::get(&self.store, id).await?;
        let folder = dir.join(&m.id);
        std::fs::create_dir_all(&folder).map_err(|e| FileError::io(&folder, e))?;
        let dest = folder.join(file_name_for(&m));
        let fresh = match (&m.file_sha256, dest.exists()) {
            (Some(want), true) => hash_file(&dest).await.is_ok_and(|got| got == *want),
            _ => false,
        };
        if !fresh {
            self.get_file(&m.id, &dest, &Transfer::default()).await?;
        }
        Ok(dest)
    }

    async fn load_pins_into(&self, cache: &CachedStore<BucketStore>) -> Result<()> {
        cache.set_pinned(crate::files::offline::pinned_digests(&self.store).await?);
        Ok(())
    }

    async fn pins(&self) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT material_id FROM material_pins")
            .fetch_all(self.store.pool())
            .await
            .map_err(|e| self.store.err(e))
    }

    pub async fn update(&self, id: &str, change: &MaterialUpdate) -> Result<Material> {
        let mut tx = self.store.begin_write().await?;
        let m = meta_rows::update(&mut tx, id, change).await?;
        tx.commit().await?;
        Ok(m)
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        meta_rows::soft_delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn restore(&self, id: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        meta_rows::restore(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A link anyone holding it can download the material's file with until it expires (a
    /// Storage signed URL). Local mode has no server to serve such a link, so it is refused
    /// with the way out: save the file and send it.
    pub async fn share_link(&self, id: &str, valid_for: std::time::Duration) -> Result<ShareLink> {
        if !(SHARE_MIN..=SHARE_MAX).contains(&valid_for) {
            return Err(CoreError::InvalidInput(format!(
                "a share link lasts from 1 minute to 30 days, not {} minutes",
                valid_for.as_secs() / 60
            )));
        }
        let m = meta_rows::get(&self.store, id).await?;
        let key = m.file_path.ok_or_else(|| {
            CoreError::InvalidInput(format!("the material {id} has no file attached"))
        })?;
        let Files::Team(team) = &self.files else {
            return Err(CoreError::InvalidInput(
                "share links need team mode (the file is only on this device); save a copy \
                 and send it instead"
                    .into(),
            ));
        };
        let url = team.storage.signed_url(BUCKET, &key, valid_for).await?;
        let expires_at = chrono::Utc::now()
            + chrono::Duration::from_std(valid_for).unwrap_or_else(|_| chrono::Duration::days(30));
        Ok(ShareLink {
            url,
            expires_at: expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
    }
}

const SHARE_MIN: std::time::Duration = std::time::Duration::from_secs(60);
const SHARE_MAX: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// A download link for someone without the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct ShareLink {
    pub url: String,
    /// When the link stops working (RFC 3339, UTC).
    pub expires_at: String,
}

struct Job {
    file: QueuedFile,
    meta: MaterialMeta,
}

/// A queue entry's metadata (title, description, tags as given), kept as JSON.
fn meta_of(id: &str, row: &sqlx::sqlite::SqliteRow) -> Result<MaterialMeta> {
    serde_json::from_str(row.get::<&str, _>("meta"))
        .map_err(|e| CoreError::Store(format!("pending material {id} is unreadable: {e}")))
}

fn file_name_of(src: &Path) -> Result<String> {
    let name = src
        .file_name()
        .ok_or_else(|| CoreError::InvalidInput(format!("{} is not a file", src.display())))?;
    name.to_str().map(str::to_owned).ok_or_else(|| {
        CoreError::InvalidInput(format!(
            "the file name of {} is not valid Unicode; rename the file and try again",
            src.display()
        ))
    })
}

/// Whether a key names an object in the team's bucket (`{id}/{sha256}/{name}`), not a file in
/// a local-mode store (a bare SHA-256).
pub fn is_team_key(key: &str) -> bool {
    key.contains('/')
}

/// Whether a content-addressed cache holds the file a key names.
fn cache_has(cache: &LocalFileStore, key: &str) -> bool {
    crate::files::digest_of_key(key)
        .and_then(|d| cache.object_path(d))
        .is_some_and(|p| p.is_file())
}

/// A name to save a material's file under: the slug kept in a team key, else the title as a
/// slug with the extension its MIME type usually has.
pub fn file_name_for(m: &Material) -> String {
    if let Some((_, slug)) = m.file_path.as_deref().and_then(|k| k.rsplit_once('/')) {
        return slug.to_owned();
    }
    let stem = key_slug(&m.title);
    match m
        .mime_type
        .as_deref()
        .and_then(crate::files::sniff::extension_for_mime)
    {
        Some(ext) if !stem.to_ascii_lowercase().ends_with(&format!(".{ext}")) => {
            format!("{stem}.{ext}")
        }
        _ => stem,
    }
}

/// A title from a file name: the name without its extension, `_`/`-` read as spaces.
fn title_from_name(name: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    let title: String = stem
        .chars()
        .map(|c| if c == '_' { ' ' } else { c })
        .collect();
    let title = title.trim();
    if title.is_empty() {
        name.to_owned()
    } else {
        title.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn library() -> (tempfile::TempDir, MaterialLibrary) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("s.db")).await.unwrap();
        let lib = MaterialLibrary::local(store, dir.path().join("files"));
        (dir, lib)
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[tokio::test]
    async fn add_get_and_state_in_local_mode() {
        let (dir, lib) = library().await;
        let src = write(dir.path(), "Q3_pricing.txt", b"Pricing notes for Q3\n");
        let m = lib
            .add(
                &src,
                &MaterialMeta {
                    tags: vec!["pricing".into()],
                    ..Default::default()
                },
                &Transfer::default(),
            )
            .await
            .unwrap();
        assert_eq!(m.title, "Q3 pricing");
        assert_eq!(m.file_size, Some(21));
        assert_eq!(m.mime_type.as_deref(), Some("text/plain"));
        assert!(lib.pending().await.unwrap().is_empty());
        let entries = lib.list(&MaterialQuery::default()).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].file_state, FileState::Stored);
        assert_eq!(entries[0].file_name, "Q3_pricing.txt");
        let out = dir.path().join("out.txt");
        assert_eq!(
            lib.get_file(&m.id, &out, &Transfer::default())
                .await
                .unwrap(),
            21
        );
        assert_eq!(std::fs::read(&out).unwrap(), b"Pricing notes for Q3\n");
        let err = lib
            .preview_copy(&m.id, &dir.path().join("p"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("cannot be previewed"), "{err}");
        let png = write(
            dir.path(),
            "logo.png",
            &[
                0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D',
                b'R',
            ],
        );
        let img = lib
            .add(&png, &MaterialMeta::default(), &Transfer::default())
            .await
            .unwrap();
        let preview = lib
            .preview_copy(&img.id, &dir.path().join("p"))
            .await
            .unwrap();
        assert!(preview.path.ends_with(&format!("{}.png", img.id)));
        assert_eq!(
            std::fs::read(&preview.path).unwrap(),
            std::fs::read(&png).unwrap()
        );
        lib.pin(&m.id).await.unwrap();
        assert_eq!(lib.get(&m.id).await.unwrap().file_state, FileState::Stored);
        assert!(lib.get(&m.id).await.unwrap().pinned);
        lib.unpin(&m.id).await.unwrap();
        assert!(!lib.get(&m.id).await.unwrap().pinned);
    }

    #[tokio::test]
    async fn open_copies_are_named_verified_and_replaced_when_changed() {
        let (dir, lib) = library().await;
        let src = write(dir.path(), "Objection guide.txt", b"Handle price first\n");
        let m = lib
            .add(&src, &MaterialMeta::default(), &Transfer::default())
            .await
            .unwrap();
        let opened = dir.path().join("open");
        let path = lib.open_copy(&m.id, &opened).await.unwrap();
        assert_eq!(path, opened.join(&m.id).join("Objection_guide.txt"));
        assert_eq!(std::fs::read(&path).unwrap(), b"Handle price first\n");
        // The system app edited the copy: the next opening gets the recorded bytes back.
        std::fs::write(&path, b"Handle price LAST\n").unwrap();
        let again = lib.open_copy(&m.id, &opened).await.unwrap();
        assert_eq!(std::fs::read(&again).unwrap(), b"Handle price first\n");
        let err = lib
            .open_copy("0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d", &opened)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotFound, "{err}");
        // An id is never a path: a hostile one is refused before anything is made.
        let err = lib.open_copy("../../escape", &opened).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        assert!(!dir.path().join("escape").exists());

        // PDFs preview in the app (rendered by the page), like images.
        let pdf = write(dir.path(), "deck.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n");
        let deck = lib
            .add(&pdf, &MaterialMeta::default(), &Transfer::default())
            .await
            .unwrap();
        let preview = lib
            .preview_copy(&deck.id, &dir.path().join("p"))
            .await
            .unwrap();
        assert_eq!(preview.kind, MaterialKind::Pdf);
        assert!(preview.path.ends_with(&format!("{}.pdf", deck.id)));
    }

    #[tokio::test]
    async fn refused_input_records_nothing() {
        let (dir, lib) = library().await;
        let png = [
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
        ];
        let cases = [
            (write(dir.path(), "empty.pdf", b""), "empty"),
            (
                write(dir.path(), "fake.pdf", &png),
                "does not contain what its extension says",
            ),
            (write(dir.path(), "CON.txt", b"hello"), "cannot be used"),
        ];
        for (path, expected) in cases {
            let err = lib
                .add(&path, &MaterialMeta::default(), &Transfer::default())
                .await
                .unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        }
        let ok = write(dir.path(), "ok.txt", b"fine");
        let err = lib
            .add(
                &ok,
                &MaterialMeta {
                    title: "x".repeat(501),
                    ..Default::default()
                },
                &Transfer::default(),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("keep it to 500"), "{err}");
        let missing = dir.path().join("missing.txt");
        assert!(
            lib.add(&missing, &MaterialMeta::default(), &Transfer::default())
                .await
                .is_err()
        );
        assert!(lib.pending().await.unwrap().is_empty());
        assert!(
            lib.list(&MaterialQuery::default())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn interrupted_additions_resume_and_failed_ones_wait_for_a_retry() {
        let (dir, lib) = library().await;
        let a = write(dir.path(), "a.txt", b"first file");
        let b = write(dir.path(), "b.txt", b"second file");
        // A crash after queueing: the entry is there, no material yet.
        let queued = lib.queue(&a, &MaterialMeta::default()).await.unwrap();
        assert_eq!(queued.state, UploadState::Queued);
        // A cancelled one fails with a reason and keeps its entry.
        let cancelled = lib.queue(&b, &MaterialMeta::default()).await.unwrap();
        let transfer = Transfer::default();
        transfer.cancel.cancel();
        let err = lib.upload(&cancelled.id, &transfer).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Cancelled);
        let pending = lib.pending().await.unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[1].state, UploadState::Failed);
        assert!(pending[1].error.as_deref().unwrap().contains("cancelled"));

        let resumed = lib.resume_pending(|_| Transfer::default()).await.unwrap();
        assert_eq!(resumed.len(), 1);
        let m = resumed.into_iter().next().unwrap().result.unwrap();
        assert_eq!(
            m.id, queued.id,
            "the material keeps the id it was queued under"
        );
        assert_eq!(lib.pending().await.unwrap().len(), 1);

        lib.upload(&cancelled.id, &Transfer::default())
            .await
            .unwrap();
        assert!(lib.pending().await.unwrap().is_empty());
        assert_eq!(lib.list(&MaterialQuery::default()).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_source_gone_before_upload_drops_the_entry() {
        let (dir, lib) = library().await;
        let a = write(dir.path(), "a.txt", b"will vanish");
        let queued = lib.queue(&a, &MaterialMeta::default()).await.unwrap();
        std::fs::remove_file(&a).unwrap();
        let err = lib
            .upload(&queued.id, &Transfer::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        assert!(lib.pending().await.unwrap().is_empty());
        assert!(
            lib.list(&MaterialQuery::default())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn titles_from_names() {
        assert_eq!(title_from_name("Q3_pricing deck.pdf"), "Q3 pricing deck");
        assert_eq!(title_from_name(".hidden"), ".hidden");
        assert_eq!(title_from_name("notes"), "notes");
    }
}
