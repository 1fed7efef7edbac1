//! A fake of the Gemini API (`generativelanguage.googleapis.com`, `v1beta`):
//! `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`,
//! `GET /v1beta/models`; key in `x-goog-api-key` or `?key=`; Google RPC error bodies
//! (`{"error": {"code", "message", "status", "details"}}`), including `RetryInfo` and
//! `QuotaFailure` details; unknown request fields rejected as the real API does.

use hyper::Response;
use serde_json::{Value, json};

use super::{
    Body, Dialect, FakeModel, FakeServer, Recorded, RetryHint, Route, apply_hint_headers,
    json_response, pieces,
};

pub struct Gemini;

pub async fn start(key: &str) -> FakeServer {
    FakeServer::start(
        Box::new(Gemini),
        key,
        vec![
            FakeModel::new("gemini-2.5-flash"),
            FakeModel::new("gemini-2.5-flash-lite"),
        ],
    )
    .await
}

fn rpc_status(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

fn error_body(code: u16, message: &str, details: Vec<Value>) -> Value {
    let mut err = json!({ "code": code, "message": message, "status": rpc_status(code) });
    if !details.is_empty() {
        err["details"] = Value::Array(details);
    }
    json!({ "error": err })
}

fn invalid(message: &str) -> Response<Body> {
    json_response(400, error_body(400, message, vec![]))
}

const TOP_LEVEL: [&str; 7] = [
    "contents",
    "systemInstruction",
    "generationConfig",
    "safetySettings",
    "tools",
    "toolConfig",
    "cachedContent",
];
const GENERATION_CONFIG: [&str; 14] = [
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "candidateCount",
    "stopSequences",
    "thinkingConfig",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseModalities",
];

impl Dialect for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn route(&self, method: &str, path: &str, query: &str) -> Option<(Route, Option<String>)> {
        if method == "GET" && path == "/v1beta/models" {
            return Some((Route::Models, None));
        }
        let rest = path.strip_prefix("/v1beta/models/")?;
        if method != "POST" {
            return None;
        }
        if let Some(model) = rest.strip_suffix(":generateContent") {
            return Some((Route::Generate { stream: false }, Some(model.to_owned())));
        }
        if let Some(model) = rest.strip_suffix(":streamGenerateContent") {
            // Without alt=sse the real API streams one JSON array; we only speak SSE.
            let sse = query.split('&').any(|p| p == "alt=sse");
            return sse.then(|| (Route::Generate { stream: true }, Some(model.to_owned())));
        }
        None
    }

    fn check_auth(&self, req: &Recorded, query: &str, key: &str) -> Result<(), Response<Body>> {
        let given = req.header("x-goog-api-key").map(str::to_owned).or_else(|| {
            query
                .split('&')
                .find_map(|p| p.strip_prefix("key=").map(str::to_owned))
        });
        match given {
            None => Err(json_response(
                403,
                error_body(
                    403,
                    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
                    vec![],
                ),
            )),
            Some(k) if k == key => Ok(()),
            Some(_) => Err(json_response(
                400,
                error_body(
                    400,
                    "API key not valid. Please pass a valid API key.",
                    vec![
                        json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}),
                    ],
                ),
            )),
        }
    }

    fn validate(
        &self,
        _route: Route,
        body: &Value,
        _req: &Recorded,
    ) -> Result<Option<String>, Response<Body>> {
        let Some(obj) = body.as_object() else {
            return Err(invalid(
                "Invalid JSON payload received. Expected an object.",
            ));
        };
        for k in obj.keys() {
            if !TOP_LEVEL.contains(&k.as_str()) {
                return Err(invalid(&format!(
                    "Invalid JSON payload received. Unknown name \"{k}\": Cannot find field."
                )));
            }
        }
        let contents = obj.get("contents").and_then(Value::as_array);
        if contents.is_none_or(|c| c.is_empty()) {
            return Err(invalid(
                "* GenerateContentRequest.contents: contents is not specified\n",
            ));
        }
        for c in contents.into_iter().flatten() {
            if c.get("parts")
                .and_then(Value::as_array)
                .is_none_or(|p| p.is_empty())
            {
                return Err(invalid(
                    "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n",
                ));
            }
        }
        if let Some(cfg) = obj.get("generationConfig") {
            let Some(cfg) = cfg.as_object() else {
                return Err(invalid(
                    "Invalid JSON payload received. Unknown name \"generationConfig\"",
                ));
            };
            for k in cfg.keys() {
                if !GENERATION_CONFIG.contains(&k.as_str()) {
                    return Err(invalid(&format!(
                        "Invalid JSON payload received. Unknown name \"{k}\" at 'generation_config': Cannot find field."
                    )));
                }
            }
            if cfg.contains_key("responseSchema") && cfg.contains_key("responseJsonSchema") {
                return Err(invalid(
                    "responseSchema and responseJsonSchema cannot both be set.",
                ));
            }
            if cfg.contains_key("responseJsonSchema")
                && cfg.get("responseMimeType").and_then(Value::as_str) != Some("application/json")
            {
                return Err(invalid(
                    "responseJsonSchema requires responseMimeType application/json.",
                ));
            }
        }
        Ok(None)
    }

    fn error(&self, status: u16, hint: &RetryHint) -> Response<Body> {
        let message = match status {
            429 => "You exceeded your current quota, please check your plan and billing details.",
            503 => "The model is overloaded. Please try again later.",
            500 => {
                "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
            }
            504 => "The request timed out. Please try again.",
            _ => "Request failed.",
        };
        let mut details = Vec::new();
        if status == 429 {
            details.push(json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "10"}]}));
        }
        if let RetryHint::RetryInfo(d) = hint {
            details.push(json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{}s", d.as_secs_f64())}));
        }
        let mut r = json_response(status, error_body(status, message, details));
        apply_hint_headers(&mut r, hint);
        r
    }

    fn quota_exhausted(&self) -> Response<Body> {
        json_response(
            429,
            error_body(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                vec![
                    json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaValue": "250"}]}),
                    json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "21s"}),
                ],
            ),
        )
    }

    fn model_not_found(&self, model: &str) -> Response<Body> {
        json_response(
            404,
            error_body(
                404,
                &format!(
                    "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
                ),
                vec![],
            ),
        )
    }

    fn path_not_found(&self) -> Response<Body> {
        let mut r = Response::new(super::full_body(
            "<!DOCTYPE html><html><body><p>404. That’s an error.</p></body></html>",
        ));
        *r.status_mut() = hyper::StatusCode::NOT_FOUND;
        r
    }

    fn answer(&self, model: &str, text: &str) -> Value {
        json!({
            "candidates": [{
                "content": { "parts": [{ "text": text }], "role": "model" },
                "finishReason": "STOP",
                "index": 0
            }],
            "usageMetadata": { "promptTokenCount": 812, "candidatesTokenCount": 190, "totalTokenCount": 1002 },
            "modelVersion": model,
            "responseId": "fake-response-id"
        })
    }

    fn stream(&self, model: &str, text: &str) -> Vec<String> {
        let parts = pieces(text, 4);
        let last = parts.len().saturating_sub(1);
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut candidate = json!({ "content": { "parts": [{ "text": p }], "role": "model" }, "index": 0 });
                let mut chunk = json!({ "modelVersion": model, "responseId": "fake-response-id" });
                if i == last {
                    candidate["finishReason"] = json!("STOP");
                    chunk["usageMetadata"] = json!({ "promptTokenCount": 812, "candidatesTokenCount": 190, "totalTokenCount": 1002 });
                }
                chunk["candidates"] = json!([candidate]);
                format!("data: {chunk}\r\n\r\n")
            })
            .collect()
    }

    fn stream_error_frame(&self) -> String {
        format!(
            "data: {}\r\n\r\n",
            error_body(
                503,
                "The model is overloaded. Please try again later.",
                vec![]
            )
        )
    }

    fn models(&self, models: &[FakeModel]) -> Value {
        json!({
            "models": models.iter().map(|m| json!({
                "name": format!("models/{}", m.id),
                "version": "001",
                "displayName": m.id,
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens", "streamGenerateContent"]
            })).collect::<Vec<_>>()
        })
    }
}
