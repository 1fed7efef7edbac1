//! The signed-in team session as the Storage client's [`TokenSource`]: each request gets a
//! fresh-enough access token from the [`SessionManager`], which refreshes it when needed.

use futures_util::future::BoxFuture;

use super::{FileError, TokenSource};
use crate::auth::SessionManager;
use crate::secrets::SecretString;

impl TokenSource for SessionManager {
    fn access_token(&self, _refresh: bool) -> BoxFuture<'_, Result<SecretString, FileError>> {
        // The manager refreshes on its own when the token is near expiry; a refused token
        // with time left is the server's word, so the request fails as signed out.
        Box::pin(async move {
            SessionManager::access_token(self)
                .await
                .map_err(|e| match e.kind() {
                    crate::ErrorKind::SignedOut => FileError::SignedOut {
                        message: e.to_string(),
                    },
                    _ => FileError::Network {
                        message: e.to_string(),
                    },
                })
        })
    }
}
