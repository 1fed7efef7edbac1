//! What the sync engine reports: queued and rejected writes, the last push and pull, the last
//! error and a state, kept in the `sync_state` row so the CLI's `health` sees what the app did.

use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;

use crate::data::local::LocalStore;
use crate::error::Result;

/// At most this many rejected writes are listed (the count is always exact).
const REJECTED_LISTED: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Up to date as of the last round; nothing is being sent.
    Idle,
    /// A round is running.
    Syncing,
    /// The team database or the sign-in service cannot be reached; writes stay queued and the
    /// engine retries with backoff.
    Offline,
    /// No team session (local mode, or the session ended): writes stay queued until sign-in.
    SignedOut,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Idle => "idle",
            SyncState::Syncing => "syncing",
            SyncState::Offline => "offline",
            SyncState::SignedOut => "signed_out",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "idle" => SyncState::Idle,
            "syncing" => SyncState::Syncing,
            "offline" => SyncState::Offline,
            _ => SyncState::SignedOut,
        }
    }
}

/// A local change the team database refused for good. It stays on this device (and in the
/// outbox) until the record is edited again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct RejectedWrite {
    pub table: String,
    pub row_id: String,
    /// Why, written for the user.
    pub reason: String,
    pub queued_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SyncStatus {
    pub state: SyncState,
    /// Local changes waiting to be pushed (rejected ones not included).
    pub queued: u32,
    pub rejected_count: u32,
    /// The rejected changes, oldest first (at most 100).
    pub rejected: Vec<RejectedWrite>,
    pub last_push_at: Option<String>,
    pub last_pull_at: Option<String>,
    /// The last round's failure, written for the user; `null` after a clean round.
    pub last_error: Option<String>,
}

/// The status as last recorded in the store.
pub async fn read(store: &LocalStore) -> Result<SyncStatus> {
    let mut conn = store.pool().acquire().await.map_err(|e| store.err(e))?;
    read_conn(&mut conn).await.map_err(|e| store.err(e))
}

async fn read_conn(conn: &mut SqliteConnection) -> sqlx::Result<SyncStatus> {
    let (state, last_push_at, last_pull_at, last_error): (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = sqlx::query_as(
        "SELECT state, last_push_at, last_pull_at, last_error FROM sync_state WHERE id = 1",
    )
    .fetch_one(&mut *conn)
    .await?;
    let (queued, rejected_count): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(rejected = 0), 0), COALESCE(SUM(rejected = 1), 0) FROM sync_outbox",
    )
    .fetch_one(&mut *conn)
    .await?;
    let rejected: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT table_name, row_id, rejected_reason, queued_at FROM sync_outbox \
         WHERE rejected = 1 ORDER BY seq LIMIT ?",
    )
    .bind(REJECTED_LISTED)
    .fetch_all(&mut *conn)
    .await?;
    Ok(SyncStatus {
        state: SyncState::parse(&state),
        queued: u32::try_from(queued).unwrap_or(u32::MAX),
        rejected_count: u32::try_from(rejected_count).unwrap_or(u32::MAX),
        rejected: rejected
            .into_iter()
            .map(|(table, row_id, reason, queued_at)| RejectedWrite {
                table,
                row_id,
                reason: reason.unwrap_or_default(),
                queued_at,
            })
            .collect(),
        last_push_at,
        last_pull_at,
        last_error,
    })
}

/// What a finished round records.
pub(crate) struct RoundRecord<'a> {
    pub state: SyncState,
    pub user_id: Option<&'a str>,
    pub pushed: bool,
    pub pulled: bool,
    pub error: Option<&'a str>,
}

pub(crate) async fn record(store: &LocalStore, round: RoundRecord<'_>) -> Result<()> {
    let now = crate::time::now_rfc3339();
    sqlx::query(
        "UPDATE sync_state SET state = ?, user_id = COALESCE(?, user_id), \
         last_push_at = CASE WHEN ? THEN ? ELSE last_push_at END, \
         last_pull_at = CASE WHEN ? THEN ? ELSE last_pull_at END, \
         last_error = ?, last_error_at = CASE WHEN ? IS NULL THEN last_error_at ELSE ? END \
         WHERE id = 1",
    )
    .bind(round.state.as_str())
    .bind(round.user_id)
    .bind(round.pushed)
    .bind(&now)
    .bind(round.pulled)
    .bind(&now)
    .bind(round.error)
    .bind(round.error)
    .bind(&now)
    .execute(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(())
}
