//! A fake of the Anthropic API (`api.anthropic.com`): `POST /v1/messages` (JSON, and SSE with
//! `message_start` … `message_stop` and `event: error` frames), `GET /v1/models`;
//! `x-api-key` and a required `anthropic-version`; Anthropic's error bodies
//! (`{"type": "error", "error": {"type", "message"}, "request_id"}`), including 529
//! `overloaded_error` and the spend-limit error.

use hyper::Response;
use serde_json::{Value, json};

use super::{
    Body, Dialect, FakeModel, FakeServer, Recorded, RetryHint, Route, apply_hint_headers,
    json_response, pieces,
};

pub struct Anthropic;

pub async fn start(key: &str) -> FakeServer {
    FakeServer::start(
        Box::new(Anthropic),
        key,
        vec![
            FakeModel::new("claude-haiku-4-5-20251001"),
            FakeModel::new("claude-sonnet-4-5-20250929"),
        ],
    )
    .await
}

fn error(kind: &str, message: &str) -> Value {
    json!({ "type": "error", "error": { "type": kind, "message": message }, "request_id": "req_011CFakeRequestId" })
}

fn invalid(message: &str) -> Response<Body> {
    json_response(400, error("invalid_request_error", message))
}

fn kind_for(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => (
            "invalid_request_error",
            "There was an issue with the format or content of your request.",
        ),
        401 => ("authentication_error", "invalid x-api-key"),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        404 => (
            "not_found_error",
            "The requested resource could not be found.",
        ),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        429 => (
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
        ),
        529 => ("overloaded_error", "Overloaded"),
        _ => ("api_error", "Internal server error"),
    }
}

impl Dialect for Anthropic {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn route(&self, method: &str, path: &str, _query: &str) -> Option<(Route, Option<String>)> {
        match (method, path) {
            ("POST", "/v1/messages") => Some((Route::Generate { stream: false }, None)),
            ("GET", "/v1/models") => Some((Route::Models, None)),
            _ => None,
        }
    }

    fn check_auth(&self, req: &Recorded, _query: &str, key: &str) -> Result<(), Response<Body>> {
        match req.header("x-api-key") {
            None => Err(json_response(
                401,
                error("authentication_error", "x-api-key header is required"),
            )),
            Some(k) if k == key => {
                if req.header("anthropic-version").is_none() {
                    return Err(invalid("anthropic-version: header is required"));
                }
                Ok(())
            }
            Some(_) => Err(json_response(
                401,
                error("authentication_error", "invalid x-api-key"),
            )),
        }
    }

    fn validate(
        &self,
        _route: Route,
        body: &Value,
        _req: &Recorded,
    ) -> Result<Option<String>, Response<Body>> {
        let Some(model) = body.get("model").and_then(Value::as_str) else {
            return Err(invalid("model: Field required"));
        };
        match body.get("max_tokens").and_then(Value::as_u64) {
            None => return Err(invalid("max_tokens: Field required")),
            Some(0) => {
                return Err(invalid(
                    "max_tokens: Input should be greater than or equal to 1",
                ));
            }
            _ => {}
        }
        let messages = body.get("messages").and_then(Value::as_array);
        let Some(messages) = messages.filter(|m| !m.is_empty()) else {
            return Err(invalid("messages: at least one message is required"));
        };
        if messages[0].get("role").and_then(Value::as_str) != Some("user") {
            return Err(invalid(
                "messages: first message must use the \"user\" role",
            ));
        }
        if messages
            .iter()
            .any(|m| m.get("role").and_then(Value::as_str) == Some("system"))
        {
            return Err(invalid(
                "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.",
            ));
        }
        let tools = body
            .get("tools")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, t) in tools.iter().enumerate() {
            let name = t.get("name").and_then(Value::as_str).unwrap_or("");
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(invalid(&format!(
                    "tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
                )));
            }
            if t.pointer("/input_schema/type").and_then(Value::as_str) != Some("object") {
                return Err(invalid(&format!(
                    "tools.{i}.custom.input_schema.type: Input should be 'object'"
                )));
            }
        }
        if let Some(choice) = body.get("tool_choice")
            && choice.get("type").and_then(Value::as_str) == Some("tool")
        {
            let name = choice.get("name").and_then(Value::as_str).unwrap_or("");
            if !tools
                .iter()
                .any(|t| t.get("name").and_then(Value::as_str) == Some(name))
            {
                return Err(invalid(&format!(
                    "tool_choice.name: Tool '{name}' not found in tools"
                )));
            }
        }
        Ok(Some(model.to_owned()))
    }

    fn error(&self, status: u16, hint: &RetryHint) -> Response<Body> {
        let (kind, message) = kind_for(status);
        let mut r = json_response(status, error(kind, message));
        apply_hint_headers(&mut r, hint);
        r
    }

    fn quota_exhausted(&self) -> Response<Body> {
        let mut r = json_response(
            429,
            error(
                "rate_limit_error",
                "This request would exceed your account's monthly spend limit (enforced_spend_limit_reached). Please try again later.",
            ),
        );
        r.headers_mut()
            .insert("retry-after", "2592000".parse().expect("header"));
        r
    }

    fn model_not_found(&self, model: &str) -> Response<Body> {
        json_response(404, error("not_found_error", &format!("model: {model}")))
    }

    fn path_not_found(&self) -> Response<Body> {
        json_response(404, error("not_found_error", "Not Found"))
    }

    fn answer(&self, model: &str, text: &str) -> Value {
        let input: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        // A model that does not produce JSON answers with text instead of the tool call.
        let content = if input.is_object() {
            json!([{ "type": "tool_use", "id": "toolu_fake", "name": "call_analysis", "input": input }])
        } else {
            json!([{ "type": "text", "text": text }])
        };
        json!({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": content,
            "stop_reason": if input.is_object() { "tool_use" } else { "end_turn" }, "stop_sequence": null,
            "usage": { "input_tokens": 812, "output_tokens": 190 }
        })
    }

    fn stream(&self, model: &str, text: &str) -> Vec<String> {
        let ev = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
        let mut out = vec![
            ev(
                "message_start",
                json!({ "type": "message_start", "message": { "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null, "usage": { "input_tokens": 812, "output_tokens": 1 } } }),
            ),
            ev(
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0,
                "content_block": { "type": "tool_use", "id": "toolu_fake", "name": "call_analysis", "input": {} } }),
            ),
            ev("ping", json!({ "type": "ping" })),
        ];
        for p in pieces(text, 4) {
            out.push(ev("content_block_delta", json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "input_json_delta", "partial_json": p } })));
        }
        out.push(ev(
            "content_block_stop",
            json!({ "type": "content_block_stop", "index": 0 }),
        ));
        out.push(ev("message_delta", json!({ "type": "message_delta", "delta": { "stop_reason": "tool_use", "stop_sequence": null }, "usage": { "output_tokens": 190 } })));
        out.push(ev("message_stop", json!({ "type": "message_stop" })));
        out
    }

    fn stream_error_frame(&self) -> String {
        format!(
            "event: error\ndata: {}\n\n",
            json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } })
        )
    }

    fn models(&self, models: &[FakeModel]) -> Value {
        let data: Vec<Value> = models
            .iter()
            .map(|m| json!({ "type": "model", "id": m.id, "display_name": m.id, "created_at": "2025-10-01T00:00:00Z" }))
            .collect();
        json!({
            "data": data,
            "has_more": false,
            "first_id": models.first().map(|m| m.id.clone()),
            "last_id": models.last().map(|m| m.id.clone())
        })
    }
}
