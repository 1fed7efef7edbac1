//! Clients: the people and companies a rep sells to. Deleting is soft (a `deleted_at`
//! tombstone) so it can be undone and synced; every change goes through [`WriteTx`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fields;
use super::local::{LocalStore, RowOp, WriteTx};
use crate::error::{CoreError, Result};
use crate::time::now_rfc3339;

const TABLE: &str = "clients";
// Queries are assembled from this constant only (never from input), hence AssertSqlSafe.
const COLUMNS: &str =
    "id, name, company, email, phone, notes, tags, created_at, updated_at, deleted_at";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Client {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What a user types for a client; checked by [`ClientInput::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct ClientInput {
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
}

/// The stored form of a checked input.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fields {
    name: String,
    company: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    notes: Option<String>,
    tags: String,
}

impl ClientInput {
    fn validate(&self) -> Result<Fields> {
        Ok(Fields {
            name: fields::text("the client's name", &self.name, 500)?,
            company: fields::opt_text("company", self.company.as_deref(), 500)?,
            email: fields::opt_email("email", self.email.as_deref())?,
            phone: fields::opt_text("phone", self.phone.as_deref(), 50)?,
            notes: fields::opt_text("notes", self.notes.as_deref(), 20_000)?,
            tags: fields::tags(&self.tags)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    company: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    notes: Option<String>,
    tags: String,
    created_at: String,
    updated_at: String,
    deleted_at: Option<String>,
}

impl Row {
    fn fields(&self) -> Fields {
        Fields {
            name: self.name.clone(),
            company: self.company.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            notes: self.notes.clone(),
            tags: self.tags.clone(),
        }
    }

    fn into_client(self) -> Client {
        Client {
            tags: fields::parse_tags(&self.tags),
            id: self.id,
            name: self.name,
            company: self.company,
            email: self.email,
            phone: self.phone,
            notes: self.notes,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn not_found(id: &str) -> CoreError {
    CoreError::RecordNotFound {
        what: "client",
        id: id.to_owned(),
    }
}

/// Live clients by name.
pub async fn list(store: &LocalStore) -> Result<Vec<Client>> {
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE deleted_at IS NULL ORDER BY name COLLATE NOCASE, id"
    )))
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(rows.into_iter().map(Row::into_client).collect())
}

pub async fn get(store: &LocalStore, id: &str) -> Result<Client> {
    let key = fields::id("client", id)?;
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE id = ? AND deleted_at IS NULL"
    )))
    .bind(key)
    .fetch_optional(store.pool())
    .await
    .map_err(|e| store.err(e))?
    .map(Row::into_client)
    .ok_or_else(|| not_found(id))
}

/// Whether a live client has this id (inside a write, for references from signups).
pub(crate) async fn exists(tx: &mut WriteTx, id: &str) -> Result<bool> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM clients WHERE id = ? AND deleted_at IS NULL")
        .bind(id)
        .fetch_one(tx.conn())
        .await
        .map(|n| n > 0)
        .map_err(|e| tx.err(e))
}

async fn row(tx: &mut WriteTx, id: &str) -> Result<Option<Row>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await
    .map_err(|e| tx.err(e))
}

pub async fn create(tx: &mut WriteTx, input: &ClientInput) -> Result<Client> {
    let id = Uuid::now_v7().to_string();
    let now = now_rfc3339();
    insert(tx, &id, &input.validate()?, &now).await?;
    Ok(row(tx, &id)
        .await?
        .ok_or_else(|| not_found(&id))?
        .into_client())
}

async fn insert(tx: &mut WriteTx, id: &str, f: &Fields, created_at: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO clients (id, name, company, email, phone, notes, tags, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&f.name)
    .bind(&f.company)
    .bind(&f.email)
    .bind(&f.phone)
    .bind(&f.notes)
    .bind(&f.tags)
    .bind(created_at)
    .bind(now_rfc3339())
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.record(TABLE, id, RowOp::Upsert);
    Ok(())
}

async fn write(tx: &mut WriteTx, id: &str, f: &Fields) -> Result<()> {
    sqlx::query(
        "UPDATE clients SET name = ?, company = ?, email = ?, phone = ?, notes = ?, tags = ?, \
         updated_at = ? WHERE id = ?",
    )
    .bind(&f.name)
    .bind(&f.company)
    .bind(&f.email)
    .bind(&f.phone)
    .bind(&f.notes)
    .bind(&f.tags)
    .bind(now_rfc3339())
    .bind(id)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.record(TABLE, id.to_owned(), RowOp::Upsert);
    Ok(())
}

pub async fn update(tx: &mut WriteTx, id: &str, input: &ClientInput) -> Result<Client> {
    let key = fields::id("client", id)?;
    let f = input.validate()?;
    match row(tx, &key).await? {
        Some(r) if r.deleted_at.is_none() => {
            if r.fields() != f {
                write(tx, &key, &f).await?;
            }
        }
        _ => return Err(not_found(id)),
    }
    Ok(row(tx, &key)
        .await?
        .ok_or_else(|| not_found(id))?
        .into_client())
}

/// Creates or updates the client with this exact id (the importer's stable ids). A client
/// deleted here is left deleted.
pub async fn put(
    tx: &mut WriteTx,
    id: &str,
    input: &ClientInput,
    created_at: &str,
) -> Result<fields::Put> {
    let f = input.validate()?;
    Ok(match row(tx, id).await? {
        None => {
            insert(tx, id, &f, created_at).await?;
            fields::Put::Added
        }
        Some(r) if r.deleted_at.is_some() => fields::Put::Deleted,
        Some(r) if r.fields() == f => fields::Put::Unchanged,
        Some(_) => {
            write(tx, id, &f).await?;
            fields::Put::Updated
        }
    })
}

pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<()> {
    let key = fields::id("client", id)?;
    if !tx.soft_delete(TABLE, &key).await? {
        return Err(not_found(id));
    }
    Ok(())
}

pub async fn restore(tx: &mut WriteTx, id: &str) -> Result<()> {
    let key = fields::id("client", id)?;
    if !tx.restore(TABLE, &key).await? {
        return Err(not_found(id));
    }
    Ok(())
}
