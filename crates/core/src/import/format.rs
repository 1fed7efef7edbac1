//! The browser app's export, as read: version 1 of the format in docs/import.md. Entries are
//! read leniently (camelCase or snake_case names, numbers or strings for ids and amounts), so
//! one odd field skips one entry with a reason instead of failing the file.

use serde::Deserialize;
use serde_json::Value;

/// The format versions this build reads.
pub const SUPPORTED_VERSION: u64 = 1;

/// The top level: a version and one array per kind of record. Unknown keys are ignored.
#[derive(Debug, Deserialize)]
pub struct Export {
    pub version: Option<Value>,
    #[serde(default)]
    pub clients: Option<Value>,
    #[serde(default)]
    pub analyses: Option<Value>,
    #[serde(default)]
    pub campaigns: Option<Value>,
    #[serde(default)]
    pub signups: Option<Value>,
    #[serde(default, alias = "trainingMaterials")]
    pub training_materials: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct OldClient {
    pub id: Option<Value>,
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(alias = "createdAt")]
    pub created_at: Option<Value>,
    #[serde(alias = "updatedAt")]
    pub updated_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct OldAnalysis {
    pub id: Option<Value>,
    pub title: Option<String>,
    pub transcript: String,
    /// The old app's analysis result (its own shape, or a `CallAnalysis` already).
    #[serde(alias = "analysis")]
    pub result: Option<Value>,
    #[serde(alias = "clientId")]
    pub client_id: Option<Value>,
    #[serde(alias = "createdAt")]
    pub created_at: Option<Value>,
    #[serde(alias = "updatedAt")]
    pub updated_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct OldCampaign {
    pub id: Option<Value>,
    pub name: String,
    pub description: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
    #[serde(alias = "startDate", alias = "starts_on")]
    pub start_date: Option<String>,
    #[serde(alias = "endDate", alias = "ends_on")]
    pub end_date: Option<String>,
    pub budget: Option<Value>,
    #[serde(alias = "createdAt")]
    pub created_at: Option<Value>,
    #[serde(alias = "updatedAt")]
    pub updated_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct OldSignup {
    pub id: Option<Value>,
    #[serde(alias = "clientId")]
    pub client_id: Value,
    #[serde(alias = "campaignId")]
    pub campaign_id: Option<Value>,
    #[serde(alias = "signedUpOn", alias = "signed_up_on")]
    pub date: String,
    pub source: Option<String>,
    pub value: Option<Value>,
    pub notes: Option<String>,
    #[serde(alias = "createdAt")]
    pub created_at: Option<Value>,
    #[serde(alias = "updatedAt")]
    pub updated_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct OldMaterial {
    pub id: Option<Value>,
    pub title: String,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(alias = "fileName")]
    pub file_name: Option<String>,
    #[serde(alias = "fileSize")]
    pub file_size: Option<Value>,
    #[serde(alias = "mimeType")]
    pub mime_type: Option<String>,
    #[serde(alias = "createdAt")]
    pub created_at: Option<Value>,
    #[serde(alias = "updatedAt")]
    pub updated_at: Option<Value>,
}

/// An id as the old app wrote it: a string or a number. Empty is no id.
pub fn old_id(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("the id {other} is neither text nor a number")),
    }
}

/// An amount as text (`1250.5`) from a number or a string; the data module checks it.
pub fn amount(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("the amount {other} is neither text nor a number")),
    }
}

/// A timestamp as RFC 3339 UTC with milliseconds, from RFC 3339 text, a `YYYY-MM-DD` date or
/// JavaScript's milliseconds since 1970 (what `Date.now()` stores).
pub fn timestamp(v: Option<&Value>) -> Result<Option<String>, String> {
    use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
    let t: Option<DateTime<Utc>> = match v {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => {
            let ms = n
                .as_i64()
                .ok_or_else(|| format!("the time {n} is not whole milliseconds"))?;
            Some(
                DateTime::<Utc>::from_timestamp_millis(ms)
                    .ok_or_else(|| format!("the time {n} is out of range"))?,
            )
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                Some(t.with_timezone(&Utc))
            } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                d.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
            } else {
                return Err(format!(
                    "the time '{s}' is not a date (use RFC 3339, YYYY-MM-DD or milliseconds)"
                ));
            }
        }
        Some(other) => return Err(format!("the time {other} is not a date")),
    };
    Ok(t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_scalars_are_normalized_or_explained() {
        assert_eq!(old_id(Some(&json!(42))).unwrap().unwrap(), "42");
        assert_eq!(old_id(Some(&json!(" c1 "))).unwrap().unwrap(), "c1");
        assert!(old_id(Some(&json!({"a": 1}))).is_err());
        assert_eq!(amount(Some(&json!(1250.5))).unwrap().unwrap(), "1250.5");
        assert_eq!(
            timestamp(Some(&json!(1_767_225_600_000i64)))
                .unwrap()
                .unwrap(),
            "2026-01-01T00:00:00.000Z"
        );
        assert_eq!(
            timestamp(Some(&json!("2026-03-01"))).unwrap().unwrap(),
            "2026-03-01T00:00:00.000Z"
        );
        assert!(timestamp(Some(&json!("yesterday"))).is_err());
    }
}
