//! The remote store: the team's Supabase Postgres, reached with sqlx as the low-privilege
//! `salesdesk_app` role.
//!
//! The database decides who the caller is: every transaction starts with
//! `select app.authenticate($access_token)`, which verifies the Supabase access token and its
//! session inside Postgres, and row-level security keys off that (see `migrations/remote/` and
//! docs/team-mode.md). This module wraps that protocol and the two sync functions, so the sync
//! engine never composes SQL:
//!
//! - [`RemoteStore::pull_changes`]: `app.pull_changes(table, cursor, limit)`
//! - [`RemoteStore::push_upsert`]: `app.push_upsert(table, rows)`
//! - [`RemoteStore::begin_as`]: an authenticated transaction for anything else.

pub mod connect;
mod error;
pub mod migrate;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, Postgres};
use sqlx::{Row, Transaction};
use uuid::Uuid;

pub use connect::{PoolerMode, RemoteConfig};
pub use error::RemoteError;
pub use migrate::{MigrateOptions, MigrateReport, MigrationStep, migrate};

/// The tables the sync engine moves, by their name in the `app` schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncedTable {
    /// Pull only: profiles change through `UPDATE app.profiles` and `app.set_user_role`.
    Profiles,
    Clients,
    TrainingMaterials,
    CallAnalyses,
    RoleplaySessions,
    MarketReports,
    GeneratedImages,
    Campaigns,
    Signups,
    CallRecordings,
}

impl SyncedTable {
    pub const ALL: [SyncedTable; 10] = [
        SyncedTable::Profiles,
        SyncedTable::Clients,
        SyncedTable::TrainingMaterials,
        SyncedTable::CallAnalyses,
        SyncedTable::RoleplaySessions,
        SyncedTable::MarketReports,
        SyncedTable::GeneratedImages,
        SyncedTable::Campaigns,
        SyncedTable::Signups,
        SyncedTable::CallRecordings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncedTable::Profiles => "profiles",
            SyncedTable::Clients => "clients",
            SyncedTable::TrainingMaterials => "training_materials",
            SyncedTable::CallAnalyses => "call_analyses",
            SyncedTable::RoleplaySessions => "roleplay_sessions",
            SyncedTable::MarketReports => "market_reports",
            SyncedTable::GeneratedImages => "generated_images",
            SyncedTable::Campaigns => "campaigns",
            SyncedTable::Signups => "signups",
            SyncedTable::CallRecordings => "call_recordings",
        }
    }

    /// Whether rows of this table are written with [`RemoteStore::push_upsert`].
    pub fn is_pushable(self) -> bool {
        self != SyncedTable::Profiles
    }
}

/// One page of a pull. Rows are JSON objects with the table's columns (the same shape
/// `push_upsert` takes). Store `next_cursor` only once the rows are safely applied locally.
#[derive(Debug, Clone)]
pub struct PullPage {
    pub rows: Vec<serde_json::Value>,
    /// The cursor to pass to the next pull; `None` only when nothing was ever pulled.
    pub next_cursor: Option<String>,
    /// The page was full: pull again right away.
    pub has_more: bool,
}

/// The server's answer for one pushed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// Inserted, or replaced an older version.
    Applied,
    /// The server already has this version or a newer one (a replay, or a lost race).
    Stale,
    /// The caller may not write this row; the server kept its version.
    Forbidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOutcome {
    pub id: Uuid,
    pub status: PushStatus,
}

/// The most rows one `push_upsert` call accepts (the SQL function enforces the same limit).
pub const MAX_PUSH_ROWS: usize = 5000;

/// A pool of connections to the team database as the app role.
#[derive(Debug, Clone)]
pub struct RemoteStore {
    pool: PgPool,
}

impl RemoteStore {
    pub async fn connect(config: &RemoteConfig) -> Result<Self, RemoteError> {
        Ok(Self {
            pool: config.connect().await?,
        })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a transaction and authenticates it with the user's access token. Everything run
    /// on the returned transaction is subject to row-level security as that user; the identity
    /// ends with the transaction (which also suits transaction-mode poolers).
    ///
    /// The token travels as a bind parameter, so it never appears in query text (which other
    /// sessions of the same role could see in `pg_stat_activity`).
    pub async fn begin_as(
        &self,
        access_token: &str,
    ) -> Result<Transaction<'static, Postgres>, RemoteError> {
        let mut tx = self.pool.begin().await.map_err(RemoteError::from_query)?;
        sqlx::query("select app.authenticate($1)")
            .bind(access_token)
            .execute(&mut *tx)
            .await
            .map_err(RemoteError::from_query)?;
        Ok(tx)
    }

    /// Fetches up to `limit` rows of `table` changed after `cursor` (None: from the start) that
    /// the user may read, in a stable order that no later commit can land behind.
    pub async fn pull_changes(
        &self,
        access_token: &str,
        table: SyncedTable,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullPage, RemoteError> {
        let mut tx = self.begin_as(access_token).await?;
        let row =
            sqlx::query("select changes, next_cursor, has_more from app.pull_changes($1, $2, $3)")
                .bind(table.as_str())
                .bind(cursor)
                .bind(i32::try_from(limit).unwrap_or(i32::MAX))
                .fetch_one(&mut *tx)
                .await
                .map_err(RemoteError::from_query)?;
        tx.commit().await.map_err(RemoteError::from_query)?;
        let changes: serde_json::Value = row.try_get("changes").map_err(RemoteError::from_query)?;
        let rows = match changes {
            serde_json::Value::Array(rows) => rows,
            _ => {
                return Err(RemoteError::Database(
                    "pull_changes returned no row array".into(),
                ));
            }
        };
        Ok(PullPage {
            rows,
            next_cursor: row
                .try_get("next_cursor")
                .map_err(RemoteError::from_query)?,
            has_more: row.try_get("has_more").map_err(RemoteError::from_query)?,
        })
    }

    /// Upserts `rows` (JSON objects with at least `id` and `updated_at`) with last-writer-wins
    /// on `updated_at`, in one transaction. Safe to repeat: a replay answers `Stale`.
    pub async fn push_upsert(
        &self,
        access_token: &str,
        table: SyncedTable,
        rows: &[serde_json::Value],
    ) -> Result<Vec<PushOutcome>, RemoteError> {
        if !table.is_pushable() {
            return Err(RemoteError::InvalidRequest(format!(
                "{} are not pushed; they are edited in place",
                table.as_str()
            )));
        }
        if rows.len() > MAX_PUSH_ROWS {
            return Err(RemoteError::InvalidRequest(format!(
                "{} rows in one push; split into batches of at most {MAX_PUSH_ROWS}",
                rows.len()
            )));
        }
        let mut tx = self.begin_as(access_token).await?;
        let result = sqlx::query("select row_id, status from app.push_upsert($1, $2)")
            .bind(table.as_str())
            .bind(sqlx::types::Json(rows))
            .fetch_all(&mut *tx)
            .await
            .map_err(RemoteError::from_query)?;
        tx.commit().await.map_err(RemoteError::from_query)?;
        result
            .into_iter()
            .map(|row| {
                let id: Uuid = row.try_get("row_id").map_err(RemoteError::from_query)?;
                let status: String = row.try_get("status").map_err(RemoteError::from_query)?;
                let status = match status.as_str() {
                    "applied" => PushStatus::Applied,
                    "stale" => PushStatus::Stale,
                    "forbidden" => PushStatus::Forbidden,
                    other => {
                        return Err(RemoteError::Database(format!(
                            "unknown push status {other:?}"
                        )));
                    }
                };
                Ok(PushOutcome { id, status })
            })
            .collect()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
