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
