//! Wire-faithful fakes of the three AI APIs, each a real HTTP/1.1 server on 127.0.0.1:0 that
//! speaks the provider's published API: the same paths, auth headers, request validation,
//! JSON bodies, error bodies and SSE framing. Each request to the generate endpoint can be
//! scripted with a [`Fault`]: an error status with the provider's real error body and a
//! retry hint in any of its forms, latency, a hang, a connection reset, a truncated body,
//! invalid JSON, schema-invalid output, a stream cut mid-way or an error frame inside a 200
//! stream. [`FakeServer::stop`] makes the port refuse connections.
//!
//! What each provider module supplies is its [`Dialect`]; the server mechanics live here.

// A dialect's `Err` is the HTTP response to send at once; boxing it would buy nothing here.
#![allow(clippy::result_large_err)]

pub mod anthropic;
pub mod gemini;
pub mod openai;
pub mod supabase_auth;
pub mod supabase_storage;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

pub type Body = BoxBody<Bytes, std::io::Error>;

/// What to do with one generate request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer properly with the server's configured output.
    Ok,
    /// An error status with the provider's real error body for it.
    Status(u16, RetryHint),
    /// The provider's "quota that will not come back soon" (Gemini per-day quota, OpenAI
    /// `insufficient_quota`, Anthropic spend limit).
    QuotaExhausted,
    /// Wait, then do the inner fault.
    Latency(Duration, Box<Fault>),
    /// Accept the request and never answer.
    Hang,
    /// Close the connection without a response.
    Reset,
    /// Headers promise more body than is sent; the connection is then cut.
    TruncatedBody,
    /// A 200 whose body is not JSON (a proxy's HTML page).
    InvalidJson,
    /// A 200 whose model output is JSON that violates the schema.
    SchemaInvalid,
    /// A 200 whose model output is prose, not JSON.
    NotJsonOutput,
    /// Streaming: half of the events, then a clean end without the terminator.
    StreamCut,
    /// Streaming: a few events, then the provider's error frame inside the 200.
    StreamErrorFrame,
}

impl Fault {
    pub fn after(self, d: Duration) -> Fault {
        Fault::Latency(d, Box::new(self))
    }
}

/// How an error response says when to come back.
#[derive(Debug, Clone, PartialEq)]
pub enum RetryHint {
    None,
    /// `Retry-After: <seconds>`
    Seconds(u64),
    /// `Retry-After: <HTTP-date>` this far in the future
    HttpDate(Duration),
    /// `retry-after-ms: <ms>`
    Millis(u64),
    /// Gemini's `google.rpc.RetryInfo.retryDelay` in the error body
    RetryInfo(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Generate { stream: bool },
    Models,
}

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One provider's API: routing, auth, validation and the exact bytes of its answers.
pub trait Dialect: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// The route and (for generate) the model named in the path, if the API has this path.
    fn route(&self, method: &str, path: &str, query: &str) -> Option<(Route, Option<String>)>;
    /// `Err` = the provider's real auth error response.
    fn check_auth(&self, req: &Recorded, query: &str, key: &str) -> Result<(), Response<Body>>;
    /// `Err` = the provider's real 400 for this malformed request. Returns the model named in
    /// the body, when the API puts it there.
    fn validate(
        &self,
        route: Route,
        body: &Value,
        req: &Recorded,
    ) -> Result<Option<String>, Response<Body>>;
    /// The error response for a status (with the hint applied by the server).
    fn error(&self, status: u16, hint: &RetryHint) -> Response<Body>;
    fn quota_exhausted(&self) -> Response<Body>;
    fn model_not_found(&self, model: &str) -> Response<Body>;
    fn path_not_found(&self) -> Response<Body>;
    /// A complete non-streaming answer carrying `text` as the model output.
    fn answer(&self, model: &str, text: &str) -> Value;
    /// A complete stream carrying `text`, as SSE chunks (each already framed).
    fn stream(&self, model: &str, text: &str) -> Vec<String>;
    /// The error frame this provider sends inside a 200 stream.
    fn stream_error_frame(&self) -> String;
    fn models(&self, models: &[FakeModel]) -> Value;
}

#[derive(Debug, Clone)]
pub struct FakeModel {
    pub id: String,
    /// OpenAI only: announced shutdown, Unix seconds.
    pub shutdown_date: Option<i64>,
}

impl FakeModel {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            shutdown_date: None,
        }
    }
}

type Policy = Arc<dyn Fn(u64) -> Fault + Send + Sync>;

struct Shared {
    dialect: Box<dyn Dialect>,
    key: Mutex<String>,
    script: Mutex<VecDeque<Fault>>,
    policy: Mutex<Option<Policy>>,
    output: Mutex<Value>,
    models: Mutex<Vec<FakeModel>>,
    models_status: Mutex<Option<u16>>,
    requests: Mutex<Vec<Recorded>>,
    generate_count: AtomicU64,
    connections: Mutex<Vec<AbortHandle>>,
    record: bool,
}

/// A running fake. Dropping it stops the server.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: AbortHandle,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl FakeServer {
    pub(crate) async fn start(
        dialect: Box<dyn Dialect>,
        key: &str,
        models: Vec<FakeModel>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            dialect,
            key: Mutex::new(key.to_owned()),
            script: Mutex::new(VecDeque::new()),
            policy: Mutex::new(None),
            output: Mutex::new(sample_judgement()),
            models: Mutex::new(models),
            models_status: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            generate_count: AtomicU64::new(0),
            connections: Mutex::new(Vec::new()),
            record: true,
        });
        let accept = serve_http1(listener, shared.clone(), |s| &s.connections, handle);
        Self {
            addr,
            shared,
            accept,
        }
    }

    /// `http://127.0.0.1:PORT` (no path).
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues faults for the next generate requests, in order; after them, the policy (or `Ok`).
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        if let Ok(mut s) = self.shared.script.lock() {
            s.extend(faults);
        }
    }

    /// Decides the fault of every unscripted generate request from its sequence number.
    pub fn set_policy(&self, policy: impl Fn(u64) -> Fault + Send + Sync + 'static) {
        if let Ok(mut p) = self.shared.policy.lock() {
            *p = Some(Arc::new(policy));
        }
    }

    pub fn set_output(&self, output: Value) {
        if let Ok(mut o) = self.shared.output.lock() {
            *o = output;
        }
    }

    pub fn set_key(&self, key: &str) {
        if let Ok(mut k) = self.shared.key.lock() {
            *k = key.to_owned();
        }
    }

    pub fn set_models(&self, models: Vec<FakeModel>) {
        if let Ok(mut m) = self.shared.models.lock() {
            *m = models;
        }
    }

    /// Makes the models endpoint answer this error status (`None`: answer normally).
    pub fn set_models_status(&self, status: Option<u16>) {
        if let Ok(mut m) = self.shared.models_status.lock() {
            *m = status;
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Generate requests received (whatever their fate).
    pub fn generate_count(&self) -> u64 {
        self.shared.generate_count.load(Ordering::SeqCst)
    }

    /// Stops accepting and cuts every open connection: the port now refuses connections.
    pub fn stop(&self) {
        stop_serving(&self.accept, &self.shared.connections);
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScriptedCut> {
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    if shared.record
        && let Ok(mut r) = shared.requests.lock()
    {
        r.push(recorded.clone());
    }
    let d = &shared.dialect;
    let Some((route, path_model)) = d.route(recorded.method.as_str(), &path, &query) else {
        return Ok(d.path_not_found());
    };
    let key = shared.key.lock().map(|k| k.clone()).unwrap_or_default();
    if let Err(resp) = d.check_auth(&recorded, &query, &key) {
        return Ok(resp);
    }
    if route == Route::Models {
        if let Some(status) = shared.models_status.lock().ok().and_then(|s| *s) {
            return Ok(d.error(status, &RetryHint::None));
        }
        let models = shared.models.lock().map(|m| m.clone()).unwrap_or_default();
        return Ok(json_response(200, d.models(&models)));
    }
    if !bytes.is_empty() && recorded.body.is_null() {
        return Ok(d.error(400, &RetryHint::None));
    }
    let body_model = match d.validate(route, &recorded.body, &recorded) {
        Ok(m) => m,
        Err(resp) => return Ok(resp),
    };
    let model = path_model.or(body_model).unwrap_or_default();
    let n = shared.generate_count.fetch_add(1, Ordering::SeqCst);
    let known = shared
        .models
        .lock()
        .map(|m| {
            m.iter()
                .any(|x| x.id == model || x.id.starts_with(&format!("{model}-")))
        })
        .unwrap_or(false);
    if !known {
        return Ok(d.model_not_found(&model));
    }
    let fault = {
        let scripted = shared.script.lock().ok().and_then(|mut s| s.pop_front());
        match scripted {
            Some(f) => f,
            None => {
                let policy = shared.policy.lock().ok().and_then(|p| p.clone());
                policy.map(|p| p(n)).unwrap_or(Fault::Ok)
            }
        }
    };
    let Route::Generate { stream } = route else {
        return Ok(d.path_not_found());
    };
    // OpenAI and Anthropic ask for a stream in the body, Gemini in the path.
    let stream = stream || recorded.body.get("stream") == Some(&Value::Bool(true));
    let output = shared
        .output
        .lock()
        .map(|o| o.clone())
        .unwrap_or(Value::Null);
    respond(d.as_ref(), fault, stream, &model, &output).await
}

async fn respond(
    d: &dyn Dialect,
    mut fault: Fault,
    stream: bool,
    model: &str,
    output: &Value,
) -> Result<Response<Body>, ScriptedCut> {
    while let Fault::Latency(wait, inner) = fault {
        tokio::time::sleep(wait).await;
        fault = *inner;
    }
    let text = match &fault {
        Fault::SchemaInvalid => {
            json!({"summary": "A call.", "score": "high", "strengths": "many"}).to_string()
        }
        Fault::NotJsonOutput => {
            "Sure! Here is my analysis of the call: the rep did well.".to_owned()
        }
        _ => output.to_string(),
    };
    match fault {
        Fault::Latency(..) => unreachable!("unwrapped above"),
        Fault::Ok | Fault::SchemaInvalid | Fault::NotJsonOutput => {
            if stream {
                Ok(sse_response(d.stream(model, &text), StreamEnd::Clean))
            } else {
                Ok(json_response(200, d.answer(model, &text)))
            }
        }
        Fault::Status(status, hint) => Ok(d.error(status, &hint)),
        Fault::QuotaExhausted => Ok(d.quota_exhausted()),
        Fault::Hang => {
            std::future::pending::<()>().await;
            Err(ScriptedCut)
        }
        Fault::Reset => Err(ScriptedCut),
        Fault::TruncatedBody => {
            let full = if stream {
                d.stream(model, &text).concat()
            } else {
                d.answer(model, &text).to_string()
            };
            let half = full.len() / 2;
            let chunks = vec![full[..half].to_owned()];
            let mut resp = sse_or_json(chunks, stream, StreamEnd::Abort);
            resp.headers_mut().insert(
                hyper::header::CONTENT_LENGTH,
                hyper::header::HeaderValue::from_str(&full.len().to_string()).expect("length"),
            );
            Ok(resp)
        }
        Fault::InvalidJson => {
            if stream {
                Ok(sse_response(
                    vec!["data: <html>502 Bad Gateway</html>\n\n".into()],
                    StreamEnd::Clean,
                ))
            } else {
                let mut r = Response::new(full_body("<html><body>502 Bad Gateway</body></html>"));
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    "text/html".parse().expect("content type"),
                );
                Ok(r)
            }
        }
        Fault::StreamCut => {
            let events = d.stream(model, &text);
            let half = events.len() / 2;
            if stream {
                Ok(sse_response(
                    events[..half.max(1)].to_vec(),
                    StreamEnd::Clean,
                ))
            } else {
                Ok(d.error(500, &RetryHint::None))
            }
        }
        Fault::StreamErrorFrame => {
            if stream {
                let mut events = d.stream(model, &text);
                events.truncate(2);
                events.push(d.stream_error_frame());
                Ok(sse_response(events, StreamEnd::Clean))
            } else {
                Ok(d.error(503, &RetryHint::None))
            }
        }
    }
}

#[derive(Clone, Copy)]
enum StreamEnd {
    Clean,
    Abort,
}

fn sse_or_json(chunks: Vec<String>, stream: bool, end: StreamEnd) -> Response<Body> {
    let mut r = sse_response(chunks, end);
    if !stream {
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            "application/json".parse().expect("content type"),
        );
    }
    r
}

fn sse_response(chunks: Vec<String>, end: StreamEnd) -> Response<Body> {
    let frames = futures_util::stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(Frame::data(Bytes::from(c)))),
    );
    let body: Body = match end {
        StreamEnd::Clean => BodyExt::boxed(StreamBody::new(frames)),
        // The pause lets hyper flush the headers and the first part before the cut.
        StreamEnd::Abort => BodyExt::boxed(StreamBody::new(frames.chain(
            futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "cut",
                ))
            }),
        ))),
    };
    let mut r = Response::new(body);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        "text/event-stream".parse().expect("content type"),
    );
    r.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        "no-cache".parse().expect("cache control"),
    );
    r
}

/// Accepts connections on `listener` and serves each over HTTP/1.1 with `handle`, keeping every
/// connection's handle in the list `connections` picks out of `state`, so a fake can cut them
/// all at once. Returns the accept loop's handle: abort it to stop accepting.
pub fn serve_http1<S, H, Fut, E>(
    listener: TcpListener,
    state: Arc<S>,
    connections: fn(&S) -> &Mutex<Vec<AbortHandle>>,
    handle: H,
) -> AbortHandle
where
    S: Send + Sync + 'static,
    H: Fn(Arc<S>, Request<Incoming>) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response<Body>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let svc_state = state.clone();
            let conn = tokio::spawn(async move {
                let svc = service_fn(move |req| handle(svc_state.clone(), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
            if let Ok(mut c) = connections(&state).lock() {
                c.retain(|h| !h.is_finished());
                c.push(conn.abort_handle());
            }
        }
    })
    .abort_handle()
}

/// A scripted connection cut: a fake's handler returns it to make hyper close the connection
/// without an answer, as a reset or a dead network does.
#[derive(Debug)]
pub struct ScriptedCut;

impl std::fmt::Display for ScriptedCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("scripted connection cut")
    }
}

impl std::error::Error for ScriptedCut {}

/// Stops a fake started with [`serve_http1`]: no more accepts, and every open connection cut
/// (the port then refuses connections).
pub fn stop_serving(accept: &AbortHandle, connections: &Mutex<Vec<AbortHandle>>) {
    accept.abort();
    if let Ok(mut c) = connections.lock() {
        for h in c.drain(..) {
            h.abort();
        }
    }
}

pub fn full_body(text: impl Into<Bytes>) -> Body {
    BodyExt::boxed(Full::new(text.into()).map_err(|e: Infallible| match e {}))
}

pub fn json_response(status: u16, body: Value) -> Response<Body> {
    let mut r = Response::new(full_body(body.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).expect("valid status");
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        "application/json; charset=utf-8"
            .parse()
            .expect("content type"),
    );
    r
}

/// Adds the hint's header form to a response (the body form is the dialect's business).
pub fn apply_hint_headers(resp: &mut Response<Body>, hint: &RetryHint) {
    let h = resp.headers_mut();
    match hint {
        RetryHint::Seconds(s) => {
            h.insert("retry-after", s.to_string().parse().expect("header"));
        }
        RetryHint::HttpDate(d) => {
            let at = chrono::Utc::now()
                + chrono::Duration::from_std(*d).expect("duration")
                + chrono::Duration::seconds(1);
            let text = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            h.insert("retry-after", text.parse().expect("header"));
        }
        RetryHint::Millis(ms) => {
            h.insert("retry-after-ms", ms.to_string().parse().expect("header"));
        }
        RetryHint::None | RetryHint::RetryInfo(_) => {}
    }
}

/// Splits text into `n` roughly equal pieces on char boundaries (for stream deltas).
pub fn pieces(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(n.max(1)).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// A valid call-analysis judgement, as a model would return it.
pub fn sample_judgement() -> Value {
    json!({
        "summary": "The rep qualified the prospect, handled a price objection and agreed a follow-up demo.",
        "score": 74,
        "score_rationale": "Good discovery; the rep talked more than ideal (rep_talk_share).",
        "strengths": [{"title": "Discovery", "detail": "Asked about current tooling and team size.", "metric": "questions_asked"}],
        "improvements": [{"title": "Talk less", "detail": "Let the prospect speak more.", "metric": "rep_talk_share"}],
        "objections": [{"kind": "price", "said": "That's more than we pay now.", "turn_index": 7, "handling": "Reframed on time saved; adequate."}],
        "next_steps": ["Send the ROI sheet", "Book the demo for Thursday"]
    })
}

/// An error status's reason phrase.
pub fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Overloaded")
}
