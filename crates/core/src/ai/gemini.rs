//! Google's Gemini through the Generative Language API, `v1beta` (the only version with
//! structured output, system instructions and tools; "stable" is about model ids, which are
//! never `-exp` or `-preview` by default).
//!
//! - `POST {base}/v1beta/models/{model}:generateContent` with `generationConfig.
//!   responseMimeType = application/json` and `responseJsonSchema` (plain JSON Schema).
//! - `POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse`: `data:` lines, each a
//!   whole `GenerateContentResponse`; there is no terminator event, so a stream is complete
//!   only when a candidate carried a `finishReason`.
//! - `GET {base}/v1beta/models`: the models list (probe and retirement check).
//!
//! The key goes in the `x-goog-api-key` header, never in `?key=`: a URL ends up in error
//! messages and proxy logs.

use chrono::{DateTime, Duration as ChronoDuration, Timelike, Utc};
use serde_json::Value;
use serde_json::value::RawValue;

use super::ProviderId;
use super::failure::{FailureKind, ProviderFailure, parse_proto_duration};
use super::provider::{
    AttemptContext, Endpoint, ErrorBody, Flow, ModelInfo, ProviderReply, StreamEnd,
    StructuredRequest, body_text, json_chunk, parse_output_json, read_json_body, read_sse,
    schema_json, send_checked, sensitive_header, str_at,
};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// The stable, cheap and fast tier.
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash";
pub const BASE_URL_ENV: &str = "GOOGLE_GEMINI_BASE_URL";

#[derive(Debug, Clone)]
pub struct Gemini {
    client: reqwest::Client,
}

impl Gemini {
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    fn body(request: &StructuredRequest) -> Result<String, ProviderFailure> {
        #[derive(serde::Serialize)]
        struct Text<'a> {
            text: &'a str,
        }
        #[derive(serde::Serialize)]
        struct Parts<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            role: Option<&'static str>,
            parts: [Text<'a>; 1],
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Config<'a> {
            response_mime_type: &'static str,
            response_json_schema: &'a RawValue,
            max_output_tokens: u32,
            temperature: f64,
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            system_instruction: Parts<'a>,
            contents: [Parts<'a>; 1],
            generation_config: Config<'a>,
        }
        let schema = schema_json(&request.schema);
        body_text(&Body {
            system_instruction: Parts {
                role: None,
                parts: [Text {
                    text: &request.system,
                }],
            },
            contents: [Parts {
                role: Some("user"),
                parts: [Text {
                    text: &request.user,
                }],
            }],
            generation_config: Config {
                response_mime_type: "application/json",
                response_json_schema: &schema,
                max_output_tokens: request.max_output_tokens,
                temperature: 0.2,
            },
        })
    }

    async fn generate_inner(
        &self,
        endpoint: &Endpoint,
        model: &str,
        request: &StructuredRequest,
        ctx: AttemptContext,
    ) -> Result<ProviderReply, ProviderFailure> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        let path = if request.stream {
            format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("/v1beta/models/{model}:generateContent")
        };
        let builder = self
            .client
            .post(endpoint.url(&path))
            .header("x-goog-api-key", sensitive_header(endpoint.key.expose())?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(Self::body(request)?);
        let resp = send_checked(builder, ctx, &endpoint.key, parse_error).await?;
        let mut acc = Accumulator::new(model);
        if request.stream {
            let end = read_sse(resp, ctx.first_byte, |event| {
                let chunk = json_chunk(&event.data)?;
                acc.chunk(&chunk, ctx)?;
                Ok(Flow::Continue)
            })
            .await?;
            debug_assert_eq!(end, StreamEnd::Eof);
            if acc.finish_reason.is_none() {
                return Err(ProviderFailure::new(
                    FailureKind::StreamIncomplete,
                    "stream ended before the model finished (no finishReason)",
                ));
            }
        } else {
            let body = read_json_body(resp).await?;
            acc.chunk(&body, ctx)?;
            if acc.finish_reason.is_none() && acc.text.is_empty() {
                return Err(ProviderFailure::new(
                    FailureKind::Malformed,
                    "response has no candidates",
                ));
            }
        }
        acc.finish()
    }

    async fn list_inner(
        &self,
        endpoint: &Endpoint,
        ctx: AttemptContext,
    ) -> Result<Vec<ModelInfo>, ProviderFailure> {
        let mut models = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..10 {
            let mut url = endpoint.url("/v1beta/models?pageSize=1000");
            if let Some(token) = &page_token {
                url.push_str("&pageToken=");
                url.push_str(token);
            }
            let builder = self
                .client
                .get(url)
                .header("x-goog-api-key", sensitive_header(endpoint.key.expose())?);
            let resp = send_checked(builder, ctx, &endpoint.key, parse_error).await?;
            let body = read_json_body(resp).await?;
            let list = body
                .get("models")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for m in list {
                let Some(name) = str_at(&m, "/name") else {
                    continue;
                };
                models.push(ModelInfo {
                    id: name.strip_prefix("models/").unwrap_or(name).to_owned(),
                    display_name: str_at(&m, "/displayName").map(str::to_owned),
                    shutdown_date: None,
                    input_token_limit: m
                        .get("inputTokenLimit")
                        .and_then(Value::as_u64)
                        .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
                });
            }
            page_token = str_at(&body, "/nextPageToken")
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if page_token.is_none() {
                break;
            }
        }
        Ok(models)
    }
}

/// Collects the text of one response, streamed or not.
struct Accumulator {
    text: String,
    finish_reason: Option<String>,
    model: String,
}

impl Accumulator {
    fn new(model: &str) -> Self {
        Self {
            text: String::new(),
            finish_reason: None,
            model: model.to_owned(),
        }
    }

    fn chunk(&mut self, chunk: &Value, ctx: AttemptContext) -> Result<(), ProviderFailure> {
        if chunk.get("error").is_some() {
            // An error frame inside a 200 stream: classify it like the same error as a status.
            let code = chunk
                .pointer("/error/code")
                .and_then(Value::as_u64)
                .unwrap_or(500);
            let code = u16::try_from(code).unwrap_or(500);
            let parsed = parse_error(code, chunk, ctx.wall_now);
            let mut f = ProviderFailure::new(
                FailureKind::StreamError,
                format!(
                    "error inside the stream ({code}): {}",
                    super::scrub(parsed.message.as_deref().unwrap_or("unknown"), &[])
                ),
            )
            .with_status(code);
            f.retry_after = parsed.retry_after;
            f.quota_exhausted = parsed.quota_exhausted;
            f.auth = parsed.auth;
            return Err(f);
        }
        if let Some(reason) = str_at(chunk, "/promptFeedback/blockReason") {
            return Err(ProviderFailure::new(
                FailureKind::Blocked,
                format!("Gemini blocked the prompt ({reason})"),
            ));
        }
        if let Some(version) = str_at(chunk, "/modelVersion") {
            self.model = version.to_owned();
        }
        let Some(candidate) = chunk.pointer("/candidates/0") else {
            return Ok(());
        };
        if let Some(parts) = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
        {
            for part in parts {
                if part.get("thought").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                if let Some(text) = part.get("text").and_then(Value::as_str) {
                    self.text.push_str(text);
                }
            }
        }
        if let Some(reason) = str_at(candidate, "/finishReason") {
            self.finish_reason = Some(reason.to_owned());
        }
        Ok(())
    }

    fn finish(self) -> Result<ProviderReply, ProviderFailure> {
        match self.finish_reason.as_deref() {
            None | Some("STOP") | Some("FINISH_REASON_UNSPECIFIED") => {}
            Some("MAX_TOKENS") => {
                return Err(ProviderFailure::new(
                    FailureKind::OutputTruncated,
                    "the answer hit the output token limit",
                ));
            }
            Some(other) => {
                return Err(ProviderFailure::new(
                    FailureKind::Blocked,
                    format!("Gemini stopped the answer ({other})"),
                ));
            }
        }
        Ok(ProviderReply {
            output: parse_output_json(&self.text)?,
            model: self.model,
        })
    }
}

/// Gemini errors are Google RPC statuses: `{"error": {"code", "message", "status",
/// "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"},
/// {"@type": "...QuotaFailure", "violations": [{"quotaId": "...PerDay..."}]}, ...]}}`.
/// A bad key is a 400 with `ErrorInfo.reason = API_KEY_INVALID`, not a 401.
pub fn parse_error(status: u16, body: &Value, now: DateTime<Utc>) -> ErrorBody {
    let err = body
        .get("error")
        .or_else(|| body.pointer("/0/error"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = ErrorBody {
        message: str_at(&err, "/message").map(str::to_owned),
        ..ErrorBody::default()
    };
    let mut per_day = false;
    for detail in err
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = str_at(detail, "/@type").unwrap_or("");
        if kind.ends_with("google.rpc.RetryInfo") {
            out.retry_after = str_at(detail, "/retryDelay").and_then(parse_proto_duration);
        } else if kind.ends_with("google.rpc.QuotaFailure") {
            for v in detail
                .get("violations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = str_at(v, "/quotaId").unwrap_or("");
                if id.contains("PerDay") {
                    per_day = true;
                }
            }
        } else if kind.ends_with("google.rpc.ErrorInfo")
            && matches!(
                str_at(detail, "/reason"),
                Some("API_KEY_INVALID" | "API_KEY_SERVICE_BLOCKED")
            )
        {
            out.auth = true;
        }
    }
    let rpc_status = str_at(&err, "/status").unwrap_or("");
    if status == 400
        && out
            .message
            .as_deref()
            .is_some_and(|m| m.contains("API key not valid"))
    {
        out.auth = true;
    }
    if rpc_status == "UNAUTHENTICATED" || rpc_status == "PERMISSION_DENIED" {
        out.auth = true;
    }
    if status == 404 || rpc_status == "NOT_FOUND" {
        out.model_not_found = true;
    }
    if per_day {
        // Per-day quotas reset at midnight Pacific time; the short RetryInfo Gemini attaches
        // to them would only buy another 429.
        out.quota_exhausted = Some(Some(until_pacific_midnight(now)));
    }
    out
}

/// Time until the next midnight in US Pacific time, taken as UTC-7 (PDT): during PST this
/// is an hour early, which costs one probe, never a missed reset.
fn until_pacific_midnight(now: DateTime<Utc>) -> std::time::Duration {
    let pacific = now - ChronoDuration::hours(7);
    let secs_today = i64::from(pacific.num_seconds_from_midnight());
    let left = 24 * 3600 - secs_today;
    std::time::Duration::from_secs(u64::try_from(left.max(60)).unwrap_or(3600))
}

super::provider::boxed_provider!(Gemini, ProviderId::Gemini);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quota_and_retry_info() {
        let body = json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}
        ]}});
        let e = parse_error(429, &body, Utc::now());
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(12)));
        assert_eq!(e.quota_exhausted, None);
        let daily = json!({"error": {"code": 429, "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}
        ]}});
        let e = parse_error(429, &daily, Utc::now());
        assert!(
            matches!(e.quota_exhausted, Some(Some(d)) if d.as_secs() > 0 && d.as_secs() <= 86_400)
        );
    }

    #[test]
    fn invalid_key_is_auth() {
        let body = json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}});
        assert!(parse_error(400, &body, Utc::now()).auth);
    }
}
