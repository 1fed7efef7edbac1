//! Resumable uploads: the TUS 1.0.0 protocol as Supabase Storage serves it at
//! `/storage/v1/upload/resumable`. The upload URL and the offset the server confirmed are kept
//! in the local store (`file_uploads`), so a cut, a crash or a restart resumes where the server
//! says it stopped. Chunks are streamed from disk (memory stays flat whatever the size) in the
//! 6 MB pieces Supabase requires.
//!
//! What each answer means here:
//! - transport error or 5xx: wait, `HEAD` for the offset, continue (up to `max_attempts` in a
//!   row without progress; the row is kept, so a later call resumes);
//! - 409 "Upload-Offset conflict": our offset is not the server's: `HEAD` and continue from
//!   its offset; 409 "already exists" (the object appeared meanwhile, no upsert): stop, the
//!   upload can never complete;
//! - 404 / 410: the upload is unknown, terminated or expired (the real server says 404 for all
//!   three with its file store, 410 for an expired one with S3): start over with a new one;
//! - 413 / 415 at creation: the bucket's (or the project's) size or type limit.
//!
//! The upload URL is rebuilt on the configured project URL from the upload id, the last
//! segment of the creation's `Location`: the server builds that URL from the forwarded
//! headers it sees, so behind a gateway that does not pass `X-Forwarded-Prefix` it lacks
//! `/storage/v1`, and behind a port-mapping proxy it names the wrong port; and the user's
//! token goes to the project, never to a host a response named.
//! - 401 / 403: refresh the token once ([`super::supabase::SupabaseStorage::send_authed`]).
//!
//! Before the last chunk the content is checked against the SHA-256 taken when the upload
//! began: if it changed, the last chunk is never sent, so the server never completes a mixed
//! object. When this session sent every chunk from the start, the bytes are hashed as they go
//! out and the last chunk is read into memory, checked, and sent from there (so what is checked
//! is exactly what the server gets, without reading the whole file a second time); a resumed
//! upload hashes the file again instead.
//!
//! The confirmed offset is saved at most once a second (and whenever the upload stops): it only
//! shows progress, since a resume asks the server (`HEAD`) where it really stopped.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::progress::Meter;
use super::supabase::{ApiError, Reply, SupabaseStorage};
use super::{FileError, SourceFacts, Transfer, hash_file};

const TUS_VERSION: &str = "1.0.0";
/// How many times an upload may be started over (expired URL) in one call.
const MAX_RESTARTS: u32 = 2;
/// Read size when streaming a chunk from disk: large enough that the per-read hop to a blocking
/// thread is noise, small enough that memory stays flat.
const READ_BLOCK: usize = 1024 * 1024;
/// Shortest interval between two saves of the confirmed offset.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// The SHA-256 of the bytes this session sent, in order from the first byte.
struct SentHash {
    upto: u64,
    hasher: Sha256,
}

/// Where a chunk's bytes come from.
enum ChunkSource {
    /// Streamed from the file; `tap` (if any) hashes the bytes as they are read.
    File { tap: Option<Arc<Mutex<Tap>>> },
    /// Already read and checked (the last chunk).
    Memory(bytes::Bytes),
}

struct Tap {
    hasher: Sha256,
    bytes: u64,
}

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
    let mut saved = (tracked.confirmed, Instant::now());
    let meter = Meter::new(resumed_from, size);
    meter.report(transfer, tracked.confirmed);
    let mut sent_hash = (tracked.confirmed == 0).then(|| SentHash {
        upto: 0,
        hasher: Sha256::new(),
    });
    let run = send_chunks(
        storage,
        job,
        transfer,
        &meter,
        &mut tracked,
        &mut restarts,
        &mut sent_hash,
        &mut saved,
    )
    .await;
    if let Err(e) = run {
        // Stopped (cancel, cut, refusal): leave the latest confirmed offset for the next try.
        if tracked.confirmed != saved.0 {
            let _ = save_offset(storage, job, tracked.confirmed).await;
        }
        return Err(e);
    }
    // The server has every byte; the source must still be what was hashed.
    let end_check = job.facts.still_matches(job.src);
    delete_row(storage, job).await?;
    end_check.inspect_err(|_| {
        tracing::warn!(bucket = job.bucket, "source changed after the last chunk");
    })?;
    Ok(resumed_from)
}

#[allow(clippy::too_many_arguments)]
async fn send_chunks(
    storage: &SupabaseStorage,
    job: &Job<'_>,
    transfer: &Transfer,
    meter: &Meter,
    tracked: &mut Tracked,
    restarts: &mut u32,
    sent_hash: &mut Option<SentHash>,
    saved: &mut (u64, Instant),
) -> Result<(), FileError> {
    let size = job.facts.size;
    let mut failures = 0u32;
    // The last chunk, read and checked once, then sent from memory (as often as needed).
    let mut last_chunk: Option<(u64, bytes::Bytes)> = None;
    while tracked.confirmed < size {
        transfer.check_cancel()?;
        if let Err(e) = job.facts.still_matches(job.src) {
            // That content can never complete: forget the upload rather than resume it.
            delete_row(storage, job).await?;
            return Err(e);
        }
        let offset = tracked.confirmed;
        let len = storage.config.chunk_size.min(size - offset);
        let last = offset + len == size;
        let source = if last {
            let bytes = match &last_chunk {
                Some((at, bytes)) if *at == offset => bytes.clone(),
                _ => {
                    let bytes = match checked_last_chunk(job, offset, len, sent_hash).await {
                        Ok(b) => b,
                        Err(e @ FileError::SourceChanged { .. }) => {
                            // That content can never complete: forget the upload.
                            delete_row(storage, job).await?;
                            return Err(e);
                        }
                        Err(e) => return Err(e),
                    };
                    last_chunk = Some((offset, bytes.clone()));
                    bytes
                }
            };
            ChunkSource::Memory(bytes)
        } else {
            let tap = sent_hash.as_ref().filter(|h| h.upto == offset).map(|h| {
                Arc::new(Mutex::new(Tap {
                    hasher: h.hasher.clone(),
                    bytes: 0,
                }))
            });
            ChunkSource::File { tap }
        };
        let tap = match &source {
            ChunkSource::File { tap } => tap.clone(),
            ChunkSource::Memory(_) => None,
        };
        match patch(storage, job, &tracked.url, offset, len, &source).await {
            Ok(Patched::Offset(new_offset)) => {
                failures = 0;
                // The running hash moves on only over a chunk sent whole and confirmed.
                *sent_hash = match tap {
                    Some(tap) if new_offset == offset + len => {
                        let tap = tap.lock().unwrap_or_else(|e| e.into_inner());
                        (tap.bytes == len).then(|| SentHash {
                            upto: new_offset,
                            hasher: tap.hasher.clone(),
                        })
                    }
                    _ => None,
                };
                tracked.confirmed = new_offset;
                if saved.1.elapsed() >= SAVE_EVERY {
                    save_offset(storage, job, new_offset).await?;
                    *saved = (new_offset, Instant::now());
                }
                meter.report(transfer, new_offset);
            }
            Ok(Patched::Conflict) => {
                failures += 1;
                match head(storage, job, &tracked.url).await? {
                    Some(offset) => tracked.confirmed = offset,
                    None => {
                        restart(storage, job, tracked, restarts).await?;
                    }
                }
            }
            Ok(Patched::Gone) => {
                restart(storage, job, tracked, restarts).await?;
            }
            Ok(Patched::Exists) => {
                // Someone stored the object meanwhile: this upload can never complete.
                delete_row(storage, job).await?;
                return Err(FileError::Exists {
                    bucket: job.bucket.to_owned(),
                    path: job.object_path.to_owned(),
                });
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
                    Ok(None) => restart(storage, job, tracked, restarts).await?,
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
    Ok(())
}

/// Reads the last chunk and checks that the whole content still has the SHA-256 the upload
/// began with: from the running hash of what was sent when there is one, else by hashing the
/// file again. A mismatch forgets the upload.
async fn checked_last_chunk(
    job: &Job<'_>,
    offset: u64,
    len: u64,
    sent_hash: &Option<SentHash>,
) -> Result<bytes::Bytes, FileError> {
    let path = job.src.to_owned();
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, FileError> {
        let mut f = std::fs::File::open(&path).map_err(|e| super::source_error(&path, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| super::source_error(&path, e))?;
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf)
            .map_err(|e| super::source_error(&path, e))?;
        Ok(buf)
    })
    .await
    .map_err(|e| FileError::Tracking(format!("reading task failed: {e}")))??;
    let digest = match sent_hash.as_ref().filter(|h| h.upto == offset) {
        Some(h) => {
            let mut hasher = h.hasher.clone();
            hasher.update(&bytes);
            super::hex(&hasher.finalize())
        }
        None => hash_file(job.src).await?,
    };
    if digest != job.sha256 {
        return Err(FileError::SourceChanged {
            path: job.src.to_owned(),
        });
    }
    Ok(bytes::Bytes::from(bytes))
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
        Reply::Failed(e) => {
            return Err(e.into_upload_error(
                job.bucket,
                job.object_path,
                job.facts.size,
                job.content_type,
            ));
        }
    };
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let id = upload_id(location).ok_or_else(|| FileError::Rejected {
        status: resp.status().as_u16(),
        message: "the server created an upload without a usable Location".into(),
    })?;
    let url = storage.config.api(&format!("/upload/resumable/{id}"));
    let tracked = Tracked { url, confirmed: 0 };
    save_new(storage, job, &tracked).await?;
    Ok(tracked)
}

/// The upload id in a `Location` (absolute or not): its last path segment, if it is one the
/// server could have made (base64url or a plain token).
fn upload_id(location: &str) -> Option<&str> {
    let path = location.split(['?', '#']).next().unwrap_or("");
    let id = path.trim_end_matches('/').rsplit('/').next()?;
    let plausible = !id.is_empty()
        && id.len() <= 2048
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'.' | b'~'));
    plausible.then_some(id)
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
    /// The object now exists and this upload may not overwrite it.
    Exists,
}

/// `PATCH` one chunk, streamed from the file.
async fn patch(
    storage: &SupabaseStorage,
    job: &Job<'_>,
    url: &str,
    offset: u64,
    len: u64,
    source: &ChunkSource,
) -> Result<Patched, FileError> {
    let reply = storage
        .send_authed(|_| {
            let body = match source {
                ChunkSource::File { tap } => {
                    if let Some(tap) = tap {
                        // A resend after a token refresh starts the chunk's hash over.
                        let mut t = tap.lock().unwrap_or_else(|e| e.into_inner());
                        if t.bytes != 0 {
                            t.bytes = u64::MAX;
                        }
                    }
                    chunk_body(job.src, offset, len, tap.clone())?
                }
                ChunkSource::Memory(bytes) => reqwest::Body::from(bytes.clone()),
            };
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
        Reply::Failed(e) if e.is_duplicate() => Ok(Patched::Exists),
        Reply::Failed(e) => match e.status {
            409 => Ok(Patched::Conflict),
            404 | 410 => Ok(Patched::Gone),
            _ => Err(e.into_upload_error(
                job.bucket,
                job.object_path,
                job.facts.size,
                job.content_type,
            )),
        },
    }
}

/// A request body reading `len` bytes of `path` from `offset`, a block at a time.
fn chunk_body(
    path: &Path,
    offset: u64,
    len: u64,
    tap: Option<Arc<Mutex<Tap>>>,
) -> Result<reqwest::Body, FileError> {
    let mut file = std::fs::File::open(path).map_err(|e| super::source_error(path, e))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| super::source_error(path, e))?;
    let file = tokio::fs::File::from_std(file);
    let stream =
        futures_util::stream::unfold((file, len, tap), |(mut file, left, tap)| async move {
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
                    (file, 0, tap),
                )),
                Ok(n) => {
                    buf.truncate(n);
                    if let Some(tap) = &tap {
                        let mut t = tap.lock().unwrap_or_else(|e| e.into_inner());
                        if t.bytes != u64::MAX {
                            t.hasher.update(&buf);
                            t.bytes += n as u64;
                        }
                    }
                    Some((Ok(bytes::Bytes::from(buf)), (file, left - n as u64, tap)))
                }
                Err(e) => Some((Err(e), (file, 0, tap))),
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

#[cfg(test)]
mod tests {
    use super::upload_id;

    #[test]
    fn the_upload_id_is_the_last_segment_of_any_location() {
        let id = "Y2FsbC1yZWNvcmRpbmdzL3UvYS53YXYvNjYyOThjNzQ";
        for loc in [
            format!("https://ref.supabase.co/storage/v1/upload/resumable/{id}"),
            // A server without X-Forwarded-Prefix, or reporting the wrong port.
            format!("http://127.0.0.1:8000/upload/resumable/{id}"),
            format!("/storage/v1/upload/resumable/{id}/"),
        ] {
            assert_eq!(upload_id(&loc), Some(id), "{loc}");
        }
        assert_eq!(upload_id(""), None);
        assert_eq!(upload_id("http://x/a b"), None);
    }
}
