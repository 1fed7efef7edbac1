//! Signups: a client signing up, on a date, possibly through a campaign, with a value. The
//! client (and campaign, when given) must exist here when the signup is written. Deleting is
//! soft; every change goes through [`WriteTx`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fields::{self, Put};
use super::local::{LocalStore, RowOp, WriteTx};
use super::{campaigns, clients};
use crate::error::{CoreError, Result};
use crate::time::now_rfc3339;

const TABLE: &str = "signups";
// Queries are assembled from this constant only (never from input), hence AssertSqlSafe.
const COLUMNS: &str = "id, client_id, campaign_id, signed_up_on, source, value, notes, \
                       created_at, updated_at, deleted_at";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Signup {
    pub id: String,
    pub client_id: String,
    pub campaign_id: Option<String>,
    /// `YYYY-MM-DD`.
    pub signed_up_on: String,
    pub source: Option<String>,
    /// Exact decimal text, like `1250.50`.
    pub value: Option<String>,
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct SignupInput {
    pub client_id: String,
    pub campaign_id: Option<String>,
    pub signed_up_on: String,
    pub source: Option<String>,
    pub value: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Fields {
    client_id: String,
    campaign_id: Option<String>,
    signed_up_on: String,
    source: Option<String>,
    value: Option<String>,
    notes: Option<String>,
}

impl SignupInput {
    /// Checks the fields and that the client and campaign exist (inside the same write).
    async fn validate(&self, tx: &mut WriteTx) -> Result<Fields> {
        let client_id = fields::id("client", &self.client_id)?;
        let campaign_id = match fields::opt_text("campaign", self.campaign_id.as_deref(), 64)? {
            Some(c) => Some(fields::id("campaign", &c)?),
            None => None,
        };
        let signed_up_on = fields::opt_date("the signup date", Some(&self.signed_up_on))?
            .ok_or_else(|| CoreError::InvalidInput("the signup date is required".into()))?;
        let f = Fields {
            client_id,
            campaign_id,
            signed_up_on,
            source: fields::opt_text("source", self.source.as_deref(), 200)?,
            value: fields::opt_money("the value", self.value.as_deref())?,
            notes: fields::opt_text("notes", self.notes.as_deref(), 20_000)?,
        };
        if !clients::exists(tx, &f.client_id).await? {
            return Err(CoreError::InvalidInput(format!(
                "no client with id {} (add the client first)",
                f.client_id
            )));
        }
        if let Some(c) = &f.campaign_id
            && !campaigns::exists(tx, c).await?
        {
            return Err(CoreError::InvalidInput(format!(
                "no campaign with id {c} (add the campaign first, or leave it empty)"
            )));
        }
        Ok(f)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    #[sqlx(flatten)]
    fields: Fields,
    created_at: String,
    updated_at: String,
    deleted_at: Option<String>,
}

impl Row {
    fn into_signup(self) -> Signup {
        let f = self.fields;
        Signup {
            id: self.id,
            client_id: f.client_id,
            campaign_id: f.campaign_id,
            signed_up_on: f.signed_up_on,
            source: f.source,
            value: f.value,
            notes: f.notes,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn not_found(id: &str) -> CoreError {
    CoreError::RecordNotFound {
        what: "signup",
        id: id.to_owned(),
    }
}

/// Live signups, newest first; only those of `client_id` when given.
pub async fn list(store: &LocalStore, client_id: Option<&str>) -> Result<Vec<Signup>> {
    let client = client_id.map(|c| fields::id("client", c)).transpose()?;
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM signups WHERE deleted_at IS NULL AND (?1 IS NULL OR client_id = ?1) \
         ORDER BY signed_up_on DESC, id DESC"
    )))
    .bind(client)
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(rows.into_iter().map(Row::into_signup).collect())
}

pub async fn get(store: &LocalStore, id: &str) -> Result<Signup> {
    let key = fields::id("signup", id)?;
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM signups WHERE id = ? AND deleted_at IS NULL"
    )))
    .bind(key)
    .fetch_optional(store.pool())
    .await
    .map_err(|e| store.err(e))?
    .map(Row::into_signup)
    .ok_or_else(|| not_found(id))
}

async fn row(tx: &mut WriteTx, id: &str) -> Result<Option<Row>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM signups WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await
    .map_err(|e| tx.err(e))
}

async fn insert(tx: &mut WriteTx, id: &str, f: &Fields, created_at: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO signups (id, client_id, campaign_id, signed_up_on, source, value, notes, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&f.client_id)
    .bind(&f.campaign_id)
    .bind(&f.signed_up_on)
    .bind(&f.source)
    .bind(&f.value)
    .bind(&f.notes)
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
        "UPDATE signups SET client_id = ?, campaign_id = ?, signed_up_on = ?, source = ?, \
         value = ?, notes = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&f.client_id)
    .bind(&f.campaign_id)
    .bind(&f.signed_up_on)
    .bind(&f.source)
    .bind(&f.value)
    .bind(&f.notes)
    .bind(now_rfc3339())
    .bind(id)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.record(TABLE, id.to_owned(), RowOp::Upsert);
    Ok(())
}

pub async fn create(tx: &mut WriteTx, input: &SignupInput) -> Result<Signup> {
    let f = input.validate(tx).await?;
    let id = Uuid::now_v7().to_string();
    insert(tx, &id, &f, &now_rfc3339()).await?;
    Ok(row(tx, &id)
        .await?
        .ok_or_else(|| not_found(&id))?
        .into_signup())
}

pub async fn update(tx: &mut WriteTx, id: &str, input: &SignupInput) -> Result<Signup> {
    let key = fields::id("signup", id)?;
    let f = input.validate(tx).await?;
    match row(tx, &key).await? {
        Some(r) if r.deleted_at.is_none() => {
            if r.fields != f {
                write(tx, &key, &f).await?;
            }
        }
        _ => return Err(not_found(id)),
    }
    Ok(row(tx, &key)
        .await?
        .ok_or_else(|| not_found(id))?
        .into_signup())
}

/// Creates or updates the signup with this exact id (the importer's stable ids).
pub async fn put(tx: &mut WriteTx, id: &str, input: &SignupInput, created_at: &str) -> Result<Put> {
    let f = input.validate(tx).await?;
    Ok(match row(tx, id).await? {
        None => {
            insert(tx, id, &f, created_at).await?;
            Put::Added
        }
        Some(r) if r.deleted_at.is_some() => Put::Deleted,
        Some(r) if r.fields == f => Put::Unchanged,
        Some(_) => {
            write(tx, id, &f).await?;
            Put::Updated
        }
    })
}

pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<()> {
    let key = fields::id("signup", id)?;
    if !tx.soft_delete(TABLE, &key).await? {
        return Err(not_found(id));
    }
    Ok(())
}
