//! The single write path. Every change to synced data goes through a [`WriteTx`]: the row and
//! its change record are committed in one SQLite transaction, so that when the sync outbox
//! arrives (team mode) an acknowledged write can never exist without its outbox entry.

use std::path::PathBuf;

use sqlx::{Sqlite, SqliteConnection, Transaction};

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
}

impl WriteTx {
    pub(super) fn new(tx: Transaction<'static, Sqlite>, path: PathBuf) -> Self {
        Self {
            tx,
            changes: Vec::new(),
            path,
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

    pub(crate) fn err(&self, e: sqlx::Error) -> CoreError {
        CoreError::from_sqlx(&self.path, e)
    }

    /// Commits the rows and their change records together; returns the changes committed.
    pub async fn commit(self) -> Result<Vec<RowChange>> {
        let Self { tx, changes, path } = self;
        // Team mode appends `changes` to the sync outbox here, inside `tx`.
        tx.commit()
            .await
            .map_err(|e| CoreError::from_sqlx(&path, e))?;
        for change in &changes {
            tracing::debug!(table = change.table, row = %change.row_id, op = ?change.op, "committed");
        }
        Ok(changes)
    }
}
