//! A size-budgeted LRU cache of team files on local disk, in front of any [`FileStore`]
//! (normally a [`super::BucketStore`]): a file opened twice is downloaded once, and the cache
//! never grows past its budget. The cache is a [`LocalFileStore`] (content-addressed, verified
//! on the way out) whose files' modification times record last use; eviction drops the least
//! recently used until the total fits.
//!
//! Pinned files (kept for offline use) count against the budget but are never evicted.
//!
//! The cache is best effort: a failure to cache (full disk, a corrupt entry) never fails the
//! operation, it only costs a download.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use futures_util::future::BoxFuture;

use super::{FileError, FileStore, LocalFileStore, StoredFile, Transfer, digest_of_key};

pub struct CachedStore<S> {
    inner: S,
    cache: LocalFileStore,
    budget: u64,
    /// SHA-256 digests of pinned files.
    pinned: Arc<Mutex<HashSet<String>>>,
}

impl<S: FileStore> CachedStore<S> {
    /// Caches `inner`'s files under `root`, keeping at most `budget` bytes.
    pub fn new(inner: S, root: impl Into<PathBuf>, budget: u64) -> Self {
        Self {
            inner,
            cache: LocalFileStore::new(root),
            budget,
            pinned: Arc::default(),
        }
    }

    /// Replaces the set of pinned files (by SHA-256): eviction skips them.
    pub fn set_pinned(&self, digests: impl IntoIterator<Item = String>) {
        let mut pinned = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        *pinned = digests.into_iter().collect();
    }

    /// Makes sure the file `key` is in the cache, downloading it if needed (for pinning).
    pub async fn fetch(&self, key: &str, transfer: &Transfer) -> Result<(), FileError> {
        if let Some(digest) = digest_of_key(key)
            && self.is_cached(key)
        {
            self.touch(digest);
            return Ok(());
        }
        let tmp_dir = self.cache.root().join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(|e| FileError::io(&tmp_dir, e))?;
        let tmp = tmp_dir.join(format!("{}.fetch", uuid::Uuid::now_v7()));
        let got = self.inner.get(key, &tmp, transfer).await;
        let result = match got {
            Ok(_) => {
                let quiet = Transfer::default();
                let stored = self.cache.put(&tmp, "cached", None, &quiet).await;
                stored.map(|s| {
                    self.touch(&s.sha256);
                    self.evict();
                })
            }
            Err(e) => Err(e),
        };
        let _ = std::fs::remove_file(&tmp);
        result
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The content-addressed store the cached copies live in.
    pub(crate) fn cache_store(&self) -> &LocalFileStore {
        &self.cache
    }

    /// Bytes currently cached.
    pub fn cached_bytes(&self) -> u64 {
        cached_files(self.cache.root()).iter().map(|f| f.size).sum()
    }

    /// Whether the file with this key is cached.
    pub fn is_cached(&self, key: &str) -> bool {
        digest_of_key(key)
            .and_then(|d| self.cache.object_path(d))
            .is_some_and(|p| p.is_file())
    }

    /// Keeps a copy of the file at `path` (best effort).
    pub(crate) async fn remember(&self, path: &Path) {
        let quiet = Transfer::default();
        match self.cache.put(path, "cached", None, &quiet).await {
            Ok(stored) => {
                self.touch(&stored.sha256);
                self.evict();
            }
            Err(e) => tracing::debug!(error = %e, "could not cache a file"),
        }
    }

    fn touch(&self, digest: &str) {
        if let Some(p) = self.cache.object_path(digest)
            && let Ok(f) = std::fs::File::options().write(true).open(&p)
        {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Drops least recently used files until the cache fits its budget.
    fn evict(&self) {
        let pinned = self
            .pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        shrink(&[self.cache.root()], self.budget, &pinned);
    }
}

/// A file in a cache folder.
pub(crate) struct CachedFile {
    path: PathBuf,
    pub size: u64,
    last_use: SystemTime,
    /// Its SHA-256, which its path names (`sha256/ab/cdef…` → `abcdef…`).
    pub digest: String,
}

/// Drops the least recently used files under the cache folders `roots` (taken together) that
/// are not in `pinned` until their total fits `budget` (pinned files count but stay).
pub(crate) fn shrink(roots: &[&Path], budget: u64, pinned: &HashSet<String>) {
    let mut all: Vec<CachedFile> = roots.iter().flat_map(|r| cached_files(r)).collect();
    let mut total: u64 = all.iter().map(|e| e.size).sum();
    all.sort_by_key(|e| e.last_use);
    for f in all {
        if total <= budget {
            break;
        }
        if pinned.contains(&f.digest) {
            continue;
        }
        if std::fs::remove_file(&f.path).is_ok() {
            total -= f.size;
        }
    }
}

/// Every file in the cache folder `root`.
pub(crate) fn cached_files(root: &Path) -> Vec<CachedFile> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(root.join("sha256")) else {
        return out;
    };
    for shard in shards.flatten() {
        let Ok(files) = std::fs::read_dir(shard.path()) else {
            continue;
        };
        let prefix = shard.file_name().to_string_lossy().into_owned();
        for f in files.flatten() {
            if let Ok(m) = f.metadata()
                && m.is_file()
            {
                out.push(CachedFile {
                    digest: format!("{prefix}{}", f.file_name().to_string_lossy()),
                    path: f.path(),
                    size: m.len(),
                    last_use: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
    }
    out
}

impl<S: FileStore> FileStore for CachedStore<S> {
    fn put<'a>(
        &'a self,
        src: &'a Path,
        name: &'a str,
        mime: Option<&'a str>,
        transfer: &'a Transfer,
    ) -> BoxFuture<'a, Result<StoredFile, FileError>> {
        Box::pin(async move {
            let stored = self.inner.put(src, name, mime, transfer).await?;
            // The file just stored is likely to be opened next.
            if stored.size <= self.budget {
                self.remember(src).await;
            }
            Ok(stored)
        })
    }

    fn get<'a>(
        &'a self,
        key: &'a str,
        dest: &'a Path,
        transfer: &'a Transfer,
    ) -> BoxFuture<'a, Result<u64, FileError>> {
        Box::pin(async move {
            if let Some(digest) = digest_of_key(key) {
                match self.cache.get(digest, dest, transfer).await {
                    Ok(size) => {
                        self.touch(digest);
                        return Ok(size);
                    }
                    Err(FileError::NotFound { .. }) => {}
                    Err(FileError::Cancelled) => return Err(FileError::Cancelled),
                    Err(e) => {
                        tracing::debug!(error = %e, "cached copy unusable; downloading");
                        let _ = self.cache.delete(digest).await;
                    }
                }
            }
            let size = self.inner.get(key, dest, transfer).await?;
            if size <= self.budget {
                self.remember(dest).await;
            }
            Ok(size)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(async move {
            self.inner.delete(key).await?;
            if let Some(digest) = digest_of_key(key) {
                let _ = self.cache.delete(digest).await;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Writes a cache entry for `digest` of `size` bytes last used `age_secs` ago.
    fn entry(root: &Path, digest: &str, size: usize, age_secs: u64) {
        let dir = root.join("sha256").join(&digest[..2]);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&digest[2..]);
        std::fs::write(&path, vec![0u8; size]).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age_secs))
            .unwrap();
    }

    fn digests(root: &Path) -> Vec<String> {
        let mut d: Vec<_> = cached_files(root).into_iter().map(|f| f.digest).collect();
        d.sort();
        d
    }

    #[test]
    fn shrink_drops_least_recently_used_first_and_never_a_pin() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        entry(root, "aa01", 100, 400); // oldest, pinned
        entry(root, "bb02", 100, 300);
        entry(root, "cc03", 100, 200);
        entry(root, "dd04", 100, 100); // newest
        let pinned: HashSet<String> = ["aa01".to_owned()].into();

        shrink(&[root], 250, &pinned);
        assert_eq!(digests(root), ["aa01", "dd04"].map(String::from));
        // Several folders are one budget, least recently used first across them.
        let other = dir.path().join("other");
        entry(&other, "ee05", 100, 50);
        shrink(&[root, &other], 200, &pinned);
        assert_eq!(digests(root), ["aa01"].map(String::from));
        assert_eq!(digests(&other), ["ee05"].map(String::from));
        // A budget smaller than the pins alone keeps the pins.
        shrink(&[root, &other], 0, &pinned);
        assert_eq!(digests(root), ["aa01"].map(String::from));
        assert!(digests(&other).is_empty());
        // A missing folder is an empty cache, not an error.
        shrink(&[&root.join("nowhere")], 0, &pinned);
        assert!(cached_files(&root.join("nowhere")).is_empty());
    }
}
