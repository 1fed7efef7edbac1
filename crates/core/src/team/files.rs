//! Team-mode file storage derived from the live team state: the Storage client for the project
//! in the settings, with the signed-in session as its token source, rebuilt when the project
//! changes and absent when no project is set up, so sign-in/out and settings changes apply to
//! the next file operation without a restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::account::Team;
use super::tokens::TeamTokens;
use crate::auth::AuthError;
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::files::{FileError, StorageConfig, SupabaseStorage, TokenSource};
use crate::secrets::SecretString;

/// The Storage client for the team project in force, built on demand and kept while the
/// project URL and key stay the same (the HTTP client and its TLS setup are worth keeping).
#[derive(Default)]
pub struct TeamStorage {
    built: Mutex<Option<Built>>,
    /// Adjusts each new client's config (tests: short retries and timeouts).
    tweak: Option<Arc<ConfigTweak>>,
}

type ConfigTweak = dyn Fn(&mut StorageConfig) + Send + Sync;

struct Built {
    url: String,
    key: String,
    storage: SupabaseStorage,
}

impl std::fmt::Debug for TeamStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamStorage").finish_non_exhaustive()
    }
}

impl TeamStorage {
    pub fn with_config(tweak: impl Fn(&mut StorageConfig) + Send + Sync + 'static) -> Self {
        Self {
            built: Mutex::default(),
            tweak: Some(Arc::new(tweak)),
        }
    }

    /// `None` when no team project is set up (local mode). With a project set up, someone must
    /// be signed in: a signed-out device does not quietly fall back to local files, which would
    /// record materials the rest of the team can never open.
    pub async fn current(
        &self,
        team: &Arc<Team>,
        store: &LocalStore,
    ) -> Result<Option<SupabaseStorage>> {
        let (Some(url), Some(key)) = team.project(store).await? else {
            *self.lock() = None;
            return Ok(None);
        };
        let signed_in = match team.session(store).await? {
            Some(manager) => manager.status().await?.signed_in,
            None => false,
        };
        if !signed_in {
            return Err(CoreError::Auth(AuthError::NotSignedIn));
        }
        let mut built = self.lock();
        if let Some(b) = built.as_ref()
            && b.url == url
            && b.key == key
        {
            return Ok(Some(b.storage.clone()));
        }
        let http = crate::ai::http_client_builder(Duration::from_secs(10))
            .build()
            .map_err(|e| {
                CoreError::Internal(format!("cannot set up HTTP for file storage: {e}"))
            })?;
        let mut config = StorageConfig::new(url.clone());
        config.api_key = Some(SecretString::new(key.as_str()));
        if let Some(tweak) = &self.tweak {
            tweak(&mut config);
        }
        let tokens = Arc::new(TeamTokens::new(team.clone(), store.clone()));
        let storage = SupabaseStorage::new(http, config, tokens, store.clone());
        *built = Some(Built {
            url,
            key,
            storage: storage.clone(),
        });
        Ok(Some(storage))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Built>> {
        // A panic while holding this lock leaves nothing half-written: the value is replaced
        // whole, so a poisoned lock is still usable.
        self.built.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Storage speaks [`FileError`]: a refused or missing session is "signed out", anything else
/// (Auth unreachable) is a network failure to retry.
fn file_error(e: CoreError) -> FileError {
    let message = e.to_string();
    match e.kind() {
        crate::ErrorKind::SignedOut => FileError::SignedOut { message },
        _ => FileError::Network { message },
    }
}

impl TokenSource for TeamTokens {
    fn access_token(&self, refresh: bool) -> BoxFuture<'_, Result<SecretString, FileError>> {
        Box::pin(async move {
            let token = self
                .team()
                .access_token(self.store())
                .await
                .map_err(file_error)?;
            if !refresh {
                return Ok(token);
            }
            // Storage refused this token although Auth thinks it is valid (revoked early, or
            // clocks that disagree): force a refresh unless another caller already did one.
            crate::sync::TokenSource::refresh(self, token)
                .await
                .map_err(|e| file_error(CoreError::Auth(e)))
        })
    }
}
