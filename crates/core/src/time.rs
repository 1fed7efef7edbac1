//! Timestamps as stored and sent: RFC 3339 in UTC with millisecond precision and a `Z` suffix,
//! a fixed width so that text order equals time order in SQLite indexes.

use chrono::{DateTime, SecondsFormat, Utc};

pub(crate) fn now_rfc3339() -> String {
    format_rfc3339(Utc::now())
}

pub(crate) fn format_rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
