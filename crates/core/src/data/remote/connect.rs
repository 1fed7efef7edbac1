//! Connection settings for the team's Postgres, including Supabase's connection pooler.
//!
//! Supabase offers a direct connection (port 5432) and a pooler. In transaction mode (port 6543)
//! consecutive transactions of one client may run on different server connections, so nothing
//! may depend on session state: the identity is re-established by `app.authenticate` in every
//! transaction (it is transaction-local by design), and sqlx must not keep named prepared
//! statements, which live in a server session the next transaction may not get. With the cache
//! off, sqlx uses the unnamed statement, which lives only for the current exchange.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::RemoteError;

/// The port Supabase's pooler serves transaction mode on.
pub const SUPABASE_TRANSACTION_POOLER_PORT: u16 = 6543;

/// How the server side of the connection is pooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolerMode {
    /// A direct connection or a session-mode pooler: one server session per client connection.
    Session,
    /// A transaction-mode pooler (Supabase's on port 6543, PgBouncer/Supavisor `pool_mode =
    /// transaction`): no statement cache, no session state.
    Transaction,
}

/// Where and how to connect. `Debug` never shows the password.
#[derive(Clone)]
pub struct RemoteConfig {
    url: String,
    pooler: PoolerMode,
    max_connections: u32,
    connect_timeout: Duration,
}

impl RemoteConfig {
    /// Parses a `postgres://` URL. The pooler mode is guessed from the port (6543 is Supabase's
    /// transaction pooler); override it with [`RemoteConfig::with_pooler`].
    pub fn from_url(url: &str) -> Result<Self, RemoteError> {
        let options = parse(url)?;
        let pooler = if options.get_port() == SUPABASE_TRANSACTION_POOLER_PORT {
            PoolerMode::Transaction
        } else {
            PoolerMode::Session
        };
        Ok(Self {
            url: url.to_owned(),
            pooler,
            max_connections: 4,
            connect_timeout: Duration::from_secs(10),
        })
    }

    pub fn with_pooler(mut self, pooler: PoolerMode) -> Self {
        self.pooler = pooler;
        self
    }

    pub fn with_max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn pooler(&self) -> PoolerMode {
        self.pooler
    }

    pub fn host(&self) -> String {
        self.options()
            .map(|o| o.get_host().to_owned())
            .unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.options().map(|o| o.get_port()).unwrap_or_default()
    }

    pub fn username(&self) -> String {
        self.options()
            .map(|o| o.get_username().to_owned())
            .unwrap_or_default()
    }

    /// The sqlx options for one connection, adjusted for the pooler mode.
    pub fn options(&self) -> Result<PgConnectOptions, RemoteError> {
        let mut options = parse(&self.url)?.application_name("salesdesk");
        if self.pooler == PoolerMode::Transaction {
            options = options.statement_cache_capacity(0);
        }
        Ok(options)
    }

    /// Opens a pool. Connections are opened lazily but one is tried now, so a wrong URL or
    /// password is reported here rather than at the first sync.
    pub async fn connect(&self) -> Result<PgPool, RemoteError> {
        let options = self.options()?;
        let (host, user) = (
            options.get_host().to_owned(),
            options.get_username().to_owned(),
        );
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.connect_timeout)
            // A pooled server connection may have been recycled behind our back; a cheap
            // check before use beats a failed sync.
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .map_err(|e| RemoteError::from_connect(&host, &user, e))
    }

    /// A pool that opens its first connection when first used: an app starting offline must
    /// not wait for (or fail on) the team database. Errors here are only a URL that cannot be
    /// used.
    pub fn connect_lazy(&self) -> Result<PgPool, RemoteError> {
        Ok(PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.connect_timeout)
            .test_before_acquire(true)
            .connect_lazy_with(self.options()?))
    }
}

impl fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("host", &self.host())
            .field("port", &self.port())
            .field("user", &self.username())
            .field("pooler", &self.pooler)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

fn parse(url: &str) -> Result<PgConnectOptions, RemoteError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(RemoteError::InvalidUrl(
            "it must start with postgres:// or postgresql://".into(),
        ));
    }
    // sqlx's parse errors can quote the URL, and with it the password: say only what kind of
    // problem it is.
    PgConnectOptions::from_str(url)
        .map_err(|_| RemoteError::InvalidUrl("it could not be parsed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_pooler_is_detected_by_port_and_turns_the_statement_cache_off() {
        let cfg =
            RemoteConfig::from_url("postgres://u:secret@db.example.test:6543/postgres").unwrap();
        assert_eq!(cfg.pooler(), PoolerMode::Transaction);
        let direct =
            RemoteConfig::from_url("postgres://u:secret@db.example.test:5432/postgres").unwrap();
        assert_eq!(direct.pooler(), PoolerMode::Session);
        assert_eq!(
            direct.with_pooler(PoolerMode::Transaction).pooler(),
            PoolerMode::Transaction
        );
    }

    #[test]
    fn debug_and_errors_never_show_the_password() {
        let cfg =
            RemoteConfig::from_url("postgres://u:hunter2secret@db.example.test:5432/postgres")
                .unwrap();
        assert!(!format!("{cfg:?}").contains("hunter2secret"));
        let err = RemoteConfig::from_url("mysql://u:hunter2secret@h/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2secret"));
        let err = RemoteConfig::from_url("postgres://u:hunter2secret@h:notaport/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2secret"), "{err}");
    }
}
