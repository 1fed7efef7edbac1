//! Clients: the people and companies a rep sells to. Deleting is soft (a `deleted_at`
//! tombstone) so it can be undone and synced; every change goes through [`WriteTx`].

use serde::{Deserialize, Serialize};

use super::fields::{self, Put};
use super::local::{LocalStore, WriteTx};
use super::record::{self, SqliteQuery, Table};
use crate::error::Result;

const TABLE: Table<Fields> = Table::new("clients", "client");

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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Fields {
    name: String,
    company: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    notes: Option<String>,
    /// JSON text.
    tags: String,
}

impl record::Fields for Fields {
    const COLUMNS: &'static [&'static str] =
        &["name", "company", "email", "phone", "notes", "tags"];

    fn bind<'q>(&self, q: SqliteQuery<'q>) -> SqliteQuery<'q> {
        q.bind(self.name.clone())
            .bind(self.company.clone())
            .bind(self.email.clone())
            .bind(self.phone.clone())
            .bind(self.notes.clone())
            .bind(self.tags.clone())
    }
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

fn client(r: record::Row<Fields>) -> Client {
    let f = r.fields;
    Client {
        tags: fields::parse_tags(&f.tags),
        id: r.id,
        name: f.name,
        company: f.company,
        email: f.email,
        phone: f.phone,
        notes: f.notes,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// Live clients by name.
pub async fn list(store: &LocalStore) -> Result<Vec<Client>> {
    let rows = TABLE.list(store, "name COLLATE NOCASE, id").await?;
    Ok(rows.into_iter().map(client).collect())
}

pub async fn get(store: &LocalStore, id: &str) -> Result<Client> {
    TABLE.get(store, id).await.map(client)
}

/// Whether a live client has this id (inside a write, for references from signups).
pub(crate) async fn exists(tx: &mut WriteTx, id: &str) -> Result<bool> {
    TABLE.exists(tx, id).await
}

pub async fn create(tx: &mut WriteTx, input: &ClientInput) -> Result<Client> {
    TABLE.create(tx, &input.validate()?).await.map(client)
}

pub async fn update(tx: &mut WriteTx, id: &str, input: &ClientInput) -> Result<Client> {
    let f = input.validate()?;
    TABLE.update(tx, id, &f).await.map(client)
}

/// Creates or updates the client with this exact id (the importer's stable ids). A client
/// deleted here is left deleted.
pub async fn put(tx: &mut WriteTx, id: &str, input: &ClientInput, created_at: &str) -> Result<Put> {
    TABLE.put(tx, id, &input.validate()?, created_at).await
}

pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<()> {
    TABLE.delete(tx, id).await
}

pub async fn restore(tx: &mut WriteTx, id: &str) -> Result<()> {
    TABLE.restore(tx, id).await
}
