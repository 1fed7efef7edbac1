//! The provider trait and the HTTP plumbing the three providers share: sending under a
//! first-byte timeout, reading bodies with a size cap, turning error responses into
//! [`ProviderFailure`]s, and reading an SSE stream with first-token and stall timeouts.
//!
//! Providers know nothing of retries, breakers or caching: one call, one attempt, and a
//! precise account of how it failed.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::ProviderId;
use super::failure::{FailureKind, ProviderFailure, TimeoutPhase, retry_hint_from_headers};
use super::sse::{SseDecoder, SseEvent};
use crate::secrets::SecretString;

/// The largest response body read; anything larger is garbage for our purposes.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How much of an error body is read to classify it.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A request for JSON output bound to a schema.
#[derive(Debug, Clone)]
pub struct StructuredRequest {
    pub system: String,
    pub user: String,
    /// `[A-Za-z0-9_-]{1,64}`: OpenAI's `json_schema.name` and Anthropic's tool name.
    pub schema_name: String,
    /// A JSON Schema in the subset all three APIs accept: objects with every property
    /// required and `additionalProperties: false`, arrays, strings, integers, enums, nullables
    /// as `["string", "null"]`. Shared: a capability builds it once, not per call.
    pub schema: std::sync::Arc<Value>,
    pub max_output_tokens: u32,
    pub stream: bool,
}

/// Where and as whom to call a provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub key: SecretString,
    /// How an OpenAI-compatible server wants the key (the other providers have one way).
    pub auth_header: AuthHeader,
    /// Azure OpenAI's `api-version` query parameter, added to every request when set.
    pub api_version: Option<String>,
}

impl Endpoint {
    pub fn new(base_url: String, key: SecretString) -> Self {
        Self {
            base_url,
            key,
            auth_header: AuthHeader::Bearer,
            api_version: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        let mut url = format!("{}{}", self.base_url.trim_end_matches('/'), path);
        if let Some(version) = &self.api_version {
            // Validated by the settings to URL-safe characters, so no encoding is needed.
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("api-version=");
            url.push_str(version);
        }
        url
    }
}

/// How the key reaches an OpenAI-compatible server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AuthHeader {
    /// `Authorization: Bearer KEY`: OpenAI, Ollama, vLLM, OpenRouter.
    #[default]
    Bearer,
    /// `api-key: KEY`: Azure OpenAI.
    ApiKey,
}

/// Per-attempt facts a provider needs from the chain.
#[derive(Debug, Clone, Copy)]
pub struct AttemptContext {
    /// Time allowed for response headers, and (streaming) for the first token; also the
    /// longest silence tolerated mid-stream.
    pub first_byte: Duration,
    /// For `Retry-After` given as an HTTP date.
    pub wall_now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderReply {
    /// The parsed JSON output (not yet checked against the capability's own rules).
    pub output: Value,
    /// The model that answered, as the provider reports it (may be a dated version of the
    /// configured alias).
    pub model: String,
}

/// One model from a provider's models list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct ModelInfo {
    pub id: String,
    pub display_name: Option<String>,
    /// When the provider will stop serving it (`YYYY-MM-DD`), if it says.
    pub shutdown_date: Option<String>,
    pub input_token_limit: Option<u32>,
}

pub trait Provider: Send + Sync + std::fmt::Debug {
    fn id(&self) -> ProviderId;

    /// One attempt, no retries.
    fn generate<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        model: &'a str,
        request: &'a StructuredRequest,
        ctx: AttemptContext,
    ) -> BoxFuture<'a, Result<ProviderReply, ProviderFailure>>;

    /// The models list: costs no tokens, so it doubles as the active health probe.
    fn list_models<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        ctx: AttemptContext,
    ) -> BoxFuture<'a, Result<Vec<ModelInfo>, ProviderFailure>>;
}

/// Implements [`Provider`] for a type with inherent `generate_inner` and `list_inner` async
/// methods. The trait returns boxed futures (so the chain can hold `dyn Provider`); a macro
/// keeps that boxing in one place instead of three identical impls.
macro_rules! boxed_provider {
    ($ty:ty, $id:expr) => {
        impl $crate::ai::provider::Provider for $ty {
            fn id(&self) -> $crate::ai::ProviderId {
                $id
            }

            fn generate<'a>(
                &'a self,
                endpoint: &'a $crate::ai::provider::Endpoint,
                model: &'a str,
                request: &'a $crate::ai::provider::StructuredRequest,
                ctx: $crate::ai::provider::AttemptContext,
            ) -> ::futures_util::future::BoxFuture<
                'a,
                Result<$crate::ai::provider::ProviderReply, $crate::ai::failure::ProviderFailure>,
            > {
                Box::pin(self.generate_inner(endpoint, model, request, ctx))
            }

            fn list_models<'a>(
                &'a self,
                endpoint: &'a $crate::ai::provider::Endpoint,
                ctx: $crate::ai::provider::AttemptContext,
            ) -> ::futures_util::future::BoxFuture<
                'a,
                Result<Vec<$crate::ai::provider::ModelInfo>, $crate::ai::failure::ProviderFailure>,
            > {
                Box::pin(self.list_inner(endpoint, ctx))
            }
        }
    };
}
pub(crate) use boxed_provider;

/// What a provider's error body says, in the chain's terms.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ErrorBody {
    pub message: Option<String>,
    pub retry_after: Option<Duration>,
    pub quota_exhausted: Option<Option<Duration>>,
    pub auth: bool,
    pub model_not_found: bool,
}

/// Sends and waits for the response headers at most `first_byte`.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    first_byte: Duration,
) -> Result<reqwest::Response, ProviderFailure> {
    match tokio::time::timeout(first_byte, request.send()).await {
        Err(_) => Err(ProviderFailure::new(
            FailureKind::Timeout(TimeoutPhase::FirstByte),
            format!("no response within {} ms", first_byte.as_millis()),
        )),
        Ok(Err(e)) => Err(ProviderFailure::from_reqwest(&e, false)),
        Ok(Ok(resp)) => Ok(resp),
    }
}

/// Sends under the first-byte timeout, and turns a non-2xx answer into a failure classified
/// by the provider's own error-body `parse`.
pub(crate) async fn send_checked(
    request: reqwest::RequestBuilder,
    ctx: AttemptContext,
    key: &SecretString,
    parse: fn(u16, &Value, DateTime<Utc>) -> ErrorBody,
) -> Result<reqwest::Response, ProviderFailure> {
    let resp = send(request, ctx.first_byte).await?;
    if !resp.status().is_success() {
        return Err(http_failure(resp, ctx, key, parse).await);
    }
    Ok(resp)
}

/// One streamed event's data, which the JSON-chunk providers (OpenAI, Gemini) require to be
/// a JSON document.
pub(crate) fn json_chunk(data: &str) -> Result<Value, ProviderFailure> {
    serde_json::from_str(data).map_err(|e| {
        ProviderFailure::new(
            FailureKind::Malformed,
            format!("stream chunk is not JSON: {e}"),
        )
    })
}

/// Reads a whole body, failing as `Truncated` when the connection breaks mid-body.
pub(crate) async fn read_body(
    resp: reqwest::Response,
    max: usize,
) -> Result<Bytes, ProviderFailure> {
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ProviderFailure::from_reqwest(&e, true))?;
        if buf.len() + chunk.len() > max {
            return Err(ProviderFailure::new(
                FailureKind::Malformed,
                format!("response larger than {} MiB", max / (1024 * 1024)),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

pub(crate) async fn read_json_body(resp: reqwest::Response) -> Result<Value, ProviderFailure> {
    let body = read_body(resp, MAX_BODY).await?;
    serde_json::from_slice(&body).map_err(|e| {
        let kind = if e.is_eof() {
            FailureKind::Truncated
        } else {
            FailureKind::Malformed
        };
        ProviderFailure::new(kind, format!("response body is not valid JSON: {e}"))
    })
}

/// Turns a non-2xx response into a failure, reading (a bounded part of) its body.
pub(crate) async fn http_failure(
    resp: reqwest::Response,
    ctx: AttemptContext,
    key: &SecretString,
    parse: fn(u16, &Value, DateTime<Utc>) -> ErrorBody,
) -> ProviderFailure {
    let status = resp.status().as_u16();
    let header_hint = retry_hint_from_headers(resp.headers(), ctx.wall_now);
    let body = tokio::time::timeout(ctx.first_byte, read_body(resp, MAX_ERROR_BODY))
        .await
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let parsed = parse(status, &json, ctx.wall_now);
    let reason = reason_phrase(status);
    let message = match parsed.message {
        Some(m) if !m.trim().is_empty() => super::scrub(m.trim(), &[key.expose()]),
        _ => reason.to_owned(),
    };
    let mut failure = ProviderFailure::new(FailureKind::Status(status), message);
    // A header hint is the server's freshest word; the body's (Gemini RetryInfo) comes next.
    failure.retry_after = header_hint.or(parsed.retry_after);
    failure.quota_exhausted = parsed.quota_exhausted;
    failure.auth = parsed.auth || status == 401 || status == 403;
    failure.model_not_found = parsed.model_not_found;
    if failure.auth {
        // Whatever the provider said about the key stays out of our messages.
        failure.message = format!("{reason}: the API key was refused; check it in Settings");
    }
    failure
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or(match status {
            529 => "Overloaded",
            _ => "HTTP error",
        })
}

/// How a stream handler wants to go on.
pub(crate) enum Flow {
    Continue,
    /// The terminator arrived: stop reading.
    Done,
}

/// How a stream ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The handler saw the terminator.
    Done,
    /// The server closed the stream cleanly between events (whether that is complete is the
    /// provider's call: Gemini has no terminator event).
    Eof,
}

/// Reads SSE events, giving the first one at most `first_byte` and each later one as long
/// again. A stream cut mid-event, or broken by the network, is `StreamIncomplete`.
pub(crate) async fn read_sse(
    resp: reqwest::Response,
    first_byte: Duration,
    mut on_event: impl FnMut(SseEvent) -> Result<Flow, ProviderFailure>,
) -> Result<StreamEnd, ProviderFailure> {
    let mut stream = resp.bytes_stream();
    let mut decoder = SseDecoder::new();
    let mut received = 0usize;
    let mut seen_event = false;
    loop {
        let next = match tokio::time::timeout(first_byte, stream.next()).await {
            Ok(next) => next,
            Err(_) => {
                let phase = if seen_event {
                    TimeoutPhase::Stall
                } else {
                    TimeoutPhase::FirstByte
                };
                return Err(ProviderFailure::new(
                    FailureKind::Timeout(phase),
                    format!("stream silent for {} ms", first_byte.as_millis()),
                ));
            }
        };
        let chunk = match next {
            None => break,
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                let mut f = ProviderFailure::from_reqwest(&e, true);
                f.kind = FailureKind::StreamIncomplete;
                f.message = format!("stream broken: {}", f.message);
                return Err(f);
            }
        };
        received += chunk.len();
        if received > MAX_BODY {
            return Err(ProviderFailure::new(
                FailureKind::Malformed,
                "stream larger than the limit",
            ));
        }
        for event in decoder.feed(&chunk) {
            seen_event = true;
            if let Flow::Done = on_event(event)? {
                return Ok(StreamEnd::Done);
            }
        }
    }
    if decoder.has_partial() {
        return Err(ProviderFailure::new(
            FailureKind::StreamIncomplete,
            "stream ended in the middle of an event",
        ));
    }
    Ok(StreamEnd::Eof)
}

/// Parses model output text as JSON; a model that wrapped it in a Markdown fence is forgiven.
pub(crate) fn parse_output_json(text: &str) -> Result<Value, ProviderFailure> {
    let trimmed = text.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(unfenced.trim()).map_err(|e| {
        ProviderFailure::new(
            FailureKind::SchemaInvalid,
            format!("model output is not valid JSON: {e}"),
        )
    })
}

/// The schema as JSON text, serialized once per distinct schema and embedded as is in every
/// request body: deep-copying it into a `json!` body and serializing it again on every call
/// was the largest piece of the chain's own work per request.
pub(crate) fn schema_json(schema: &std::sync::Arc<Value>) -> std::sync::Arc<RawValue> {
    type Known = Vec<(std::sync::Arc<Value>, std::sync::Arc<RawValue>)>;
    static KNOWN: std::sync::Mutex<Known> = std::sync::Mutex::new(Vec::new());
    // The same `Arc` (a capability's shared schema) is found without even comparing; an equal
    // schema built anew is found by comparison, which allocates nothing.
    if let Ok(known) = KNOWN.lock()
        && let Some((_, raw)) = known
            .iter()
            .find(|(v, _)| std::sync::Arc::ptr_eq(v, schema))
            .or_else(|| known.iter().find(|(v, _)| **v == **schema))
    {
        return raw.clone();
    }
    let raw: std::sync::Arc<RawValue> = serde_json::value::to_raw_value(&**schema)
        .unwrap_or_else(|_| RawValue::NULL.to_owned())
        .into();
    if let Ok(mut known) = KNOWN.lock() {
        if known.len() >= 16 {
            known.clear();
        }
        known.push((schema.clone(), raw.clone()));
    }
    raw
}

/// A request body to JSON text (the providers' bodies are plain structs; this cannot fail
/// for them, but a failure still becomes a provider failure rather than a panic).
pub(crate) fn body_text(body: &impl Serialize) -> Result<String, ProviderFailure> {
    serde_json::to_string(body).map_err(|e| {
        ProviderFailure::new(
            FailureKind::Unsupported,
            format!("cannot encode the request: {e}"),
        )
    })
}

/// An auth header value marked sensitive, so reqwest and hyper never print it.
pub(crate) fn sensitive_header(
    value: &str,
) -> Result<reqwest::header::HeaderValue, ProviderFailure> {
    let mut v = reqwest::header::HeaderValue::from_str(value).map_err(|_| ProviderFailure {
        auth: true,
        ..ProviderFailure::new(
            FailureKind::Unsupported,
            "the API key contains characters that cannot be sent in a header; set it again",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// A JSON string field, or `None`.
pub(crate) fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}
