//! The local-mode file store: content-addressed files under `files/sha256/ab/cdef…` in the data
//! directory. The key is the content's SHA-256, so storing the same file twice keeps one copy,
//! and a file is only ever written to a temp file first and renamed into place once complete
//! and verified: a crash or a full disk leaves at worst a stray temp file, never a bad object.
//!
//! Names and MIME types are not kept here: the caller's own record (a training material, an
//! avatar) holds them next to the key.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::progress::Meter;
use super::{FileError, FileStore, StoredFile, Transfer, hex, preflight, source_error};

const BLOCK: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct LocalFileStore {
    root: PathBuf,
}

impl LocalFileStore {
    /// A store rooted at `root` (normally `<data dir>/files`); folders are made on first use.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the object with this key lives; `None` for a key that is not a SHA-256.
    pub fn object_path(&self, key: &str) -> Option<PathBuf> {
        if key.len() != 64
            || !key
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return None;
        }
        Some(self.root.join("sha256").join(&key[..2]).join(&key[2..]))
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

impl FileStore for LocalFileStore {
    fn put<'a>(
        &'a self,
        src: &'a Path,
        name: &'a str,
        mime: Option<&'a str>,
        transfer: &'a Transfer,
    ) -> BoxFuture<'a, Result<StoredFile, FileError>> {
        Box::pin(async move {
            let (_name, mime, facts) = preflight(src, name, mime)?;
            let this = self.clone();
            let src = src.to_owned();
            let transfer = transfer.clone();
            tokio::task::spawn_blocking(move || this.put_blocking(&src, mime, facts, &transfer))
                .await
                .map_err(|e| FileError::Tracking(format!("copy task failed: {e}")))?
        })
    }

    fn get<'a>(
        &'a self,
        key: &'a str,
        dest: &'a Path,
        transfer: &'a Transfer,
    ) -> BoxFuture<'a, Result<u64, FileError>> {
        Box::pin(async move {
            let object = self.object_path(key).ok_or_else(|| FileError::NotFound {
                key: key.to_owned(),
            })?;
            let key = key.to_owned();
            let dest = dest.to_owned();
            let transfer = transfer.clone();
            tokio::task::spawn_blocking(move || {
                let mut input = std::fs::File::open(&object).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => FileError::NotFound { key: key.clone() },
                    _ => FileError::io(&object, e),
                })?;
                let total = input
                    .metadata()
                    .map_err(|e| FileError::io(&object, e))?
                    .len();
                let tmp = super::download::part_path(&dest);
                let (size, sha) = copy_hashing(&mut input, &object, &tmp, total, &transfer)?;
                if sha != key {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(FileError::Integrity {
                        expected: key,
                        got: sha,
                    });
                }
                std::fs::rename(&tmp, &dest).map_err(|e| FileError::io(&dest, e))?;
                Ok(size)
            })
            .await
            .map_err(|e| FileError::Tracking(format!("copy task failed: {e}")))?
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(async move {
            let object = self.object_path(key).ok_or_else(|| FileError::NotFound {
                key: key.to_owned(),
            })?;
            match tokio::fs::remove_file(&object).await {
                Ok(()) => Ok(()),
                // Deleting what is already gone is what the caller wanted.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(FileError::io(&object, e)),
            }
        })
    }
}

impl LocalFileStore {
    fn put_blocking(
        &self,
        src: &Path,
        mime: String,
        facts: super::SourceFacts,
        transfer: &Transfer,
    ) -> Result<StoredFile, FileError> {
        let tmp_dir = self.tmp_dir();
        std::fs::create_dir_all(&tmp_dir).map_err(|e| FileError::io(&tmp_dir, e))?;
        let tmp = tmp_dir.join(format!("{}.part", uuid::Uuid::now_v7()));
        let mut input = std::fs::File::open(src).map_err(|e| source_error(src, e))?;
        let result =
            copy_hashing(&mut input, src, &tmp, facts.size, transfer).and_then(|(size, sha)| {
                // The copy is only trusted if the source looks as it did before we began.
                facts.still_matches(src)?;
                if size != facts.size {
                    return Err(FileError::SourceChanged {
                        path: src.to_owned(),
                    });
                }
                Ok((size, sha))
            });
        let (size, sha) = match result {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let object = self
            .object_path(&sha)
            .ok_or_else(|| FileError::Tracking("bad digest".into()))?;
        if object.exists() {
            let _ = std::fs::remove_file(&tmp);
        } else {
            let dir = object.parent().unwrap_or(&self.root).to_owned();
            std::fs::create_dir_all(&dir).map_err(|e| FileError::io(&dir, e))?;
            std::fs::rename(&tmp, &object).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                FileError::io(&object, e)
            })?;
        }
        Ok(StoredFile {
            key: sha.clone(),
            size,
            sha256: sha,
            mime,
        })
    }
}

/// Copies `input` to a new file at `tmp` (fsynced), hashing on the way; checks the cancel flag
/// and reports progress per block. Removes `tmp` on failure.
fn copy_hashing(
    input: &mut std::fs::File,
    input_path: &Path,
    tmp: &Path,
    total: u64,
    transfer: &Transfer,
) -> Result<(u64, String), FileError> {
    let mut run = || -> Result<(u64, String), FileError> {
        let mut out = std::fs::File::create(tmp).map_err(|e| FileError::io(tmp, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; BLOCK];
        let meter = Meter::new(0, total);
        let mut done = 0u64;
        loop {
            transfer.check_cancel()?;
            let n = input
                .read(&mut buf)
                .map_err(|e| source_error(input_path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| FileError::io(tmp, e))?;
            done += n as u64;
            meter.report(transfer, done);
        }
        out.sync_all().map_err(|e| FileError::io(tmp, e))?;
        Ok((done, hex(&hasher.finalize())))
    };
    let r = run();
    if r.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    r
}
