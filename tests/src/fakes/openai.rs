//! A fake of the OpenAI API (`api.openai.com/v1`): `POST /v1/chat/completions` (JSON and SSE
//! with `data: [DONE]`), `GET /v1/models`; `Authorization: Bearer`; OpenAI's error bodies
//! (`{"error": {"message", "type", "param", "code"}}`), including the masked key it echoes on
//! a 401; `json_schema` response formats checked against strict mode's rules.
//!
//! [`start_azure`] makes it Azure OpenAI's v1 API instead: the same bodies under
//! `/openai/v1`, the key in the `api-key` header (Azure's 401 when it is missing or sent as
//! `Bearer`), and, when configured, a required `api-version` query parameter.

use hyper::Response;
use serde_json::{Value, json};

use super::{
    Body, Dialect, FakeModel, FakeServer, Recorded, RetryHint, Route, apply_hint_headers,
    json_response, pieces,
};

pub struct OpenAi {
    azure: Option<Azure>,
}

/// Azure OpenAI's differences from OpenAI's own API.
struct Azure {
    /// The `api-version` every request must carry, if any.
    api_version: Option<String>,
}

/// The fake serves under `/v1`, so the base URL is `origin() + "/v1"`.
pub async fn start(key: &str) -> FakeServer {
    FakeServer::start(
        Box::new(OpenAi { azure: None }),
        key,
        vec![FakeModel::new("gpt-5-mini"), FakeModel::new("gpt-4.1-mini")],
    )
    .await
}

/// Azure OpenAI: the base URL is `origin() + "/openai/v1"`; the key goes in `api-key`.
pub async fn start_azure(key: &str, api_version: Option<&str>) -> FakeServer {
    FakeServer::start(
        Box::new(OpenAi {
            azure: Some(Azure {
                api_version: api_version.map(str::to_owned),
            }),
        }),
        key,
        vec![FakeModel::new("gpt-5-mini"), FakeModel::new("gpt-4.1-mini")],
    )
    .await
}

/// Azure's error body: `{"error": {"code": "401", "message": ...}}`.
fn azure_error(status: u16, message: &str) -> Response<Body> {
    json_response(
        status,
        json!({ "error": { "code": status.to_string(), "message": message } }),
    )
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn error(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({ "error": { "message": message, "type": kind, "param": param, "code": code } })
}

fn invalid(message: &str, param: Option<&str>) -> Response<Body> {
    json_response(400, error(message, "invalid_request_error", param, None))
}

/// Strict mode: every object lists all its properties as required and forbids others.
fn strict_violation(schema: &Value, path: &str) -> Option<String> {
    if schema.get("type") == Some(&json!("object")) {
        if schema.get("additionalProperties") != Some(&json!(false)) {
            return Some(format!(
                "In context=({path}), 'additionalProperties' is required to be supplied and to be false."
            ));
        }
        let props: Vec<&String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for p in &props {
            if !required.contains(&p.as_str()) {
                return Some(format!(
                    "In context=({path}), 'required' is required to be supplied and to be an array including every key in properties. Missing '{p}'."
                ));
            }
        }
        for (k, v) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(e) = strict_violation(v, &format!("{path}'properties', '{k}', ")) {
                return Some(e);
            }
        }
    }
    if let Some(items) = schema.get("items") {
        return strict_violation(items, &format!("{path}'items', "));
    }
    None
}

fn azure_auth(azure: &Azure, req: &Recorded, query: &str, key: &str) -> Result<(), Response<Body>> {
    if let Some(version) = &azure.api_version
        && query_param(query, "api-version") != Some(version.as_str())
    {
        return Err(azure_error(404, "Resource not found"));
    }
    // Azure ignores `Authorization: Bearer` with a resource key: only `api-key` counts.
    if req.header("api-key") == Some(key) {
        return Ok(());
    }
    Err(azure_error(
        401,
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    ))
}

impl Dialect for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn route(&self, method: &str, path: &str, _query: &str) -> Option<(Route, Option<String>)> {
        let path = match &self.azure {
            Some(_) => path.strip_prefix("/openai")?,
            None => path,
        };
        match (method, path) {
            ("POST", "/v1/chat/completions") => Some((Route::Generate { stream: false }, None)),
            ("GET", "/v1/models") => Some((Route::Models, None)),
            _ => None,
        }
    }

    fn check_auth(&self, req: &Recorded, query: &str, key: &str) -> Result<(), Response<Body>> {
        if let Some(azure) = &self.azure {
            return azure_auth(azure, req, query, key);
        }
        match req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
        {
            None => Err(json_response(
                401,
                error(
                    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    None,
                    None,
                ),
            )),
            Some(k) if k == key => Ok(()),
            Some(k) => {
                // The real API echoes a masked form of the key it was given.
                let masked = if k.len() > 8 {
                    format!(
                        "{}{}{}",
                        &k[..4],
                        "*".repeat(k.len() - 8),
                        &k[k.len() - 4..]
                    )
                } else {
                    "****".into()
                };
                Err(json_response(
                    401,
                    error(
                        &format!(
                            "Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."
                        ),
                        "invalid_request_error",
                        None,
                        Some("invalid_api_key"),
                    ),
                ))
            }
        }
    }

    fn validate(
        &self,
        _route: Route,
        body: &Value,
        _req: &Recorded,
    ) -> Result<Option<String>, Response<Body>> {
        let Some(model) = body.get("model").and_then(Value::as_str) else {
            return Err(invalid("you must provide a model parameter", None));
        };
        let Some(messages) = body.get("messages").and_then(Value::as_array) else {
            return Err(invalid(
                "Missing required parameter: 'messages'.",
                Some("messages"),
            ));
        };
        if messages.is_empty() {
            return Err(invalid(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                Some("messages"),
            ));
        }
        for (i, m) in messages.iter().enumerate() {
            let role = m.get("role").and_then(Value::as_str).unwrap_or("");
            if !["system", "developer", "user", "assistant", "tool"].contains(&role) {
                return Err(invalid(
                    &format!(
                        "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'."
                    ),
                    Some(&format!("messages[{i}].role")),
                ));
            }
            if m.get("content").is_none() {
                return Err(invalid(
                    &format!("Missing required parameter: 'messages[{i}].content'."),
                    Some(&format!("messages[{i}].content")),
                ));
            }
        }
        if let Some(rf) = body.get("response_format") {
            match rf.get("type").and_then(Value::as_str) {
                Some("json_schema") => {
                    let js = rf.get("json_schema");
                    let name = js
                        .and_then(|j| j.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        return Err(invalid(
                            "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                            Some("response_format.json_schema.name"),
                        ));
                    }
                    let schema = js
                        .and_then(|j| j.get("schema"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    if js.and_then(|j| j.get("strict")) == Some(&json!(true))
                        && let Some(e) = strict_violation(&schema, "")
                    {
                        return Err(invalid(
                            &format!("Invalid schema for response_format '{name}': {e}"),
                            Some("response_format"),
                        ));
                    }
                }
                Some("json_object") | Some("text") => {}
                _ => {
                    return Err(invalid(
                        "Invalid value for 'response_format.type'.",
                        Some("response_format.type"),
                    ));
                }
            }
        }
        Ok(Some(model.to_owned()))
    }

    fn error(&self, status: u16, hint: &RetryHint) -> Response<Body> {
        let body = match status {
            429 => error(
                "Rate limit reached for gpt-5-mini in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.",
                "requests",
                None,
                Some("rate_limit_exceeded"),
            ),
            500 => error(
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
                None,
            ),
            502 | 503 => error(
                "The server is overloaded or not ready yet.",
                "server_error",
                None,
                None,
            ),
            400 => error(
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
                None,
                None,
            ),
            _ => error(super::reason(status), "server_error", None, None),
        };
        let mut r = json_response(status, body);
        apply_hint_headers(&mut r, hint);
        r
    }

    fn quota_exhausted(&self) -> Response<Body> {
        json_response(
            429,
            error(
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                "insufficient_quota",
                None,
                Some("insufficient_quota"),
            ),
        )
    }

    fn model_not_found(&self, model: &str) -> Response<Body> {
        json_response(
            404,
            error(
                &format!("The model `{model}` does not exist or you do not have access to it."),
                "invalid_request_error",
                None,
                Some("model_not_found"),
            ),
        )
    }

    fn path_not_found(&self) -> Response<Body> {
        json_response(
            404,
            error(
                "Invalid URL (POST /v1/unknown)",
                "invalid_request_error",
                None,
                None,
            ),
        )
    }

    fn answer(&self, model: &str, text: &str) -> Value {
        json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_767_225_600,
            "model": model,
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": text, "refusal": null, "annotations": [] }, "logprobs": null, "finish_reason": "stop" }],
            "usage": { "prompt_tokens": 812, "completion_tokens": 190, "total_tokens": 1002 },
            "service_tier": "default",
            "system_fingerprint": null
        })
    }

    fn stream(&self, model: &str, text: &str) -> Vec<String> {
        let chunk = |delta: Value, finish: Value| {
            let c = json!({ "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_767_225_600, "model": model,
                "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }] });
            format!("data: {c}\n\n")
        };
        let mut out = vec![chunk(
            json!({ "role": "assistant", "content": "", "refusal": null }),
            Value::Null,
        )];
        for p in pieces(text, 4) {
            out.push(chunk(json!({ "content": p }), Value::Null));
        }
        out.push(chunk(json!({}), json!("stop")));
        out.push("data: [DONE]\n\n".into());
        out
    }

    fn stream_error_frame(&self) -> String {
        format!(
            "data: {}\n\n",
            error(
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
                None
            )
        )
    }

    fn models(&self, models: &[FakeModel]) -> Value {
        json!({
            "object": "list",
            "data": models.iter().map(|m| {
                let mut v = json!({ "id": m.id, "object": "model", "created": 1_754_425_777, "owned_by": "system" });
                if let Some(s) = m.shutdown_date {
                    v["shutdown_date"] = json!(s);
                }
                v
            }).collect::<Vec<_>>()
        })
    }
}
