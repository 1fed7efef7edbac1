//! The read and write path shared by the plain record tables (clients, campaigns, signups):
//! each table names its checked fields and their columns once, and reading, inserting,
//! updating, the importer's put, and soft delete and restore are written here once.

use std::marker::PhantomData;

use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{FromRow, Row as _, Sqlite};

use super::fields::{self, Put};
use super::local::{LocalStore, RowOp, WriteTx};
use crate::error::{CoreError, Result};
use crate::time::now_rfc3339;

pub(crate) type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

/// A table's stored fields: what a user's input is checked into, and what an update compares
/// (an unchanged record is not rewritten, so it is not pushed again).
pub(crate) trait Fields: PartialEq + Send + Unpin + for<'r> FromRow<'r, SqliteRow> {
    /// The columns these fields fill, in the order [`Fields::bind`] binds them.
    const COLUMNS: &'static [&'static str];
    fn bind<'q>(&self, q: SqliteQuery<'q>) -> SqliteQuery<'q>;
}

/// A stored record: its fields and the columns every record table has.
pub(crate) struct Row<F> {
    pub id: String,
    pub fields: F,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

impl<'r, F: FromRow<'r, SqliteRow>> FromRow<'r, SqliteRow> for Row<F> {
    fn from_row(r: &'r SqliteRow) -> sqlx::Result<Self> {
        Ok(Row {
            id: r.try_get("id")?,
            fields: F::from_row(r)?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            deleted_at: r.try_get("deleted_at")?,
        })
    }
}

/// One record table. Its SQL is assembled from these constants only (never from input),
/// hence the `AssertSqlSafe`s below.
pub(crate) struct Table<F> {
    /// The table's name, which is also its name in the sync outbox.
    pub name: &'static str,
    /// What a user calls one record, for messages ("client").
    pub what: &'static str,
    _fields: PhantomData<fn() -> F>,
}

impl<F: Fields> Table<F> {
    pub const fn new(name: &'static str, what: &'static str) -> Self {
        Self {
            name,
            what,
            _fields: PhantomData,
        }
    }

    /// `SELECT <every column> FROM <table>`, to be followed by a `WHERE`.
    pub fn select(&self) -> String {
        format!(
            "SELECT id, {}, created_at, updated_at, deleted_at FROM {}",
            F::COLUMNS.join(", "),
            self.name
        )
    }

    pub fn not_found(&self, id: &str) -> CoreError {
        CoreError::RecordNotFound {
            what: self.what,
            id: id.to_owned(),
        }
    }

    /// Checks an id a user gave, as this table's kind of id.
    pub fn key(&self, id: &str) -> Result<String> {
        fields::id(self.what, id)
    }

    /// Live records in the order `order_by` gives.
    pub async fn list(&self, store: &LocalStore, order_by: &str) -> Result<Vec<Row<F>>> {
        let sql = format!(
            "{} WHERE deleted_at IS NULL ORDER BY {order_by}",
            self.select()
        );
        sqlx::query_as::<_, Row<F>>(sqlx::AssertSqlSafe(sql))
            .fetch_all(store.pool())
            .await
            .map_err(|e| store.err(e))
    }

    /// The live record with this id.
    pub async fn get(&self, store: &LocalStore, id: &str) -> Result<Row<F>> {
        let key = self.key(id)?;
        let sql = format!("{} WHERE id = ? AND deleted_at IS NULL", self.select());
        sqlx::query_as::<_, Row<F>>(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(store.pool())
            .await
            .map_err(|e| store.err(e))?
            .ok_or_else(|| self.not_found(id))
    }

    /// Whether a live record has this id (inside a write, for references between records).
    pub async fn exists(&self, tx: &mut WriteTx, id: &str) -> Result<bool> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE id = ? AND deleted_at IS NULL",
            self.name
        );
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(tx.conn())
            .await
            .map(|n| n > 0)
            .map_err(|e| tx.err(e))
    }

    /// The record with this id, deleted or not.
    async fn row(&self, tx: &mut WriteTx, id: &str) -> Result<Option<Row<F>>> {
        let sql = format!("{} WHERE id = ?", self.select());
        sqlx::query_as::<_, Row<F>>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(tx.conn())
            .await
            .map_err(|e| tx.err(e))
    }

    async fn insert(&self, tx: &mut WriteTx, id: &str, f: &F, created_at: &str) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (id, {}, created_at, updated_at) VALUES (?, {}?, ?)",
            self.name,
            F::COLUMNS.join(", "),
            "?, ".repeat(F::COLUMNS.len())
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.to_owned());
        f.bind(q)
            .bind(created_at.to_owned())
            .bind(now_rfc3339())
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
        tx.record(self.name, id, RowOp::Upsert);
        Ok(())
    }

    async fn write(&self, tx: &mut WriteTx, id: &str, f: &F) -> Result<()> {
        let sets: String = F::COLUMNS.iter().map(|c| format!("{c} = ?, ")).collect();
        let sql = format!("UPDATE {} SET {sets}updated_at = ? WHERE id = ?", self.name);
        f.bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .bind(now_rfc3339())
            .bind(id.to_owned())
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
        tx.record(self.name, id.to_owned(), RowOp::Upsert);
        Ok(())
    }

    /// Adds a record with a new id.
    pub async fn create(&self, tx: &mut WriteTx, f: &F) -> Result<Row<F>> {
        let id = uuid::Uuid::now_v7().to_string();
        self.insert(tx, &id, f, &now_rfc3339()).await?;
        self.row(tx, &id).await?.ok_or_else(|| self.not_found(&id))
    }

    /// Changes a live record; an unchanged one is left as it is (and not pushed again).
    pub async fn update(&self, tx: &mut WriteTx, id: &str, f: &F) -> Result<Row<F>> {
        let key = self.key(id)?;
        match self.row(tx, &key).await? {
            Some(r) if r.deleted_at.is_none() => {
                if r.fields != *f {
                    self.write(tx, &key, f).await?;
                }
            }
            _ => return Err(self.not_found(id)),
        }
        self.row(tx, &key).await?.ok_or_else(|| self.not_found(id))
    }

    /// Creates or updates the record with this exact id (the importer's stable ids). A record
    /// deleted here is left deleted.
    pub async fn put(&self, tx: &mut WriteTx, id: &str, f: &F, created_at: &str) -> Result<Put> {
        Ok(match self.row(tx, id).await? {
            None => {
                self.insert(tx, id, f, created_at).await?;
                Put::Added
            }
            Some(r) if r.deleted_at.is_some() => Put::Deleted,
            Some(r) if r.fields == *f => Put::Unchanged,
            Some(_) => {
                self.write(tx, id, f).await?;
                Put::Updated
            }
        })
    }

    /// Soft delete: a tombstone that syncs and can be undone with [`Table::restore`].
    pub async fn delete(&self, tx: &mut WriteTx, id: &str) -> Result<()> {
        let key = self.key(id)?;
        if !tx.soft_delete(self.name, &key).await? {
            return Err(self.not_found(id));
        }
        Ok(())
    }

    pub async fn restore(&self, tx: &mut WriteTx, id: &str) -> Result<()> {
        let key = self.key(id)?;
        if !tx.restore(self.name, &key).await? {
            return Err(self.not_found(id));
        }
        Ok(())
    }
}
