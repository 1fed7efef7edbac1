//! Where the engine gets the user's access token: a narrow trait, so the desktop and the CLI
//! plug in the saved Supabase session and tests plug in tokens they mint.

use futures_util::future::BoxFuture;

use crate::auth::{AuthError, SessionManager};
use crate::secrets::SecretString;

pub trait TokenSource: Send + Sync {
    /// The signed-in user's id (pull cursors are kept per user).
    fn user_id(&self) -> BoxFuture<'_, Result<String, AuthError>>;
    /// A token valid for a while (refreshed first if close to expiry).
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, AuthError>>;
    /// A fresh token after the database refused `rejected` (revoked, expired early).
    fn refresh(&self, rejected: SecretString) -> BoxFuture<'_, Result<SecretString, AuthError>>;
}

impl TokenSource for SessionManager {
    fn user_id(&self) -> BoxFuture<'_, Result<String, AuthError>> {
        Box::pin(async move {
            self.status()
                .await?
                .user
                .map(|u| u.id)
                .ok_or(AuthError::NotSignedIn)
        })
    }

    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, AuthError>> {
        Box::pin(SessionManager::access_token(self))
    }

    fn refresh(&self, rejected: SecretString) -> BoxFuture<'_, Result<SecretString, AuthError>> {
        Box::pin(async move { self.refresh_rejected(&rejected).await })
    }
}
