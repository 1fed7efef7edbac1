//! OpenAI Chat Completions, and every server that speaks it (Azure OpenAI's v1 API, Ollama,
//! vLLM, OpenRouter) through `OPENAI_BASE_URL`.
//!
//! - `POST {base}/chat/completions` with `response_format: {type: json_schema, json_schema:
//!   {name, strict: true, schema}}`; streaming adds `stream: true` and ends with
//!   `data: [DONE]`, so a stream without it was cut.
//! - `GET {base}/models`: the probe, and (where the server reports it) `shutdown_date`.
//!
//! The base URL includes the version (`https://api.openai.com/v1`), as in the official SDKs.
//! No token limit is sent: reasoning models and older servers disagree on its name
//! (`max_completion_tokens` vs `max_tokens`), and the call timeout bounds a runaway answer.

use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;

use super::ProviderId;
use super::failure::{FailureKind, ProviderFailure};
use super::provider::{
    AttemptContext, AuthHeader, Endpoint, ErrorBody, Flow, ModelInfo, ProviderReply, StreamEnd,
    StructuredRequest, body_text, json_chunk, parse_output_json, read_json_body, read_sse,
    schema_json, send_checked, sensitive_header, str_at,
};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The stable, cheap and fast tier.
pub const DEFAULT_MODEL: &str = "gpt-5-mini";
pub const BASE_URL_ENV: &str = "OPENAI_BASE_URL";

#[derive(Debug, Clone)]
pub struct OpenAi {
    client: reqwest::Client,
}

impl OpenAi {
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    fn body(model: &str, request: &StructuredRequest) -> Result<String, ProviderFailure> {
        #[derive(serde::Serialize)]
        struct Message<'a> {
            role: &'static str,
            content: &'a str,
        }
        #[derive(serde::Serialize)]
        struct JsonSchema<'a> {
            name: &'a str,
            strict: bool,
            schema: &'a RawValue,
        }
        #[derive(serde::Serialize)]
        struct Format<'a> {
            r#type: &'static str,
            json_schema: JsonSchema<'a>,
        }
        #[derive(serde::Serialize)]
        struct Body<'a> {
            model: &'a str,
            messages: [Message<'a>; 2],
            response_format: Format<'a>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            stream: bool,
        }
        let schema = schema_json(&request.schema);
        body_text(&Body {
            model,
            messages: [
                Message {
                    role: "system",
                    content: &request.system,
                },
                Message {
                    role: "user",
                    content: &request.user,
                },
            ],
            response_format: Format {
                r#type: "json_schema",
                json_schema: JsonSchema {
                    name: &request.schema_name,
                    strict: true,
                    schema: &schema,
                },
            },
            stream: request.stream,
        })
    }

    /// The auth header's name and value, as the server wants it (Azure: `api-key`).
    fn auth(
        endpoint: &Endpoint,
    ) -> Result<(reqwest::header::HeaderName, reqwest::header::HeaderValue), ProviderFailure> {
        Ok(match endpoint.auth_header {
            AuthHeader::Bearer => (
                reqwest::header::AUTHORIZATION,
                sensitive_header(&format!("Bearer {}", endpoint.key.expose()))?,
            ),
            AuthHeader::ApiKey => (
                reqwest::header::HeaderName::from_static("api-key"),
                sensitive_header(endpoint.key.expose())?,
            ),
        })
    }

    async fn generate_inner(
        &self,
        endpoint: &Endpoint,
        model: &str,
        request: &StructuredRequest,
        ctx: AttemptContext,
    ) -> Result<ProviderReply, ProviderFailure> {
        let (auth_name, auth_value) = Self::auth(endpoint)?;
        let builder = self
            .client
            .post(endpoint.url("/chat/completions"))
            .header(auth_name, auth_value)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(Self::body(model, request)?);
        let resp = send_checked(builder, ctx, &endpoint.key, parse_error).await?;
        let mut acc = Accumulator {
            text: String::new(),
            refusal: String::new(),
            finish_reason: None,
            model: model.to_owned(),
        };
        if request.stream {
            let end = read_sse(resp, ctx.first_byte, |event| {
                if event.data.trim() == "[DONE]" {
                    return Ok(Flow::Done);
                }
                let chunk = json_chunk(&event.data)?;
                if chunk.get("error").is_some() || event.event.as_deref() == Some("error") {
                    return Err(stream_error(&chunk, ctx));
                }
                acc.delta(&chunk);
                Ok(Flow::Continue)
            })
            .await?;
            if end != StreamEnd::Done {
                return Err(ProviderFailure::new(
                    FailureKind::StreamIncomplete,
                    "stream ended without data: [DONE]",
                ));
            }
        } else {
            let body = read_json_body(resp).await?;
            let Some(message) = body.pointer("/choices/0/message") else {
                return Err(ProviderFailure::new(
                    FailureKind::Malformed,
                    "response has no choices",
                ));
            };
            acc.text = str_at(message, "/content").unwrap_or("").to_owned();
            acc.refusal = str_at(message, "/refusal").unwrap_or("").to_owned();
            acc.finish_reason = str_at(&body, "/choices/0/finish_reason").map(str::to_owned);
            if let Some(m) = str_at(&body, "/model") {
                acc.model = m.to_owned();
            }
        }
        acc.finish()
    }

    async fn list_inner(
        &self,
        endpoint: &Endpoint,
        ctx: AttemptContext,
    ) -> Result<Vec<ModelInfo>, ProviderFailure> {
        let (auth_name, auth_value) = Self::auth(endpoint)?;
        let builder = self
            .client
            .get(endpoint.url("/models"))
            .header(auth_name, auth_value);
        let resp = send_checked(builder, ctx, &endpoint.key, parse_error).await?;
        let body = read_json_body(resp).await?;
        let Some(list) = body.get("data").and_then(Value::as_array) else {
            return Err(ProviderFailure::new(
                FailureKind::Malformed,
                "models list has no data",
            ));
        };
        Ok(list
            .iter()
            .filter_map(|m| {
                Some(ModelInfo {
                    id: str_at(m, "/id")?.to_owned(),
                    display_name: None,
                    shutdown_date: m.get("shutdown_date").and_then(date_field),
                    input_token_limit: None,
                })
            })
            .collect())
    }
}

/// A date given as Unix seconds or as text, as `YYYY-MM-DD`.
pub(crate) fn date_field(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
            .map(|d| d.format("%Y-%m-%d").to_string()),
        Value::String(s) if s.len() >= 10 => Some(s[..10].to_owned()),
        _ => None,
    }
}

struct Accumulator {
    text: String,
    refusal: String,
    finish_reason: Option<String>,
    model: String,
}

impl Accumulator {
    fn delta(&mut self, chunk: &Value) {
        if let Some(m) = str_at(chunk, "/model").filter(|m| !m.is_empty()) {
            self.model = m.to_owned();
        }
        if let Some(t) = str_at(chunk, "/choices/0/delta/content") {
            self.text.push_str(t);
        }
        if let Some(r) = str_at(chunk, "/choices/0/delta/refusal") {
            self.refusal.push_str(r);
        }
        if let Some(f) = str_at(chunk, "/choices/0/finish_reason") {
            self.finish_reason = Some(f.to_owned());
        }
    }

    fn finish(self) -> Result<ProviderReply, ProviderFailure> {
        if !self.refusal.is_empty() {
            return Err(ProviderFailure::new(
                FailureKind::Blocked,
                "the model refused to answer",
            ));
        }
        match self.finish_reason.as_deref() {
            Some("length") => {
                return Err(ProviderFailure::new(
                    FailureKind::OutputTruncated,
                    "the answer hit the output token limit",
                ));
            }
            Some("content_filter") => {
                return Err(ProviderFailure::new(
                    FailureKind::Blocked,
                    "a content filter stopped the answer",
                ));
            }
            _ => {}
        }
        Ok(ProviderReply {
            output: parse_output_json(&self.text)?,
            model: self.model,
        })
    }
}

fn stream_error(chunk: &Value, ctx: AttemptContext) -> ProviderFailure {
    let parsed = parse_error(200, chunk, ctx.wall_now);
    let mut f = ProviderFailure::new(
        FailureKind::StreamError,
        format!(
            "error inside the stream: {}",
            super::scrub(parsed.message.as_deref().unwrap_or("unknown"), &[])
        ),
    );
    f.quota_exhausted = parsed.quota_exhausted;
    f.auth = parsed.auth;
    f
}

/// `{"error": {"message", "type", "param", "code"}}`; compatible servers sometimes send
/// `{"error": "text"}` or FastAPI's `{"detail": ...}`.
pub fn parse_error(status: u16, body: &Value, _now: DateTime<Utc>) -> ErrorBody {
    let err = body.get("error").cloned().unwrap_or(Value::Null);
    let message = match &err {
        Value::String(s) => Some(s.clone()),
        _ => str_at(&err, "/message").map(str::to_owned).or_else(|| {
            body.get("detail").map(|d| {
                d.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| d.to_string())
            })
        }),
    };
    let code = str_at(&err, "/code").unwrap_or("");
    let kind = str_at(&err, "/type").unwrap_or("");
    let mut out = ErrorBody {
        message,
        ..ErrorBody::default()
    };
    if code == "insufficient_quota" || kind == "insufficient_quota" {
        // Out of credit: it comes back when someone pays, not in seconds.
        out.quota_exhausted = Some(None);
    }
    if code == "invalid_api_key" || kind == "authentication_error" {
        out.auth = true;
    }
    if code == "model_not_found" || (status == 404 && code != "not_found_error") {
        out.model_not_found = true;
    }
    out
}

super::provider::boxed_provider!(OpenAi, ProviderId::OpenAi);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_shapes() {
        let now = Utc::now();
        let q = parse_error(
            429,
            &json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}),
            now,
        );
        assert_eq!(q.quota_exhausted, Some(None));
        let r = parse_error(
            429,
            &json!({"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
            now,
        );
        assert_eq!(r.quota_exhausted, None);
        let m = parse_error(
            404,
            &json!({"error": {"message": "The model `x` does not exist", "type": "invalid_request_error", "param": null, "code": "model_not_found"}}),
            now,
        );
        assert!(m.model_not_found);
        assert_eq!(
            parse_error(500, &json!({"error": "boom"}), now)
                .message
                .as_deref(),
            Some("boom")
        );
        assert_eq!(
            date_field(&json!(1767225600)).as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(
            date_field(&json!("2026-03-04T00:00:00Z")).as_deref(),
            Some("2026-03-04")
        );
    }
}
