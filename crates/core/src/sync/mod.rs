//! The sync engine between the local SQLite store and the team's Postgres (team mode).
//!
//! - [`outbox`]: every local write's entry, committed with the write (`WriteTx::commit`).
//! - [`tables`]: local rows <-> the JSON rows of `app.push_upsert` / `app.pull_changes`.
//! - [`engine`]: one round (push the outbox, pull each table by cursor) and its error policy.
//! - [`triggers`]: the background loop, its timer, write, wake and realtime triggers.
//! - [`background`]: the engine's lifecycle in the desktop app (start, restart, stop).
//! - [`status`]: what the UI, `salesdesk sync` and `salesdesk health` show.
//!
//! Deliberately left out: conflict resolution beyond last-writer-wins on `updated_at`, and
//! merging of fields; docs/team-mode.md ("Sync engine") says why.

pub mod background;
pub mod engine;
pub(crate) mod outbox;
pub mod status;
pub mod tables;
pub mod token;
pub mod triggers;

pub use background::BackgroundSync;
pub use engine::{SyncConfig, SyncEngine, SyncReport};
pub use status::{RejectedWrite, SyncState, SyncStatus};
pub use token::TokenSource;
pub use triggers::{CHANNEL, SyncHandle};

/// The sync status as recorded in `store` (no network): for `salesdesk health` and the app
/// before the engine starts.
pub async fn status(store: &crate::data::local::LocalStore) -> crate::Result<SyncStatus> {
    status::read(store).await
}

/// Gives up a local change the team database refused: its outbox entry and the local version
/// of the row go, and the table's pull starts over, so the team's version (when there is one
/// the user may see) comes back at the next sync. `Ok(false)`: no refused change for that row.
pub async fn discard_rejected(
    store: &crate::data::local::LocalStore,
    table: &str,
    row_id: &str,
) -> crate::Result<bool> {
    let Some(table) = tables::pushable(table) else {
        return Err(crate::CoreError::InvalidInput(format!(
            "{table} is not a table Salesdesk syncs"
        )));
    };
    // Through WriteTx for the lock and the commit; nothing is recorded, so nothing is queued.
    let mut tx = store.begin_write().await?;
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM sync_outbox WHERE table_name = ? AND row_id = ? AND rejected = 1",
    )
    .bind(table.as_str())
    .bind(row_id)
    .fetch_optional(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    let Some(seq) = seq else {
        return Ok(false);
    };
    sqlx::query("DELETE FROM sync_outbox WHERE seq = ?")
        .bind(seq)
        .execute(tx.conn())
        .await
        .map_err(|e| tx.err(e))?;
    // The name comes from the fixed list of synced tables, never from the caller's text.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM \"{}\" WHERE id = ?",
        table.as_str()
    )))
    .bind(row_id)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    sqlx::query("DELETE FROM sync_cursors WHERE table_name = ?")
        .bind(table.as_str())
        .execute(tx.conn())
        .await
        .map_err(|e| tx.err(e))?;
    tx.commit().await?;
    Ok(true)
}
