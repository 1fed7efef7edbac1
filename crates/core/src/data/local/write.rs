//! The single write path. Every change to synced data goes through a [`WriteTx`]: the row and
//! its sync outbox entry are committed in one SQLite transaction, so an acknowledged write can
//! never exist without its outbox entry (see `crate::sync::outbox`).

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::watch;

use crate::error::{CoreError, Result};

/// What a write did to one row; the sync engine turns these into outbox entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    pub table: &'static str,
    pub row_id: String,
    pub op: RowOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOp {
    Upsert,
    /// A soft delete: the row keeps a `deleted_at` tombstone.
    Delete,
}

pub struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    changes: Vec<RowChange>,
    path: PathBuf,
    writes: Arc<watch::Sender<u64>>,
}

impl WriteTx {
    pub(super) fn new(
        tx: Transaction<'static, Sqlite>,
        path: PathBuf,
        writes: Arc<watch::Sender<u64>>,
    ) -> Self {
        Self {
            tx,
            changes: Vec::new(),
            path,
            writes,
        }
    }

    /// The connection to run statements on, inside the transaction.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    /// Records that a row changed; must be called by every mutation.
    pub fn record(&mut self, table: &'static str, row_id: impl Into<String>, op: RowOp) {
        self.changes.push(RowChange {
            table,
            row_id: row_id.into(),
            op,
        });
    }

    /// Tombstones a live row of a synced table and records the delete; false when no live row
    /// has that id. `table` is one of ours (a `&'static str`), never user input.
    pub async fn soft_delete(&mut self, table: &'static str, id: &str) -> Result<bool> {
        self.set_deleted(table, id, true).await
    }

    /// Brings back a tombstoned row (the undo of [`WriteTx::soft_delete`]); false when no
    /// deleted row has that id.
    pub async fn restore(&mut self, table: &'static str, id: &str) -> Result<bool> {
        self.set_deleted(table, id, false).await
    }

    async fn set_deleted(&mut self, table: &'static str, id: &str, deleted: bool) -> Result<bool> {
        let sql = if deleted {
            format!(
                "UPDATE {table} SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2 AND deleted_at IS NULL"
            )
        } else {
            format!(
                "UPDATE {table} SET deleted_at = NULL, updated_at = ?1 WHERE id = ?2 AND deleted_at IS NOT NULL"
            )
        };
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(crate::time::now_rfc3339())
            .bind(id)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| self.err(e))?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let op = if deleted {
            RowOp::Delete
        } else {
            RowOp::Upsert
        };
        self.record(table, id, op);
        Ok(true)
    }

    pub(crate) fn err(&self, e: sqlx::Error) -> CoreError {
        CoreError::from_sqlx(&self.path, e)
    }

    /// Commits the rows and their outbox entries together; returns the changes committed.
    pub async fn commit(self) -> Result<Vec<RowChange>> {
        let Self {
            mut tx,
            changes,
            path,
            writes,
        } = self;
        crate::sync::outbox::append(&mut tx, &changes)
            .await
            .map_err(|e| CoreError::from_sqlx(&path, e))?;
        tx.commit()
            .await
            .map_err(|e| CoreError::from_sqlx(&path, e))?;
        if !changes.is_empty() {
            // Wakes the sync engine's debounced push (a no-op when none runs).
            writes.send_modify(|n| *n = n.wrapping_add(1));
        }
        for change in &changes {
            tracing::debug!(table = change.table, row = %change.row_id, op = ?change.op, "committed");
        }
        Ok(changes)
    }
}
