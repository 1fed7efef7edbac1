//! API keys in the OS keyring through the `keyring` crate (v1 feature: Keychain on macOS,
//! Credential Manager on Windows, the Secret Service over zbus on Linux, which builds without
//! libdbus and needs only a running gnome-keyring or KWallet at run time).
//!
//! The keyring calls block (D-Bus round trips, possibly an unlock prompt), so each one runs on
//! tokio's blocking pool.

use futures_util::future::BoxFuture;

use super::{KeySource, SecretString, SecretsError};
use crate::ai::ProviderId;

/// The keyring "service" under which Salesdesk's entries are filed.
pub const KEYRING_SERVICE: &str = "app.salesdesk";

#[derive(Debug, Clone)]
pub struct KeyringKeys {
    service: String,
}

impl Default for KeyringKeys {
    fn default() -> Self {
        Self {
            service: KEYRING_SERVICE.to_owned(),
        }
    }
}

impl KeyringKeys {
    /// A store filed under another service name (tests use one of their own).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn user(provider: ProviderId) -> String {
        format!("{}-api-key", provider.as_str())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        provider: ProviderId,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, SecretsError> {
        entry_op(&self.service, &Self::user(provider), op).await
    }
}

/// Runs `op` on the keyring entry `(service, user)` on tokio's blocking pool, with keyring
/// errors mapped to [`SecretsError`]. Shared by the API keys and the team session store.
pub(crate) async fn entry_op<T: Send + 'static>(
    service: &str,
    user: &str,
    op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
) -> Result<T, SecretsError> {
    let service = service.to_owned();
    let user = user.to_owned();
    tokio::task::spawn_blocking(move || {
        let entry = keyring::Entry::new(&service, &user).map_err(map_error)?;
        op(&entry).map_err(map_error)
    })
    .await
    .map_err(|e| SecretsError::Platform {
        detail: format!("keyring task failed: {e}"),
    })?
}

fn map_error(e: keyring::Error) -> SecretsError {
    // Only the error's category and the platform's message go out: keyring errors never hold
    // the secret except `BadEncoding`/`BadDataFormat`, whose bytes are dropped here.
    match e {
        keyring::Error::NoDefaultStore => SecretsError::NoDefaultStore,
        keyring::Error::NoStorageAccess(inner) => SecretsError::NoStorageAccess {
            detail: inner.to_string(),
        },
        keyring::Error::PlatformFailure(inner) => {
            let detail = inner.to_string();
            // zbus reports a missing session bus as a platform failure on first use.
            if detail.contains("DBUS_SESSION_BUS_ADDRESS")
                || detail.contains("org.freedesktop.secrets")
            {
                SecretsError::NoDefaultStore
            } else {
                SecretsError::Platform { detail }
            }
        }
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => {
            SecretsError::Platform {
                detail: "the stored key is not valid text; remove it and set it again".into(),
            }
        }
        keyring::Error::TooLong(what, limit) => SecretsError::Rejected {
            what,
            detail: format!("longer than the keyring's limit of {limit}"),
        },
        keyring::Error::Invalid(what, detail) => SecretsError::Rejected { what, detail },
        keyring::Error::Ambiguous(_) => SecretsError::Platform {
            detail: "several keyring entries match; remove the duplicates in your keyring manager"
                .into(),
        },
        other => SecretsError::Platform {
            detail: other.to_string(),
        },
    }
}

impl KeySource for KeyringKeys {
    fn name(&self) -> &'static str {
        "keyring"
    }

    fn get(
        &self,
        provider: ProviderId,
    ) -> BoxFuture<'_, Result<Option<SecretString>, SecretsError>> {
        Box::pin(async move {
            self.blocking(provider, |entry| match entry.get_password() {
                Ok(value) => Ok(Some(SecretString::new(value))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(e),
            })
            .await
        })
    }

    fn set(
        &self,
        provider: ProviderId,
        key: SecretString,
    ) -> BoxFuture<'_, Result<(), SecretsError>> {
        Box::pin(async move {
            self.blocking(provider, move |entry| entry.set_password(key.expose()))
                .await
        })
    }

    fn delete(&self, provider: ProviderId) -> BoxFuture<'_, Result<(), SecretsError>> {
        Box::pin(async move {
            self.blocking(provider, |entry| match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(e),
            })
            .await
        })
    }
}
