//! Signups: a client signing up, on a date, possibly through a campaign, with a value. The
//! client (and campaign, when given) must exist here when the signup is written. Deleting is
//! soft; every change goes through [`WriteTx`].

use serde::{Deserialize, Serialize};

use super::fields::{self, Put};
use super::local::{LocalStore, WriteTx};
use super::record::{self, SqliteQuery, Table};
use super::{campaigns, clients};
use crate::error::{CoreError, Result};

const TABLE: Table<Fields> = Table::new("signups", "signup");

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

impl record::Fields for Fields {
    const COLUMNS: &'static [&'static str] = &[
        "client_id",
        "campaign_id",
        "signed_up_on",
        "source",
        "value",
        "notes",
    ];

    fn bind<'q>(&self, q: SqliteQuery<'q>) -> SqliteQuery<'q> {
        q.bind(self.client_id.clone())
            .bind(self.campaign_id.clone())
            .bind(self.signed_up_on.clone())
            .bind(self.source.clone())
            .bind(self.value.clone())
            .bind(self.notes.clone())
    }
}

fn signup(r: record::Row<Fields>) -> Signup {
    let f = r.fields;
    Signup {
        id: r.id,
        client_id: f.client_id,
        campaign_id: f.campaign_id,
        signed_up_on: f.signed_up_on,
        source: f.source,
        value: f.value,
        notes: f.notes,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// Live signups, newest first; only those of `client_id` when given.
pub async fn list(store: &LocalStore, client_id: Option<&str>) -> Result<Vec<Signup>> {
    let client = client_id.map(|c| fields::id("client", c)).transpose()?;
    let sql = format!(
        "{} WHERE deleted_at IS NULL AND (?1 IS NULL OR client_id = ?1) \
         ORDER BY signed_up_on DESC, id DESC",
        TABLE.select()
    );
    let rows = sqlx::query_as::<_, record::Row<Fields>>(sqlx::AssertSqlSafe(sql))
        .bind(client)
        .fetch_all(store.pool())
        .await
        .map_err(|e| store.err(e))?;
    Ok(rows.into_iter().map(signup).collect())
}

pub async fn get(store: &LocalStore, id: &str) -> Result<Signup> {
    TABLE.get(store, id).await.map(signup)
}

pub async fn create(tx: &mut WriteTx, input: &SignupInput) -> Result<Signup> {
    let f = input.validate(tx).await?;
    TABLE.create(tx, &f).await.map(signup)
}

pub async fn update(tx: &mut WriteTx, id: &str, input: &SignupInput) -> Result<Signup> {
    let f = input.validate(tx).await?;
    TABLE.update(tx, id, &f).await.map(signup)
}

/// Creates or updates the signup with this exact id (the importer's stable ids). A signup
/// deleted here is left deleted.
pub async fn put(tx: &mut WriteTx, id: &str, input: &SignupInput, created_at: &str) -> Result<Put> {
    let f = input.validate(tx).await?;
    TABLE.put(tx, id, &f, created_at).await
}

pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<()> {
    TABLE.delete(tx, id).await
}

pub async fn restore(tx: &mut WriteTx, id: &str) -> Result<()> {
    TABLE.restore(tx, id).await
}
