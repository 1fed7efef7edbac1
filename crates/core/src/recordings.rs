//! Call recordings: an audio or video file kept with an analysis, in the local file store
//! (local mode) or the user's own folder of the `call-recordings` bucket (team mode), listed
//! with the analysis whoever owns it, and copied back to disk for playback, saving or opening.
//!
//! Attaching uses the upload queue materials use too (`crate::files::queue`): the recording
//! waits in the local-only `recording_uploads` queue until its file is stored, and only then
//! is the synced `call_recordings` row written (with its outbox entry, in one transaction), so
//! an exit, a crash or a cut never leaves a row without a file and the upload resumes at the
//! next start ([`RecordingLibrary::resume_pending`]; the TUS offset is kept by `files::tus`).
//!
//! Only team-stored rows are synced: a file in one device's local store is of no use to a
//! teammate (the remote table refuses such rows). Team files are fetched on demand into a cache
//! of their own (`cache/recordings`), apart from the materials' cache whose pins it must not
//! evict. Left out: transcription (a later issue) and deleting recordings.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::data::analyses;
use crate::data::local::{LocalStore, RowOp, WriteTx};
use crate::error::{CoreError, Result};
use crate::files::names::key_slug;
use crate::files::queue::{self, QueuedFile, UploadQueue};
use crate::files::{
    BucketStore, CachedStore, FileError, FileStore, LocalFileStore, StoredFile, SupabaseStorage,
    Transfer, digest_of_key, hash_file, preflight,
};
use crate::materials::{FileState, UploadState};
use crate::time::now_rfc3339;

/// The Storage bucket of call recordings (created by the remote migrations).
pub const BUCKET: &str = "call-recordings";

/// The synced table.
pub const TABLE: &str = "call_recordings";

/// The attaches' queue: `recording_uploads`, bound for the recordings' bucket.
const QUEUE: UploadQueue = UploadQueue {
    table: "recording_uploads",
    bucket: BUCKET,
    not_found,
};

/// A stored recording, as the analysis detail lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Recording {
    pub id: String,
    pub analysis_id: String,
    /// `local` or `team`: where the file was stored.
    pub store: String,
    pub file_key: String,
    pub file_name: String,
    pub file_size: u64,
    pub file_sha256: String,
    pub mime_type: String,
    pub created_at: String,
    /// Who attached it (team mode, once synced); `None` for this device's unsynced rows.
    pub owner_id: Option<String>,
    /// Whether the file is on this device (stored, cached) or must be downloaded (synced).
    pub file_state: FileState,
}

/// Audio or video: which player the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RecordingKind {
    Audio,
    Video,
}

/// A verified local copy of a recording for the page's player.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct RecordingPreview {
    pub path: String,
    pub mime: String,
    pub kind: RecordingKind,
}

// Its own type though it mostly repeats `PendingMaterial`: each reaches the UI as a generated
// type with its kind's fields (so `files::queue::QueuedEntry` is copied into it, not shared).
/// A recording whose file is not stored yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct PendingRecording {
    /// The id the recording will have.
    pub id: String,
    pub analysis_id: String,
    pub file_name: String,
    pub file_size: u64,
    /// Bytes the server has confirmed so far (team mode resumable uploads), else 0.
    pub uploaded: u64,
    pub state: UploadState,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub created_at: String,
}

/// The outcome of resuming one interrupted attach.
#[derive(Debug)]
pub struct ResumedRecording {
    pub id: String,
    pub result: Result<Recording>,
}

/// Team mode: the Storage client, the signed-in user (their folder) and the cache.
pub struct TeamRecordings {
    pub storage: SupabaseStorage,
    pub user_id: String,
}

enum Files {
    Local,
    Team(Box<TeamFiles>),
    /// A team project is set up but its Storage cannot be used now (signed out): local-store
    /// rows and cached copies still play; anything else answers `why`.
    Unavailable {
        why: Box<CoreError>,
    },
}

struct TeamFiles {
    storage: SupabaseStorage,
    user_id: String,
    cache: CachedStore<BucketStore>,
}

/// The recordings over one local store, in the mode the caller found.
pub struct RecordingLibrary {
    store: LocalStore,
    /// The local file store (`<data dir>/files`): local-mode recordings, whatever the mode now.
    local: LocalFileStore,
    /// Cached team recordings (`<data dir>/cache/recordings`).
    cache_root: PathBuf,
    files: Files,
}

impl RecordingLibrary {
    /// Local mode.
    pub fn local(store: LocalStore, files_root: PathBuf, cache_root: PathBuf) -> Self {
        Self {
            store,
            local: LocalFileStore::new(files_root),
            cache_root,
            files: Files::Local,
        }
    }

    /// Team mode: new recordings go to `{user id}/…` of the bucket; teammates' are read from it.
    pub fn team(
        store: LocalStore,
        files_root: PathBuf,
        cache_root: PathBuf,
        team: TeamRecordings,
        cache_budget: u64,
    ) -> Self {
        let bucket = BucketStore::new(team.storage.clone(), BUCKET, "");
        Self {
            store,
            local: LocalFileStore::new(files_root),
            files: Files::Team(Box::new(TeamFiles {
                storage: team.storage,
                user_id: team.user_id,
                cache: CachedStore::new(bucket, &cache_root, cache_budget),
            })),
            cache_root,
        }
    }

    /// Team mode that cannot reach Storage now (`why`: signed out, …): reading what is on this
    /// device still works; attaching and downloading answer `why`.
    pub fn unavailable(
        store: LocalStore,
        files_root: PathBuf,
        cache_root: PathBuf,
        why: CoreError,
    ) -> Self {
        Self {
            store,
            local: LocalFileStore::new(files_root),
            cache_root,
            files: Files::Unavailable { why: Box::new(why) },
        }
    }

    fn team_or_err(&self) -> Result<Option<(&SupabaseStorage, &str)>> {
        match &self.files {
            Files::Local => Ok(None),
            Files::Team(team) => Ok(Some((&team.storage, team.user_id.as_str()))),
            Files::Unavailable { why } => Err(clone_error(why)),
        }
    }

    /// Checks a recording and queues it. Nothing is recorded when a check fails: an analysis
    /// that does not exist, a hostile or unusable name, a file that is not audio or video
    /// (content sniffed, not the extension's word), an empty file, over the bucket's limit.
    pub async fn queue(&self, analysis_id: &str, src: &Path) -> Result<PendingRecording> {
        let team = self.team_or_err()?;
        let analysis = analyses::get(&self.store, analysis_id).await?;
        let name = file_name_of(src)?;
        let name = crate::files::names::check_file_name(&name)?;
        let sniffed = crate::files::sniff::check_file(src, &name)?;
        if !is_audio_or_video(&sniffed.mime) {
            return Err(CoreError::InvalidInput(format!(
                "“{name}” is {}, not an audio or video recording; drop the call's recording here, \
                 and paste or drop its transcript in the transcript box",
                sniffed.mime
            )));
        }
        let (name, mime, facts) = preflight(src, &name, Some(&sniffed.mime))?;
        if let Some((storage, _)) = team {
            storage.check_limits(BUCKET, &name, facts.size, &mime)?;
        }
        let src = std::path::absolute(src).map_err(|e| FileError::io(src, e))?;
        let id = Uuid::now_v7().to_string();
        let now = now_rfc3339();
        sqlx::query(
            "INSERT INTO recording_uploads (id, analysis_id, source_path, file_name, file_size, \
             mime_type, object_path, state, error, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, NULL, 'queued', NULL, ?, ?)",
        )
        .bind(&id)
        .bind(&analysis.id)
        .bind(src.to_string_lossy().as_ref())
        .bind(&name)
        .bind(i64::try_from(facts.size).unwrap_or(i64::MAX))
        .bind(&mime)
        .bind(&now)
        .bind(&now)
        .execute(self.store.pool())
        .await
        .map_err(|e| self.store.err(e))?;
        self.pending_one(&id).await
    }

    /// Stores a queued recording's file, then writes its row (and forgets the queue entry) in
    /// one transaction. On failure the entry stays with the reason, except when the input
    /// itself is refused (changed, vanished, not allowed): nothing can make that succeed.
    pub async fn upload(&self, id: &str, transfer: &Transfer) -> Result<Recording> {
        let job = self.job(id).await?;
        // Signed out is no failure of this upload: it stays as it was, and resumes once the
        // user is back (a start while signed out must not turn it into a failed one).
        self.team_or_err()?;
        let stored = self.store_file(&job, transfer);
        let record = async |tx: &mut WriteTx, (store, file): (&str, StoredFile)| {
            let now = now_rfc3339();
            sqlx::query(
                "INSERT INTO call_recordings (id, analysis_id, store, file_key, file_name, \
                 file_size, file_sha256, mime_type, created_at, owner_id, updated_at, \
                 deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL)",
            )
            .bind(&job.file.id)
            .bind(&job.analysis_id)
            .bind(store)
            .bind(&file.key)
            .bind(&job.file.name)
            .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
            .bind(&file.sha256)
            .bind(&file.mime)
            .bind(&now)
            .bind(&now)
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
            // Only team files are synced (see the module docs): a local-store row stays on
            // this device and so has no outbox entry.
            if store == "team" {
                tx.record(TABLE, job.file.id.clone(), RowOp::Upsert);
            }
            Ok(())
        };
        QUEUE.complete(&self.store, id, stored, record).await?;
        self.get(id).await
    }

    /// [`Self::queue`] then [`Self::upload`].
    pub async fn attach(
        &self,
        analysis_id: &str,
        src: &Path,
        transfer: &Transfer,
    ) -> Result<Recording> {
        let pending = self.queue(analysis_id, src).await?;
        self.upload(&pending.id, transfer).await
    }

    async fn store_file(
        &self,
        job: &Job,
        transfer: &Transfer,
    ) -> Result<(&'static str, StoredFile)> {
        let Some((storage, user_id)) = self.team_or_err()? else {
            let stored = self
                .local
                .put(&job.file.src, &job.file.name, Some(&job.mime), transfer)
                .await?;
            return Ok(("local", stored));
        };
        // The bucket's policies give the owner the folder named by their id; the content's
        // digest in the key makes a repeated upload of the same file land on the same object.
        let stored = QUEUE
            .upload_to_bucket(
                &self.store,
                storage,
                &job.file,
                Some(&job.mime),
                |sha256, name| format!("{user_id}/{sha256}/{}", key_slug(name)),
                transfer,
            )
            .await?;
        if let Files::Team(team) = &self.files {
            // The rep is likely to play it next: keep a copy (best effort).
            team.cache.remember(&job.file.src).await;
        }
        Ok(("team", stored))
    }

    /// Drops a pending attach (and its resumable-upload record). The source file is untouched.
    pub async fn discard(&self, id: &str) -> Result<()> {
        QUEUE.discard(&self.store, id).await
    }

    /// Resumes the attaches an exit or a crash interrupted (queued or uploading), oldest
    /// first; failed ones wait for an explicit [`Self::upload`] (retry).
    pub async fn resume_pending(
        &self,
        transfer_for: impl Fn(&PendingRecording) -> Transfer,
    ) -> Result<Vec<ResumedRecording>> {
        let mut out = Vec::new();
        for p in queue::to_resume(self.pending(None).await?, |p| p.state) {
            let result = self.upload(&p.id, &transfer_for(&p)).await;
            out.push(ResumedRecording { id: p.id, result });
        }
        Ok(out)
    }

    /// Attaches not finished yet (of one analysis, or all), oldest first.
    pub async fn pending(&self, analysis_id: Option<&str>) -> Result<Vec<PendingRecording>> {
        let scope = analysis_id.map(|a| ("analysis_id", a));
        let ids = QUEUE.ids(&self.store, scope).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.pending_one(&id).await?);
        }
        Ok(out)
    }

    async fn pending_one(&self, id: &str) -> Result<PendingRecording> {
        let (entry, row) = QUEUE.entry(&self.store, id, ", u.analysis_id").await?;
        Ok(PendingRecording {
            id: entry.id,
            analysis_id: row.get("analysis_id"),
            file_name: entry.file_name,
            file_size: entry.file_size,
            uploaded: entry.uploaded,
            state: entry.state,
            error: entry.error,
            created_at: entry.created_at,
        })
    }

    async fn job(&self, id: &str) -> Result<Job> {
        let (file, row) = QUEUE
            .file(&self.store, id, ", analysis_id, mime_type")
            .await?;
        Ok(Job {
            analysis_id: row.get("analysis_id"),
            mime: row.get("mime_type"),
            file,
        })
    }

    /// The live recordings of an analysis, whoever attached them, oldest first.
    pub async fn list(&self, analysis_id: &str) -> Result<Vec<Recording>> {
        let analysis = analyses::get(&self.store, analysis_id).await?;
        let rows = sqlx::query(select_sql("analysis_id = ? AND deleted_at IS NULL"))
            .bind(&analysis.id)
            .fetch_all(self.store.pool())
            .await
            .map_err(|e| self.store.err(e))?;
        Ok(rows.iter().map(|r| self.recording_of(r)).collect())
    }

    /// One live recording.
    pub async fn get(&self, id: &str) -> Result<Recording> {
        let id = Uuid::parse_str(id)
            .map_err(|_| CoreError::InvalidInput(format!("{id:?} is not a recording id")))?
            .to_string();
        let row = sqlx::query(select_sql("id = ? AND deleted_at IS NULL"))
            .bind(&id)
            .fetch_optional(self.store.pool())
            .await
            .map_err(|e| self.store.err(e))?
            .ok_or_else(|| not_found(&id))?;
        Ok(self.recording_of(&row))
    }

    fn recording_of(&self, r: &sqlx::sqlite::SqliteRow) -> Recording {
        let store: String = r.get("store");
        let file_key: String = r.get("file_key");
        let file_state = if store == "local" {
            match self.local.object_path(&file_key) {
                Some(p) if p.is_file() => FileState::Stored,
                _ => FileState::Missing,
            }
        } else if self.cached_path(&file_key).is_some() {
            FileState::Cached
        } else {
            FileState::Synced
        };
        Recording {
            id: r.get("id"),
            analysis_id: r.get("analysis_id"),
            store,
            file_key,
            file_name: r.get("file_name"),
            file_size: u64::try_from(r.get::<i64, _>("file_size")).unwrap_or(0),
            file_sha256: r.get("file_sha256"),
            mime_type: r.get("mime_type"),
            created_at: r.get("created_at"),
            owner_id: r.get("owner_id"),
            file_state,
        }
    }

    /// The cached copy of a team file, when there is one.
    fn cached_path(&self, key: &str) -> Option<PathBuf> {
        let digest = digest_of_key(key)?;
        LocalFileStore::new(&self.cache_root)
            .object_path(digest)
            .filter(|p| p.is_file())
    }

    /// Writes a recording's file to `dest`, verified against its SHA-256, atomically: from the
    /// local store, the cache, or (team files not cached) downloaded into the cache first.
    pub async fn get_file(&self, id: &str, dest: &Path, transfer: &Transfer) -> Result<u64> {
        let r = self.get(id).await?;
        if r.store == "local" {
            return match self.local.get(&r.file_key, dest, transfer).await {
                Ok(size) => Ok(size),
                Err(FileError::NotFound { .. }) => Err(CoreError::InvalidInput(format!(
                    "the file of “{}” is missing from this device's file store; it cannot be \
                     played or saved (attach the recording again)",
                    r.file_name
                ))),
                Err(e) => Err(e.into()),
            };
        }
        match &self.files {
            Files::Team(team) => team
                .cache
                .get(&r.file_key, dest, transfer)
                .await
                .map_err(|e| unavailable(&r, e.into())),
            // Signed out (or local mode with a synced row left over): the cache only.
            Files::Unavailable { why } => self
                .cached_copy(&r, dest, transfer)
                .await
                .ok_or_else(|| unavailable(&r, clone_error(why)))?,
            Files::Local => self
                .cached_copy(&r, dest, transfer)
                .await
                .ok_or_else(|| unavailable(&r, CoreError::TeamNotConfigured))?,
        }
    }

    async fn cached_copy(
        &self,
        r: &Recording,
        dest: &Path,
        transfer: &Transfer,
    ) -> Option<Result<u64>> {
        let digest = digest_of_key(&r.file_key)?;
        self.cached_path(&r.file_key)?;
        Some(
            LocalFileStore::new(&self.cache_root)
                .get(digest, dest, transfer)
                .await
                .map_err(CoreError::from),
        )
    }

    /// A verified copy for the page's player in `dir`, named `{id}.{ext}` so that whatever
    /// serves it can tell its type; reused while its size matches.
    pub async fn preview_copy(&self, id: &str, dir: &Path) -> Result<RecordingPreview> {
        let r = self.get(id).await?;
        let kind = if r.mime_type.starts_with("video/") {
            RecordingKind::Video
        } else {
            RecordingKind::Audio
        };
        let ext = crate::files::sniff::extension_for_mime(&r.mime_type).unwrap_or("bin");
        std::fs::create_dir_all(dir).map_err(|e| FileError::io(dir, e))?;
        let dest = dir.join(format!("{}.{ext}", r.id));
        let fresh = std::fs::metadata(&dest).is_ok_and(|m| m.len() == r.file_size);
        if !fresh {
            self.get_file(&r.id, &dest, &Transfer::default()).await?;
        }
        Ok(RecordingPreview {
            path: dest.display().to_string(),
            mime: r.mime_type,
            kind,
        })
    }

    /// A verified copy for the system's own app at `dir/{id}/{file name}`. A copy already
    /// there is reused only while its SHA-256 matches: the app may have changed it.
    pub async fn open_copy(&self, id: &str, dir: &Path) -> Result<PathBuf> {
        let r = self.get(id).await?;
        let folder = dir.join(&r.id);
        std::fs::create_dir_all(&folder).map_err(|e| FileError::io(&folder, e))?;
        let dest = folder.join(key_slug(&r.file_name));
        let fresh = dest.exists() && hash_file(&dest).await.is_ok_and(|h| h == r.file_sha256);
        if !fresh {
            self.get_file(&r.id, &dest, &Transfer::default()).await?;
        }
        Ok(dest)
    }
}

struct Job {
    file: QueuedFile,
    analysis_id: String,
    mime: String,
}

fn select_sql(filter: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "SELECT id, analysis_id, store, file_key, file_name, file_size, file_sha256, mime_type, \
         created_at, owner_id FROM call_recordings WHERE {filter} ORDER BY created_at, id"
    ))
}

fn not_found(id: &str) -> CoreError {
    CoreError::RecordNotFound {
        what: "recording",
        id: id.to_owned(),
    }
}

fn unavailable(r: &Recording, reason: CoreError) -> CoreError {
    match reason {
        // A refused or cancelled download says so itself.
        CoreError::Cancelled | CoreError::Files(FileError::Cancelled) => reason,
        reason => CoreError::RecordingUnavailable {
            name: r.file_name.clone(),
            reason: Box::new(reason),
        },
    }
}

/// Errors are not `Clone` (they carry I/O sources); the reasons kept here are simple ones.
fn clone_error(e: &CoreError) -> CoreError {
    match e {
        CoreError::Auth(crate::auth::AuthError::NotSignedIn) => {
            CoreError::Auth(crate::auth::AuthError::NotSignedIn)
        }
        CoreError::TeamNotConfigured => CoreError::TeamNotConfigured,
        other => CoreError::InvalidInput(other.to_string()),
    }
}

fn is_audio_or_video(mime: &str) -> bool {
    mime.starts_with("audio/") || mime.starts_with("video/")
}

fn file_name_of(src: &Path) -> Result<String> {
    src.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            CoreError::InvalidInput(format!(
                "the file name of {} is not valid Unicode; rename the file and try again",
                src.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::analyses::NewAnalysis;

    fn wav(seconds_of_silence: usize) -> Vec<u8> {
        let data = vec![0u8; 8000 * seconds_of_silence];
        let mut b = b"RIFF".to_vec();
        b.extend(u32::try_from(36 + data.len()).unwrap().to_le_bytes());
        b.extend(b"WAVEfmt ");
        b.extend(16u32.to_le_bytes());
        b.extend(1u16.to_le_bytes()); // PCM
        b.extend(1u16.to_le_bytes()); // mono
        b.extend(8000u32.to_le_bytes());
        b.extend(8000u32.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(8u16.to_le_bytes());
        b.extend(b"data");
        b.extend(u32::try_from(data.len()).unwrap().to_le_bytes());
        b.extend(data);
        b
    }

    async fn setup() -> (tempfile::TempDir, LocalStore, RecordingLibrary, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("s.db")).await.unwrap();
        let lib = RecordingLibrary::local(
            store.clone(),
            dir.path().join("files"),
            dir.path().join("cache"),
        );
        let mut tx = store.begin_write().await.unwrap();
        let record = analyses::insert(
            &mut tx,
            NewAnalysis {
                title: "Discovery call".into(),
                transcript: "Rep: hello\nClient: hi".into(),
                analysis: serde_json::json!({}),
                provider: "offline".into(),
                model: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (dir, store, lib, record.id)
    }

    /// Writes `bytes` as `dir/name` and attaches it to `analysis`, which must be refused.
    async fn refused(
        lib: &RecordingLibrary,
        analysis: &str,
        dir: &Path,
        name: &str,
        bytes: &[u8],
    ) -> CoreError {
        let src = dir.join(name);
        std::fs::write(&src, bytes).unwrap();
        lib.attach(analysis, &src, &Transfer::default())
            .await
            .unwrap_err()
    }

    async fn outbox_rows(store: &LocalStore) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM sync_outbox WHERE table_name = 'call_recordings'")
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_recording_is_stored_listed_and_copied_back_for_playback() {
        let (dir, store, lib, id) = setup().await;
        let src = dir.path().join("Call with Zoë.wav");
        std::fs::write(&src, wav(1)).unwrap();
        let r = lib.attach(&id, &src, &Transfer::default()).await.unwrap();
        assert_eq!(r.analysis_id, id);
        assert_eq!(r.file_name, "Call with Zoë.wav");
        assert_eq!(r.store, "local");
        assert_eq!(r.file_state, FileState::Stored);
        assert!(r.mime_type.starts_with("audio/"), "{}", r.mime_type);
        assert_eq!(r.file_size, std::fs::metadata(&src).unwrap().len());
        assert_eq!(lib.list(&id).await.unwrap(), vec![r.clone()]);
        assert!(lib.pending(None).await.unwrap().is_empty());
        assert_eq!(
            outbox_rows(&store).await,
            0,
            "a local-store row is never pushed"
        );

        let preview = lib
            .preview_copy(&r.id, &dir.path().join("p"))
            .await
            .unwrap();
        assert_eq!(preview.kind, RecordingKind::Audio);
        assert!(
            preview.path.ends_with(&format!("{}.wav", r.id)),
            "{}",
            preview.path
        );
        assert_eq!(std::fs::read(&preview.path).unwrap(), wav(1));

        let opened = lib.open_copy(&r.id, &dir.path().join("o")).await.unwrap();
        assert!(
            opened.ends_with("Call_with_Zo_.wav"),
            "{}",
            opened.display()
        );
        std::fs::write(&opened, b"changed by the other app").unwrap();
        let again = lib.open_copy(&r.id, &dir.path().join("o")).await.unwrap();
        assert_eq!(std::fs::read(&again).unwrap(), wav(1));

        // The file gone from the store: a clear error, and the list says so.
        std::fs::remove_dir_all(dir.path().join("files")).unwrap();
        assert_eq!(lib.get(&r.id).await.unwrap().file_state, FileState::Missing);
        let err = lib
            .get_file(&r.id, &dir.path().join("x.wav"), &Transfer::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        let err = lib.get("../../etc").await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
    }

    #[tokio::test]
    async fn refusals_record_nothing() {
        let (dir, _store, lib, id) = setup().await;
        let dir_path = dir.path();
        // A transcript dropped on the recording box: says where it goes instead.
        let err = refused(&lib, &id, dir_path, "call.txt", b"Rep: hello\n").await;
        assert!(err.to_string().contains("transcript box"), "{err}");
        // Content that does not match the extension.
        let err = refused(&lib, &id, dir_path, "fake.wav", b"not audio at all").await;
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        // Empty.
        refused(&lib, &id, dir_path, "empty.wav", b"").await;
        // A hostile name.
        let err = refused(&lib, &id, dir_path, "CON.wav", &wav(1)).await;
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        // No such analysis.
        let no_analysis = "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d";
        let err = refused(&lib, no_analysis, dir_path, "ok.wav", &wav(1)).await;
        assert_eq!(err.kind(), crate::ErrorKind::NotFound, "{err}");
        assert!(lib.list(&id).await.unwrap().is_empty());
        assert!(lib.pending(None).await.unwrap().is_empty());
        assert!(
            !dir.path().join("files").exists()
                || std::fs::read_dir(dir.path().join("files")).unwrap().count() == 0
        );
    }

    #[tokio::test]
    async fn interrupted_attaches_resume_and_failed_ones_wait_for_a_retry() {
        let (dir, _store, lib, id) = setup().await;
        let a = dir.path().join("a.wav");
        std::fs::write(&a, wav(1)).unwrap();
        let b = dir.path().join("b.wav");
        std::fs::write(&b, wav(2)).unwrap();
        // An exit after queueing: the entry is there, no recording yet.
        let queued = lib.queue(&id, &a).await.unwrap();
        assert_eq!(queued.state, UploadState::Queued);
        assert!(lib.list(&id).await.unwrap().is_empty());
        // A cancelled one fails with a reason and keeps its entry.
        let cancelled = lib.queue(&id, &b).await.unwrap();
        let transfer = Transfer::default();
        transfer.cancel.cancel();
        let err = lib.upload(&cancelled.id, &transfer).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Cancelled);
        let pending = lib.pending(Some(&id)).await.unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[1].state, UploadState::Failed);
        assert!(pending[1].error.as_deref().unwrap().contains("cancelled"));

        let resumed = lib.resume_pending(|_| Transfer::default()).await.unwrap();
        assert_eq!(resumed.len(), 1);
        let r = resumed.into_iter().next().unwrap().result.unwrap();
        assert_eq!(
            r.id, queued.id,
            "the recording keeps the id it was queued under"
        );
        assert_eq!(lib.list(&id).await.unwrap(), vec![r]);

        lib.upload(&cancelled.id, &Transfer::default())
            .await
            .unwrap();
        assert!(lib.pending(None).await.unwrap().is_empty());
        assert_eq!(lib.list(&id).await.unwrap().len(), 2);
        // A source gone before its upload drops the entry.
        let c = dir.path().join("c.wav");
        std::fs::write(&c, wav(3)).unwrap();
        let gone = lib.queue(&id, &c).await.unwrap();
        std::fs::remove_file(&c).unwrap();
        let err = lib
            .upload(&gone.id, &Transfer::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        assert!(lib.pending(None).await.unwrap().is_empty());
        assert_eq!(lib.list(&id).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn signed_out_plays_only_what_is_on_this_device() {
        let (dir, store, _lib, id) = setup().await;
        // A teammate's recording pulled from the team database, not cached here.
        let sha = "ab".repeat(32);
        let rec = Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO call_recordings (id, analysis_id, store, file_key, file_name, file_size, \
             file_sha256, mime_type, created_at, owner_id, updated_at) \
             VALUES (?, ?, 'team', ?, 'call.mp4', 10, ?, 'video/mp4', ?, 'u', ?)",
        )
        .bind(&rec)
        .bind(&id)
        .bind(format!("u/{sha}/call.mp4"))
        .bind(&sha)
        .bind(now_rfc3339())
        .bind(now_rfc3339())
        .execute(store.pool())
        .await
        .unwrap();
        let lib = RecordingLibrary::unavailable(
            store.clone(),
            dir.path().join("files"),
            dir.path().join("cache"),
            CoreError::Auth(crate::auth::AuthError::NotSignedIn),
        );
        let listed = lib.list(&id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].file_state, FileState::Synced);
        assert_eq!(listed[0].owner_id.as_deref(), Some("u"));
        let err = lib
            .preview_copy(&rec, &dir.path().join("p"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::SignedOut, "{err}");
        assert!(err.to_string().contains("call.mp4"), "{err}");
        assert!(err.to_string().contains("sign"), "{err}");
        let err = refused(&lib, &id, dir.path(), "new.wav", &wav(1)).await;
        assert_eq!(err.kind(), crate::ErrorKind::SignedOut, "{err}");
        let src = dir.path().join("new.wav");
        assert!(lib.pending(None).await.unwrap().is_empty());

        // An attach cut by quitting, and the next start happens signed out: it waits, still
        // resumable, instead of turning into a failed one.
        let local = RecordingLibrary::local(
            store.clone(),
            dir.path().join("files"),
            dir.path().join("cache"),
        );
        let queued = local.queue(&id, &src).await.unwrap();
        let resumed = lib.resume_pending(|_| Transfer::default()).await.unwrap();
        assert_eq!(resumed.len(), 1);
        assert_eq!(
            resumed[0].result.as_ref().unwrap_err().kind(),
            crate::ErrorKind::SignedOut
        );
        let pending = lib.pending(None).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id, queued.id);
        assert_eq!(pending[0].state, UploadState::Queued);
    }

    #[tokio::test]
    async fn recordings_stored_before_the_upgrade_are_kept_and_stay_local() {
        // A store at schema 0700 (recordings local-only), then opened by this build.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let all = sqlx::migrate!("../../migrations/local");
        let upto_0700: Vec<_> = all.iter().filter(|m| m.version <= 700).cloned().collect();
        let before = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(upto_0700),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            before.run(&pool).await.unwrap();
            sqlx::query(
                "INSERT INTO call_recordings (id, analysis_id, store, file_key, file_name, \
                 file_size, file_sha256, mime_type, created_at) VALUES ('r1', 'a1', 'local', \
                 'k', 'old.wav', 10, 's', 'audio/wav', '2026-11-01T09:00:00.000Z')",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        }
        let store = LocalStore::open(&path).await.unwrap();
        let (owner, updated, deleted): (Option<String>, String, Option<String>) = sqlx::query_as(
            "SELECT owner_id, updated_at, deleted_at FROM call_recordings WHERE id = 'r1'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!((owner, deleted), (None, None));
        assert_eq!(updated, "2026-11-01T09:00:00.000Z");
        assert_eq!(
            outbox_rows(&store).await,
            0,
            "nothing to push from the upgrade"
        );
    }
}
