//! API keys: where they live and how they move through the program.
//!
//! The desktop app keeps keys in the OS keyring ([`KeyringKeys`]); the headless CLI reads the
//! providers' standard environment variables ([`EnvKeys`]). Either way a key travels as a
//! [`SecretString`], which prints as `***`, cannot be serialized and is wiped from memory when
//! dropped, so it cannot reach a log line, a JSON reply or the webview by accident.
//!
//! Deliberately left out: reading keys from files or from the local database. A front end that
//! wants to show a key gets only [`KeyStatus`] (set or not), never the value.

mod keyring_store;

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use zeroize::Zeroize;

use crate::ai::ProviderId;

pub(crate) use keyring_store::entry_op;
pub use keyring_store::{KEYRING_SERVICE, KeyringKeys};

/// A secret string. `Debug` and `Display` print `***`; there is no `Serialize`; the bytes are
/// zeroed on drop. Call [`SecretString::expose`] only where the value goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for an HTTP header. Never format or log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short one-way fingerprint: lets the chain notice that a key changed (and clear a
    /// "misconfigured" mark) without storing the key. Not reversible for a real API key.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"salesdesk-key-fingerprint\0")
            .chain_update(self.0.as_bytes())
            .finalize();
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Whether a key is set, and where it came from: all that a UI ever learns about a key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct KeyStatus {
    pub provider: ProviderId,
    pub set: bool,
    /// `keyring`, `environment`, or `null` when not set.
    pub source: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "no keyring is available: no Secret Service answered on the session bus (is a desktop \
         session running? gnome-keyring or KWallet must be installed and started). Set the key \
         with an environment variable instead, or start a keyring"
    )]
    NoDefaultStore,
    #[error(
        "the keyring is locked or refused access ({detail}). Unlock it (log in to the desktop \
         session, or open your keyring manager) and try again"
    )]
    NoStorageAccess { detail: String },
    #[error("the keyring failed: {detail}")]
    Platform { detail: String },
    #[error("{what} cannot be stored in the keyring: {detail}")]
    Rejected { what: String, detail: String },
    #[error("keys from environment variables cannot be changed here: edit {var} instead")]
    ReadOnly { var: String },
}

/// Where keys are read from and written to.
pub trait KeySource: Send + Sync + fmt::Debug {
    /// A short name shown in [`KeyStatus::source`].
    fn name(&self) -> &'static str;
    fn get(
        &self,
        provider: ProviderId,
    ) -> BoxFuture<'_, Result<Option<SecretString>, SecretsError>>;
    fn set(
        &self,
        provider: ProviderId,
        key: SecretString,
    ) -> BoxFuture<'_, Result<(), SecretsError>>;
    fn delete(&self, provider: ProviderId) -> BoxFuture<'_, Result<(), SecretsError>>;
}

/// The providers' standard variables, as their official SDKs read them. Read-only.
#[derive(Debug, Default, Clone)]
pub struct EnvKeys;

impl EnvKeys {
    pub fn var(provider: ProviderId) -> &'static str {
        match provider {
            ProviderId::Gemini => "GEMINI_API_KEY",
            ProviderId::OpenAi => "OPENAI_API_KEY",
            ProviderId::Anthropic => "ANTHROPIC_API_KEY",
        }
    }
}

impl KeySource for EnvKeys {
    fn name(&self) -> &'static str {
        "environment"
    }
    fn get(
        &self,
        provider: ProviderId,
    ) -> BoxFuture<'_, Result<Option<SecretString>, SecretsError>> {
        let value = std::env::var(Self::var(provider))
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(SecretString::new);
        Box::pin(async move { Ok(value) })
    }
    fn set(
        &self,
        provider: ProviderId,
        _key: SecretString,
    ) -> BoxFuture<'_, Result<(), SecretsError>> {
        Box::pin(async move {
            Err(SecretsError::ReadOnly {
                var: Self::var(provider).to_owned(),
            })
        })
    }
    fn delete(&self, provider: ProviderId) -> BoxFuture<'_, Result<(), SecretsError>> {
        self.set(provider, SecretString::new(""))
    }
}

/// Fixed keys held in memory: for tests and for callers that got a key some other way.
#[derive(Debug, Default)]
pub struct StaticKeys {
    keys: std::sync::Mutex<std::collections::HashMap<ProviderId, SecretString>>,
}

impl StaticKeys {
    pub fn remove(&self, provider: ProviderId) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.remove(&provider);
        }
    }

    pub fn new(keys: impl IntoIterator<Item = (ProviderId, SecretString)>) -> Self {
        Self {
            keys: std::sync::Mutex::new(keys.into_iter().collect()),
        }
    }
}

impl KeySource for StaticKeys {
    fn name(&self) -> &'static str {
        "memory"
    }
    fn get(
        &self,
        provider: ProviderId,
    ) -> BoxFuture<'_, Result<Option<SecretString>, SecretsError>> {
        let value = self
            .keys
            .lock()
            .map(|k| k.get(&provider).cloned())
            .unwrap_or(None);
        Box::pin(async move { Ok(value) })
    }
    fn set(
        &self,
        provider: ProviderId,
        key: SecretString,
    ) -> BoxFuture<'_, Result<(), SecretsError>> {
        if let Ok(mut keys) = self.keys.lock() {
            keys.insert(provider, key);
        }
        Box::pin(async { Ok(()) })
    }
    fn delete(&self, provider: ProviderId) -> BoxFuture<'_, Result<(), SecretsError>> {
        if let Ok(mut keys) = self.keys.lock() {
            keys.remove(&provider);
        }
        Box::pin(async { Ok(()) })
    }
}

/// Several sources in order: `get` returns the first key found, `set`/`delete` go to the
/// first source (the writable one).
#[derive(Debug, Clone)]
pub struct Keys {
    sources: Vec<Arc<dyn KeySource>>,
}

impl Keys {
    pub fn new(sources: Vec<Arc<dyn KeySource>>) -> Self {
        Self { sources }
    }

    /// The CLI: the standard environment variables only, so a script never waits on a
    /// keyring unlock prompt.
    pub fn cli() -> Self {
        Self::new(vec![Arc::new(EnvKeys)])
    }

    /// The desktop app: the OS keyring, then the environment (handy in development).
    pub fn desktop() -> Self {
        Self::new(vec![Arc::new(KeyringKeys::default()), Arc::new(EnvKeys)])
    }

    pub fn single(source: Arc<dyn KeySource>) -> Self {
        Self::new(vec![source])
    }

    /// The key for `provider` from the first source that has one. A source that fails is
    /// logged (without any key) and skipped: a locked keyring must not hide an env key.
    pub async fn get(
        &self,
        provider: ProviderId,
    ) -> Result<Option<(SecretString, &'static str)>, SecretsError> {
        let mut first_error = None;
        for source in &self.sources {
            match source.get(provider).await {
                Ok(Some(key)) => return Ok(Some((key, source.name()))),
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(provider = %provider, source = source.name(), error = %e, "key source failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    pub async fn status(&self, provider: ProviderId) -> Result<KeyStatus, SecretsError> {
        let found = self.get(provider).await?;
        Ok(KeyStatus {
            provider,
            set: found.is_some(),
            source: found.map(|(_, source)| source.to_owned()),
        })
    }

    /// Sets or replaces the key in the first (writable) source. Returns nothing: the caller
    /// learns whether it worked, never the key.
    pub async fn set(&self, provider: ProviderId, key: SecretString) -> Result<(), SecretsError> {
        if key.expose().trim().is_empty() {
            return Err(SecretsError::Rejected {
                what: format!("the {provider} key"),
                detail: "it is empty".into(),
            });
        }
        match self.sources.first() {
            Some(source) => {
                source
                    .set(provider, SecretString::new(key.expose().trim()))
                    .await
            }
            None => Err(SecretsError::NoDefaultStore),
        }
    }

    pub async fn delete(&self, provider: ProviderId) -> Result<(), SecretsError> {
        match self.sources.first() {
            Some(source) => source.delete(provider).await,
            None => Err(SecretsError::NoDefaultStore),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats() {
        let s = SecretString::new("sk-live-abcdef");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(s.expose(), "sk-live-abcdef");
    }

    #[test]
    fn fingerprint_changes_with_the_key_and_hides_it() {
        let a = SecretString::new("sk-live-abcdef");
        let b = SecretString::new("sk-live-abcdeg");
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 12);
        assert!(!a.fingerprint().contains("abcdef"));
    }

    #[tokio::test]
    async fn layered_sources_fall_through_and_write_first() {
        let first = Arc::new(StaticKeys::default());
        let second = Arc::new(StaticKeys::new([(
            ProviderId::OpenAi,
            SecretString::new("k2"),
        )]));
        let keys = Keys::new(vec![first.clone(), second]);
        let (k, _) = keys.get(ProviderId::OpenAi).await.unwrap().unwrap();
        assert_eq!(k.expose(), "k2");
        keys.set(ProviderId::OpenAi, SecretString::new(" k1 "))
            .await
            .unwrap();
        let (k, _) = keys.get(ProviderId::OpenAi).await.unwrap().unwrap();
        assert_eq!(k.expose(), "k1");
        assert!(
            keys.set(ProviderId::OpenAi, SecretString::new("  "))
                .await
                .is_err()
        );
        assert!(!keys.status(ProviderId::Gemini).await.unwrap().set);
    }
}
