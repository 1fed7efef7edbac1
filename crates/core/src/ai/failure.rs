//! What went wrong on one attempt, and what the chain does about it.
//!
//! Every provider turns its failures into a [`ProviderFailure`]; [`ProviderFailure::class`] is
//! the one place that decides between retrying, moving on, marking the provider misconfigured
//! or opening its breaker until a quota resets. Retry hints (`Retry-After` in seconds or as an
//! HTTP date, `retry-after-ms`, Gemini's `RetryInfo.retryDelay`) are parsed here too.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// No response headers, or (streaming) no first token, in time.
    FirstByte,
    /// A stream went silent mid-way for longer than the first-byte timeout.
    Stall,
    /// The whole attempt took longer than the call timeout or the remaining deadline.
    Total,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// Could not connect (refused, DNS, TLS handshake).
    Connect,
    /// The connection broke before a complete response (reset, closed mid-body).
    Network,
    Timeout(TimeoutPhase),
    /// An HTTP error status.
    Status(u16),
    /// A 200 whose body was cut short.
    Truncated,
    /// A 200 whose body is not the JSON the API documents.
    Malformed,
    /// An error frame inside a 200 stream.
    StreamError,
    /// A stream that ended without its terminator.
    StreamIncomplete,
    /// The model's output is not JSON, or does not satisfy the schema.
    SchemaInvalid,
    /// The model refused or a safety filter blocked the output.
    Blocked,
    /// The output hit the token limit before it was complete.
    OutputTruncated,
    /// The provider does not support what was asked.
    Unsupported,
}

/// What the chain does after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// Try the same provider again after a backoff (or the hint), while the budget lasts.
    Retryable,
    /// Do not retry this request on this provider; go to the next one.
    NextProvider,
    /// The key is wrong or lacks access: skip this provider until its key changes.
    Misconfigured,
    /// A quota that will not come back soon: open the breaker until it resets.
    QuotaExhausted,
    /// The model does not exist (any more): use the configured replacement, or move on.
    ModelNotFound,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderFailure {
    pub kind: FailureKind,
    pub status: Option<u16>,
    /// The provider's own word on when to come back, already turned into a delay.
    pub retry_after: Option<Duration>,
    /// Set for quotas that will not come back soon; holds the time until reset when known.
    pub quota_exhausted: Option<Option<Duration>>,
    pub auth: bool,
    pub model_not_found: bool,
    /// Short, scrubbed of keys, safe for logs and the UI.
    pub message: String,
}

impl ProviderFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        let status = match kind {
            FailureKind::Status(s) => Some(s),
            _ => None,
        };
        Self {
            kind,
            status,
            retry_after: None,
            quota_exhausted: None,
            auth: false,
            model_not_found: false,
            message: message.into(),
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// From a reqwest error on send or while reading the body.
    pub fn from_reqwest(err: &reqwest::Error, reading_body: bool) -> Self {
        // Never format the URL: a misconfigured base URL may carry a key in its query.
        let err_text = error_chain(err);
        if err.is_timeout() {
            return Self::new(FailureKind::Timeout(TimeoutPhase::FirstByte), "timed out");
        }
        if err.is_connect() {
            return Self::new(FailureKind::Connect, format!("cannot connect: {err_text}"));
        }
        if reading_body || err.is_body() || err.is_decode() {
            return Self::new(
                FailureKind::Truncated,
                format!("response cut short: {err_text}"),
            );
        }
        Self::new(
            FailureKind::Network,
            format!("connection failed: {err_text}"),
        )
    }

    pub fn class(&self) -> FailureClass {
        if self.auth {
            return FailureClass::Misconfigured;
        }
        if self.quota_exhausted.is_some() {
            return FailureClass::QuotaExhausted;
        }
        if self.model_not_found {
            return FailureClass::ModelNotFound;
        }
        match &self.kind {
            FailureKind::Connect
            | FailureKind::Network
            | FailureKind::Timeout(_)
            | FailureKind::Truncated
            | FailureKind::Malformed
            | FailureKind::StreamError
            | FailureKind::StreamIncomplete
            | FailureKind::SchemaInvalid => FailureClass::Retryable,
            FailureKind::Status(s) => match *s {
                408 | 409 | 425 | 429 | 500..=599 => FailureClass::Retryable,
                401 | 403 => FailureClass::Misconfigured,
                404 => FailureClass::ModelNotFound,
                _ => FailureClass::NextProvider,
            },
            FailureKind::Blocked | FailureKind::OutputTruncated | FailureKind::Unsupported => {
                FailureClass::NextProvider
            }
        }
    }

    /// The `outcome` string recorded in the attempt log.
    pub fn outcome(&self) -> &'static str {
        match (&self.kind, self.class()) {
            (_, FailureClass::Misconfigured) => "misconfigured",
            (_, FailureClass::QuotaExhausted) => "quota_exhausted",
            (_, FailureClass::ModelNotFound) => "model_not_found",
            (FailureKind::Timeout(_), _) => "timeout",
            (FailureKind::SchemaInvalid, _) => "schema_invalid",
            (FailureKind::Malformed | FailureKind::Truncated, _) => "malformed_response",
            (FailureKind::StreamError | FailureKind::StreamIncomplete, _) => "stream_error",
            (FailureKind::Connect, _) => "connect_error",
            (_, FailureClass::Retryable) => "retryable_error",
            (_, FailureClass::NextProvider) => "fatal_error",
        }
    }
}

impl fmt::Display for ProviderFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The message of an error and its sources, without any URL.
fn error_chain(err: &reqwest::Error) -> String {
    use std::error::Error;
    let mut parts = Vec::new();
    let mut source = err.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(err_kind(err).to_owned());
    }
    super::scrub(&parts.join(": "), &[])
}

fn err_kind(err: &reqwest::Error) -> &'static str {
    if err.is_connect() {
        "connect error"
    } else if err.is_body() {
        "body error"
    } else if err.is_request() {
        "request error"
    } else {
        "HTTP error"
    }
}

/// The retry hint in response headers: `retry-after-ms` first (the more precise), then
/// `Retry-After` as seconds or as an HTTP date relative to `now`.
pub fn retry_hint_from_headers(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    if let Some(ms) =
        header_str(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header_str(headers, "retry-after")?;
    parse_retry_after(value, now)
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// A protobuf `Duration` in JSON form, as in Gemini's `RetryInfo.retryDelay`: `"38s"`,
/// `"1.5s"`, `"0.250s"`.
pub fn parse_proto_duration(value: &str) -> Option<Duration> {
    let secs = value.trim().strip_suffix('s')?.parse::<f64>().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn header_precedence() {
        let now = Utc::now();
        let mut h = HeaderMap::new();
        h.insert("retry-after", "9".parse().unwrap());
        assert_eq!(
            retry_hint_from_headers(&h, now),
            Some(Duration::from_secs(9))
        );
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(
            retry_hint_from_headers(&h, now),
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn proto_durations() {
        assert_eq!(parse_proto_duration("38s"), Some(Duration::from_secs(38)));
        assert_eq!(
            parse_proto_duration("0.250s"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_proto_duration("38"), None);
    }

    #[test]
    fn classes() {
        let f = |s| ProviderFailure::new(FailureKind::Status(s), "x").class();
        for s in [408, 409, 429, 500, 502, 503, 504, 529] {
            assert_eq!(f(s), FailureClass::Retryable, "{s}");
        }
        assert_eq!(f(400), FailureClass::NextProvider);
        assert_eq!(f(401), FailureClass::Misconfigured);
        assert_eq!(f(403), FailureClass::Misconfigured);
        assert_eq!(f(404), FailureClass::ModelNotFound);
        let mut q = ProviderFailure::new(FailureKind::Status(429), "x");
        q.quota_exhausted = Some(None);
        assert_eq!(q.class(), FailureClass::QuotaExhausted);
        assert_eq!(
            ProviderFailure::new(FailureKind::SchemaInvalid, "x").class(),
            FailureClass::Retryable
        );
    }
}
