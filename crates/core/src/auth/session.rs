//! The signed-in session: where it is kept and how it stays fresh.
//!
//! [`SessionStore`] keeps the session (tokens, expiry, who) in the OS keyring as one entry, so it
//! survives restarts and never reaches the webview, a log or the local database.
//! [`SessionManager`] hands out an access token that is valid for at least a margin, refreshing
//! it first when needed. Concurrent callers share one refresh (Supabase rotates refresh tokens:
//! two refreshes with the same token would look like token theft and end the session).
//!
//! The rule that keeps offline work safe: only a definitive rejection from Supabase Auth
//! (refresh token unknown or reused, session gone or expired) clears the session. A network
//! failure, a timeout, a 5xx or a rate limit leaves it in place; the caller retries later and
//! writes queued meanwhile stay queued.
//!
//! Deliberately left out: a background timer. Refreshing on demand (before each use, and when
//! the network returns) does the same job without a task to start and stop.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::client::{AuthClient, SignOutScope, SignUpOutcome, VerifyToken, VerifyType};
use super::error::AuthError;
use crate::secrets::{KEYRING_SERVICE, SecretString, SecretsError};

/// Refresh when the access token has less than this left (Supabase's clients use a similar
/// margin; tokens live an hour by default).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// The keyring entry (user name under [`KEYRING_SERVICE`]) holding the team session.
pub const SESSION_ENTRY: &str = "team-session";

/// Who is signed in. Safe to show and to send to the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SessionUser {
    pub id: String,
    pub email: Option<String>,
    /// The database role of the token (`authenticated`), not the team role.
    pub role: Option<String>,
    /// When the email address was confirmed (RFC 3339); `None`: not confirmed (or not known,
    /// for a session saved by an older version).
    #[serde(default)]
    pub email_confirmed_at: Option<String>,
}

/// A signed-in session. The tokens print as `***`; the struct cannot be serialized.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_at: DateTime<Utc>,
    pub user: SessionUser,
}

/// What a front end may learn about the session: never the tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SessionStatus {
    pub signed_in: bool,
    pub user: Option<SessionUser>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The access token has expired (it is refreshed at the next use when online).
    pub expired: bool,
}

/// The stored form. Plain strings only inside this module, wiped after use.
#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    access_token: String,
    refresh_token: String,
    expires_at: i64,
    user: SessionUser,
}

impl Drop for Stored {
    fn drop(&mut self) {
        self.access_token.zeroize();
        self.refresh_token.zeroize();
    }
}

/// Where the serialized session lives: the keyring in the app, memory in tests.
pub trait SessionVault: Send + Sync + std::fmt::Debug {
    fn load(&self) -> BoxFuture<'_, Result<Option<SecretString>, SecretsError>>;
    fn save(&self, blob: SecretString) -> BoxFuture<'_, Result<(), SecretsError>>;
    fn clear(&self) -> BoxFuture<'_, Result<(), SecretsError>>;
}

/// The OS keyring, through the secrets module's keyring access.
#[derive(Debug, Clone)]
pub struct KeyringVault {
    service: String,
}

impl Default for KeyringVault {
    fn default() -> Self {
        Self::with_service(KEYRING_SERVICE)
    }
}

impl KeyringVault {
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }
}

impl SessionVault for KeyringVault {
    fn load(&self) -> BoxFuture<'_, Result<Option<SecretString>, SecretsError>> {
        Box::pin(crate::secrets::entry_op(
            &self.service,
            SESSION_ENTRY,
            |entry| match entry.get_password() {
                Ok(v) => Ok(Some(SecretString::new(v))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(e),
            },
        ))
    }
    fn save(&self, blob: SecretString) -> BoxFuture<'_, Result<(), SecretsError>> {
        Box::pin(crate::secrets::entry_op(
            &self.service,
            SESSION_ENTRY,
            move |entry| entry.set_password(blob.expose()),
        ))
    }
    fn clear(&self) -> BoxFuture<'_, Result<(), SecretsError>> {
        Box::pin(crate::secrets::entry_op(
            &self.service,
            SESSION_ENTRY,
            |entry| match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(e),
            },
        ))
    }
}

/// A vault in memory, for tests (shareable, to simulate an app restart).
#[derive(Debug, Default)]
pub struct MemoryVault {
    blob: StdMutex<Option<SecretString>>,
}

impl MemoryVault {
    /// Whether anything is stored.
    pub fn is_empty(&self) -> bool {
        self.blob.lock().map(|b| b.is_none()).unwrap_or(true)
    }
}

impl SessionVault for MemoryVault {
    fn load(&self) -> BoxFuture<'_, Result<Option<SecretString>, SecretsError>> {
        let v = self.blob.lock().map(|b| b.clone()).unwrap_or(None);
        Box::pin(async move { Ok(v) })
    }
    fn save(&self, blob: SecretString) -> BoxFuture<'_, Result<(), SecretsError>> {
        if let Ok(mut b) = self.blob.lock() {
            *b = Some(blob);
        }
        Box::pin(async { Ok(()) })
    }
    fn clear(&self) -> BoxFuture<'_, Result<(), SecretsError>> {
        if let Ok(mut b) = self.blob.lock() {
            *b = None;
        }
        Box::pin(async { Ok(()) })
    }
}

/// Persists one session in a [`SessionVault`].
#[derive(Debug, Clone)]
pub struct SessionStore {
    vault: Arc<dyn SessionVault>,
}

impl SessionStore {
    pub fn new(vault: Arc<dyn SessionVault>) -> Self {
        Self { vault }
    }

    /// The desktop app's store: the OS keyring.
    pub fn keyring() -> Self {
        Self::new(Arc::new(KeyringVault::default()))
    }

    pub async fn load(&self) -> Result<Option<Session>, AuthError> {
        let Some(blob) = self.vault.load().await? else {
            return Ok(None);
        };
        // A corrupt entry is treated as no session (sign in again), not as a hard failure.
        let Ok(stored) = serde_json::from_str::<Stored>(blob.expose()) else {
            tracing::warn!("the saved team session is unreadable; it is ignored");
            return Ok(None);
        };
        let Some(expires_at) = DateTime::<Utc>::from_timestamp(stored.expires_at, 0) else {
            return Ok(None);
        };
        Ok(Some(Session {
            access_token: SecretString::new(stored.access_token.as_str()),
            refresh_token: SecretString::new(stored.refresh_token.as_str()),
            expires_at,
            user: stored.user.clone(),
        }))
    }

    pub async fn save(&self, session: &Session) -> Result<(), AuthError> {
        let stored = Stored {
            version: 1,
            access_token: session.access_token.expose().to_owned(),
            refresh_token: session.refresh_token.expose().to_owned(),
            expires_at: session.expires_at.timestamp(),
            user: session.user.clone(),
        };
        let blob = serde_json::to_string(&stored)
            .map_err(|e| AuthError::Protocol(format!("cannot encode the session: {e}")))?;
        Ok(self.vault.save(SecretString::new(blob)).await?)
    }

    pub async fn clear(&self) -> Result<(), AuthError> {
        Ok(self.vault.clear().await?)
    }
}

/// The result of a sign-out: the local session is always gone; `server_confirmed` says whether
/// Supabase Auth also ended it (false when offline: it then ends at its own expiry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SignOutReport {
    pub server_confirmed: bool,
}

/// Hands out fresh access tokens and owns the session's life cycle.
#[derive(Debug)]
pub struct SessionManager {
    client: AuthClient,
    store: SessionStore,
    margin: Duration,
    /// `None`: not loaded from the store yet. Held across a refresh, which makes concurrent
    /// callers wait for (and share) that refresh.
    state: tokio::sync::Mutex<Option<Option<Session>>>,
    refreshes: std::sync::atomic::AtomicU64,
}

impl SessionManager {
    pub fn new(client: AuthClient, store: SessionStore) -> Self {
        Self {
            client,
            store,
            margin: DEFAULT_REFRESH_MARGIN,
            state: tokio::sync::Mutex::new(None),
            refreshes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    pub fn client(&self) -> &AuthClient {
        &self.client
    }

    /// Refresh requests sent so far (successful or not).
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn loaded(
        &self,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<Option<Session>>>, AuthError> {
        let mut guard = self.state.lock().await;
        if guard.is_none() {
            *guard = Some(self.store.load().await?);
        }
        Ok(guard)
    }

    async fn adopt(&self, session: Session) -> Result<SessionUser, AuthError> {
        let user = session.user.clone();
        if let Err(e) = self.store.save(&session).await {
            // Not kept, so not usable: end it on the server rather than leave it orphaned.
            let _ = self
                .client
                .sign_out(&session.access_token, SignOutScope::Local)
                .await;
            return Err(e);
        }
        *self.state.lock().await = Some(Some(session));
        Ok(user)
    }

    /// Signs in with email and password and saves the session.
    pub async fn sign_in_password(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<SessionUser, AuthError> {
        let session = self.client.sign_in_password(email, password).await?;
        self.adopt(session).await
    }

    /// Creates an account; signs in at once when the project does not require confirmation.
    /// `Ok(None)`: a confirmation email was sent.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<Option<SessionUser>, AuthError> {
        match self.client.sign_up(email, password).await? {
            SignUpOutcome::SignedIn(session) => self.adopt(session).await.map(Some),
            SignUpOutcome::ConfirmationSent(_) => Ok(None),
        }
    }

    /// Completes an email link (confirmation or password reset) and saves the session.
    pub async fn verify(
        &self,
        kind: VerifyType,
        token: &VerifyToken,
    ) -> Result<SessionUser, AuthError> {
        let session = self.client.verify(kind, token).await?;
        self.adopt(session).await
    }

    /// Sets a new password for the signed-in user (after a reset link, or from settings).
    pub async fn update_password(&self, new_password: &SecretString) -> Result<(), AuthError> {
        let token = self.access_token().await?;
        self.client
            .update_password(&token, new_password)
            .await
            .map(drop)
    }

    /// What the UI shows, without touching the network.
    pub async fn status(&self) -> Result<SessionStatus, AuthError> {
        let guard = self.loaded().await?;
        let now = self.client.clock().wall();
        Ok(match guard.as_ref().and_then(Option::as_ref) {
            Some(s) => SessionStatus {
                signed_in: true,
                user: Some(s.user.clone()),
                expires_at: Some(s.expires_at),
                expired: s.expires_at <= now,
            },
            None => SessionStatus {
                signed_in: false,
                user: None,
                expires_at: None,
                expired: false,
            },
        })
    }

    /// An access token valid for at least the margin, refreshed first if needed.
    ///
    /// Errors: [`AuthError::NotSignedIn`]; a transient error (network, 5xx, 429) when the token
    /// has expired and cannot be refreshed now (the session is kept: retry later); and
    /// [`AuthError::SessionEnded`] when the server refused the session (it is then cleared).
    pub async fn access_token(&self) -> Result<SecretString, AuthError> {
        let mut guard = self.loaded().await?;
        let Some(session) = guard.as_ref().and_then(Option::as_ref) else {
            return Err(AuthError::NotSignedIn);
        };
        let now = self.client.clock().wall();
        let margin = chrono::Duration::from_std(self.margin).unwrap_or_default();
        if session.expires_at - margin > now {
            return Ok(session.access_token.clone());
        }
        self.refreshes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self.client.refresh(&session.refresh_token).await {
            Ok(fresh) => {
                // The old refresh token is spent: keep the new one even if the keyring fails,
                // so this run stays signed in (the next start may have to sign in again).
                if let Err(e) = self.store.save(&fresh).await {
                    tracing::warn!(error = %e, "could not save the refreshed session");
                }
                let token = fresh.access_token.clone();
                *guard = Some(Some(fresh));
                Ok(token)
            }
            Err(e) if e.ends_session() => {
                tracing::info!(
                    code = e.error_code().unwrap_or(""),
                    "team session ended by the server"
                );
                *guard = Some(None);
                self.store.clear().await?;
                Err(e)
            }
            Err(e) => {
                tracing::info!(error = %e, "session refresh failed; the session is kept");
                // Still valid (only inside the margin): use it rather than fail the caller.
                if session.expires_at > now {
                    Ok(session.access_token.clone())
                } else {
                    Err(e)
                }
            }
        }
    }

    /// A fresh access token after the team database refused `rejected` (revoked early, or a
    /// clock that disagrees with the server's). Refreshes unless another caller already replaced
    /// that token (then returns the current one). As with [`Self::access_token`], only a
    /// definitive rejection by Supabase Auth clears the session; a network failure keeps it.
    pub async fn refresh_rejected(
        &self,
        rejected: &SecretString,
    ) -> Result<SecretString, AuthError> {
        let mut guard = self.loaded().await?;
        let Some(session) = guard.as_ref().and_then(Option::as_ref) else {
            return Err(AuthError::NotSignedIn);
        };
        if session.access_token.expose() != rejected.expose() {
            return Ok(session.access_token.clone());
        }
        self.refreshes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self.client.refresh(&session.refresh_token).await {
            Ok(fresh) => {
                if let Err(e) = self.store.save(&fresh).await {
                    tracing::warn!(error = %e, "could not save the refreshed session");
                }
                let token = fresh.access_token.clone();
                *guard = Some(Some(fresh));
                Ok(token)
            }
            Err(e) if e.ends_session() => {
                tracing::info!(
                    code = e.error_code().unwrap_or(""),
                    "team session ended by the server"
                );
                *guard = Some(None);
                self.store.clear().await?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Signs out. The local session is always cleared; the server is told when reachable.
    pub async fn sign_out(&self, scope: SignOutScope) -> Result<SignOutReport, AuthError> {
        let mut guard = self.loaded().await?;
        let session = guard.take().flatten();
        *guard = Some(None);
        self.store.clear().await?;
        let Some(session) = session else {
            return Ok(SignOutReport {
                server_confirmed: false,
            });
        };
        match self.client.sign_out(&session.access_token, scope).await {
            Ok(()) => Ok(SignOutReport {
                server_confirmed: true,
            }),
            Err(e) if e.is_transient() => {
                tracing::info!(error = %e, "signed out locally; the server was not reachable");
                Ok(SignOutReport {
                    server_confirmed: false,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Forgets the in-memory copy so the next call reads the store again (an app restart).
    pub async fn reload(&self) {
        *self.state.lock().await = None;
    }
}
