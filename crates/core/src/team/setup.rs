//! How a front end sets team mode up: where the session and the database password are kept,
//! whether the environment overrides the saved settings (the CLI), and the clock.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::ai::{Clock, SystemClock};
use crate::auth::{KeyringVault, SessionVault};
use crate::secrets::{KEYRING_SERVICE, SecretString, SecretsError};

/// The keyring entry (user name under [`KEYRING_SERVICE`]) holding the team database password.
pub const DATABASE_PASSWORD_ENTRY: &str = "team-database-password";

/// The variable the CLI reads the team database URL from (password included).
pub const ENV_DATABASE_URL: &str = "SALESDESK_DATABASE_URL";

#[derive(Debug, Clone)]
pub struct TeamSetup {
    /// Where the signed-in session is kept (the OS keyring in the app and the CLI).
    pub session_vault: Arc<dyn SessionVault>,
    /// Where the team database password is kept (the OS keyring; never the SQLite file).
    pub password_vault: Arc<dyn SessionVault>,
    /// `SUPABASE_URL`, `SUPABASE_ANON_KEY` and `SALESDESK_DATABASE_URL` win over saved settings.
    pub env_overrides: bool,
    pub clock: Arc<dyn Clock>,
    /// How the session keeper retries a refresh that could not reach the server.
    pub retry: RetryBackoff,
    /// Request timeouts of the Auth client (short in tests that cut the network).
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

/// Exponential backoff between refresh attempts while offline: `base`, doubling, at most `max`,
/// each wait jittered into its upper half so many devices coming back online do not refresh
/// in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBackoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryBackoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            max: Duration::from_secs(300),
        }
    }
}

impl RetryBackoff {
    /// The wait before attempt `failures + 1` (`failures` >= 1).
    pub fn wait(&self, failures: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        let ceiling = exp.min(self.max);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

impl TeamSetup {
    /// The desktop app: session and password in the OS keyring; saved settings only.
    pub fn desktop() -> Self {
        Self::with_vaults(
            Arc::new(KeyringVault::default()),
            Arc::new(KeyringSlot::new(KEYRING_SERVICE, DATABASE_PASSWORD_ENTRY)),
        )
    }

    /// The CLI: as the desktop app (they share the keyring session), but the environment wins.
    pub fn cli() -> Self {
        Self {
            env_overrides: true,
            ..Self::desktop()
        }
    }

    /// Any other vaults (tests pass [`crate::auth::MemoryVault`]s).
    pub fn with_vaults(
        session_vault: Arc<dyn SessionVault>,
        password_vault: Arc<dyn SessionVault>,
    ) -> Self {
        Self {
            session_vault,
            password_vault,
            env_overrides: false,
            clock: Arc::new(SystemClock::default()),
            retry: RetryBackoff::default(),
            connect_timeout: crate::auth::client::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: crate::auth::client::DEFAULT_TIMEOUT,
        }
    }
}

/// One keyring entry holding one secret.
#[derive(Debug, Clone)]
pub struct KeyringSlot {
    service: String,
    user: String,
}

impl KeyringSlot {
    pub fn new(service: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            user: user.into(),
        }
    }
}

impl SessionVault for KeyringSlot {
    fn load(&self) -> BoxFuture<'_, Result<Option<SecretString>, SecretsError>> {
        Box::pin(crate::secrets::entry_op(
            &self.service,
            &self.user,
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
            &self.user,
            move |entry| entry.set_password(blob.expose()),
        ))
    }
    fn clear(&self) -> BoxFuture<'_, Result<(), SecretsError>> {
        Box::pin(crate::secrets::entry_op(
            &self.service,
            &self.user,
            |entry| match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(e),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stays_in_the_upper_half() {
        let b = RetryBackoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        for _ in 0..50 {
            let first = b.wait(1);
            assert!(first >= Duration::from_secs(1) && first <= Duration::from_secs(2));
            let third = b.wait(3);
            assert!(third >= Duration::from_secs(4) && third <= Duration::from_secs(8));
            let late = b.wait(40);
            assert!(late >= Duration::from_secs(30) && late <= Duration::from_secs(60));
        }
    }
}
