//! [`Team`]: the session manager built from the team settings, what the account pages and
//! `salesdesk auth` call, and what the device knows about its connection to Supabase Auth.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::settings::{self, EffectiveSettings, TeamSettingsInput, TeamSettingsView};
use super::setup::TeamSetup;
use crate::auth::session::DEFAULT_REFRESH_MARGIN;
use crate::auth::{
    AuthClient, AuthError, SessionManager, SessionStore, SignOutReport, SignOutScope, VerifyToken,
    VerifyType,
};
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::secrets::SecretString;

/// Everything the UI may know about the account. Never a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct AccountStatus {
    /// The team project is set up (URL and key); otherwise the app is in local mode.
    pub configured: bool,
    pub signed_in: bool,
    pub user_id: Option<String>,
    pub email: Option<String>,
    /// The team role (`admin`, `manager`, `rep`) once the profile has synced; `null` before.
    pub role: Option<String>,
    /// The email address is confirmed.
    pub verified: bool,
    /// When the current access token expires (it is refreshed before, when online).
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    /// `true`/`false` after the last exchange with the sign-in service; `null` before any.
    pub online: Option<bool>,
    /// Why the last exchange failed, when it did (never a token).
    pub last_error: Option<String>,
    /// When the keeper will try again to refresh, while offline.
    pub next_retry_at: Option<DateTime<Utc>>,
    /// One line for the status bar: "Signed in as …", "Offline, signed in as …", "Local mode".
    pub summary: String,
}

/// The outcome of a sign-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SignUpResult {
    /// A confirmation email was sent: open its link (or type its code) before signing in.
    pub confirmation_sent: bool,
    pub status: AccountStatus,
}

/// Which email a verification code or link came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum VerifyKind {
    Signup,
    Recovery,
    Email,
}

/// A code from an email (with the address) or the link itself / its `token_hash`.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct VerifyInput {
    pub kind: VerifyKind,
    pub email: Option<String>,
    /// The 6-digit code, the `token_hash`, or the whole link pasted from the email.
    pub token: String,
}

impl std::fmt::Debug for VerifyInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyInput")
            .field("kind", &self.kind)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// What the device learned from its last exchanges with Supabase Auth.
#[derive(Debug, Default, Clone)]
pub(crate) struct Link {
    pub online: Option<bool>,
    pub last_error: Option<String>,
    pub next_retry_at: Option<DateTime<Utc>>,
}

#[derive(Debug)]
struct Built {
    url: String,
    key: String,
    manager: Arc<SessionManager>,
}

/// Team mode for one data directory. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Team {
    pub(crate) setup: TeamSetup,
    built: tokio::sync::Mutex<Option<Built>>,
    pub(crate) link: Mutex<Link>,
    /// Wakes the keeper (after a sign-in, a settings change, a failed token request).
    pub(crate) wake: Arc<tokio::sync::Notify>,
    pub(crate) keeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Team {
    fn drop(&mut self) {
        if let Ok(mut k) = self.keeper.lock()
            && let Some(handle) = k.take()
        {
            handle.abort();
        }
    }
}

impl Team {
    pub fn new(setup: TeamSetup) -> Self {
        Self {
            setup,
            built: tokio::sync::Mutex::new(None),
            link: Mutex::new(Link::default()),
            wake: Arc::new(tokio::sync::Notify::new()),
            keeper: Mutex::new(None),
        }
    }

    pub fn setup(&self) -> &TeamSetup {
        &self.setup
    }

    pub async fn settings(&self, store: &LocalStore) -> Result<TeamSettingsView> {
        settings::view(store, &self.setup).await
    }

    pub async fn save_settings(
        &self,
        store: &LocalStore,
        input: TeamSettingsInput,
    ) -> Result<TeamSettingsView> {
        settings::save(store, &self.setup, input).await?;
        self.wake.notify_one();
        self.settings(store).await
    }

    /// The project URL and anon key in force (no keyring access).
    pub async fn project(&self, store: &LocalStore) -> Result<(Option<String>, Option<String>)> {
        settings::project(store, &self.setup).await
    }

    pub async fn effective_settings(&self, store: &LocalStore) -> Result<EffectiveSettings> {
        settings::effective(store, &self.setup).await
    }

    /// The team database URL with its password, for the sync engine; `None` in local mode.
    pub async fn database_url(&self, store: &LocalStore) -> Result<Option<SecretString>> {
        Ok(self.effective_settings(store).await?.database_url)
    }

    /// The session manager for the project in the settings; `None` when none is set up.
    /// Rebuilt when the URL or key change; the saved session itself is kept in the vault.
    pub async fn session(&self, store: &LocalStore) -> Result<Option<Arc<SessionManager>>> {
        let (Some(url), Some(key)) = settings::project(store, &self.setup).await? else {
            *self.built.lock().await = None;
            return Ok(None);
        };
        let mut built = self.built.lock().await;
        if let Some(b) = built.as_ref()
            && b.url == url
            && b.key == key
        {
            return Ok(Some(b.manager.clone()));
        }
        let client = AuthClient::with_timeouts(
            &url,
            SecretString::new(key.as_str()),
            self.setup.clock.clone(),
            self.setup.connect_timeout,
            self.setup.request_timeout,
        )?;
        let manager = Arc::new(SessionManager::new(
            client,
            SessionStore::new(self.setup.session_vault.clone()),
        ));
        *built = Some(Built {
            url,
            key,
            manager: manager.clone(),
        });
        Ok(Some(manager))
    }

    async fn require_session(&self, store: &LocalStore) -> Result<Arc<SessionManager>> {
        self.session(store)
            .await?
            .ok_or(CoreError::TeamNotConfigured)
    }

    /// Notes what an exchange with the server says about the connection.
    pub(crate) fn observe<T>(&self, outcome: &std::result::Result<T, AuthError>) {
        let Ok(mut link) = self.link.lock() else {
            return;
        };
        match outcome {
            Ok(_) => {
                link.online = Some(true);
                link.last_error = None;
                link.next_retry_at = None;
            }
            Err(e) if e.is_transient() => {
                link.online = Some(false);
                link.last_error = Some(e.to_string());
            }
            // The server answered: the device is online, the request was refused.
            Err(AuthError::NotSignedIn | AuthError::Store(_) | AuthError::Config(_)) => {}
            Err(_) => link.online = Some(true),
        }
    }

    /// An access token valid for a while, refreshed first when needed. Offline with an
    /// expired token: a transient error, the session kept, and the keeper woken to retry.
    pub async fn access_token(&self, store: &LocalStore) -> Result<SecretString> {
        let manager = self.require_session(store).await?;
        let tried = manager.refresh_count();
        let outcome = manager.access_token().await;
        // A still-valid token comes back even when its refresh failed; that says nothing about
        // the connection, so leave the verdict (and the retries) to the keeper.
        let refresh_failed_quietly = outcome.is_ok()
            && manager.refresh_count() > tried
            && manager.status().await.is_ok_and(|s| {
                let margin = chrono::Duration::from_std(DEFAULT_REFRESH_MARGIN).unwrap_or_default();
                s.expires_at
                    .is_some_and(|at| at - margin <= self.setup.clock.wall())
            });
        if refresh_failed_quietly {
            self.wake.notify_one();
        } else {
            self.observe(&outcome);
        }
        if outcome.as_ref().is_err_and(AuthError::is_transient) {
            self.wake.notify_one();
        }
        Ok(outcome?)
    }

    pub async fn sign_in(
        &self,
        store: &LocalStore,
        email: &str,
        password: &SecretString,
    ) -> Result<AccountStatus> {
        let email = check_email(email)?;
        check_password(password)?;
        let manager = self.require_session(store).await?;
        let outcome = manager.sign_in_password(&email, password).await;
        self.observe(&outcome);
        outcome?;
        self.wake.notify_one();
        self.status(store).await
    }

    pub async fn sign_up(
        &self,
        store: &LocalStore,
        email: &str,
        password: &SecretString,
    ) -> Result<SignUpResult> {
        let email = check_email(email)?;
        check_password(password)?;
        let manager = self.require_session(store).await?;
        let outcome = manager.sign_up(&email, password).await;
        self.observe(&outcome);
        let signed_in = outcome?.is_some();
        self.wake.notify_one();
        Ok(SignUpResult {
            confirmation_sent: !signed_in,
            status: self.status(store).await?,
        })
    }

    /// Sends a password-reset email. Supabase answers the same whether or not the address has
    /// an account, so this says nothing about that either.
    pub async fn request_password_reset(&self, store: &LocalStore, email: &str) -> Result<()> {
        let email = check_email(email)?;
        let manager = self.require_session(store).await?;
        let outcome = manager.client().recover(&email).await;
        self.observe(&outcome);
        Ok(outcome?)
    }

    /// Completes a confirmation or reset email (signs in on success).
    pub async fn verify(&self, store: &LocalStore, input: VerifyInput) -> Result<AccountStatus> {
        let (kind, token) = verify_token(input)?;
        let manager = self.require_session(store).await?;
        let outcome = manager.verify(kind, &token).await;
        self.observe(&outcome);
        outcome?;
        self.wake.notify_one();
        self.status(store).await
    }

    pub async fn update_password(
        &self,
        store: &LocalStore,
        new_password: &SecretString,
    ) -> Result<()> {
        check_password(new_password)?;
        let manager = self.require_session(store).await?;
        let outcome = manager.update_password(new_password).await;
        self.observe(&outcome);
        Ok(outcome?)
    }

    /// Signs out here (`everywhere`: on every device). The local session is always removed.
    pub async fn sign_out(&self, store: &LocalStore, everywhere: bool) -> Result<SignOutReport> {
        let manager = self.require_session(store).await?;
        let scope = if everywhere {
            SignOutScope::Global
        } else {
            SignOutScope::Local
        };
        let outcome = manager.sign_out(scope).await;
        self.observe(&outcome);
        if let Ok(mut link) = self.link.lock() {
            link.next_retry_at = None;
        }
        Ok(outcome?)
    }

    /// Who is signed in and how the connection is, without touching the network.
    pub async fn status(&self, store: &LocalStore) -> Result<AccountStatus> {
        let link = self.link.lock().map(|l| l.clone()).unwrap_or_default();
        let Some(manager) = self.session(store).await? else {
            return Ok(AccountStatus {
                configured: false,
                signed_in: false,
                user_id: None,
                email: None,
                role: None,
                verified: false,
                expires_at: None,
                expired: false,
                online: None,
                last_error: None,
                next_retry_at: None,
                summary: "Local mode — set up a team in Settings to sign in".into(),
            });
        };
        let session = manager.status().await?;
        let Some(user) = session.user.filter(|_| session.signed_in) else {
            return Ok(AccountStatus {
                configured: true,
                signed_in: false,
                user_id: None,
                email: None,
                role: None,
                verified: false,
                expires_at: None,
                expired: false,
                online: link.online,
                last_error: link.last_error,
                next_retry_at: None,
                summary: "Local mode — sign in".into(),
            });
        };
        let role = team_role(store, &user.id).await?;
        let who = user.email.clone().unwrap_or_else(|| user.id.clone());
        let summary = if link.online == Some(false) {
            format!("Offline, signed in as {who}")
        } else {
            format!("Signed in as {who}")
        };
        Ok(AccountStatus {
            configured: true,
            signed_in: true,
            verified: user.email_confirmed_at.is_some(),
            user_id: Some(user.id),
            email: user.email,
            role,
            expires_at: session.expires_at,
            expired: session.expired,
            online: link.online,
            last_error: link.last_error,
            next_retry_at: link.next_retry_at,
            summary,
        })
    }
}

/// The team role from the synced profile, when it has arrived.
async fn team_role(store: &LocalStore, user_id: &str) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT role FROM profiles WHERE id = ? AND deleted_at IS NULL")
        .bind(user_id)
        .fetch_optional(store.pool())
        .await
        .map_err(|e| store.err(e))
}

fn check_email(email: &str) -> Result<String> {
    let email = email.trim();
    let (local, domain) = email.split_once('@').unwrap_or(("", ""));
    if local.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.len() > 320
        || email.chars().any(char::is_whitespace)
    {
        return Err(CoreError::InvalidInput(format!(
            "'{email}' is not an email address (expected name@company.com)"
        )));
    }
    Ok(email.to_owned())
}

fn check_password(password: &SecretString) -> Result<()> {
    if password.expose().is_empty() {
        return Err(CoreError::InvalidInput("enter a password".into()));
    }
    if password.expose().len() > 72 {
        // Supabase Auth hashes with bcrypt, which reads only the first 72 bytes.
        return Err(CoreError::InvalidInput(
            "the password is longer than 72 bytes, which the sign-in service cannot use; \
             choose a shorter one"
                .into(),
        ));
    }
    Ok(())
}

/// The token to send to `/verify`: a 6-digit code with its email, or a `token_hash` (alone or
/// inside the pasted link, whose `type` then wins over `input.kind`).
fn verify_token(input: VerifyInput) -> Result<(VerifyType, VerifyToken)> {
    let mut kind = match input.kind {
        VerifyKind::Signup => VerifyType::Signup,
        VerifyKind::Recovery => VerifyType::Recovery,
        VerifyKind::Email => VerifyType::Email,
    };
    let token = input.token.trim();
    if token.is_empty() {
        return Err(CoreError::InvalidInput(
            "paste the link from the email, or type the code it contains".into(),
        ));
    }
    if token.len() == 6 && token.chars().all(|c| c.is_ascii_digit()) {
        let email = check_email(input.email.as_deref().unwrap_or_default()).map_err(|_| {
            CoreError::InvalidInput("enter the email address the code was sent to".into())
        })?;
        return Ok((
            kind,
            VerifyToken::EmailOtp {
                email,
                token: SecretString::new(token),
            },
        ));
    }
    let hash = if token.contains("://") {
        let url = reqwest::Url::parse(token).map_err(|_| {
            CoreError::InvalidInput("the pasted link is not a complete URL; copy it again".into())
        })?;
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // Supabase puts some link parameters after `#`, in query form.
        if let Some(fragment) = url.fragment()
            && let Ok(f) = reqwest::Url::parse(&format!("http://fragment/?{fragment}"))
        {
            pairs.extend(
                f.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        if let Some((_, t)) = pairs.iter().find(|(k, _)| k == "type") {
            kind = match t.as_str() {
                "recovery" => VerifyType::Recovery,
                "signup" => VerifyType::Signup,
                _ => VerifyType::Email,
            };
        }
        pairs
            .into_iter()
            .find(|(k, _)| k == "token_hash" || k == "token")
            .map(|(_, v)| v)
            .ok_or_else(|| {
                CoreError::InvalidInput(
                    "the pasted link has no token in it; copy the whole link from the email".into(),
                )
            })?
    } else {
        token.to_owned()
    };
    if hash.len() > 512 || hash.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CoreError::InvalidInput(
            "that does not look like a code or link from a Salesdesk email".into(),
        ));
    }
    Ok((kind, VerifyToken::TokenHash(SecretString::new(hash))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_passwords_are_checked_before_any_request() {
        assert!(check_email("ana@example.com").is_ok());
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a na@example.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_password(&SecretString::new("")).is_err());
        assert!(check_password(&SecretString::new("x".repeat(73))).is_err());
    }

    #[test]
    fn verify_accepts_a_code_a_hash_or_the_whole_link() {
        let code = VerifyInput {
            kind: VerifyKind::Signup,
            email: Some("ana@example.com".into()),
            token: " 123456 ".into(),
        };
        assert!(matches!(
            verify_token(code).unwrap(),
            (VerifyType::Signup, VerifyToken::EmailOtp { .. })
        ));
        let no_email = VerifyInput {
            kind: VerifyKind::Signup,
            email: None,
            token: "123456".into(),
        };
        assert!(verify_token(no_email).is_err());
        let link = VerifyInput {
            kind: VerifyKind::Signup,
            email: None,
            token: "https://x.example.test/auth/v1/verify?token_hash=abc123&type=recovery".into(),
        };
        let (kind, token) = verify_token(link).unwrap();
        assert_eq!(kind, VerifyType::Recovery);
        assert!(matches!(token, VerifyToken::TokenHash(t) if t.expose() == "abc123"));
        let empty = VerifyInput {
            kind: VerifyKind::Email,
            email: None,
            token: "  ".into(),
        };
        assert!(verify_token(empty).is_err());
    }
}
