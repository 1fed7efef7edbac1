//! Saved call analyses: the transcript, the analysis JSON and who produced it.
//! Deleting is soft (a `deleted_at` tombstone) so a delete can be undone and synced.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::local::{LocalStore, RowOp, WriteTx};
use crate::error::{CoreError, Result};
use crate::time::{format_rfc3339, now_rfc3339};

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
    /// The analysis's 0-100 score, when it has one.
    pub score: Option<i32>,
}

/// A search of saved analyses. Every field is optional; all given ones must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct SearchQuery {
    /// Words to find in the title or transcript (all of them, any order; `word*` matches a
    /// prefix). Any text is safe: it is never read as FTS5 query syntax. Results stay
    /// newest first.
    pub text: Option<String>,
    /// Created on or after: `YYYY-MM-DD` (start of that day, UTC) or an RFC 3339 time.
    pub since: Option<String>,
    /// Created on or before: `YYYY-MM-DD` (the whole day, UTC) or an RFC 3339 time.
    pub until: Option<String>,
    /// Score at least / at most (0-100). Analyses without a score never match a score filter.
    pub min_score: Option<u32>,
    pub max_score: Option<u32>,
    /// At most this many results.
    pub limit: Option<u32>,
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
        "SELECT id, title, created_at, updated_at, provider, model, score FROM call_analyses \
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

/// Creates or updates the analysis with this exact id (the importer's stable ids). An
/// analysis deleted here is left deleted.
pub async fn put(
    tx: &mut WriteTx,
    id: &str,
    new: &NewAnalysis,
    client_id: Option<&str>,
    created_at: &str,
) -> Result<super::fields::Put> {
    use super::fields::Put;
    let title = new.title.trim();
    if title.is_empty() {
        return Err(CoreError::InvalidInput("an analysis needs a title".into()));
    }
    type Existing = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let existing: Option<Existing> = sqlx::query_as(
        "SELECT title, transcript, analysis, provider, model, client_id, deleted_at \
         FROM call_analyses WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    let now = now_rfc3339();
    match existing {
        None => {
            sqlx::query(
                "INSERT INTO call_analyses (id, title, created_at, updated_at, deleted_at, \
                 transcript, analysis, provider, model, client_id) \
                 VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(title)
            .bind(created_at)
            .bind(&now)
            .bind(&new.transcript)
            .bind(new.analysis.to_string())
            .bind(&new.provider)
            .bind(&new.model)
            .bind(client_id)
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
            tx.record(TABLE, id, RowOp::Upsert);
            Ok(Put::Added)
        }
        Some((.., Some(_))) => Ok(Put::Deleted),
        Some((t, transcript, analysis, provider, model, client, None)) => {
            let same_analysis = serde_json::from_str::<serde_json::Value>(&analysis)
                .is_ok_and(|a| a == new.analysis);
            if t == title
                && transcript == new.transcript
                && same_analysis
                && provider == new.provider
                && model == new.model
                && client.as_deref() == client_id
            {
                return Ok(Put::Unchanged);
            }
            sqlx::query(
                "UPDATE call_analyses SET title = ?, transcript = ?, analysis = ?, provider = ?, \
                 model = ?, client_id = ?, updated_at = ? WHERE id = ?",
            )
            .bind(title)
            .bind(&new.transcript)
            .bind(new.analysis.to_string())
            .bind(&new.provider)
            .bind(&new.model)
            .bind(client_id)
            .bind(&now)
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
            tx.record(TABLE, id.to_owned(), RowOp::Upsert);
            Ok(Put::Updated)
        }
    }
}

/// Marks an analysis deleted. Deleting one that is already gone is `AnalysisNotFound`.
pub async fn soft_delete(tx: &mut WriteTx, id: &str) -> Result<()> {
    let key = parse_id(id)?.to_string();
    if !tx.soft_delete(TABLE, &key).await? {
        return Err(CoreError::AnalysisNotFound { id: id.to_owned() });
    }
    Ok(())
}

/// Brings back a soft-deleted analysis (the undo of [`soft_delete`]).
pub async fn restore(tx: &mut WriteTx, id: &str) -> Result<()> {
    let key = parse_id(id)?.to_string();
    if !tx.restore(TABLE, &key).await? {
        return Err(CoreError::AnalysisNotFound { id: id.to_owned() });
    }
    Ok(())
}

/// Searches live analyses, newest first.
///
/// The SQL is assembled from fixed fragments (user values are only ever bound), so that each
/// filter is a plain comparison SQLite can serve from the covering indexes of migration 0002
/// without reading the large transcript rows; text matches come from the FTS5 index as a set
/// of rowids.
pub async fn search(store: &LocalStore, query: &SearchQuery) -> Result<Vec<AnalysisSummary>> {
    let terms = query.text.as_deref().map(search_terms).unwrap_or_default();
    let since = query
        .since
        .as_deref()
        .map(|s| parse_bound(s, Bound::Since))
        .transpose()?;
    let until = query
        .until
        .as_deref()
        .map(|s| parse_bound(s, Bound::Until))
        .transpose()?;
    if let (Some(since), Some(until)) = (&since, &until)
        && since >= until
    {
        return Err(CoreError::InvalidInput(format!(
            "the date range is empty: --since {} is after --until {}",
            query.since.as_deref().unwrap_or_default(),
            query.until.as_deref().unwrap_or_default()
        )));
    }
    for (name, value) in [("minimum", query.min_score), ("maximum", query.max_score)] {
        if let Some(v) = value
            && v > 100
        {
            return Err(CoreError::InvalidInput(format!(
                "the {name} score must be between 0 and 100 (got {v})"
            )));
        }
    }
    if let (Some(min), Some(max)) = (query.min_score, query.max_score)
        && min > max
    {
        return Err(CoreError::InvalidInput(format!(
            "the score range is empty: minimum {min} is above maximum {max}"
        )));
    }

    let filters = Filters {
        since,
        until,
        min_score: query.min_score,
        max_score: query.max_score,
        limit: query.limit,
    };
    match run_search(store, &terms, &filters, TextMatch::Index).await {
        // The index's tokenizer (SQLite's Unicode 6.1 tables) can cut a word we kept whole,
        // which a position-less index refuses as a phrase: search the text directly then.
        Err(sqlx::Error::Database(e)) if e.message().contains("fts5") => {
            tracing::debug!("search index refused the query; scanning the text instead");
            run_search(store, &terms, &filters, TextMatch::Scan).await
        }
        other => other,
    }
    .map_err(|e| store.err(e))
}

struct Filters {
    since: Option<String>,
    until: Option<String>,
    min_score: Option<u32>,
    max_score: Option<u32>,
    limit: Option<u32>,
}

#[derive(Clone, Copy)]
enum TextMatch {
    /// Through the FTS5 index (the normal, fast path).
    Index,
    /// `LIKE` over title and transcript (slow; the fallback).
    Scan,
}

async fn run_search(
    store: &LocalStore,
    terms: &[SearchTerm],
    filters: &Filters,
    text_match: TextMatch,
) -> std::result::Result<Vec<AnalysisSummary>, sqlx::Error> {
    enum Arg {
        Text(String),
        Int(i64),
    }
    let mut sql = String::from(
        "SELECT id, title, created_at, updated_at, provider, model, score FROM call_analyses",
    );
    if !terms.is_empty() {
        // Walk the covering list index newest first and keep the rows whose rowid the text
        // matched: left to itself SQLite looks every matched rowid up in the table, whose rows
        // carry whole transcripts, and sorts afterwards (several times slower).
        sql.push_str(" INDEXED BY call_analyses_live_list");
    }
    sql.push_str(" WHERE deleted_at IS NULL");
    let mut args = Vec::new();
    if !terms.is_empty() {
        match text_match {
            TextMatch::Index => {
                sql.push_str(
                    " AND rowid IN (SELECT rowid FROM call_analyses_fts WHERE call_analyses_fts MATCH ?)",
                );
                args.push(Arg::Text(fts_match_expression(terms)));
            }
            TextMatch::Scan => {
                for term in terms {
                    let pattern = like_pattern(term);
                    sql.push_str(
                        " AND (title LIKE ? ESCAPE '\\' OR transcript LIKE ? ESCAPE '\\')",
                    );
                    args.push(Arg::Text(pattern.clone()));
                    args.push(Arg::Text(pattern));
                }
            }
        }
    }
    let (since, until) = (filters.since.clone(), filters.until.clone());
    if let Some(since) = since {
        sql.push_str(" AND created_at >= ?");
        args.push(Arg::Text(since));
    }
    if let Some(until) = until {
        sql.push_str(" AND created_at < ?");
        args.push(Arg::Text(until));
    }
    if let Some(min) = filters.min_score {
        sql.push_str(" AND score >= ?");
        args.push(Arg::Int(i64::from(min)));
    }
    if let Some(max) = filters.max_score {
        sql.push_str(" AND score <= ?");
        args.push(Arg::Int(i64::from(max)));
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC");
    if let Some(limit) = filters.limit {
        sql.push_str(" LIMIT ?");
        args.push(Arg::Int(i64::from(limit)));
    }
    let mut q = sqlx::query_as::<_, AnalysisSummary>(sqlx::AssertSqlSafe(sql));
    for arg in args {
        q = match arg {
            Arg::Text(t) => q.bind(t),
            Arg::Int(n) => q.bind(n),
        };
    }
    q.fetch_all(store.pool()).await
}

/// Rebuilds the full-text index from the table (after a VACUUM, or to repair it).
pub async fn rebuild_search_index(tx: &mut WriteTx) -> Result<()> {
    sqlx::query("INSERT INTO call_analyses_fts (call_analyses_fts) VALUES ('rebuild')")
        .execute(tx.conn())
        .await
        .map_err(|e| tx.err(e))?;
    Ok(())
}

/// One word of a search, as the index's tokenizer cuts text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm {
    pub word: String,
    /// `word*`: matches words starting with `word`.
    pub prefix: bool,
}

/// Cuts user text into words the way FTS5's `unicode61` tokenizer does by default (runs of
/// letters, digits and private-use characters; everything else separates). A `*` right after a
/// word makes it a prefix search. Any text is safe: nothing is ever read as query syntax.
pub fn search_terms(text: &str) -> Vec<SearchTerm> {
    static WORD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"([\p{L}\p{N}\p{Co}]+)(\*?)").expect("valid regex")
    });
    WORD.captures_iter(text)
        .map(|c| SearchTerm {
            word: c[1].to_owned(),
            prefix: !c[2].is_empty(),
        })
        .collect()
}

/// The FTS5 expression for `terms`: each word quoted (so it is never syntax), all required.
/// Single words only: the index keeps no positions (migration 0300), so there are no phrases.
pub fn fts_match_expression(terms: &[SearchTerm]) -> String {
    terms
        .iter()
        .map(|t| {
            // Letters and digits only, so no quote can appear inside.
            if t.prefix {
                format!("\"{}\"*", t.word)
            } else {
                format!("\"{}\"", t.word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The user's text for a query, or `None` when it holds no word.
pub fn fts_query(text: &str) -> Option<String> {
    let terms = search_terms(text);
    (!terms.is_empty()).then(|| fts_match_expression(&terms))
}

fn like_pattern(term: &SearchTerm) -> String {
    let escaped = term
        .word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    // A substring match covers both whole words and prefixes.
    format!("%{escaped}%")
}

#[derive(Clone, Copy)]
enum Bound {
    Since,
    Until,
}

/// A date bound as stored-format text: `since` inclusive, `until` exclusive.
fn parse_bound(value: &str, bound: Bound) -> Result<String> {
    let value = value.trim();
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = match bound {
            Bound::Since => Some(date),
            Bound::Until => date.succ_opt(),
        };
        if let Some(start) = day.and_then(|d| d.and_hms_opt(0, 0, 0)) {
            return Ok(format_rfc3339(start.and_utc()));
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        let t = t.with_timezone(&Utc);
        return Ok(format_rfc3339(match bound {
            Bound::Since => t,
            // Stored times have millisecond precision: "until" includes its whole millisecond.
            Bound::Until => t + Duration::milliseconds(1),
        }));
    }
    Err(CoreError::InvalidInput(format!(
        "'{value}' is not a date: use YYYY-MM-DD (for example 2025-03-31) or an RFC 3339 time \
         (2025-03-31T14:00:00Z)"
    )))
}
