//! Checks shared by the record modules (clients, campaigns, signups): each turns user input
//! into the stored form or an error that names the field and says what is expected.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::error::{CoreError, Result};

/// Trimmed text, `None` when empty; at most `max` characters.
pub fn opt_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(CoreError::InvalidInput(format!(
            "{field} is too long ({} characters; at most {max})",
            v.chars().count()
        )));
    }
    Ok(Some(v.to_owned()))
}

/// Required trimmed text of 1..=`max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String> {
    opt_text(field, Some(value), max)?
        .ok_or_else(|| CoreError::InvalidInput(format!("{field} is required")))
}

pub fn opt_email(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = opt_text(field, value, 320)? else {
        return Ok(None);
    };
    let ok = v
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'))
        && !v.contains(char::is_whitespace);
    if !ok {
        return Err(CoreError::InvalidInput(format!(
            "{field} '{v}' is not an email address (expected name@company.com)"
        )));
    }
    Ok(Some(v))
}

/// A `YYYY-MM-DD` date.
pub fn opt_date(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = opt_text(field, value, 10)? else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(&v, "%Y-%m-%d")
        .map(|d| Some(d.format("%Y-%m-%d").to_string()))
        .map_err(|_| {
            CoreError::InvalidInput(format!("{field} '{v}' is not a date (use YYYY-MM-DD)"))
        })
}

/// A non-negative amount with at most two decimals, kept as exact decimal text in the form the
/// team database's `numeric(14, 2)` gives back (`1250.50`), so a pulled row equals the local one.
pub fn opt_money(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = opt_text(field, value, 20)? else {
        return Ok(None);
    };
    let (whole, frac) = v.split_once('.').unwrap_or((&v, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return Err(CoreError::InvalidInput(format!(
            "{field} '{v}' is not an amount (use digits with up to two decimals, like 1250.50)"
        )));
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 12 {
        return Err(CoreError::InvalidInput(format!(
            "{field} '{v}' is too large (at most 999999999999.99)"
        )));
    }
    let whole = if whole.is_empty() { "0" } else { whole };
    Ok(Some(format!("{whole}.{frac:0<2}")))
}

/// Tags: trimmed, non-empty, unique (first spelling kept), each at most 100 characters.
pub fn tags(values: &[String]) -> Result<String> {
    let mut out: Vec<String> = Vec::new();
    for t in values {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 100 {
            return Err(CoreError::InvalidInput(format!(
                "the tag '{}…' is too long (at most 100 characters)",
                t.chars().take(20).collect::<String>()
            )));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_owned());
        }
    }
    if out.len() > 50 {
        return Err(CoreError::InvalidInput("at most 50 tags".into()));
    }
    serde_json::to_string(&out).map_err(|e| CoreError::Internal(e.to_string()))
}

pub fn parse_tags(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

/// A record id given by the user.
pub fn id(what: &str, value: &str) -> Result<String> {
    Uuid::parse_str(value.trim())
        .map(|u| u.to_string())
        .map_err(|_| {
            CoreError::InvalidInput(format!(
                "'{value}' is not a valid {what} id (expected a UUID such as \
                 0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d)"
            ))
        })
}

/// What writing a record with a given id did (the importer reports these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Added,
    Updated,
    Unchanged,
    /// The record was deleted on this device; it is left deleted.
    Deleted,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_normalized_or_refused_with_the_field_name() {
        assert_eq!(opt_text("notes", Some("  "), 10).unwrap(), None);
        assert!(
            text("name", " ", 10)
                .unwrap_err()
                .to_string()
                .contains("name is required")
        );
        assert!(opt_text("name", Some("abcdef"), 3).is_err());
        assert_eq!(
            opt_date("start", Some("2026-02-03")).unwrap().unwrap(),
            "2026-02-03"
        );
        assert!(opt_date("start", Some("2026-02-30")).is_err());
        assert!(
            opt_date("start", Some("03/02/2026"))
                .unwrap_err()
                .to_string()
                .contains("YYYY-MM-DD")
        );
        assert_eq!(
            opt_money("budget", Some("1250.5")).unwrap().unwrap(),
            "1250.50"
        );
        assert_eq!(opt_money("budget", Some("007")).unwrap().unwrap(), "7.00");
        assert_eq!(opt_money("budget", Some("0.5")).unwrap().unwrap(), "0.50");
        for bad in ["-3", "1,000", "1.234", "abc", ".5", "1234567890123"] {
            assert!(opt_money("budget", Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            tags(&[" a ".into(), "A".into(), "".into(), "b".into()]).unwrap(),
            r#"["a","b"]"#
        );
        assert!(opt_email("email", Some("x@y")).is_err());
        assert!(
            id("client", "nope")
                .unwrap_err()
                .to_string()
                .contains("client id")
        );
    }
}
