//! Anthropic's Messages API (`anthropic-version: 2023-06-01`).
//!
//! - `POST {base}/v1/messages`. JSON bound to the schema through a forced tool
//!   (`tools: [{name, input_schema}]`, `tool_choice: {type: tool, name}`): it works with every
//!   Claude model and with Anthropic-compatible gateways, where the newer `output_config`
//!   json_schema is limited to recent models. The answer is the tool call's `input`.
//! - Streaming: `event: message_start`, `content_block_start`, `content_block_delta`
//!   (`input_json_delta.partial_json`), `content_block_stop`, `message_delta`,
//!   `message_stop` (the terminator), `ping`, and `event: error` frames inside the 200.
//! - `GET {base}/v1/models`: the probe and the models list.
//!
//! The base URL has no version (`https://api.anthropic.com`), as in the official SDKs.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use serde_json::value::RawValue;

use super::ProviderId;
use super::failure::{FailureKind, ProviderFailure};
use super::provider::{
    AttemptContext, Endpoint, ErrorBody, Flow, ModelInfo, ProviderReply, StreamEnd,
    StructuredRequest, body_text, parse_output_json, read_json_body, read_sse, schema_json,
    send_checked, sensitive_header, str_at,
};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The stable, cheap and fast tier (an alias that follows the newest snapshot).
pub const DEFAULT_MODEL: &str = "claude-haiku-4-5";
pub const BASE_URL_ENV: &str = "ANTHROPIC_BASE_URL";
pub const API_VERSION: &str = "2023-06-01";

#[derive(Debug, Clone)]
pub struct Anthropic {
    client: reqwest::Client,
}

impl Anthropic {
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
        struct Tool<'a> {
            name: &'a str,
            description: &'static str,
            input_schema: &'a RawValue,
        }
        #[derive(serde::Serialize)]
        struct ToolChoice<'a> {
            r#type: &'static str,
            name: &'a str,
        }
        #[derive(serde::Serialize)]
        struct Body<'a> {
            model: &'a str,
            max_tokens: u32,
            system: &'a str,
            messages: [Message<'a>; 1],
            tools: [Tool<'a>; 1],
            tool_choice: ToolChoice<'a>,
            temperature: f64,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            stream: bool,
        }
        let schema = schema_json(&request.schema);
        body_text(&Body {
            model,
            max_tokens: request.max_output_tokens,
            system: &request.system,
            messages: [Message {
                role: "user",
                content: &request.user,
            }],
            tools: [Tool {
                name: &request.schema_name,
                description: "Record the result. Call this exactly once with the complete result.",
                input_schema: &schema,
            }],
            tool_choice: ToolChoice {
                r#type: "tool",
                name: &request.schema_name,
            },
            temperature: 0.2,
            stream: request.stream,
        })
    }

    fn request(
        &self,
        builder: reqwest::RequestBuilder,
        endpoint: &Endpoint,
    ) -> Result<reqwest::RequestBuilder, ProviderFailure> {
        Ok(builder
            .header("x-api-key", sensitive_header(endpoint.key.expose())?)
            .header("anthropic-version", API_VERSION))
    }

    async fn generate_inner(
        &self,
        endpoint: &Endpoint,
        model: &str,
        request: &StructuredRequest,
        ctx: AttemptContext,
    ) -> Result<ProviderReply, ProviderFailure> {
        let builder = self
            .request(self.client.post(endpoint.url("/v1/messages")), endpoint)?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(Self::body(model, request)?);
        let resp = send_checked(builder, ctx, &endpoint.key, parse_error).await?;
        let mut acc = Accumulator::new(model);
        if request.stream {
            let end = read_sse(resp, ctx.first_byte, |event| {
                acc.event(&event.event, &event.data, ctx)
            })
            .await?;
            if end != StreamEnd::Done {
                return Err(ProviderFailure::new(
                    FailureKind::StreamIncomplete,
                    "stream ended without message_stop",
                ));
            }
        } else {
            let body = read_json_body(resp).await?;
            if str_at(&body, "/type") == Some("error") {
                return Err(stream_error(&body, ctx));
            }
            let Some(content) = body.get("content").and_then(Value::as_array) else {
                return Err(ProviderFailure::new(
                    FailureKind::Malformed,
                    "response has no content",
                ));
            };
            for block in content {
                match str_at(block, "/type") {
                    Some("tool_use") => acc.tool_input = block.get("input").cloned(),
                    Some("text") => acc.text.push_str(str_at(block, "/text").unwrap_or("")),
                    _ => {}
                }
            }
            acc.stop_reason = str_at(&body, "/stop_reason").map(str::to_owned);
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
        let mut models = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..10 {
            let mut url = endpoint.url("/v1/models?limit=1000");
            if let Some(id) = &after {
                url.push_str("&after_id=");
                url.push_str(id);
            }
            let resp = send_checked(
                self.request(self.client.get(url), endpoint)?,
                ctx,
                &endpoint.key,
                parse_error,
            )
            .await?;
            let body = read_json_body(resp).await?;
            let Some(list) = body.get("data").and_then(Value::as_array) else {
                return Err(ProviderFailure::new(
                    FailureKind::Malformed,
                    "models list has no data",
                ));
            };
            models.extend(list.iter().filter_map(|m| {
                Some(ModelInfo {
                    id: str_at(m, "/id")?.to_owned(),
                    display_name: str_at(m, "/display_name").map(str::to_owned),
                    shutdown_date: None,
                    input_token_limit: None,
                })
            }));
            let more = body.get("has_more").and_then(Value::as_bool) == Some(true);
            after = str_at(&body, "/last_id").map(str::to_owned);
            if !more || after.is_none() {
                break;
            }
        }
        Ok(models)
    }
}

struct Accumulator {
    model: String,
    /// `partial_json` of the tool block, concatenated.
    tool_json: String,
    tool_input: Option<Value>,
    text: String,
    stop_reason: Option<String>,
}

impl Accumulator {
    fn new(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            tool_json: String::new(),
            tool_input: None,
            text: String::new(),
            stop_reason: None,
        }
    }

    fn event(
        &mut self,
        name: &Option<String>,
        data: &str,
        ctx: AttemptContext,
    ) -> Result<Flow, ProviderFailure> {
        let v: Value = serde_json::from_str(data).map_err(|e| {
            ProviderFailure::new(
                FailureKind::Malformed,
                format!("stream event is not JSON: {e}"),
            )
        })?;
        let kind = str_at(&v, "/type").or(name.as_deref()).unwrap_or("");
        match kind {
            "error" => return Err(stream_error(&v, ctx)),
            "message_start" => {
                if let Some(m) = str_at(&v, "/message/model") {
                    self.model = m.to_owned();
                }
            }
            "content_block_start" if str_at(&v, "/content_block/type") == Some("tool_use") => {
                self.tool_input = v.pointer("/content_block/input").cloned();
            }
            "content_block_delta" => match str_at(&v, "/delta/type") {
                Some("input_json_delta") => self
                    .tool_json
                    .push_str(str_at(&v, "/delta/partial_json").unwrap_or("")),
                Some("text_delta") => self.text.push_str(str_at(&v, "/delta/text").unwrap_or("")),
                _ => {}
            },
            "message_delta" => {
                if let Some(r) = str_at(&v, "/delta/stop_reason") {
                    self.stop_reason = Some(r.to_owned());
                }
            }
            "message_stop" => return Ok(Flow::Done),
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn finish(self) -> Result<ProviderReply, ProviderFailure> {
        match self.stop_reason.as_deref() {
            Some("max_tokens") => {
                return Err(ProviderFailure::new(
                    FailureKind::OutputTruncated,
                    "the answer hit the output token limit",
                ));
            }
            Some("refusal") => {
                return Err(ProviderFailure::new(
                    FailureKind::Blocked,
                    "the model refused to answer",
                ));
            }
            _ => {}
        }
        let output = if !self.tool_json.trim().is_empty() {
            parse_output_json(&self.tool_json)?
        } else if let Some(input) = self
            .tool_input
            .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()))
        {
            input
        } else if !self.text.trim().is_empty() {
            parse_output_json(&self.text)?
        } else {
            return Err(ProviderFailure::new(
                FailureKind::SchemaInvalid,
                "the model did not call the result tool",
            ));
        };
        Ok(ProviderReply {
            output,
            model: self.model,
        })
    }
}

fn stream_error(v: &Value, ctx: AttemptContext) -> ProviderFailure {
    let kind = str_at(v, "/error/type").unwrap_or("api_error");
    let status = match kind {
        "overloaded_error" => 529,
        "rate_limit_error" => 429,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "invalid_request_error" => 400,
        _ => 500,
    };
    let parsed = parse_error(status, v, ctx.wall_now);
    let mut f = ProviderFailure::new(
        FailureKind::StreamError,
        format!(
            "error inside the stream ({kind}): {}",
            super::scrub(parsed.message.as_deref().unwrap_or(""), &[])
        ),
    )
    .with_status(status);
    f.quota_exhausted = parsed.quota_exhausted;
    f.auth = parsed.auth;
    f
}

/// `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"},
/// "request_id": "req_..."}`. Spend limits arrive as a `rate_limit_error` ("would exceed your
/// account's monthly spend limit"), as a 400 ("reached your specified API usage limits. You
/// will regain access on 2026-09-01", "credit balance is too low"), or tagged
/// `enforced_spend_limit_reached`: none comes back in seconds.
pub fn parse_error(status: u16, body: &Value, now: DateTime<Utc>) -> ErrorBody {
    let kind = str_at(body, "/error/type").unwrap_or("");
    let message = str_at(body, "/error/message").map(str::to_owned);
    let mut out = ErrorBody {
        message: message.clone(),
        ..ErrorBody::default()
    };
    if kind == "authentication_error" || kind == "permission_error" {
        out.auth = true;
    }
    if status == 404 || kind == "not_found_error" {
        out.model_not_found = true;
    }
    let text = body.to_string().to_ascii_lowercase();
    let spend = text.contains("enforced_spend_limit_reached")
        || text.contains("spend limit")
        || text.contains("specified api usage limits")
        || text.contains("credit balance is too low")
        || kind == "billing_error";
    if spend {
        let regain = message.as_deref().and_then(|m| {
            let at = m.find("regain access on ")? + "regain access on ".len();
            NaiveDate::parse_from_str(m.get(at..at + 10)?, "%Y-%m-%d").ok()
        });
        out.quota_exhausted = Some(regain.and_then(|d| {
            let reset = d.and_hms_opt(0, 0, 0)?.and_utc();
            (reset - now).to_std().ok()
        }));
    }
    out
}

super::provider::boxed_provider!(Anthropic, ProviderId::Anthropic);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spend_limits() {
        let now = DateTime::parse_from_rfc3339("2026-08-06T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let e = parse_error(
            400,
            &json!({"type": "error", "error": {"type": "invalid_request_error",
            "message": "You have reached your specified API usage limits. You will regain access on 2026-09-01"}}),
            now,
        );
        assert_eq!(
            e.quota_exhausted,
            Some(Some(std::time::Duration::from_secs(26 * 86_400)))
        );
        let e = parse_error(
            429,
            &json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit"}}),
            now,
        );
        assert_eq!(e.quota_exhausted, None);
        let e = parse_error(
            429,
            &json!({"type": "error", "error": {"type": "rate_limit_error", "message": "x", "code": "enforced_spend_limit_reached"}}),
            now,
        );
        assert_eq!(e.quota_exhausted, Some(None));
        assert!(parse_error(401, &json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}), now).auth);
    }
}
