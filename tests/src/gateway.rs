//! A stand-in for the API gateway (Kong) that fronts a Supabase project: requests to
//! `/storage/v1/...` go to a bare Storage server with the prefix stripped and the
//! `X-Forwarded-Host` / `-Proto` / `-Port` / `-Prefix` headers Kong sets, so the server builds
//! the same absolute URLs (TUS `Location`) it builds behind Supabase's gateway. Bodies stream
//! both ways; a client that drops mid-body aborts the upstream request, as on a real cut.
//!
//! Used by the storage conformance test to put the real Storage server behind the project URL
//! the client is configured with. Hand-written because no crate offers a path-rewriting
//! streaming proxy small enough for a test kit.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use crate::fakes::{Body, full_body, serve_http1, stop_serving};

/// The path prefix Supabase's gateway routes to Storage.
pub const STORAGE_PREFIX: &str = "/storage/v1";

/// Headers that belong to one hop, never forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// A request as the gateway passed it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    pub method: String,
    /// The path as the client sent it (with `/storage/v1`), without the query.
    pub path: String,
    pub content_length: Option<u64>,
    pub upsert: Option<String>,
    pub status: u16,
}

struct State {
    upstream: String,
    passed: Mutex<Vec<Passed>>,
    http: reqwest::Client,
    connections: Mutex<Vec<AbortHandle>>,
}

/// A running gateway on 127.0.0.1. Dropping it stops it.
pub struct Gateway {
    addr: SocketAddr,
    state: Arc<State>,
    accept: AbortHandle,
}

impl Gateway {
    /// Serves `/storage/v1/*` from the Storage server at `upstream` (e.g. `http://127.0.0.1:5000`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        // The core's builder installs the TLS crypto provider reqwest is built to need.
        let http = salesdesk_core::ai::http_client_builder(std::time::Duration::from_secs(5))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("gateway http client");
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_owned(),
            passed: Mutex::new(Vec::new()),
            http,
            connections: Mutex::new(Vec::new()),
        });
        let accept = serve_http1(listener, state.clone(), |s| &s.connections, forward);
        Self {
            addr,
            state,
            accept,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request passed on so far (those the server answered), oldest first.
    pub fn passed(&self) -> Vec<Passed> {
        self.state
            .passed
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    /// The project URL a client should be configured with.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        stop_serving(&self.accept, &self.state.connections);
    }
}

fn answer(status: u16, message: &str) -> Response<Body> {
    let mut r = Response::new(full_body(format!("{{\"message\":\"{message}\"}}")));
    *r.status_mut() = StatusCode::from_u16(status).expect("status");
    r
}

async fn forward(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::convert::Infallible> {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(rest) = path_and_query.strip_prefix(STORAGE_PREFIX) else {
        return Ok(answer(404, "no Route matched with those values"));
    };
    let url = format!("{}{}", state.upstream, rest);
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    // Kong reports the port the client reached (its port_maps), which is the Host's.
    let port = host.rsplit_once(':').map(|(_, p)| p.to_owned());
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut passed = Passed {
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_owned(),
        content_length: header("content-length").and_then(|v| v.parse().ok()),
        upsert: header("x-upsert"),
        status: 0,
    };
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let mut out = state.http.request(method, &url);
    for (name, value) in req.headers() {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        out = out.header(name.as_str(), value.as_bytes());
    }
    out = out
        .header("x-forwarded-host", &host)
        .header("x-forwarded-proto", "http")
        .header("x-forwarded-prefix", STORAGE_PREFIX);
    if let Some(port) = port {
        out = out.header("x-forwarded-port", port);
    }
    let body = req
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    out = out.body(reqwest::Body::wrap_stream(body));
    let resp = match out.send().await {
        Ok(r) => r,
        Err(_) => {
            return Ok(answer(
                502,
                "An invalid response was received from the upstream server",
            ));
        }
    };
    passed.status = resp.status().as_u16();
    if let Ok(mut p) = state.passed.lock() {
        p.push(passed);
    }
    let mut back = Response::builder().status(resp.status().as_u16());
    for (name, value) in resp.headers() {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        back = back.header(name.as_str(), value.as_bytes());
    }
    let stream = resp
        .bytes_stream()
        .map_ok(Frame::data)
        .map_err(std::io::Error::other);
    let body: Body = BodyExt::boxed(StreamBody::new(stream));
    Ok(back
        .body(body)
        .unwrap_or_else(|_| answer(502, "bad upstream headers")))
}
