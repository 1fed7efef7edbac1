//! Resumable uploads: the TUS 1.0.0 protocol as Supabase Storage serves it at
//! `/storage/v1/upload/resumable`. The upload URL and the offset the server confirmed are kept
//! in the local store (`file_uploads`), so a cut, a crash or a restart resumes where the server
//! says it stopped. Chunks are streamed from disk (memory stays flat whatever the size) in the
//! 6 MB pieces Supabase requires.
//!
//! What each answer means here:
//! - transport error or 5xx: wait, `HEAD` for the offset, continue (up to `max_attempts` in a
//!   row without progress; the row is kept, so a later call resumes);
//! - 409: our offset is not the server's: `HEAD` and continue from its offset;
//! - 404 / 410: the upload is unknown or expired: start over with a new one;
//! - 401 / 403: refresh the token once ([`super::supabase::SupabaseStorage::send_authed`]).
//!
//! Before the last chunk the whole source is hashed again: if it changed since the upload
//! began, the last chunk is never sent, so the server never completes a mixed object.

use std::io::{Seek, SeekFrom};
use std::path::Path;

use base64::Engine;
use sqlx::Row;

use super::progress::Meter;
use super::supabase::{ApiError, Reply, SupabaseStorage};
use super::{FileError, SourceFacts, Transfer, hash_file};

const TUS_VERSION: &str = "1.0.0";
/// How many times an upload may be started over (expired URL) in one call.
const MAX_RESTARTS: u32 = 2;
/// Read size when streaming a chunk from disk.
const READ_BLOCK: usize = 256 * 1024;

pub(crate) struct Job<'a> {
    pub bucket: &'a str,
    pub object_path: &'a str,
    pub src: &'a Path,
    pub content_type: &'a str,
    pub upsert: bool,
    pub facts: SourceFacts,
    pub sha256: String,
}

/// A persisted upload in progress.
#[derive(Debug, Clone)]
struct Tracked {
    url: String,
    confirmed: u64,
}

/// Uploads `job`; returns the offset it resumed from (0 for a fresh upload).
pub(crate) async fn upload(
    storage: &SupabaseStorage,
    job: &Job<'_>,
    transfer: &Transfer,
) -> Result<u64, FileError> {
    let size = job.facts.size;
    let mut restarts = 0;
    let mut tracked = match load(storage, job).await? {
        Some(t) => match head(storage, job, &t.url).await? {
            Some(offset) => Tracked {
                url: t.url,
                confirmed: offset,
            },
            None => {
                tracing::info!(bucket = job.bucket, "saved upload expired; starting over");
                create(storage, job).await?
            }
        },
        None => create(storage, job).await?,
    };
    let resumed_from = tracked.confirmed;
    save_offset(storage, job, tracked.confirmed).await?;
    let meter = Meter::new(resumed_from, size);
    meter.report(transfer, tracked.confirmed);
    let mut failures = 0u32;
    while tracked.confirmed < size {
        transfer.check_cancel()?;
        if let Err(e) = job.facts.still_matches(job.src) {
            // That content can never complete: forget the upload rather than resume it.
            delete_row(storage, job).await?;
            return Err(e);
        }
        let len = storage.config.chunk_size.min(size - tracked.confirmed);
        let last = tracked.confirmed + len == size;
        if last && hash_file(job.src).await? != job.sha256 {
            delete_row(storage, job).await?;
            return Err(FileError::SourceChanged {
                path: job.src.to_owned(),
            });
        }
        match patch(storage, job, &tracked.url, tracked.confirmed, len).await {
            Ok(Patched::Offset(offset)) => {
                failures = 0;
                tracked.confirmed = offset;
                save_offset(storage, job, offset).await?;
                meter.report(transfer, offset);
            }
            Ok(Patched::Conflict) => {
                failures += 1;
                match head(storage, job, &tracked.url).await? {
                    Some(offset) => tracked.confirmed = offset,
                    None => {
                        restart(storage, job, &mut tracked, &mut restarts).await?;
                    }
                }
            }
            Ok(Patched::Gone) => {
                restart(storage, job, &mut tracked, &mut restarts).await?;
            }
            Err(e @ FileError::Network { .. }) => {
                failures += 1;
                if failures >= storage.config.max_attempts {
                    return Err(e);
                }
                tracing::debug!(
                    failures,
                    "upload chunk failed; asking the server where it stopped"
                );
                tokio::time::sleep(storage.backoff(failures)).await;
                transfer.check_cancel()?;
                match head(storage, job, &tracked.url).await {
                    Ok(Some(offset)) => tracked.confirmed = offset,
                    Ok(None) => restart(storage, job, &mut tracked, &mut restarts).await?,
                    // Still unreachable: the next PATCH will tell (and count).
                    Err(FileError::Network { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        if failures >= storage.config.max_attempts {
            return Err(FileError::Network {
                message: "the server keeps disagreeing about the upload offset".into(),
            });
        }
    }
    // The server has every byte; the source must still be what was hashed.
    let end_check = job.facts.still_matches(job.src);
    delete_row(storage, job).await?;
    end_check.inspect_err(|_| {
        tracing::warn!(bucket = job.bucket, "source changed after the last chunk");
    })?;
    Ok(resumed_from)
}

async fn restart(
    storage: &SupabaseStorage,
    job: &Job<'_>,
    tracked: &mut Tracked,
    restarts: &mut u32,
) -> Result<(), FileError> {
    *restarts += 1;
    if *restarts > MAX_RESTARTS {
        return Err(FileError::Network {
            message: "the server keeps forgetting the upload".into(),
        });
    }
    tracing::info!(
        bucket = job.bucket,
        "upload unknown or expired; starting over"
    );
    *tracked = create(storage, job).await?;
    Ok(())
}

fn metadata_header(job: &Job<'_>) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    format!(
        "bucketName {},objectName {},contentType {},cacheControl {}",
        b64(job.bucket),
        b64(job.object_path),
        b64(job.content_type),
        b64("3600")
    )
}

/// Creates an upload (`POST`) and records it.
async fn create(storage: &SupabaseStorage, job: &Job<'_>) -> Result<Tracked, FileError> {
    let endpoint = storage.config.api("/upload/resumable");
    let metadata = metadata_header(job);
    let reply = storage
        .send_authed(|_| {
            Ok(storage
                .http
                .post(&endpoint)
                .header("tus-resumable", TUS_VERSION)
                .header("upload-length", job.facts.size.to_string())
                .header("upload-metadata", &metadata)
                .header("x-upsert", if job.upsert { "true" } else { "false" }))
        })
        .await?;
    let resp = match reply {
        Reply::Ok(r) => r,
        Reply::Failed(e) => return Err(e.into_file_error(job.bucket, job.object_path)),
    };
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| FileError::Rejected {
            status: resp.status().as_u16(),
            message: "the server created an upload without saying where (no Location)".into(),
        })?;
    let url = absolute(&storage.config.project_url, location);
    let tracked = Tracked { url, confirmed: 0 };
    save_new(storage, job, &tracked).await?;
    Ok(tracked)
}

fn absolute(project_url: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_owned()
    } else {
        format!("{}{}", project_url.trim_end_matches('/'), location)
    }
}

/// `HEAD`: the server's offset, `None` if the upload is unknown or expired.
async fn head(
    storage: &SupabaseStorage,
    job: &Job<'_>,
    url: &str,
) -> Result<Option<u64>, FileError> {
    let reply = storage
        .send_authed(|_| Ok(storage.http.head(url).header("tus-resumable", TUS_VERSION)))
        .await?;
    match reply {
        Reply::Ok(resp) => offset_header(&resp).map(Some),
        Reply::Failed(ApiError {
            status: 404 | 410, ..
        }) => Ok(None),
        Reply::Failed(e) => Err(e.into_file_error(job.bucket, job.object_path)),
    }
}

fn offset_header(resp: &reqwest::Response) -> Result<u64, FileError> {
    resp.headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| FileError::Rejected {
            status: resp.status().as_u16(),
            message: "the server's answer has no Upload-Offset".into(),
        })
}

enum Patched {
    Offset(u64),
    Conflict,
    Gone,
}

/// `PATCH` one chunk, streamed from the file.
async fn patch(
    storage: &SupabaseStorage,
    job: &Job<'_>,
    url: &str,
    offset: u64,
    len: u64,
) -> Result<Patched, FileError> {
    let reply = storage
        .send_authed(|_| {
            let body = chunk_body(job.src, offset, len)?;
            let mut req = storage
                .http
                .patch(url)
                .header("tus-resumable", TUS_VERSION)
                .header("upload-offset", offset.to_string())
                .header("content-type", "application/offset+octet-stream")
                .header("content-length", len.to_string())
                .body(body);
            // Supabase checks the overwrite permission on every PATCH, not just the POST.
            if job.upsert {
                req = req.header("x-upsert", "true");
            }
            Ok(req)
        })
        .await?;
    match reply {
        Reply::Ok(resp) => Ok(Patched::Offset(offset_header(&resp)?)),
        Reply::Failed(e) => match e.status {
            409 => Ok(Patched::Conflict),
            404 | 410 => Ok(Patched::Gone),
            _ => Err(e.into_file_error(job.bucket, job.object_path)),
        },
    }
}

/// A request body reading `len` bytes of `path` from `offset`, a block at a time.
fn chunk_body(path: &Path, offset: u64, len: u64) -> Result<reqwest::Body, FileError> {
    let mut file = std::fs::File::open(path).map_err(|e| super::source_error(path, e))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| super::source_error(path, e))?;
    let file = tokio::fs::File::from_std(file);
    let stream = futures_util::stream::unfold((file, len), |(mut file, left)| async move {
        use tokio::io::AsyncReadExt;
        if left == 0 {
            return None;
        }
        let want = (left as usize).min(READ_BLOCK);
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            Ok(0) => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file got shorter while uploading",
                )),
                (file, 0),
            )),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    Ok(reqwest::Body::wrap_stream(stream))
}

// --- persistence ---------------------------------------------------------------------------

async fn load(storage: &SupabaseStorage, job: &Job<'_>) -> Result<Option<Tracked>, FileError> {
    let row = sqlx::query(
        "SELECT upload_url, confirmed, size, sha256, upsert FROM file_uploads \
         WHERE bucket = ? AND object_path = ?",
    )
    .bind(job.bucket)
    .bind(job.object_path)
    .fetch_optional(storage.store.pool())
    .await
    .map_err(|e| storage.store.err(e))?;
    let Some(row) = row else { return Ok(None) };
    let size: i64 = row.get("size");
    let sha: String = row.get("sha256");
    let upsert: i64 = row.get("upsert");
    if size as u64 != job.facts.size || sha != job.sha256 || (upsert == 1) != job.upsert {
        // A different file (or mode) under the same name: its upload cannot be continued.
        delete_row(storage, job).await?;
        return Ok(None);
    }
    Ok(Some(Tracked {
        url: row.get("upload_url"),
        confirmed: row.get::<i64, _>("confirmed") as u64,
    }))
}

async fn save_new(
    storage: &SupabaseStorage,
    job: &Job<'_>,
    tracked: &Tracked,
) -> Result<(), FileError> {
    let now = chrono::Utc::now().to_rfc3339();
    // Local-only bookkeeping: goes through the write path but records no synced change.
    let mut tx = storage.store.begin_write().await?;
    sqlx::query(
        "INSERT INTO file_uploads (bucket, object_path, upload_url, confirmed, size, sha256, \
         source_path, content_type, upsert, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (bucket, object_path) DO UPDATE SET upload_url = excluded.upload_url, \
         confirmed = excluded.confirmed, size = excluded.size, sha256 = excluded.sha256, \
         source_path = excluded.source_path, content_type = excluded.content_type, \
         upsert = excluded.upsert, created_at = excluded.created_at, updated_at = excluded.updated_at",
    )
    .bind(job.bucket)
    .bind(job.object_path)
    .bind(&tracked.url)
    .bind(tracked.confirmed as i64)
    .bind(job.facts.size as i64)
    .bind(&job.sha256)
    .bind(job.src.to_string_lossy().into_owned())
    .bind(job.content_type)
    .bind(job.upsert as i64)
    .bind(&now)
    .bind(&now)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.commit().await?;
    Ok(())
}

async fn save_offset(
    storage: &SupabaseStorage,
    job: &Job<'_>,
    confirmed: u64,
) -> Result<(), FileError> {
    let mut tx = storage.store.begin_write().await?;
    sqlx::query(
        "UPDATE file_uploads SET confirmed = ?, updated_at = ? WHERE bucket = ? AND object_path = ?",
    )
    .bind(confirmed as i64)
    .bind(chrono::Utc::now().to_rfc3339())
    .bind(job.bucket)
    .bind(job.object_path)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.commit().await?;
    Ok(())
}

async fn delete_row(storage: &SupabaseStorage, job: &Job<'_>) -> Result<(), FileError> {
    let mut tx = storage.store.begin_write().await?;
    sqlx::query("DELETE FROM file_uploads WHERE bucket = ? AND object_path = ?")
        .bind(job.bucket)
        .bind(job.object_path)
        .execute(tx.conn())
        .await
        .map_err(|e| tx.err(e))?;
    tx.commit().await?;
    Ok(())
}

/// An upload in progress, as the local store tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub bucket: String,
    pub object_path: String,
    pub confirmed: u64,
    pub size: u64,
}

/// The uploads that were interrupted and can resume (for a "resume uploads" list).
pub async fn pending_uploads(
    store: &crate::data::local::LocalStore,
) -> Result<Vec<PendingUpload>, FileError> {
    let rows = sqlx::query(
        "SELECT bucket, object_path, confirmed, size FROM file_uploads ORDER BY created_at",
    )
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(rows
        .into_iter()
        .map(|r| PendingUpload {
            bucket: r.get("bucket"),
            object_path: r.get("object_path"),
            confirmed: r.get::<i64, _>("confirmed") as u64,
            size: r.get::<i64, _>("size") as u64,
        })
        .collect())
}
