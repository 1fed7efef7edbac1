//! Files: the local content-addressed store (local mode) and the Supabase Storage client
//! (team mode), behind one [`FileStore`] trait so the rest of the app does not care which one
//! it has.
//!
//! - [`local`]: `files/sha256/ab/cdef…` in the data directory.
//! - [`supabase`]: Supabase Storage's REST API with the user's token; small files in one
//!   request, larger ones through [`tus`] resumable uploads tracked in the local store, and
//!   [`download`]s streamed to disk, resumable and verified.
//! - [`names`], [`sniff`]: what is refused before a byte moves (hostile names, content that
//!   is not what its extension says, empty or oversized files).
//!
//! - [`cache`]: a size-budgeted LRU cache of team files in front of any store; [`offline`]:
//!   its budget setting, usage and clearing.
//! - `queue`: the local upload queue materials and recordings wait in until stored.
//!
//! Left out on purpose: bucket administration (buckets and their policies belong to the
//! project's set-up), public URLs and image transforms.

pub mod cache;
pub mod download;
pub mod error;
pub mod local;
pub mod names;
pub mod offline;
pub mod progress;
pub(crate) mod queue;
pub mod session_tokens;
pub mod sniff;
pub mod supabase;
pub mod tus;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};

pub use cache::CachedStore;
pub use download::Downloaded;
pub use error::FileError;
pub use local::LocalFileStore;
pub use progress::{CancelFlag, Progress, ProgressFn, Transfer};
pub use supabase::Uploaded;
pub use supabase::{
    BucketLimit, BucketStore, StaticToken, StorageConfig, SupabaseStorage, TokenSource,
};
pub use tus::{PendingUpload, pending_uploads};

/// A file as a store holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct StoredFile {
    /// The store's key for the file: give it back to `get` or `delete`.
    pub key: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub mime: String,
}

/// Where files are kept. Implemented by [`LocalFileStore`] and [`BucketStore`].
pub trait FileStore: Send + Sync {
    /// Stores the file at `src` under the display name `name` (checked, never used as a path)
    /// with the MIME type `mime` (`None`: sniffed from the content).
    fn put<'a>(
        &'a self,
        src: &'a Path,
        name: &'a str,
        mime: Option<&'a str>,
        transfer: &'a Transfer,
    ) -> BoxFuture<'a, Result<StoredFile, FileError>>;

    /// Writes the file `key` to `dest` (atomically: a temp file renamed into place once its
    /// size and SHA-256 are verified). Returns its size.
    fn get<'a>(
        &'a self,
        key: &'a str,
        dest: &'a Path,
        transfer: &'a Transfer,
    ) -> BoxFuture<'a, Result<u64, FileError>>;

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), FileError>>;
}

/// The SHA-256 a store key names: a local key is the digest itself, a bucket key
/// `{prefix}{sha256}/{slug}` carries it as its second-to-last segment.
pub fn digest_of_key(key: &str) -> Option<&str> {
    let is_digest = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if is_digest(key) {
        return Some(key);
    }
    let mut parts = key.rsplit('/');
    parts.next()?;
    parts.next().filter(|s| is_digest(s))
}

/// Facts about a source file taken before it is stored, to notice it changing meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFacts {
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl SourceFacts {
    pub(crate) fn of(path: &Path) -> Result<Self, FileError> {
        let meta = std::fs::metadata(path).map_err(|e| source_error(path, e))?;
        if !meta.is_file() {
            return Err(FileError::Io {
                path: path.to_owned(),
                source: std::io::Error::other("not a regular file"),
            });
        }
        Ok(Self {
            size: meta.len(),
            modified: meta.modified().ok(),
        })
    }

    /// Errors if the file at `path` is gone or differs from these facts.
    pub(crate) fn still_matches(&self, path: &Path) -> Result<(), FileError> {
        let now = Self::of(path)?;
        if &now != self {
            return Err(FileError::SourceChanged {
                path: path.to_owned(),
            });
        }
        Ok(())
    }
}

/// An I/O error on a file being stored: a missing file is "vanished", ENOSPC "disk full".
pub(crate) fn source_error(path: &Path, e: std::io::Error) -> FileError {
    if e.kind() == std::io::ErrorKind::NotFound {
        FileError::SourceVanished {
            path: path.to_owned(),
        }
    } else {
        FileError::io(path, e)
    }
}

/// SHA-256 of a file, read in 1 MiB blocks off the async runtime's threads.
pub(crate) async fn hash_file(path: &Path) -> Result<String, FileError> {
    let path: PathBuf = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut f = std::fs::File::open(&path).map_err(|e| source_error(&path, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| source_error(&path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hex(&hasher.finalize()))
    })
    .await
    .map_err(|e| FileError::Tracking(format!("hashing task failed: {e}")))?
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The checks every store runs before storing: a usable name, content matching its
/// extension, not empty. Returns the checked name, the MIME type and the source's facts.
pub(crate) fn preflight(
    src: &Path,
    name: &str,
    mime: Option<&str>,
) -> Result<(String, String, SourceFacts), FileError> {
    let name = names::check_file_name(name)?;
    let facts = SourceFacts::of(src)?;
    // An empty file is almost always a mistake (a failed export, a placeholder); storing it
    // would only put a useless entry in the library.
    if facts.size == 0 {
        return Err(FileError::Empty { name });
    }
    let sniffed = sniff::check_file(src, &name)?;
    let mime = mime.map(str::to_owned).unwrap_or(sniffed.mime);
    Ok((name, mime, facts))
}
