//! Models change under us: this checks each configured model against the provider's models
//! list. A model missing from the list is retired (or misspelt); one with a `shutdown_date`
//! (OpenAI reports it) is retiring, and "soon" within [`RETIRING_SOON_DAYS`].
//!
//! The list comes from the no-token probe in [`super::health`] and is cached with it. What
//! happens at call time when a model is gone (a 404) is the chain's job: it moves to the
//! configured replacement or the next provider.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::provider::ModelInfo;

pub const RETIRING_SOON_DAYS: i64 = 90;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct ModelStatus {
    pub model: String,
    /// The provider lists it (an alias such as `claude-haiku-4-5` matches its dated ids).
    pub listed: bool,
    /// `YYYY-MM-DD`, when the provider announced one.
    pub shutdown_date: Option<String>,
    /// Not listed, or past its shutdown date.
    pub retired: bool,
    /// Shutdown within the next 90 days.
    pub retiring_soon: bool,
    /// For the UI: what is wrong and what to do, or `null` when all is well.
    pub message: Option<String>,
}

/// Compares `model` with a provider's list as of `now`.
pub fn check(model: &str, list: &[ModelInfo], now: DateTime<Utc>) -> ModelStatus {
    let wanted = model.strip_prefix("models/").unwrap_or(model);
    let found = list.iter().find(|m| m.id == wanted).or_else(|| {
        list.iter()
            .find(|m| m.id.starts_with(&format!("{wanted}-")))
    });
    let shutdown_date = found.and_then(|m| m.shutdown_date.clone());
    let shutdown = shutdown_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let today = now.date_naive();
    let past = shutdown.is_some_and(|d| d <= today);
    let soon = shutdown.is_some_and(|d| d > today && (d - today).num_days() <= RETIRING_SOON_DAYS);
    let retired = found.is_none() || past;
    let message = if found.is_none() {
        Some(format!(
            "the provider does not list the model '{wanted}' (retired or misspelt): choose another model in Settings"
        ))
    } else if past {
        Some(format!(
            "'{wanted}' was shut down on {}: choose another model in Settings",
            shutdown_date.as_deref().unwrap_or("?")
        ))
    } else if soon {
        Some(format!(
            "'{wanted}' will be shut down on {}: plan a replacement",
            shutdown_date.as_deref().unwrap_or("?")
        ))
    } else {
        None
    };
    ModelStatus {
        model: wanted.to_owned(),
        listed: found.is_some(),
        shutdown_date,
        retired,
        retiring_soon: soon,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, shutdown: Option<&str>) -> ModelInfo {
        ModelInfo {
            id: id.into(),
            display_name: None,
            shutdown_date: shutdown.map(str::to_owned),
            input_token_limit: None,
        }
    }

    #[test]
    fn listed_retiring_retired() {
        let now = DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let list = [
            m("gpt-5-mini", None),
            m("gpt-old", Some("2026-02-01")),
            m("gpt-dead", Some("2025-12-01")),
            m("claude-haiku-4-5-20251001", None),
        ];
        let ok = check("gpt-5-mini", &list, now);
        assert!(ok.listed && !ok.retired && !ok.retiring_soon && ok.message.is_none());
        let soon = check("gpt-old", &list, now);
        assert!(soon.retiring_soon && !soon.retired);
        assert_eq!(soon.shutdown_date.as_deref(), Some("2026-02-01"));
        assert!(check("gpt-dead", &list, now).retired);
        assert!(check("gone", &list, now).retired);
        assert!(
            check("claude-haiku-4-5", &list, now).listed,
            "alias matches dated id"
        );
    }
}
