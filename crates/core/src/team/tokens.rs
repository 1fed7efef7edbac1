//! The team session as the sync engine's [`TokenSource`]: tokens come from the session built
//! from the team settings in force (saved, or the environment for the CLI), and every outcome
//! feeds the account status, so "offline" shows the same whoever noticed it.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::account::Team;
use crate::auth::AuthError;
use crate::data::local::LocalStore;
use crate::error::CoreError;
use crate::secrets::SecretString;
use crate::sync::TokenSource;

pub struct TeamTokens {
    team: Arc<Team>,
    store: LocalStore,
}

impl TeamTokens {
    pub fn new(team: Arc<Team>, store: LocalStore) -> Self {
        Self { team, store }
    }

    pub(crate) fn team(&self) -> &Arc<Team> {
        &self.team
    }

    pub(crate) fn store(&self) -> &LocalStore {
        &self.store
    }
}

/// The engine speaks [`AuthError`]: no team set up reads as "not signed in" (nothing to sync).
fn auth_error(e: CoreError) -> AuthError {
    match e {
        CoreError::Auth(a) => a,
        CoreError::TeamNotConfigured => AuthError::NotSignedIn,
        CoreError::Secrets(s) => AuthError::Store(s),
        other => AuthError::Config(other.to_string()),
    }
}

impl TokenSource for TeamTokens {
    fn user_id(&self) -> BoxFuture<'_, Result<String, AuthError>> {
        Box::pin(async move {
            let manager = self
                .team
                .session(&self.store)
                .await
                .map_err(auth_error)?
                .ok_or(AuthError::NotSignedIn)?;
            manager
                .status()
                .await?
                .user
                .map(|u| u.id)
                .ok_or(AuthError::NotSignedIn)
        })
    }

    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, AuthError>> {
        Box::pin(async move {
            self.team
                .access_token(&self.store)
                .await
                .map_err(auth_error)
        })
    }

    fn refresh(&self, rejected: SecretString) -> BoxFuture<'_, Result<SecretString, AuthError>> {
        Box::pin(async move {
            let manager = self
                .team
                .session(&self.store)
                .await
                .map_err(auth_error)?
                .ok_or(AuthError::NotSignedIn)?;
            let outcome = manager.refresh_rejected(&rejected).await;
            self.team.observe(&outcome);
            outcome
        })
    }
}
