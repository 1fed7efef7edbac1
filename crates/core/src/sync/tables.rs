//! How a local SQLite row and a remote Postgres row (as JSON) map onto each other, generically
//! by column name: the local tables mirror the remote ones column for column (see
//! `migrations/local/0400_team_tables.sql`), so one registry of the columns whose local form
//! differs (JSON text, decimal text) is all the per-table knowledge the engine needs.
//!
//! Deliberately left out: foreign keys and per-table validation; the server's constraints and
//! row-level security decide what is valid, and a refused row is kept and shown.

use std::collections::HashMap;

use chrono::DateTime;
use serde_json::Value;
use sqlx::SqliteConnection;

use crate::data::remote::SyncedTable;

/// Columns stored locally as JSON text (remote `jsonb` or `text[]`).
fn json_columns(table: SyncedTable) -> &'static [&'static str] {
    match table {
        SyncedTable::Clients | SyncedTable::TrainingMaterials => &["tags"],
        SyncedTable::CallAnalyses => &["analysis"],
        SyncedTable::RoleplaySessions => &["messages", "feedback"],
        SyncedTable::MarketReports => &["sources"],
        SyncedTable::Profiles
        | SyncedTable::GeneratedImages
        | SyncedTable::Campaigns
        | SyncedTable::Signups
        | SyncedTable::CallRecordings => &[],
    }
}

/// Columns stored locally as decimal text (remote `numeric(14, 2)`), with their scale.
fn decimal_columns(table: SyncedTable) -> &'static [(&'static str, usize)] {
    match table {
        SyncedTable::Campaigns => &[("budget", 2)],
        SyncedTable::Signups => &[("value", 2)],
        _ => &[],
    }
}

/// The table a local write names, if its rows are pushed to the team database.
pub fn pushable(name: &str) -> Option<SyncedTable> {
    SyncedTable::ALL
        .into_iter()
        .find(|t| t.as_str() == name && t.is_pushable())
}

/// One synced table as this local database has it.
#[derive(Debug, Clone)]
pub(crate) struct TableSpec {
    pub table: SyncedTable,
    /// Stored columns that pulled rows write (generated columns excluded).
    writable: Vec<String>,
    /// `SELECT id, json_object(...)` of the pushed shape, filtered by a JSON array of ids.
    select_sql: String,
    /// The last-writer-wins upsert of a pulled row.
    apply_sql: String,
}

/// A value bound to a local column.
#[derive(Debug, Clone, PartialEq)]
enum Bind {
    Null,
    Text(String),
    Int(i64),
    Real(f64),
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

impl TableSpec {
    /// Reads the table's columns from SQLite and prepares its statements.
    pub async fn load(conn: &mut SqliteConnection, table: SyncedTable) -> sqlx::Result<Self> {
        // hidden: 0 a normal column, 2 or 3 a generated one (read but never written).
        let columns: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, hidden FROM pragma_table_xinfo(?) ORDER BY cid")
                .bind(table.as_str())
                .fetch_all(conn)
                .await?;
        let json = json_columns(table);
        let pushed: Vec<String> = columns
            .iter()
            .filter(|(name, hidden)| *hidden != 1 && name != "owner_id")
            .map(|(name, _)| {
                let value = if json.contains(&name.as_str()) {
                    format!("json({})", quote(name))
                } else {
                    quote(name)
                };
                format!("'{}', {value}", name.replace('\'', "''"))
            })
            .collect();
        let writable: Vec<String> = columns
            .iter()
            .filter(|(_, hidden)| *hidden == 0)
            .map(|(name, _)| name.clone())
            .collect();
        let t = quote(table.as_str());
        let select_sql = format!(
            "SELECT id, json_object({}) FROM {t} WHERE id IN (SELECT value FROM json_each(?))",
            pushed.join(", ")
        );
        let cols = writable
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let params = vec!["?"; writable.len()].join(", ");
        let set = writable
            .iter()
            .filter(|c| c.as_str() != "id")
            .map(|c| format!("{0} = excluded.{0}", quote(c)))
            .collect::<Vec<_>>()
            .join(", ");
        let differs = writable
            .iter()
            .filter(|c| c.as_str() != "id")
            .map(|c| format!("{t}.{0} IS NOT excluded.{0}", quote(c)))
            .collect::<Vec<_>>()
            .join(" OR ");
        // A pulled row never replaces a newer local version, nor one still waiting in the
        // outbox (the push settles that one with the server's last-writer-wins). An identical
        // row is not rewritten: for call_analyses that would re-index the transcript.
        let apply_sql = format!(
            "INSERT INTO {t} ({cols}) VALUES ({params}) ON CONFLICT (id) DO UPDATE SET {set} \
             WHERE excluded.updated_at >= {t}.updated_at AND ({differs}) AND NOT EXISTS \
             (SELECT 1 FROM sync_outbox o WHERE o.table_name = '{name}' AND o.row_id = excluded.id)",
            name = table.as_str()
        );
        Ok(Self {
            table,
            writable,
            select_sql,
            apply_sql,
        })
    }

    /// The current local state of `ids`, shaped as `app.push_upsert` takes rows.
    pub async fn read_rows(
        &self,
        conn: &mut SqliteConnection,
        ids: &[&str],
    ) -> sqlx::Result<HashMap<String, Value>> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        let rows: Vec<(String, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(self.select_sql.as_str()))
                .bind(ids)
                .fetch_all(conn)
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, json)| serde_json::from_str(&json).ok().map(|v| (id, v)))
            .collect())
    }

    /// Applies one pulled row. `Ok(true)` when it changed the local row; `Ok(false)` when the
    /// local version is newer, still queued for push, or already the same.
    pub async fn apply_row(&self, conn: &mut SqliteConnection, row: &Value) -> sqlx::Result<bool> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.apply_sql.as_str()));
        for column in &self.writable {
            query = match self.to_local(column, row.get(column)) {
                Bind::Null => query.bind(None::<String>),
                Bind::Text(s) => query.bind(s),
                Bind::Int(i) => query.bind(i),
                Bind::Real(f) => query.bind(f),
            };
        }
        Ok(query.execute(conn).await?.rows_affected() > 0)
    }

    /// A remote JSON value in the local column's form.
    fn to_local(&self, column: &str, value: Option<&Value>) -> Bind {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Bind::Null;
        };
        if json_columns(self.table).contains(&column) {
            return Bind::Text(value.to_string());
        }
        if let Some((_, scale)) = decimal_columns(self.table)
            .iter()
            .find(|(c, _)| *c == column)
        {
            return Bind::Text(decimal_text(value, *scale));
        }
        match value {
            Value::String(s) if column.ends_with("_at") => Bind::Text(timestamp_text(s)),
            Value::String(s) => Bind::Text(s.clone()),
            Value::Bool(b) => Bind::Int(i64::from(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Bind::Int(i),
                None => Bind::Real(n.as_f64().unwrap_or_default()),
            },
            other => Bind::Text(other.to_string()),
        }
    }
}

/// Postgres sends timestamps as `2026-11-26T12:00:00.123456+00:00`; locally they are
/// fixed-width UTC with milliseconds, so that text order stays time order.
fn timestamp_text(s: &str) -> String {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => crate::time::format_rfc3339(t.with_timezone(&chrono::Utc)),
        Err(_) => s.to_owned(),
    }
}

/// `numeric(14, 2)` arrives as a JSON number; serde_json reads it as an f64, exact to 15
/// significant digits, which covers 12 integer digits and 2 decimals.
fn decimal_text(value: &Value, scale: usize) -> String {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) => format!("{i}.{}", "0".repeat(scale)),
            None => format!("{:.*}", scale, n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_fixed_width_utc_milliseconds() {
        assert_eq!(
            timestamp_text("2026-11-26T12:00:00.123456+00:00"),
            "2026-11-26T12:00:00.123Z"
        );
        assert_eq!(
            timestamp_text("2026-11-26T13:00:00+01:00"),
            "2026-11-26T12:00:00.000Z"
        );
        assert_eq!(timestamp_text("not a time"), "not a time");
    }

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(decimal_text(&serde_json::json!(1234.5), 2), "1234.50");
        assert_eq!(decimal_text(&serde_json::json!(7), 2), "7.00");
        assert_eq!(
            decimal_text(&serde_json::json!(999999999999.99), 2),
            "999999999999.99"
        );
        assert_eq!(decimal_text(&serde_json::json!("0.10"), 2), "0.10");
    }

    #[test]
    fn only_pushed_tables_are_pushable() {
        assert_eq!(pushable("clients"), Some(SyncedTable::Clients));
        assert_eq!(pushable("profiles"), None);
        assert_eq!(pushable("ai_cache"), None);
    }
}
