//! Campaigns: a named push through a channel over a date range, with a budget. Deleting is
//! soft; every change goes through [`WriteTx`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fields::{self, Put};
use super::local::{LocalStore, RowOp, WriteTx};
use crate::error::{CoreError, Result};
use crate::time::now_rfc3339;

const TABLE: &str = "campaigns";
// Queries are assembled from this constant only (never from input), hence AssertSqlSafe.
const COLUMNS: &str = "id, name, description, channel, status, starts_on, ends_on, budget, \
                       created_at, updated_at, deleted_at";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    #[default]
    Draft,
    Active,
    Paused,
    Ended,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Active => "active",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "draft" => Ok(Self::Draft),
            "active" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            "ended" => Ok(Self::Ended),
            other => Err(CoreError::InvalidInput(format!(
                "'{other}' is not a campaign status (use draft, active, paused or ended)"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub channel: Option<String>,
    pub status: CampaignStatus,
    /// `YYYY-MM-DD`.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// Exact decimal text, like `1250.50`.
    pub budget: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct CampaignInput {
    pub name: String,
    pub description: Option<String>,
    pub channel: Option<String>,
    pub status: CampaignStatus,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub budget: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Fields {
    name: String,
    description: Option<String>,
    channel: Option<String>,
    status: String,
    starts_on: Option<String>,
    ends_on: Option<String>,
    budget: Option<String>,
}

impl CampaignInput {
    fn validate(&self) -> Result<Fields> {
        let starts_on = fields::opt_date("the start date", self.starts_on.as_deref())?;
        let ends_on = fields::opt_date("the end date", self.ends_on.as_deref())?;
        if let (Some(s), Some(e)) = (&starts_on, &ends_on)
            && e < s
        {
            return Err(CoreError::InvalidInput(format!(
                "the campaign ends ({e}) before it starts ({s}); check the dates"
            )));
        }
        Ok(Fields {
            name: fields::text("the campaign's name", &self.name, 500)?,
            description: fields::opt_text("description", self.description.as_deref(), 20_000)?,
            channel: fields::opt_text("channel", self.channel.as_deref(), 200)?,
            status: self.status.as_str().to_owned(),
            starts_on,
            ends_on,
            budget: fields::opt_money("the budget", self.budget.as_deref())?,
        })
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
    fn into_campaign(self) -> Campaign {
        let f = self.fields;
        Campaign {
            id: self.id,
            name: f.name,
            description: f.description,
            channel: f.channel,
            status: CampaignStatus::parse(&f.status).unwrap_or_default(),
            starts_on: f.starts_on,
            ends_on: f.ends_on,
            budget: f.budget,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn not_found(id: &str) -> CoreError {
    CoreError::RecordNotFound {
        what: "campaign",
        id: id.to_owned(),
    }
}

/// Live campaigns, newest start first (undated last).
pub async fn list(store: &LocalStore) -> Result<Vec<Campaign>> {
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE deleted_at IS NULL \
         ORDER BY starts_on IS NULL, starts_on DESC, name COLLATE NOCASE, id"
    )))
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(rows.into_iter().map(Row::into_campaign).collect())
}

pub async fn get(store: &LocalStore, id: &str) -> Result<Campaign> {
    let key = fields::id("campaign", id)?;
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE id = ? AND deleted_at IS NULL"
    )))
    .bind(key)
    .fetch_optional(store.pool())
    .await
    .map_err(|e| store.err(e))?
    .map(Row::into_campaign)
    .ok_or_else(|| not_found(id))
}

pub(crate) async fn exists(tx: &mut WriteTx, id: &str) -> Result<bool> {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM campaigns WHERE id = ? AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await
    .map(|n| n > 0)
    .map_err(|e| tx.err(e))
}

async fn row(tx: &mut WriteTx, id: &str) -> Result<Option<Row>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(tx.conn())
    .await
    .map_err(|e| tx.err(e))
}

async fn insert(tx: &mut WriteTx, id: &str, f: &Fields, created_at: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO campaigns (id, name, description, channel, status, starts_on, ends_on, \
         budget, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&f.name)
    .bind(&f.description)
    .bind(&f.channel)
    .bind(&f.status)
    .bind(&f.starts_on)
    .bind(&f.ends_on)
    .bind(&f.budget)
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
        "UPDATE campaigns SET name = ?, description = ?, channel = ?, status = ?, starts_on = ?, \
         ends_on = ?, budget = ?, updated_at = ? WHERE id = ?",
    )
    .bind(&f.name)
    .bind(&f.description)
    .bind(&f.channel)
    .bind(&f.status)
    .bind(&f.starts_on)
    .bind(&f.ends_on)
    .bind(&f.budget)
    .bind(now_rfc3339())
    .bind(id)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.record(TABLE, id.to_owned(), RowOp::Upsert);
    Ok(())
}

pub async fn create(tx: &mut WriteTx, input: &CampaignInput) -> Result<Campaign> {
    let id = Uuid::now_v7().to_string();
    insert(tx, &id, &input.validate()?, &now_rfc3339()).await?;
    Ok(row(tx, &id)
        .await?
        .ok_or_else(|| not_found(&id))?
        .into_campaign())
}

pub async fn update(tx: &mut WriteTx, id: &str, input: &CampaignInput) -> Result<Campaign> {
    let key = fields::id("campaign", id)?;
    let f = input.validate()?;
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
        .into_campaign())
}

/// Creates or updates the campaign with this exact id (the importer's stable ids).
pub async fn put(
    tx: &mut WriteTx,
    id: &str,
    input: &CampaignInput,
    created_at: &str,
) -> Result<Put> {
    let f = input.validate()?;
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
    let key = fields::id("campaign", id)?;
    if !tx.soft_delete(TABLE, &key).await? {
        return Err(not_found(id));
    }
    Ok(())
}
