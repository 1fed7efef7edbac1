//! The core's error type. Every message is written for the person using the app: it says what
//! happened and what they can do about it, and never carries a key, token or transcript.

use std::path::PathBuf;

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// A coarse class of failure that front ends branch on (the UI shows a retry button for
/// `Store`, a "not found" page for `NotFound`, the CLI picks its exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The thing asked for does not exist (or was deleted).
    NotFound,
    /// The request itself is wrong: a malformed id, bad input. Fix the input and try again.
    InvalidInput,
    /// The local store cannot be used: corrupt file, full disk, permissions.
    Store,
    /// A service or the keyring is not available or not set up (no key, provider down, keyring
    /// locked). Fix the setup, or try again later.
    Unavailable,
    /// A bug or an unexpected condition.
    Internal,
    /// The team database cannot be reached or failed; local work goes on, retry later.
    Remote,
    /// The team session has ended (signed out, expired, revoked): sign in again.
    SignedOut,
    /// The user's team role does not allow this.
    Forbidden,
    /// The user cancelled the operation; nothing was saved.
    Cancelled,
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(
        "cannot use the data directory {path}: {source}. Check its permissions, or set \
         SALESDESK_DATA_DIR to a writable folder"
    )]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "no data directory could be found for this user (no home directory?). Set \
         SALESDESK_DATA_DIR to a writable folder"
    )]
    NoDataDir,

    #[error(
        "the file at {path} is not a Salesdesk database (it is corrupt or belongs to another \
         program). It was left untouched: move it aside and Salesdesk will start a fresh one"
    )]
    StoreNotADatabase { path: PathBuf },

    #[error(
        "the database at {path} was written by a newer version of Salesdesk (schema version \
         {found}, this version knows up to {known}). Update Salesdesk; the file was left untouched"
    )]
    StoreTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error(
        "could not upgrade the local database at {path}: {reason}. The file was left unchanged"
    )]
    StoreMigration { path: PathBuf, reason: String },

    #[error(
        "the local database is busy (another Salesdesk process holds it); try again in a moment"
    )]
    StoreBusy,

    #[error("the disk holding the local database is full; free some space and try again")]
    DiskFull,

    #[error("local database error: {0}")]
    Store(String),

    #[error("no analysis with id {id} (it may have been deleted)")]
    AnalysisNotFound { id: String },

    #[error("no training material with id {id} (it may have been deleted)")]
    MaterialNotFound { id: String },

    #[error("{0}")]
    InvalidInput(String),

    /// A transcript that cannot be read or analyzed; nothing was saved.
    #[error("{0}")]
    Transcript(#[from] crate::analysis::IngestError),

    #[error("cancelled; nothing was saved")]
    Cancelled,

    #[error("{0}")]
    AiUnavailable(String),

    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretsError),

    #[error("internal error: {0}")]
    Internal(String),

    #[error(transparent)]
    Remote(#[from] crate::data::remote::RemoteError),

    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),

    #[error(transparent)]
    Files(#[from] crate::files::FileError),

    #[error(
        "no team is set up on this device (local mode). Enter the team's project URL and key in \
         Settings > Team, or set SUPABASE_URL and SUPABASE_ANON_KEY for the CLI"
    )]
    TeamNotConfigured,

    #[error("no {what} with id {id} (it may have been deleted)")]
    RecordNotFound { what: &'static str, id: String },

    /// Team mode, signed out: an action that needs the team's servers (the rest still works).
    #[error("sign in to {0}: this device is signed out of the team")]
    SignInTo(String),

    /// A material's file is not reachable from this device yet (say why and what to do).
    #[error("{0}")]
    FileUnavailable(String),
    /// A team recording this device has not cached and cannot download now (signed out,
    /// offline, gone from storage); its kind is the reason's.
    #[error("“{name}” is not on this device and could not be downloaded: {reason}")]
    RecordingUnavailable {
        name: String,
        reason: Box<CoreError>,
    },
}

impl CoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoreError::AnalysisNotFound { .. } => ErrorKind::NotFound,
            CoreError::MaterialNotFound { .. } => ErrorKind::NotFound,
            CoreError::InvalidInput(_) | CoreError::Transcript(_) => ErrorKind::InvalidInput,
            CoreError::Cancelled => ErrorKind::Cancelled,
            CoreError::Secrets(crate::secrets::SecretsError::Rejected { .. })
            | CoreError::Secrets(crate::secrets::SecretsError::ReadOnly { .. }) => {
                ErrorKind::InvalidInput
            }
            CoreError::AiUnavailable(_) | CoreError::Secrets(_) => ErrorKind::Unavailable,
            CoreError::DataDir { .. }
            | CoreError::NoDataDir
            | CoreError::StoreNotADatabase { .. }
            | CoreError::StoreTooNew { .. }
            | CoreError::StoreMigration { .. }
            | CoreError::StoreBusy
            | CoreError::DiskFull
            | CoreError::Store(_) => ErrorKind::Store,
            CoreError::Internal(_) => ErrorKind::Internal,
            CoreError::Remote(e) => e.kind(),
            CoreError::Auth(e) => e.kind(),
            CoreError::Files(e) => e.kind(),
            CoreError::SignInTo(_) => ErrorKind::SignedOut,
            CoreError::FileUnavailable(_) => ErrorKind::Unavailable,
            CoreError::TeamNotConfigured => ErrorKind::Unavailable,
            CoreError::RecordNotFound { .. } => ErrorKind::NotFound,
            CoreError::RecordingUnavailable { reason, .. } => reason.kind(),
        }
    }

    /// Maps a sqlx error met while using the store at `path` to the most useful message.
    pub(crate) fn from_sqlx(path: &std::path::Path, err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            // SQLite primary result codes: https://sqlite.org/rescode.html
            match db
                .code()
                .as_deref()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff)
            {
                Some(26) | Some(11) => {
                    return CoreError::StoreNotADatabase {
                        path: path.to_owned(),
                    };
                }
                Some(5) | Some(6) => return CoreError::StoreBusy,
                Some(13) => return CoreError::DiskFull,
                _ => {}
            }
        }
        if let sqlx::Error::PoolTimedOut = err {
            return CoreError::StoreBusy;
        }
        CoreError::Store(err.to_string())
    }
}
