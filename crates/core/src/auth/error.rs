//! What can go wrong with an account, split the way the session logic needs it: a failure to
//! *reach* Supabase Auth (network, timeout, 5xx, rate limit) never ends a session, while a
//! definitive *rejection* of the session (refresh token unknown, reused, session gone or
//! expired) does.
//!
//! Messages carry the server's `error_code` where it helps (users quote it to support) and
//! never a token, a password or the anon key.

use std::time::Duration;

use crate::secrets::SecretsError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "the team account settings are not valid: {0}. Set SUPABASE_URL to the project URL \
         (https://PROJECT.supabase.co) and SUPABASE_ANON_KEY to its anon or publishable key"
    )]
    Config(String),

    #[error(
        "cannot reach the sign-in service: {0}. Check the network connection; you stay signed in \
         and your changes are kept until it is back"
    )]
    Network(String),

    #[error(
        "the sign-in service is having trouble (HTTP {status}{}). You stay signed in; try again \
         in a few minutes", code_suffix(.error_code)
    )]
    Unavailable {
        status: u16,
        error_code: Option<String>,
    },

    #[error("too many sign-in requests (over_request_rate_limit); wait {} and try again", wait_text(*.retry_after))]
    RateLimited { retry_after: Option<Duration> },

    #[error("wrong email or password (invalid_credentials)")]
    InvalidCredentials,

    #[error(
        "this email address is not confirmed yet (email_not_confirmed). Open the link in the \
         confirmation email, then sign in"
    )]
    EmailNotConfirmed,

    #[error(
        "an account with this email already exists (user_already_exists). Sign in instead, or reset the password"
    )]
    UserAlreadyExists,

    #[error("the password is too weak (weak_password){}. Choose a longer password mixing letters, digits and symbols", reasons_text(.reasons))]
    WeakPassword { reasons: Vec<String> },

    #[error("the link or code is invalid or has expired ({code}). Ask for a new email")]
    LinkExpired { code: String },

    /// The server definitively refused the session: the user must sign in again.
    #[error("your session has ended ({code}): {message}. Sign in again")]
    SessionEnded { code: String, message: String },

    #[error(
        "you are not signed in to a team account. Sign in with `salesdesk auth signin` or from the app"
    )]
    NotSignedIn,

    #[error("the sign-in service refused the request (HTTP {status}, {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },

    #[error("the sign-in service sent a reply Salesdesk does not understand: {0}")]
    Protocol(String),

    #[error("cannot use the saved session: {0}")]
    Store(#[from] SecretsError),
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(", {c}"))
        .unwrap_or_default()
}

fn wait_text(d: Option<Duration>) -> String {
    match d {
        Some(d) => format!("{} s", d.as_secs().max(1)),
        None => "a minute".into(),
    }
}

fn reasons_text(reasons: &[String]) -> String {
    if reasons.is_empty() {
        String::new()
    } else {
        format!(": {}", reasons.join(", "))
    }
}

impl AuthError {
    /// True when the failure says nothing about the session's validity: the session must be
    /// kept and the operation retried later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AuthError::Network(_) | AuthError::Unavailable { .. } | AuthError::RateLimited { .. }
        )
    }

    /// True when the session is definitively over and must be cleared.
    pub fn ends_session(&self) -> bool {
        matches!(self, AuthError::SessionEnded { .. })
    }

    /// The server's `error_code`, when the failure came with one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            AuthError::InvalidCredentials => Some("invalid_credentials"),
            AuthError::EmailNotConfirmed => Some("email_not_confirmed"),
            AuthError::UserAlreadyExists => Some("user_already_exists"),
            AuthError::WeakPassword { .. } => Some("weak_password"),
            AuthError::RateLimited { .. } => Some("over_request_rate_limit"),
            AuthError::LinkExpired { code }
            | AuthError::SessionEnded { code, .. }
            | AuthError::Rejected { code, .. } => Some(code),
            AuthError::Unavailable { error_code, .. } => error_code.as_deref(),
            _ => None,
        }
    }

    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            AuthError::SessionEnded { .. } | AuthError::NotSignedIn => ErrorKind::SignedOut,
            AuthError::Config(_)
            | AuthError::InvalidCredentials
            | AuthError::EmailNotConfirmed
            | AuthError::UserAlreadyExists
            | AuthError::WeakPassword { .. }
            | AuthError::LinkExpired { .. }
            | AuthError::Rejected { .. } => ErrorKind::InvalidInput,
            AuthError::Network(_)
            | AuthError::Unavailable { .. }
            | AuthError::RateLimited { .. }
            | AuthError::Protocol(_) => ErrorKind::Remote,
            AuthError::Store(_) => ErrorKind::Unavailable,
        }
    }
}

/// Session-ending codes Supabase Auth answers on a refresh or with a dead access token.
pub(crate) const SESSION_ENDING_CODES: &[&str] = &[
    "refresh_token_not_found",
    "refresh_token_already_used",
    "session_not_found",
    "session_expired",
    "user_not_found",
    "user_banned",
    "bad_jwt",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_never_end_a_session() {
        let network = AuthError::Network("timed out".into());
        assert!(network.is_transient() && !network.ends_session());
        let limited = AuthError::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
        };
        assert!(limited.is_transient());
        assert!(limited.to_string().contains("30 s"));
        let ended = AuthError::SessionEnded {
            code: "refresh_token_already_used".into(),
            message: "Invalid Refresh Token: Already Used".into(),
        };
        assert!(ended.ends_session() && !ended.is_transient());
        assert_eq!(ended.kind(), crate::ErrorKind::SignedOut);
        assert!(ended.to_string().contains("refresh_token_already_used"));
    }
}
