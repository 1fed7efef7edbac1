//! Campaigns: a named push through a channel over a date range, with a budget. Deleting is
//! soft; every change goes through [`WriteTx`].

use serde::{Deserialize, Serialize};

use super::fields::{self, Put};
use super::local::{LocalStore, WriteTx};
use super::record::{self, SqliteQuery, Table};
use crate::error::{CoreError, Result};

const TABLE: Table<Fields> = Table::new("campaigns", "campaign");

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

impl record::Fields for Fields {
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "description",
        "channel",
        "status",
        "starts_on",
        "ends_on",
        "budget",
    ];

    fn bind<'q>(&self, q: SqliteQuery<'q>) -> SqliteQuery<'q> {
        q.bind(self.name.clone())
            .bind(self.description.clone())
            .bind(self.channel.clone())
            .bind(self.status.clone())
            .bind(self.starts_on.clone())
            .bind(self.ends_on.clone())
            .bind(self.budget.clone())
    }
}

fn campaign(r: record::Row<Fields>) -> Campaign {
    let f = r.fields;
    Campaign {
        id: r.id,
        name: f.name,
        description: f.description,
        channel: f.channel,
        status: CampaignStatus::parse(&f.status).unwrap_or_default(),
        starts_on: f.starts_on,
        ends_on: f.ends_on,
        budget: f.budget,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// Live campaigns, newest start first (undated last).
pub async fn list(store: &LocalStore) -> Result<Vec<Campaign>> {
    let rows = TABLE
        .list(
            store,
            "starts_on IS NULL, starts_on DESC, name COLLATE NOCASE, id",
        )
        .await?;
    Ok(rows.into_iter().map(campaign).collect())
}

pub async fn get(store: &LocalStore, id: &str) -> Result<Campaign> {
    TABLE.get(store, id).await.map(campaign)
}

/// Whether a live campaign has this id (inside a write, for references from signups).
pub(crate) async fn exists(tx: &mut WriteTx, id: &str) -> Result<bool> {
    TABLE.exists(tx, id).await
}

pub async fn create(tx: &mut WriteTx, input: &CampaignInput) -> Result<Campaign> {
    TABLE.create(tx, &input.validate()?).await.map(campaign)
}

pub async fn update(tx: &mut WriteTx, id: &str, input: &CampaignInput) -> Result<Campaign> {
    let f = input.validate()?;
    TABLE.update(tx, id, &f).await.map(campaign)
}

/// Creates or updates the campaign with this exact id (the importer's stable ids). A campaign
/// deleted here is left deleted.
pub async fn put(
    tx: &mut WriteTx,
    id: &str,
    input: &CampaignInput,
    created_at: &str,
) -> Result<Put> {
    TABLE.put(tx, id, &input.validate()?, created_at).await
}

pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<()> {
    TABLE.delete(tx, id).await
}

pub async fn restore(tx: &mut WriteTx, id: &str) -> Result<()> {
    TABLE.restore(tx, id).await
}
