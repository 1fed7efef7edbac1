//! What can go wrong with the team database, in words a user (or an admin) can act on.
//!
//! Messages never carry the database URL (it holds a password), an access token or row data.

/// A failure talking to the team's Postgres.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(
        "the team database URL is not valid ({0}). Expected \
         postgres://USER:PASSWORD@HOST:PORT/DATABASE, as shown in the Supabase dashboard under \
         Connect"
    )]
    InvalidUrl(String),

    #[error(
        "cannot reach the team database at {host}: {reason}. Check the network connection and \
         the host and port in the database URL"
    )]
    Unreachable { host: String, reason: String },

    #[error(
        "the team database refused the login of role {user}: {reason}. Check the user name and \
         password in the database URL (an admin can reset the app role's password with \
         `salesdesk migrate --app-password-env`)"
    )]
    LoginRefused { user: String, reason: String },

    #[error(
        "schema changes need a direct or session-mode connection, but {host}:{port} is a \
         transaction-mode pooler. Use the direct connection string (port 5432) for `salesdesk \
         migrate`"
    )]
    NeedsSessionConnection { host: String, port: u16 },

    #[error("your team session has ended ({0}). Sign in again")]
    SignedOut(String),

    #[error("not allowed: {0}")]
    Forbidden(String),

    #[error(
        "the team database is not set up for Salesdesk yet: {0}. An admin must run `salesdesk \
         migrate` (see docs/team-mode.md)"
    )]
    NotConfigured(String),

    #[error("the team database rejected the request: {0}")]
    InvalidRequest(String),

    #[error(
        "could not update the team database schema: {0}. Nothing after the failing step was applied"
    )]
    Migration(String),

    #[error("team database error: {0}")]
    Database(String),

    /// A condition that passes on its own (server restarting or overloaded, too many
    /// connections, a serialization conflict): retry with backoff.
    #[error("the team database is busy or restarting ({0}); Salesdesk will retry on its own")]
    Busy(String),
}

impl RemoteError {
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            RemoteError::InvalidUrl(_) | RemoteError::InvalidRequest(_) => ErrorKind::InvalidInput,
            RemoteError::SignedOut(_) => ErrorKind::SignedOut,
            RemoteError::Forbidden(_) => ErrorKind::Forbidden,
            RemoteError::Unreachable { .. }
            | RemoteError::LoginRefused { .. }
            | RemoteError::NeedsSessionConnection { .. }
            | RemoteError::NotConfigured(_)
            | RemoteError::Migration(_)
            | RemoteError::Database(_)
            | RemoteError::Busy(_) => ErrorKind::Remote,
        }
    }

    /// True for failures that pass on their own: the network, a busy or restarting server.
    /// The sync engine retries these with backoff and never rejects a write over them.
    pub fn is_transient(&self) -> bool {
        matches!(self, RemoteError::Unreachable { .. } | RemoteError::Busy(_))
    }

    /// Maps an error from a query made after connecting. The SQLSTATEs come from the functions
    /// in `migrations/remote/`: 28000 for a token or session that does not verify, 42501 for
    /// an action the caller's role does not allow, 55000 for a database not set up yet, 22023
    /// for a malformed request.
    pub(crate) fn from_query(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) => {
                let message = db.message().to_owned();
                match db.code().as_deref() {
                    Some("28000") => RemoteError::SignedOut(
                        message
                            .strip_prefix("access denied: ")
                            .unwrap_or(&message)
                            .to_owned(),
                    ),
                    Some("42501") => RemoteError::Forbidden(message),
                    Some("55000") => RemoteError::NotConfigured(message),
                    Some("42P01") | Some("42883") | Some("3F000") => {
                        RemoteError::NotConfigured(message)
                    }
                    // 22 bad data, 23 a constraint (check, not null, unique) the row breaks.
                    Some(code) if code.starts_with("22") || code.starts_with("23") => {
                        RemoteError::InvalidRequest(message)
                    }
                    // 08 connection, 40 serialization/deadlock, 53 resources, 57 shutdown.
                    Some(code)
                        if ["08", "40", "53", "57"].iter().any(|c| code.starts_with(c)) =>
                    {
                        RemoteError::Busy(message)
                    }
                    _ => RemoteError::Database(message),
                }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            // A connection cut mid-handshake or mid-reply reads as garbage, not as I/O.
            | sqlx::Error::Protocol(_) => {
                RemoteError::Unreachable {
                    host: "the team database".into(),
                    reason: err.to_string(),
                }
            }
            _ => RemoteError::Database(err.to_string()),
        }
    }

    /// Maps an error met while opening a connection to `host` as `user`.
    pub(crate) fn from_connect(host: &str, user: &str, err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            // 28P01 wrong password, 28000 no pg_hba entry / role cannot log in.
            if matches!(db.code().as_deref(), Some("28P01") | Some("28000")) {
                return RemoteError::LoginRefused {
                    user: user.to_owned(),
                    reason: db.message().to_owned(),
                };
            }
            return RemoteError::Database(db.message().to_owned());
        }
        RemoteError::Unreachable {
            host: host.to_owned(),
            reason: err.to_string(),
        }
    }
}
