//! Downloads from Supabase Storage (`GET /object/authenticated/{bucket}/{path}`), streamed to
//! a `.part` file beside the destination, resumed with `Range` after a cut, and renamed into
//! place only once the size (from `Content-Range` / `Content-Length`) and, when known, the
//! SHA-256 match (hashed as the bytes arrive when one answer carries the whole object; a
//! resumed part is read again). A failed or cancelled download never leaves a half file at `dest`, and an
//! existing file at `dest` is untouched until the verified one replaces it.
//!
//! The real server ignores `If-Range` (and `If-Match`) on ranged requests, so a part whose
//! object was overwritten since would be completed with the new version's tail. The `ETag` of
//! the answer that started the part is kept beside it (`….salesdesk-part.etag`) and compared
//! with the resumed answer's: a different one discards the part and starts over.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::names::{check_object_path, encode_path};
use super::progress::Meter;
use super::supabase::{Reply, SupabaseStorage};
use super::{FileError, Transfer, hash_file};

/// Where the ETag of the object version a part file holds is kept.
fn etag_path(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".etag");
    PathBuf::from(name)
}

/// Removes a part file and its ETag note.
async fn discard_part(part: &Path) {
    let _ = tokio::fs::remove_file(part).await;
    let _ = tokio::fs::remove_file(etag_path(part)).await;
}

/// Bytes gathered before each write to the part file.
const WRITE_BUFFER: usize = 1024 * 1024;

/// What a download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub size: u64,
    pub sha256: String,
    /// Bytes already on disk from an earlier, interrupted download.
    pub resumed_from: u64,
}

/// The temp file a download of `dest` is written to (kept across attempts to resume).
pub fn part_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    dest.with_file_name(format!(".{name}.salesdesk-part"))
}

impl SupabaseStorage {
    /// Downloads `bucket/object_path` to `dest`. `expected_sha256`, when given, must match.
    pub async fn download(
        &self,
        bucket: &str,
        object_path: &str,
        dest: &Path,
        expected_sha256: Option<&str>,
        transfer: &Transfer,
    ) -> Result<Downloaded, FileError> {
        check_object_path(object_path)?;
        let url = self.config.api(&format!(
            "/object/authenticated/{bucket}/{}",
            encode_path(object_path)
        ));
        let part = part_path(dest);
        let mut failures = 0u32;
        let mut resumed_from = None;
        let (total, streamed_sha) = loop {
            transfer.check_cancel()?;
            let have = match tokio::fs::metadata(&part).await {
                Ok(m) => m.len(),
                Err(_) => 0,
            };
            // A part discarded on the way (changed on the server) was not reused after all.
            if resumed_from.is_none() || have == 0 {
                resumed_from = Some(have);
            }
            match self
                .fetch(&url, bucket, object_path, &part, have, transfer)
                .await
            {
                Ok(got) => break got,
                Err(e @ FileError::Network { .. }) => {
                    failures += 1;
                    if failures >= self.config.max_attempts {
                        return Err(e);
                    }
                    tracing::debug!(failures, "download cut; resuming with Range");
                    tokio::time::sleep(self.backoff(failures)).await;
                }
                Err(e) => return Err(e),
            }
        };
        // Hashed on the way in when one answer carried the whole object; a resumed part is
        // read again.
        let sha256 = match streamed_sha {
            Some(sha) => sha,
            None => hash_file(&part).await?,
        };
        let size = tokio::fs::metadata(&part)
            .await
            .map_err(|e| FileError::io(&part, e))?
            .len();
        let _ = tokio::fs::remove_file(etag_path(&part)).await;
        if size != total {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(FileError::Integrity {
                expected: format!("{total} bytes"),
                got: format!("{size} bytes"),
            });
        }
        if let Some(expected) = expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(FileError::Integrity {
                expected: format!("SHA-256 {expected}"),
                got: format!("SHA-256 {sha256}"),
            });
        }
        tokio::fs::rename(&part, dest)
            .await
            .map_err(|e| FileError::io(dest, e))?;
        Ok(Downloaded {
            size,
            sha256,
            resumed_from: resumed_from.unwrap_or(0),
        })
    }

    /// One request: appends to `part` from `have`; returns the object's total size, and the
    /// SHA-256 of the content when this answer carried all of it.
    async fn fetch(
        &self,
        url: &str,
        bucket: &str,
        object_path: &str,
        part: &Path,
        have: u64,
        transfer: &Transfer,
    ) -> Result<(u64, Option<String>), FileError> {
        let reply = self
            .send_authed(|_| {
                let mut req = self.http.get(url);
                if have > 0 {
                    req = req.header("range", format!("bytes={have}-"));
                }
                Ok(req)
            })
            .await?;
        let mut resp = match reply {
            Reply::Ok(r) => r,
            // The part is already whole (or longer than the object): start clean.
            Reply::Failed(e) if e.status == 416 => {
                discard_part(part).await;
                return Err(FileError::Network {
                    message: "the partial download did not fit the object; restarting".into(),
                });
            }
            Reply::Failed(e) => return Err(e.into_file_error(bucket, object_path)),
        };
        let (start, total) = if resp.status().as_u16() == 206 {
            content_range(&resp).ok_or_else(|| FileError::Rejected {
                status: 206,
                message: "a partial answer without a usable Content-Range".into(),
            })?
        } else {
            // A full answer: whatever part we had is replaced.
            (0, resp.content_length().unwrap_or(0))
        };
        if start != have && start != 0 {
            discard_part(part).await;
            return Err(FileError::Network {
                message: "the server resumed at the wrong offset; restarting".into(),
            });
        }
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if start > 0 {
            let started_with = tokio::fs::read_to_string(etag_path(part)).await.ok();
            if let (Some(was), Some(now)) = (started_with.as_deref(), etag.as_deref())
                && was != now
            {
                discard_part(part).await;
                return Err(FileError::Network {
                    message: "the file changed on the server since the download began; \
                              starting over"
                        .into(),
                });
            }
        } else {
            let note = etag_path(part);
            match &etag {
                Some(tag) => tokio::fs::write(&note, tag)
                    .await
                    .map_err(|e| FileError::io(&note, e))?,
                None => {
                    let _ = tokio::fs::remove_file(&note).await;
                }
            }
        }
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(start > 0)
            .truncate(start == 0)
            .open(part)
            .await
            .map_err(|e| FileError::io(part, e))?;
        // Network reads are small (tens of KiB); each tokio file write is a hop to a blocking
        // thread, so writes are gathered into 1 MiB ones.
        let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hasher = (start == 0).then(Sha256::new);
        let meter = Meter::new(start, total);
        let mut done = start;
        let received: Result<(), FileError> = async {
            loop {
                transfer.check_cancel()?;
                let chunk =
                    match tokio::time::timeout(self.config.stall_timeout, resp.chunk()).await {
                        Ok(c) => c.map_err(|e| FileError::Network {
                            message: super::supabase::describe_transport(&e),
                        })?,
                        Err(_) => {
                            return Err(FileError::Network {
                                message: "the download stalled".into(),
                            });
                        }
                    };
                let Some(chunk) = chunk else { return Ok(()) };
                if let Some(h) = hasher.as_mut() {
                    h.update(&chunk);
                }
                file.write_all(&chunk)
                    .await
                    .map_err(|e| FileError::io(part, e))?;
                done += chunk.len() as u64;
                meter.report(transfer, done);
            }
        }
        .await;
        // Whatever happened, wait for tokio's background write to land before returning:
        // the next attempt measures the part to know where to resume.
        let flushed = file.flush().await;
        received?;
        flushed.map_err(|e| FileError::io(part, e))?;
        file.get_ref()
            .sync_all()
            .await
            .map_err(|e| FileError::io(part, e))?;
        if done < total {
            return Err(FileError::Network {
                message: format!("the download ended early ({done} of {total} bytes)"),
            });
        }
        Ok((total, hasher.map(|h| super::hex(&h.finalize()))))
    }
}

/// `Content-Range: bytes <start>-<end>/<total>` → (start, total).
fn content_range(resp: &reqwest::Response) -> Option<(u64, u64)> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    let rest = v.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()?))
}
