//! The local upload queue shared by training materials and call recordings: a file waits in a
//! local-only table (`material_uploads`, `recording_uploads`) until it is stored, and only then
//! is its synced row written, so a crash, a cut or a cancel leaves a resumable entry instead of
//! a row without a file. This module keeps what both tables share (state and failure reason,
//! the object path that links an entry to its resumable upload in `file_uploads`, discarding,
//! resuming) and the team-mode step that hashes and uploads the file. What differs stays with
//! each library: the entry's own columns, its checks, the synced row it becomes, the cache.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::data::local::{LocalStore, WriteTx};
use crate::error::{CoreError, Result};
use crate::files::{
    FileError, SourceFacts, StoredFile, SupabaseStorage, Transfer, hash_file, preflight,
};
use crate::time::now_rfc3339;

/// Where an addition stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// Waiting for its turn (or for the next start, if the app closed first).
    Queued,
    /// Being stored now, or interrupted mid-way (a crash): resumes at the next start.
    Uploading,
    /// Stopped with a reason (cancelled, offline, signed out): retry or discard it.
    Failed,
}

impl UploadState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Uploading => "uploading",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "queued" => Self::Queued,
            "uploading" => Self::Uploading,
            _ => Self::Failed,
        }
    }
}

/// One queue table: its name, the bucket its team uploads go to, and how a missing entry is
/// reported (each library names its own kind of record).
pub(crate) struct UploadQueue {
    /// One of ours (a `&'static str`), never user input: it is formatted into the SQL.
    pub table: &'static str,
    pub bucket: &'static str,
    pub not_found: fn(&str) -> CoreError,
}

/// The columns every queue entry has, as a pending list shows them.
pub(crate) struct QueuedEntry {
    pub id: String,
    pub file_name: String,
    pub file_size: u64,
    /// Bytes the server has confirmed so far (team mode resumable uploads), else 0.
    pub uploaded: u64,
    pub state: UploadState,
    pub error: Option<String>,
    pub created_at: String,
}

/// The file a queue entry is to store.
pub(crate) struct QueuedFile {
    pub id: String,
    pub src: PathBuf,
    pub name: String,
}

impl UploadQueue {
    /// The entries' ids, oldest first; `scope` keeps those whose column equals a value.
    pub async fn ids(
        &self,
        store: &LocalStore,
        scope: Option<(&'static str, &str)>,
    ) -> Result<Vec<String>> {
        let filter = scope.map_or(String::new(), |(column, _)| format!(" WHERE {column} = ?"));
        let sql = format!(
            "SELECT id FROM {}{filter} ORDER BY created_at, id",
            self.table
        );
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        if let Some((_, value)) = scope {
            query = query.bind(value);
        }
        query
            .fetch_all(store.pool())
            .await
            .map_err(|e| store.err(e))
    }

    /// One entry with its confirmed upload offset; `extra` names more of its own columns
    /// (`, u.meta`; ours, as it goes into the SQL), read from the returned row.
    pub async fn entry(
        &self,
        store: &LocalStore,
        id: &str,
        extra: &'static str,
    ) -> Result<(QueuedEntry, SqliteRow)> {
        let sql = format!(
            "SELECT u.id, u.file_name, u.file_size, u.state, u.error, u.created_at, \
             COALESCE(f.confirmed, 0) AS confirmed{extra} \
             FROM {} u LEFT JOIN file_uploads f \
             ON f.bucket = ? AND f.object_path = u.object_path WHERE u.id = ?",
            self.table
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.bucket)
            .bind(id)
            .fetch_optional(store.pool())
            .await
            .map_err(|e| store.err(e))?
            .ok_or_else(|| (self.not_found)(id))?;
        let entry = QueuedEntry {
            id: row.get("id"),
            file_name: row.get("file_name"),
            file_size: u64::try_from(row.get::<i64, _>("file_size")).unwrap_or(0),
            uploaded: u64::try_from(row.get::<i64, _>("confirmed")).unwrap_or(0),
            state: UploadState::parse(row.get::<&str, _>("state")),
            error: row.get("error"),
            created_at: row.get("created_at"),
        };
        Ok((entry, row))
    }

    /// What an entry is to store; `extra` as for [`Self::entry`] (`, mime_type`).
    pub async fn file(
        &self,
        store: &LocalStore,
        id: &str,
        extra: &'static str,
    ) -> Result<(QueuedFile, SqliteRow)> {
        let sql = format!(
            "SELECT source_path, file_name{extra} FROM {} WHERE id = ?",
            self.table
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(store.pool())
            .await
            .map_err(|e| store.err(e))?
            .ok_or_else(|| (self.not_found)(id))?;
        let file = QueuedFile {
            id: id.to_owned(),
            src: PathBuf::from(row.get::<String, _>("source_path")),
            name: row.get("file_name"),
        };
        Ok((file, row))
    }

    /// `error` is the reason the pending list shows, for a failed entry.
    async fn set_state(
        &self,
        store: &LocalStore,
        id: &str,
        state: UploadState,
        error: Option<&str>,
    ) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET state = ?, error = ?, updated_at = ? WHERE id = ?",
            self.table
        );
        let mut tx = store.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(state.as_str())
            .bind(error)
            .bind(now_rfc3339())
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
        tx.commit().await?;
        Ok(())
    }

    /// After a failed store: the entry is dropped when the input itself was refused (it
    /// changed, vanished, or the role may not upload), as nothing can make it succeed; else it
    /// stays, failed, with the reason.
    pub async fn fail(&self, store: &LocalStore, id: &str, e: &CoreError) -> Result<()> {
        if matches!(
            e.kind(),
            crate::ErrorKind::InvalidInput | crate::ErrorKind::Forbidden
        ) {
            self.discard(store, id).await
        } else {
            self.set_state(store, id, UploadState::Failed, Some(&e.to_string()))
                .await
        }
    }

    /// One upload of entry `id`: marks it uploading, awaits `stored` (the file being stored),
    /// then writes the synced row with `record` and forgets the entry in one transaction, so
    /// the row and the entry never both exist nor both vanish. A failed store is settled as
    /// [`Self::fail`] says and returned.
    pub async fn complete<F, T>(
        &self,
        store: &LocalStore,
        id: &str,
        stored: impl Future<Output = Result<F>>,
        record: impl AsyncFnOnce(&mut WriteTx, F) -> Result<T>,
    ) -> Result<T> {
        self.set_state(store, id, UploadState::Uploading, None)
            .await?;
        let file = match stored.await {
            Ok(file) => file,
            Err(e) => {
                self.fail(store, id, &e).await?;
                return Err(e);
            }
        };
        let mut tx = store.begin_write().await?;
        let out = record(&mut tx, file).await?;
        self.finish(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Forgets an entry whose synced row `tx` writes: both land together or neither does.
    async fn finish(&self, tx: &mut WriteTx, id: &str) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE id = ?", self.table);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
        Ok(())
    }

    /// Drops an entry and its resumable-upload record. The source file is untouched.
    pub async fn discard(&self, store: &LocalStore, id: &str) -> Result<()> {
        let mut tx = store.begin_write().await?;
        let sql = format!("SELECT object_path FROM {} WHERE id = ?", self.table);
        let object: Option<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
        let Some(object) = object else {
            return Err((self.not_found)(id));
        };
        if let Some(object) = object {
            sqlx::query("DELETE FROM file_uploads WHERE bucket = ? AND object_path = ?")
                .bind(self.bucket)
                .bind(object)
                .execute(tx.conn())
                .await
                .map_err(|e| tx.err(e))?;
        }
        self.finish(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Team mode: checks, hashes and uploads an entry's file to the bucket under the key
    /// `key_for(sha256, checked name)` gives. `mime` is the type recorded at queueing, if any
    /// (`None`: sniffed again).
    pub async fn upload_to_bucket(
        &self,
        store: &LocalStore,
        storage: &SupabaseStorage,
        file: &QueuedFile,
        mime: Option<&str>,
        key_for: impl FnOnce(&str, &str) -> String,
        transfer: &Transfer,
    ) -> Result<StoredFile> {
        let (name, mime, facts) = preflight(&file.src, &file.name, mime)?;
        storage.check_limits(self.bucket, &name, facts.size, &mime)?;
        let sha256 = hash_file(&file.src).await?;
        facts.still_matches(&file.src)?;
        let size = facts.size;
        let key = key_for(&sha256, &name);
        // Recorded before the first byte, so the pending list can show the resumable
        // upload's confirmed offset.
        let sql = format!("UPDATE {} SET object_path = ? WHERE id = ?", self.table);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&key)
            .bind(&file.id)
            .execute(store.pool())
            .await
            .map_err(|e| store.err(e))?;
        put_content_keyed(
            storage,
            self.bucket,
            &key,
            &file.src,
            &mime,
            facts,
            sha256.clone(),
            transfer,
        )
        .await?;
        Ok(StoredFile {
            key,
            size,
            sha256,
            mime,
        })
    }
}

/// Uploads to a key that names the content (its SHA-256 is in it): an object already there is
/// this file (an earlier attempt finished on the server before this device recorded it).
#[allow(clippy::too_many_arguments)] // the storage call's own arguments, passed through
pub(crate) async fn put_content_keyed(
    storage: &SupabaseStorage,
    bucket: &str,
    key: &str,
    src: &Path,
    mime: &str,
    facts: SourceFacts,
    sha256: String,
    transfer: &Transfer,
) -> Result<()> {
    match storage
        .upload_checked(bucket, key, src, mime, false, facts, sha256, transfer)
        .await
    {
        Ok(_) | Err(FileError::Exists { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The entries to resume after an exit or a crash (queued or uploading), in the order given
/// (oldest first): failed ones wait for an explicit retry.
pub(crate) fn to_resume<P>(
    pending: Vec<P>,
    state: impl Fn(&P) -> UploadState,
) -> impl Iterator<Item = P> {
    pending
        .into_iter()
        .filter(move |p| state(p) != UploadState::Failed)
}
