//! Errors of the file stores. Each message says what happened to which file and what to do;
//! none carries a token or file contents. Mapped into [`crate::CoreError::Files`].

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file name {name:?} cannot be used: {reason}. Rename the file and try again")]
    InvalidName { name: String, reason: &'static str },

    #[error(
        "{name:?} does not contain what its extension says: it is named .{extension} but its \
         content is {detected}. Check that you picked the right file, or rename it with the \
         right extension"
    )]
    ContentMismatch {
        name: String,
        extension: String,
        detected: String,
    },

    #[error(
        "{name:?} is {size} bytes, over the {limit}-byte limit of {bucket:?}. Pick a smaller \
         file (or compress it); nothing was uploaded"
    )]
    TooLarge {
        name: String,
        size: u64,
        limit: u64,
        bucket: String,
    },

    #[error(
        "{name:?} ({size} bytes) is larger than file storage accepts in {bucket:?} (the bucket's \
         or the project's upload limit). Pick a smaller file, or ask an admin to raise the \
         limit; nothing was uploaded"
    )]
    RefusedTooLarge {
        name: String,
        size: u64,
        bucket: String,
    },

    #[error("{bucket:?} does not accept {mime} files; nothing was uploaded")]
    TypeNotAllowed { bucket: String, mime: String },

    #[error(
        "{name:?} is empty (0 bytes); an empty file is not stored. Pick the file again once it has content"
    )]
    Empty { name: String },

    #[error(
        "{path} changed while it was being stored (it was edited or replaced). Nothing was \
         recorded; wait until the file is no longer being written and try again"
    )]
    SourceChanged { path: PathBuf },

    #[error("{path} disappeared while it was being stored. Nothing was recorded")]
    SourceVanished { path: PathBuf },

    #[error(
        "the disk holding {path} is full; free some space and try again. Nothing already stored was lost"
    )]
    DiskFull { path: PathBuf },

    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{bucket:?} already has a file at {path:?}; nothing was overwritten")]
    Exists { bucket: String, path: String },

    #[error("no stored file {key:?} (it may have been deleted)")]
    NotFound { key: String },

    #[error("the team session has ended or is not valid ({message}); sign in again")]
    SignedOut { message: String },

    #[error("your team role does not allow this in {bucket:?} ({message})")]
    Forbidden { bucket: String, message: String },

    #[error("file storage refused the request ({status}: {message})")]
    Rejected { status: u16, message: String },

    #[error(
        "file storage cannot be reached or keeps failing ({message}); the transfer will resume \
         where it stopped when you try again"
    )]
    Network { message: String },

    #[error(
        "the downloaded file does not match what was stored (expected {expected}, got {got}); \
         it was discarded. Try again"
    )]
    Integrity { expected: String, got: String },

    #[error("cancelled; the part already transferred is kept so that it can resume")]
    Cancelled,

    #[error("local database error while tracking a transfer: {0}")]
    Tracking(String),
}

impl FileError {
    /// Maps an I/O error on `path`, turning ENOSPC (and Windows' disk-full codes) into
    /// [`FileError::DiskFull`]. (A missing *source* is [`FileError::SourceVanished`]; only the
    /// caller knows whether the path is a source, see `files::source_error`.)
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if is_disk_full(&source) {
            return FileError::DiskFull { path };
        }
        FileError::Io { path, source }
    }

    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind as K;
        match self {
            FileError::InvalidName { .. }
            | FileError::ContentMismatch { .. }
            | FileError::TooLarge { .. }
            | FileError::RefusedTooLarge { .. }
            | FileError::TypeNotAllowed { .. }
            | FileError::Empty { .. }
            | FileError::Exists { .. }
            | FileError::SourceChanged { .. }
            | FileError::SourceVanished { .. } => K::InvalidInput,
            FileError::DiskFull { .. } | FileError::Io { .. } | FileError::Tracking(_) => K::Store,
            FileError::NotFound { .. } => K::NotFound,
            FileError::SignedOut { .. } => K::SignedOut,
            FileError::Forbidden { .. } => K::Forbidden,
            FileError::Rejected { .. }
            | FileError::Network { .. }
            | FileError::Integrity { .. } => K::Remote,
            FileError::Cancelled => K::Cancelled,
        }
    }
}

impl From<crate::CoreError> for FileError {
    fn from(e: crate::CoreError) -> Self {
        FileError::Tracking(e.to_string())
    }
}

/// ENOSPC (28) and EDQUOT (122 on Linux) on Unix; ERROR_DISK_FULL (112) and
/// ERROR_HANDLE_DISK_FULL (39) on Windows.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::StorageFull || e.kind() == std::io::ErrorKind::QuotaExceeded
    {
        return true;
    }
    match e.raw_os_error() {
        #[cfg(unix)]
        Some(28) | Some(122) => true,
        #[cfg(windows)]
        Some(112) | Some(39) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn enospc_is_disk_full() {
        let e = FileError::io("/x", std::io::Error::from_raw_os_error(28));
        assert!(matches!(e, FileError::DiskFull { .. }), "{e:?}");
        assert!(e.to_string().contains("full"));
    }
}
