//! The local store: one SQLite file in the data directory, opened through sqlx with WAL,
//! foreign keys and a busy timeout, its schema brought up to date by the embedded migrations
//! in `migrations/local/` at open.

mod write;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use tokio::sync::watch;

use crate::error::{CoreError, Result};

pub use write::{RowChange, RowOp, WriteTx};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/local");

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct LocalStore {
    pool: SqlitePool,
    path: PathBuf,
    /// Bumped after every commit that changed synced rows (see [`LocalStore::subscribe_writes`]).
    writes: Arc<watch::Sender<u64>>,
    /// Bumped after a sync pull stored library rows (see [`LocalStore::subscribe_material_pulls`]).
    material_pulls: Arc<watch::Sender<u64>>,
}

impl LocalStore {
    /// Opens (creating if missing) the store at `path` and applies pending migrations.
    ///
    /// A file that is not a SQLite database, or one written by a newer Salesdesk, is refused
    /// with a clear error and never modified.
    pub async fn open(path: &Path) -> Result<Self> {
        let url = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| CoreError::Store(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            // WAL lets readers (the UI, a CLI in another process) proceed during writes;
            // FULL sync makes a commit durable before we report success, even on power loss.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(BUSY_TIMEOUT * 2)
            .connect_with(options)
            .await
            .map_err(|e| CoreError::from_sqlx(path, e))?;
        let store = Self {
            pool,
            path: path.to_owned(),
            writes: Arc::new(watch::channel(0).0),
            material_pulls: Arc::new(watch::channel(0).0),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let known = latest_known_version();
        let found = self.schema_version().await?;
        if found > known {
            return Err(CoreError::StoreTooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        MIGRATOR.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(err) => CoreError::from_sqlx(&self.path, err),
            other => CoreError::StoreMigration {
                path: self.path.clone(),
                reason: other.to_string(),
            },
        })?;
        tracing::debug!(path = %self.path.display(), "local store ready");
        Ok(())
    }

    /// The newest migration applied to the file, 0 for a new file.
    pub async fn schema_version(&self) -> Result<i64> {
        let has_table: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| CoreError::from_sqlx(&self.path, e))?;
        if !has_table {
            return Ok(0);
        }
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| CoreError::from_sqlx(&self.path, e))?;
        Ok(version.unwrap_or(0))
    }

    /// Runs SQLite's own consistency check (quick form, fast even on large files).
    pub async fn check(&self) -> Result<()> {
        let verdict: String = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(CoreError::Store(format!(
                "integrity check of {} failed: {verdict}",
                self.path.display()
            )))
        }
    }

    /// Starts a write transaction. All writes go through [`WriteTx`], so that each one and its
    /// change record commit together.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        // IMMEDIATE takes the write lock at BEGIN, waiting out other writers with the busy
        // timeout; a deferred BEGIN that later upgrades can fail at once with SQLITE_BUSY.
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.err(e))?;
        Ok(WriteTx::new(tx, self.path.clone(), self.writes.clone()))
    }

    /// A receiver that changes after every committed write of synced rows in this process:
    /// the sync engine's "push soon" trigger.
    pub fn subscribe_writes(&self) -> watch::Receiver<u64> {
        self.writes.subscribe()
    }

    /// A receiver that changes after a sync pull stored training-material rows: the library's
    /// "fetch what is pinned" trigger (a pulled row may point a pin at a new file).
    pub fn subscribe_material_pulls(&self) -> watch::Receiver<u64> {
        self.material_pulls.subscribe()
    }

    /// Announces pulled training-material rows (the sync engine calls it after committing them).
    pub(crate) fn materials_pulled(&self) {
        self.material_pulls.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, e: sqlx::Error) -> CoreError {
        CoreError::from_sqlx(&self.path, e)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The newest schema version this build knows.
pub fn latest_known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}
