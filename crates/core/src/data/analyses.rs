//! Saved call analyses: the transcript, the analysis JSON and who produced it.
//! Deleting is soft (a `deleted_at` tombstone) so a delete can be undone and synced.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::local::{LocalStore, RowOp, WriteTx};
use crate::error::{CoreError, Result};
use crate::time::now_rfc3339;

const TABLE: &str = "call_analyses";

/// One row of the analyses list: everything but the (possibly large) transcript and analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct AnalysisSummary {
    pub id: String,
    pub title: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    /// Who produced the analysis: `offline`, `gemini`, `openai`, `anthropic`, ...
    pub provider: String,
    pub model: Option<String>,
}

/// A saved analysis, whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct CallAnalysisRecord {
    pub id: String,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
    pub transcript: String,
    pub analysis: serde_json::Value,
    pub provider: String,
    pub model: Option<String>,
}

/// What a caller supplies to save an analysis; ids and timestamps are assigned here.
#[derive(Debug, Clone)]
pub struct NewAnalysis {
    pub title: String,
    pub transcript: String,
    pub analysis: serde_json::Value,
    pub provider: String,
    pub model: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: String,
    title: String,
    created_at: String,
    updated_at: String,
    transcript: String,
    analysis: String,
    provider: String,
    model: Option<String>,
}

impl RecordRow {
    fn into_record(self) -> Result<CallAnalysisRecord> {
        let analysis = serde_json::from_str(&self.analysis).map_err(|e| {
            CoreError::Store(format!("analysis {} holds invalid JSON: {e}", self.id))
        })?;
        Ok(CallAnalysisRecord {
            id: self.id,
            title: self.title,
            created_at: self.created_at,
            updated_at: self.updated_at,
            transcript: self.transcript,
            analysis,
            provider: self.provider,
            model: self.model,
        })
    }
}

/// Parses a user-supplied id, so a typo gets "not a valid id" rather than "not found".
pub fn parse_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id.trim()).map_err(|_| {
        CoreError::InvalidInput(format!(
            "'{id}' is not a valid analysis id (expected a UUID such as 0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d)"
        ))
    })
}

/// Newest first, without deleted rows.
pub async fn list(store: &LocalStore) -> Result<Vec<AnalysisSummary>> {
    sqlx::query_as::<_, AnalysisSummary>(
        "SELECT id, title, created_at, updated_at, provider, model FROM call_analyses \
         WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))
}

pub async fn get(store: &LocalStore, id: &str) -> Result<CallAnalysisRecord> {
    let uuid = parse_id(id)?;
    let row = sqlx::query_as::<_, RecordRow>(
        "SELECT id, title, created_at, updated_at, transcript, analysis, provider, model \
         FROM call_analyses WHERE id = ? AND deleted_at IS NULL",
    )
    .bind(uuid.to_string())
    .fetch_optional(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    row.ok_or_else(|| CoreError::AnalysisNotFound { id: id.to_owned() })?
        .into_record()
}

pub async fn count(store: &LocalStore) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM call_analyses WHERE deleted_at IS NULL")
        .fetch_one(store.pool())
        .await
        .map_err(|e| store.err(e))
}

pub async fn insert(tx: &mut WriteTx, new: NewAnalysis) -> Result<CallAnalysisRecord> {
    let title = new.title.trim();
    if title.is_empty() {
        return Err(CoreError::InvalidInput("an analysis needs a title".into()));
    }
    let now = now_rfc3339();
    let record = CallAnalysisRecord {
        id: Uuid::now_v7().to_string(),
        title: title.to_owned(),
        created_at: now.clone(),
        updated_at: now,
        transcript: new.transcript,
        analysis: new.analysis,
        provider: new.provider,
        model: new.model,
    };
    sqlx::query(
        "INSERT INTO call_analyses \
         (id, title, created_at, updated_at, deleted_at, transcript, analysis, provider, model) \
         VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)",
    )
    .bind(&record.id)
    .bind(&record.title)
    .bind(&record.created_at)
    .bind(&record.updated_at)
    .bind(&record.transcript)
    .bind(record.analysis.to_string())
    .bind(&record.provider)
    .bind(&record.model)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.record(TABLE, record.id.clone(), RowOp::Upsert);
    Ok(record)
}

/// Marks an analysis deleted. Deleting one that is already gone is `AnalysisNotFound`.
pub async fn soft_delete(tx: &mut WriteTx, id: &str) -> Result<()> {
    let uuid = parse_id(id)?.to_string();
    let now = now_rfc3339();
    let done = sqlx::query(
        "UPDATE call_analyses SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
    )
    .bind(&now)
    .bind(&now)
    .bind(&uuid)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    if done.rows_affected() == 0 {
        return Err(CoreError::AnalysisNotFound { id: id.to_owned() });
    }
    tx.record(TABLE, uuid, RowOp::Delete);
    Ok(())
}

/// Brings back a soft-deleted analysis (the undo of [`soft_delete`]).
pub async fn restore(tx: &mut WriteTx, id: &str) -> Result<()> {
    let uuid = parse_id(id)?.to_string();
    let done = sqlx::query(
        "UPDATE call_analyses SET deleted_at = NULL, updated_at = ? WHERE id = ? AND deleted_at IS NOT NULL",
    )
    .bind(now_rfc3339())
    .bind(&uuid)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    if done.rows_affected() == 0 {
        return Err(CoreError::AnalysisNotFound { id: id.to_owned() });
    }
    tx.record(TABLE, uuid, RowOp::Upsert);
    Ok(())
}
