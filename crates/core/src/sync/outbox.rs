//! The sync outbox: one entry per locally changed row, written by `WriteTx::commit` in the
//! same transaction as the row, removed by the push once the server has that version.
//!
//! Entries are coalesced per row: a new write of a row replaces its entry with a fresh, higher
//! `seq`. The push removes entries by `seq`, so a write that lands while its row is being
//! pushed keeps its own (new) entry and is pushed on the next pass.

use std::collections::HashSet;

use sqlx::SqliteConnection;

use crate::data::local::{RowChange, RowOp};

/// Appends `changes` (of pushed tables; others are ignored) to the outbox.
pub(crate) async fn append(conn: &mut SqliteConnection, changes: &[RowChange]) -> sqlx::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let now = crate::time::now_rfc3339();
    let mut seen = HashSet::new();
    // Newest first, so the last change of a row in this transaction decides its op.
    for change in changes.iter().rev() {
        if super::tables::pushable(change.table).is_none()
            || !seen.insert((change.table, change.row_id.as_str()))
        {
            continue;
        }
        sqlx::query("DELETE FROM sync_outbox WHERE table_name = ? AND row_id = ?")
            .bind(change.table)
            .bind(&change.row_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO sync_outbox (table_name, row_id, op, queued_at) VALUES (?, ?, ?, ?)",
        )
        .bind(change.table)
        .bind(&change.row_id)
        .bind(match change.op {
            RowOp::Upsert => "upsert",
            RowOp::Delete => "delete",
        })
        .bind(&now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One outbox entry waiting to be pushed.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub seq: i64,
    pub table: String,
    pub row_id: String,
}

/// Up to `limit` pending (not rejected) entries after `after_seq`, oldest first.
pub(crate) async fn pending(
    conn: &mut SqliteConnection,
    after_seq: i64,
    limit: usize,
) -> sqlx::Result<Vec<Entry>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT seq, table_name, row_id FROM sync_outbox WHERE rejected = 0 AND seq > ? \
         ORDER BY seq LIMIT ?",
    )
    .bind(after_seq)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, table, row_id)| Entry { seq, table, row_id })
        .collect())
}

fn seq_list(seqs: &[i64]) -> String {
    serde_json::to_string(seqs).unwrap_or_else(|_| "[]".into())
}

/// Removes the entries the server has settled (by seq: a newer entry of the same row stays).
pub(crate) async fn remove(conn: &mut SqliteConnection, seqs: &[i64]) -> sqlx::Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM sync_outbox WHERE seq IN (SELECT value FROM json_each(?))")
        .bind(seq_list(seqs))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks an entry refused for good; it stays, visible, until the row is written again.
pub(crate) async fn reject(
    conn: &mut SqliteConnection,
    seq: i64,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sync_outbox SET rejected = 1, rejected_reason = ?, last_error = ?, \
         attempts = attempts + 1 WHERE seq = ?",
    )
    .bind(reason)
    .bind(reason)
    .bind(seq)
    .execute(conn)
    .await?;
    Ok(())
}

/// Notes a failed attempt (network, server busy) on entries that stay queued.
pub(crate) async fn note_failure(
    conn: &mut SqliteConnection,
    seqs: &[i64],
    error: &str,
) -> sqlx::Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE sync_outbox SET attempts = attempts + 1, last_error = ? \
         WHERE seq IN (SELECT value FROM json_each(?))",
    )
    .bind(error)
    .bind(seq_list(seqs))
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::local::LocalStore;

    async fn write(store: &LocalStore, table: &'static str, id: &str, commit: bool) {
        let mut tx = store.begin_write().await.unwrap();
        tx.record(table, id, RowOp::Upsert);
        if commit {
            tx.commit().await.unwrap();
        }
    }

    async fn entries(store: &LocalStore) -> Vec<(i64, String, String, String)> {
        sqlx::query_as("SELECT seq, table_name, row_id, op FROM sync_outbox ORDER BY seq")
            .fetch_all(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn commit_queues_one_entry_per_row_and_a_rewrite_moves_it_to_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("s.db")).await.unwrap();
        write(&store, "clients", "a", true).await;
        write(&store, "clients", "b", true).await;
        write(&store, "clients", "a", true).await;
        let queued = entries(&store).await;
        assert_eq!(queued.len(), 2);
        assert_eq!((queued[0].2.as_str(), queued[1].2.as_str()), ("b", "a"));
        assert!(queued[1].0 > 2, "a rewrite gets a new, higher seq");

        // Removing by an old seq leaves the newer entry of the same row in place.
        let mut conn = store.pool().acquire().await.unwrap();
        remove(&mut conn, &[1]).await.unwrap();
        assert_eq!(entries(&store).await.len(), 2);
        drop(conn);

        // A rolled-back write queues nothing; pull-only and unsynced tables are not queued.
        write(&store, "clients", "c", false).await;
        write(&store, "profiles", "p", true).await;
        write(&store, "ai_cache", "x", true).await;
        assert_eq!(entries(&store).await.len(), 2);

        // In one transaction, the last change of a row decides its op.
        let mut tx = store.begin_write().await.unwrap();
        tx.record("signups", "s", RowOp::Upsert);
        tx.record("signups", "s", RowOp::Delete);
        tx.commit().await.unwrap();
        let queued = entries(&store).await;
        assert_eq!(queued.len(), 3);
        assert_eq!(queued[2].3, "delete");
    }

    #[tokio::test]
    async fn a_rejected_entry_is_not_pending_until_the_row_is_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("s.db")).await.unwrap();
        write(&store, "clients", "a", true).await;
        let mut conn = store.pool().acquire().await.unwrap();
        let seq = pending(&mut conn, 0, 10).await.unwrap()[0].seq;
        reject(&mut conn, seq, "not allowed").await.unwrap();
        assert!(pending(&mut conn, 0, 10).await.unwrap().is_empty());
        drop(conn);
        let status = crate::sync::status(&store).await.unwrap();
        assert_eq!((status.queued, status.rejected_count), (0, 1));
        assert_eq!(status.rejected[0].reason, "not allowed");

        write(&store, "clients", "a", true).await;
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(pending(&mut conn, 0, 10).await.unwrap().len(), 1);
        drop(conn);
        let status = crate::sync::status(&store).await.unwrap();
        assert_eq!((status.queued, status.rejected_count), (1, 0));
    }
}
