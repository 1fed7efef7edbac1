//! Set-up shared by the sync tests and the sync benchmark: a "device" (its own local store and
//! sync engine) signed in as a test user, a token source for minted tokens, and a write through
//! the product's write path ([`salesdesk_core::data::local::WriteTx`]).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Result;
use futures_util::future::BoxFuture;
use salesdesk_core::auth::AuthError;
use salesdesk_core::data::local::{LocalStore, RowOp};
use salesdesk_core::data::remote::RemoteStore;
use salesdesk_core::secrets::SecretString;
use salesdesk_core::sync::{SyncConfig, SyncEngine, TokenSource};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::supabase::{TestDb, TestUser};

/// A fixed token minted by the test (the Auth fake and `SessionManager` are the other source).
#[derive(Debug)]
pub struct MintedToken {
    user_id: String,
    token: String,
    refreshes: AtomicU32,
}

impl MintedToken {
    pub fn new(user: &TestUser) -> Arc<Self> {
        Arc::new(Self {
            user_id: user.id.to_string(),
            token: user.token.clone(),
            refreshes: AtomicU32::new(0),
        })
    }

    pub fn refreshes(&self) -> u32 {
        self.refreshes.load(Ordering::SeqCst)
    }
}

impl TokenSource for MintedToken {
    fn user_id(&self) -> BoxFuture<'_, Result<String, AuthError>> {
        Box::pin(async move { Ok(self.user_id.clone()) })
    }
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, AuthError>> {
        Box::pin(async move { Ok(SecretString::new(self.token.as_str())) })
    }
    fn refresh(&self, _rejected: SecretString) -> BoxFuture<'_, Result<SecretString, AuthError>> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Err(AuthError::SessionEnded {
                code: "session_not_found".into(),
                message: "the test token cannot be refreshed".into(),
            })
        })
    }
}

/// A pool of `size` connections as the app role, optionally through another address (a
/// [`crate::netcut::NetCut`] proxy).
pub async fn app_pool(db: &TestDb, via: Option<std::net::SocketAddr>, size: u32) -> Result<PgPool> {
    let mut options = PgConnectOptions::from_str(&db.app_url())?;
    if let Some(addr) = via {
        options = options.host(&addr.ip().to_string()).port(addr.port());
    }
    Ok(PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect_lazy_with(options))
}

/// The cluster's address (for a proxy in front of it).
pub fn db_addr(db: &TestDb) -> Result<std::net::SocketAddr> {
    let options = PgConnectOptions::from_str(&db.app_url())?;
    Ok(format!("{}:{}", options.get_host(), options.get_port()).parse()?)
}

/// Sync settings that keep tests fast: short backoff, small batches when asked.
pub fn fast_config() -> SyncConfig {
    SyncConfig {
        max_attempts: 2,
        backoff_base: std::time::Duration::from_millis(20),
        backoff_cap: std::time::Duration::from_millis(200),
        debounce: std::time::Duration::from_millis(50),
        realtime_follow_up: std::time::Duration::from_millis(300),
        ..SyncConfig::default()
    }
}

/// One device: a local store in `dir` and an engine on `pool` with `tokens`.
pub async fn device(
    dir: &Path,
    pool: PgPool,
    tokens: Arc<dyn TokenSource>,
    config: SyncConfig,
) -> Result<Arc<SyncEngine>> {
    let store = LocalStore::open(&dir.join("salesdesk.db")).await?;
    Ok(Arc::new(SyncEngine::with_config(
        store,
        RemoteStore::from_pool(pool),
        tokens,
        config,
    )))
}

/// Writes a client row through `WriteTx` (the app's only write path), as an edit at
/// `updated_at`.
pub async fn write_client(
    store: &LocalStore,
    id: &str,
    name: &str,
    updated_at: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO clients (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(name)
    .bind(updated_at)
    .bind(updated_at)
    .execute(tx.conn())
    .await?;
    tx.record("clients", id, RowOp::Upsert);
    tx.commit().await?;
    Ok(())
}

/// Creates or edits a row of any synced table through `WriteTx`: `columns` as (name, SQLite
/// text value); an existing row gets only those columns updated.
pub async fn write_row(
    store: &LocalStore,
    table: &'static str,
    id: &str,
    columns: &[(&str, &str)],
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let exists: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT 1 FROM {table} WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let sql = if exists.is_some() {
        format!(
            "UPDATE {table} SET {} WHERE id = ?",
            columns
                .iter()
                .map(|(c, _)| format!("{c} = ?"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        let names: Vec<&str> = columns
            .iter()
            .map(|(c, _)| *c)
            .chain(std::iter::once("id"))
            .collect();
        format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            vec!["?"; names.len()].join(", ")
        )
    };
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (_, value) in columns {
        query = query.bind(*value);
    }
    query.bind(id).execute(tx.conn()).await?;
    tx.record(table, id, RowOp::Upsert);
    tx.commit().await?;
    Ok(())
}

/// A local row's column as text (None: no such row).
pub async fn local_value(
    store: &LocalStore,
    table: &str,
    id: &str,
    column: &str,
) -> Option<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST({column} AS TEXT) FROM {table} WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await
    .expect("read local row")
    .flatten()
}

/// Fixed-width UTC millisecond timestamp `ms` milliseconds after a fixed origin.
pub fn at(ms: i64) -> String {
    let origin = chrono::DateTime::parse_from_rfc3339("2026-11-20T09:00:00Z")
        .expect("origin")
        .with_timezone(&chrono::Utc);
    (origin + chrono::Duration::milliseconds(ms))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
