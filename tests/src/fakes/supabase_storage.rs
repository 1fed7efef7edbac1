//! A wire-faithful fake of Supabase Storage (`/storage/v1`), a real HTTP/1.1 server on
//! 127.0.0.1:0. It speaks the published REST API (object upload, authenticated download with
//! `Range`, list, delete, sign and signed download) and the TUS 1.0.0 resumable endpoints,
//! with the real server's habits:
//!
//! - object routes answer errors as HTTP 400 with the real status as a string in the body
//!   (`{"statusCode":"403","error":"Unauthorized","message":…,"code":"AccessDenied"}`), and so
//!   do the TUS routes when they refuse the token;
//! - token refusals carry the real server's JWT library's words (`"exp" claim timestamp check
//!   failed`, `signature verification failed`, `Invalid Compact JWS`), the same 403
//!   `AccessDenied` as a row-level-security refusal;
//! - TUS routes otherwise answer with real statuses and a text body (404 unknown or terminated
//!   upload, 409 offset mismatch or "already exists", 410 expired, 412 wrong `Tus-Resumable`,
//!   413, 415); a chunk cut mid-way keeps the bytes that arrived (as the real server does with
//!   its file store, and with S3 as an "incomplete part"), so a resume can start mid-chunk;
//! - upload ids are base64url of `bucket/object/version`, and `Location` is built from the
//!   request's `Host` / `X-Forwarded-*` headers (or a configured public URL, see
//!   [`StorageFake::set_public_url`]), as the real server builds it;
//! - overwriting needs `x-upsert: true` on the creation *and* every PATCH;
//! - access tokens are HS256 JWTs checked against the project secret (see [`crate::supabase`]).
//!
//! Checked against the real server by tests/tests/storage_conformance.rs.
//!
//! Per-bucket policies: size limit, allowed MIME types, and "writable by admins only" (for
//! `training-materials`), an admin being a user in the configured admin list or whose token
//! carries `app_metadata.role` / `user_role` = `admin`. The private buckets
//! (`call-recordings`, `generated-images`) can be made readable only from one's own folder
//! (`{sub}/…`) or by managers and admins, as the project's storage policies say
//! ([`StorageFake::enforce_private_reads`]; off by default, as older tests read any folder with
//! any user's token); like the real server, an object the caller may not read is "not found".
//!
//! Bytes are kept on disk in a temp dir, never in memory, so gigabyte tests stay flat.
//! Faults ([`StorageFault`]) are queued per kind of request ([`On`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use super::{Body, ScriptedCut, full_body, json_response, stop_serving};

/// Which requests a queued fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// TUS `PATCH` (a chunk).
    Patch,
    /// TUS `HEAD`.
    Head,
    /// TUS creation `POST`.
    Create,
    /// Standard upload `POST /object/...`.
    Upload,
    /// Authenticated download `GET`.
    Download,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StorageFault {
    /// Uploads: read about half the body, then cut the connection (the chunk is discarded).
    /// Downloads: send about half the body, then cut.
    CutMidBody,
    /// Answer this status (object routes: the 400-with-statusCode habit for 4xx; 5xx as is).
    Status(u16),
    /// Wait before handling.
    Latency(Duration),
    /// A slow link: wait this long per 64 KiB moved.
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct BucketPolicy {
    pub max_bytes: Option<u64>,
    /// `None`: any. Entries may be `image/*`.
    pub allowed_mime: Option<Vec<String>>,
    pub admin_writes_only: bool,
}

/// A request as the fake saw it (headers and body size; bodies are not kept).
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// Body bytes received (for uploads, before any cut).
    pub body_len: u64,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
struct Object {
    file: PathBuf,
    size: u64,
    mime: String,
    id: String,
}

#[derive(Debug)]
struct Upload {
    bucket: String,
    path: String,
    length: u64,
    offset: u64,
    mime: String,
    upsert: bool,
    file: PathBuf,
    expired: bool,
}

struct State {
    secret: String,
    dir: tempfile::TempDir,
    origin: String,
    /// What the server believes its public URL is (Location's base), when set.
    public_url: Mutex<Option<String>>,
    buckets: Mutex<HashMap<String, BucketPolicy>>,
    admins: Mutex<HashSet<String>>,
    managers: Mutex<HashSet<String>>,
    private_reads: std::sync::atomic::AtomicBool,
    objects: Mutex<HashMap<(String, String), Object>>,
    uploads: Mutex<HashMap<String, Upload>>,
    /// One request at a time per upload id (see `upload_lock`).
    upload_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    faults: Mutex<VecDeque<(On, StorageFault)>>,
    requests: Mutex<Vec<SeenRequest>>,
    connections: Mutex<Vec<AbortHandle>>,
    next_file: AtomicU64,
}

pub struct StorageFake {
    addr: SocketAddr,
    state: Arc<State>,
    accept: AbortHandle,
}

impl Drop for StorageFake {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The buckets Salesdesk's project defines, with their policies.
pub fn salesdesk_buckets() -> HashMap<String, BucketPolicy> {
    let mime = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect());
    HashMap::from([
        (
            "training-materials".to_owned(),
            BucketPolicy {
                max_bytes: Some(500 * 1024 * 1024),
                allowed_mime: None,
                admin_writes_only: true,
            },
        ),
        (
            "call-recordings".to_owned(),
            BucketPolicy {
                max_bytes: Some(2 * 1024 * 1024 * 1024),
                allowed_mime: mime(&["audio/*", "video/*", "text/*", "application/x-subrip"]),
                admin_writes_only: false,
            },
        ),
        (
            "user-avatars".to_owned(),
            BucketPolicy {
                max_bytes: Some(5 * 1024 * 1024),
                allowed_mime: mime(&["image/png", "image/jpeg", "image/webp", "image/gif"]),
                admin_writes_only: false,
            },
        ),
        (
            "generated-images".to_owned(),
            BucketPolicy {
                max_bytes: Some(20 * 1024 * 1024),
                allowed_mime: mime(&["image/*"]),
                admin_writes_only: false,
            },
        ),
    ])
}

impl StorageFake {
    /// Starts the fake with Salesdesk's buckets, checking tokens against `jwt_secret`.
    pub async fn start(jwt_secret: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let dir = tempfile::Builder::new()
            .prefix("storage-fake-")
            .tempdir()
            .expect("temp dir");
        let state = Arc::new(State {
            secret: jwt_secret.to_owned(),
            dir,
            origin: format!("http://{addr}"),
            public_url: Mutex::new(None),
            buckets: Mutex::new(salesdesk_buckets()),
            admins: Mutex::new(HashSet::new()),
            managers: Mutex::new(HashSet::new()),
            private_reads: std::sync::atomic::AtomicBool::new(false),
            objects: Mutex::new(HashMap::new()),
            uploads: Mutex::new(HashMap::new()),
            upload_locks: Mutex::new(HashMap::new()),
            faults: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            connections: Mutex::new(Vec::new()),
            next_file: AtomicU64::new(1),
        });
        let accept = super::serve_http1(listener, state.clone(), |s| &s.connections, handle);
        Self {
            addr,
            state,
            accept,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The project URL (`http://127.0.0.1:PORT`); the API is under `/storage/v1`.
    pub fn origin(&self) -> String {
        self.state.origin.clone()
    }

    /// Makes TUS `Location`s start with `url` instead of what the request's headers say (the
    /// real server's `STORAGE_PUBLIC_URL`, or a gateway that reports another host, port or
    /// no prefix). `None`: back to the headers.
    pub fn set_public_url(&self, url: Option<&str>) {
        if let Ok(mut p) = self.state.public_url.lock() {
            *p = url.map(str::to_owned);
        }
    }

    pub fn set_bucket(&self, name: &str, policy: BucketPolicy) {
        self.state
            .buckets
            .lock()
            .expect("lock")
            .insert(name.to_owned(), policy);
    }

    /// Makes the user `sub` an admin (as the team's profile table would).
    pub fn add_admin(&self, sub: &str) {
        self.state
            .admins
            .lock()
            .expect("lock")
            .insert(sub.to_owned());
    }

    /// Makes the user `sub` a manager (reads the private buckets' every folder).
    pub fn add_manager(&self, sub: &str) {
        self.state
            .managers
            .lock()
            .expect("lock")
            .insert(sub.to_owned());
    }

    /// From now on the private buckets are read as the project's policies say: the owner's
    /// folder, or any folder for managers and admins.
    pub fn enforce_private_reads(&self) {
        self.state.private_reads.store(true, Ordering::SeqCst);
    }

    /// Queues a fault for the next request of kind `on`.
    pub fn fault(&self, on: On, fault: StorageFault) {
        self.state
            .faults
            .lock()
            .expect("lock")
            .push_back((on, fault));
    }

    /// Marks every upload in progress as expired (HEAD/PATCH answer 410).
    pub fn expire_uploads(&self) {
        for u in self.state.uploads.lock().expect("lock").values_mut() {
            u.expired = true;
        }
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.state.requests.lock().expect("lock").clone()
    }

    pub fn clear_requests(&self) {
        self.state.requests.lock().expect("lock").clear();
    }

    /// Requests with this method whose path starts with `prefix` (after `/storage/v1`).
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(&format!("/storage/v1{prefix}")))
            .count()
    }

    /// Size and SHA-256 of a stored object.
    pub fn object_digest(&self, bucket: &str, path: &str) -> Option<(u64, String)> {
        let obj = self.object(bucket, path)?;
        let mut f = std::fs::File::open(&obj.file).ok()?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf).ok()?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Some((
            obj.size,
            h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    pub fn object_mime(&self, bucket: &str, path: &str) -> Option<String> {
        self.object(bucket, path).map(|o| o.mime)
    }

    /// Stores an object directly (as another client would have).
    pub fn put_object(&self, bucket: &str, path: &str, bytes: &[u8], mime: &str) {
        let file = self.state.new_file();
        std::fs::write(&file, bytes).expect("write object");
        self.state.objects.lock().expect("lock").insert(
            (bucket.to_owned(), path.to_owned()),
            Object {
                file,
                size: bytes.len() as u64,
                mime: mime.to_owned(),
                id: uuid::Uuid::new_v4().to_string(),
            },
        );
    }

    /// Uploads in progress: (object path, offset, length).
    pub fn uploads(&self) -> Vec<(String, u64, u64)> {
        self.state
            .uploads
            .lock()
            .expect("lock")
            .values()
            .map(|u| (u.path.clone(), u.offset, u.length))
            .collect()
    }

    fn object(&self, bucket: &str, path: &str) -> Option<Object> {
        self.state
            .objects
            .lock()
            .expect("lock")
            .get(&(bucket.to_owned(), path.to_owned()))
            .cloned()
    }

    /// Stops accepting and cuts every open connection.
    pub fn stop(&self) {
        stop_serving(&self.accept, &self.state.connections);
    }
}

impl State {
    /// The lock of upload `id`. The real server takes a lock per upload for each request (its
    /// upload locker): a HEAD or PATCH that arrives while a cut PATCH is still being wound up
    /// (keeping what arrived) waits for it, so it sees the offset that includes those bytes and
    /// two requests never append at once.
    fn upload_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.upload_locks
            .lock()
            .expect("lock")
            .entry(id.to_owned())
            .or_default()
            .clone()
    }

    fn new_file(&self) -> PathBuf {
        let n = self.next_file.fetch_add(1, Ordering::SeqCst);
        self.dir.path().join(format!("blob-{n}"))
    }

    fn take_fault(&self, on: On) -> Option<StorageFault> {
        let mut q = self.faults.lock().ok()?;
        let i = q.iter().position(|(o, _)| *o == on)?;
        q.remove(i).map(|(_, f)| f)
    }

    fn policy(&self, bucket: &str) -> Option<BucketPolicy> {
        self.buckets.lock().ok()?.get(bucket).cloned()
    }
}

/// Storage's error body on object routes: HTTP 400, the real status as a string.
fn storage_error(status: u16, error: &str, message: &str) -> Response<Body> {
    let http = if status >= 500 { status } else { 400 };
    let code = match status {
        403 => "AccessDenied",
        404 => "NoSuchKey",
        409 => "KeyAlreadyExists",
        413 => "EntityTooLarge",
        416 => "InvalidRange",
        415 => "InvalidMimeType",
        s if s >= 500 => "InternalError",
        _ => "InvalidRequest",
    };
    json_response(
        http,
        json!({"statusCode": status.to_string(), "error": error, "message": message, "code": code}),
    )
}

/// The base of a TUS `Location`, as the real server builds it: a configured public URL, else
/// the forwarded host and prefix a gateway passed, else the request's `Host`.
fn location_base(state: &State, headers: &hyper::HeaderMap) -> String {
    if let Some(url) = state.public_url.lock().ok().and_then(|p| p.clone()) {
        return url.trim_end_matches('/').to_owned();
    }
    let proto = header(headers, "x-forwarded-proto").unwrap_or("http");
    let host = header(headers, "x-forwarded-host")
        .or_else(|| header(headers, "host"))
        .map(str::to_owned)
        .unwrap_or_else(|| state.origin.trim_start_matches("http://").to_owned());
    // This fake serves the gateway's paths itself: its prefix is /storage/v1.
    let prefix = header(headers, "x-forwarded-prefix").unwrap_or("/storage/v1");
    format!("{proto}://{host}{}", prefix.trim_end_matches('/'))
}

/// A TUS answer: real status, text body, `Tus-Resumable` header.
fn tus_response(status: u16, message: &str) -> Response<Body> {
    let mut r = Response::new(full_body(message.to_owned()));
    *r.status_mut() = StatusCode::from_u16(status).expect("status");
    r.headers_mut()
        .insert("tus-resumable", "1.0.0".parse().expect("header"));
    r
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Claims {
    sub: String,
    role: String,
    #[serde(default)]
    app_metadata: Value,
    #[serde(default)]
    user_role: Option<String>,
}

enum AuthError {
    Expired,
    Invalid(String),
}

impl AuthError {
    /// The real server's words (its JWT library's message).
    fn message(&self) -> &str {
        match self {
            AuthError::Expired => "\"exp\" claim timestamp check failed",
            AuthError::Invalid(m) => m,
        }
    }
}

fn check_jwt(state: &State, headers: &hyper::HeaderMap) -> Result<Claims, AuthError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            AuthError::Invalid("headers must have required property 'authorization'".into())
        })?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["authenticated"]);
    validation.leeway = 0;
    match jsonwebtoken::decode::<Claims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(state.secret.as_bytes()),
        &validation,
    ) {
        Ok(data) if data.claims.role == "authenticated" => Ok(data.claims),
        Ok(_) => Err(AuthError::Invalid("Access denied: Invalid role".into())),
        Err(e) => match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => Err(AuthError::Expired),
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                Err(AuthError::Invalid("signature verification failed".into()))
            }
            _ => Err(AuthError::Invalid("Invalid Compact JWS".into())),
        },
    }
}

fn is_admin(state: &State, c: &Claims) -> bool {
    state
        .admins
        .lock()
        .map(|a| a.contains(&c.sub))
        .unwrap_or(false)
        || c.app_metadata.get("role").and_then(Value::as_str) == Some("admin")
        || c.user_role.as_deref() == Some("admin")
}

/// Buckets whose objects only their owner (first folder), managers and admins may read.
const PRIVATE_READ_BUCKETS: [&str; 2] = ["call-recordings", "generated-images"];

fn may_read(state: &State, c: &Claims, bucket: &str, path: &str) -> bool {
    !state.private_reads.load(Ordering::SeqCst)
        || !PRIVATE_READ_BUCKETS.contains(&bucket)
        || path.split('/').next() == Some(c.sub.as_str())
        || is_admin(state, c)
        || state
            .managers
            .lock()
            .map(|m| m.contains(&c.sub))
            .unwrap_or(false)
}

fn mime_ok(policy: &BucketPolicy, mime: &str) -> bool {
    let mime = mime.split(';').next().unwrap_or("").trim();
    match &policy.allowed_mime {
        None => true,
        Some(list) => list.iter().any(|a| match a.strip_suffix("/*") {
            Some(fam) => mime.split('/').next() == Some(fam),
            None => a.eq_ignore_ascii_case(mime),
        }),
    }
}

/// Why a write is refused, as (status, error, message).
fn write_refusal(
    state: &State,
    claims: &Claims,
    bucket: &str,
    path: &str,
    size: Option<u64>,
    mime: &str,
    upsert: bool,
) -> Option<(u16, &'static str, String)> {
    let Some(policy) = state.policy(bucket) else {
        return Some((404, "Bucket not found", "Bucket not found".into()));
    };
    if policy.admin_writes_only && !is_admin(state, claims) {
        return Some((
            403,
            "Unauthorized",
            "new row violates row-level security policy".into(),
        ));
    }
    if let (Some(limit), Some(size)) = (policy.max_bytes, size)
        && size > limit
    {
        return Some((
            413,
            "Payload too large",
            "The object exceeded the maximum allowed size".into(),
        ));
    }
    if !mime_ok(&policy, mime) {
        return Some((
            415,
            "invalid_mime_type",
            format!("mime type {mime} is not supported"),
        ));
    }
    let exists = state
        .objects
        .lock()
        .map(|o| o.contains_key(&(bucket.to_owned(), path.to_owned())))
        .unwrap_or(false);
    if exists && !upsert {
        return Some((409, "Duplicate", "The resource already exists".into()));
    }
    None
}

fn header<'a>(headers: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn decode_path(p: &str) -> String {
    let bytes = p.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&p[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a request body into `file` (created), stopping early for a cut. Returns bytes read,
/// or `Err(read)` if the body was cut (by us or by the client).
async fn receive(
    mut body: Incoming,
    file: &PathBuf,
    cut_after: Option<u64>,
    slow: Option<Duration>,
) -> Result<u64, u64> {
    let Ok(mut out) = tokio::fs::File::create(file).await else {
        return Err(0);
    };
    let mut n = 0u64;
    let mut since_pause = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(n) };
        if let Ok(data) = frame.into_data() {
            if out.write_all(&data).await.is_err() {
                return Err(n);
            }
            n += data.len() as u64;
            since_pause += data.len() as u64;
            if let Some(d) = slow
                && since_pause >= 64 * 1024
            {
                since_pause = 0;
                tokio::time::sleep(d).await;
            }
            if let Some(limit) = cut_after
                && n >= limit
            {
                return Err(n);
            }
        }
    }
    let _ = out.flush().await;
    Ok(n)
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, ScriptedCut> {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let raw_path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let headers = parts.headers;
    let seen_index = {
        let mut r = state.requests.lock().expect("lock");
        r.push(SeenRequest {
            method: method.clone(),
            path: raw_path.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body_len: 0,
        });
        r.len() - 1
    };
    let set_len = |n: u64| {
        if let Ok(mut r) = state.requests.lock()
            && let Some(s) = r.get_mut(seen_index)
        {
            s.body_len = n;
        }
    };
    let Some(rest) = raw_path.strip_prefix("/storage/v1") else {
        return Ok(json_response(
            404,
            json!({"message": "no Route matched with those values"}),
        ));
    };
    let rest = rest.to_owned();

    // --- TUS -------------------------------------------------------------------------------
    if let Some(tail) = rest.strip_prefix("/upload/resumable") {
        let kind = match (method.as_str(), tail) {
            ("OPTIONS", _) => {
                let mut r = tus_response(204, "");
                let h = r.headers_mut();
                h.insert("tus-version", "1.0.0".parse().expect("h"));
                h.insert("tus-extension", "creation,termination".parse().expect("h"));
                return Ok(r);
            }
            ("POST", "" | "/") => On::Create,
            ("HEAD", _) => On::Head,
            ("PATCH", _) => On::Patch,
            ("DELETE", _) => On::Head,
            _ => return Ok(tus_response(405, "Method not allowed")),
        };
        let fault = state.take_fault(kind);
        let mut slow = None;
        match fault {
            Some(StorageFault::Status(s)) => {
                // Read the request out first, so the client sees this answer rather than a
                // connection closed under the body it is still sending.
                let _ = body.collect().await;
                return Ok(tus_response(s, "Injected failure"));
            }
            Some(StorageFault::Latency(d)) => tokio::time::sleep(d).await,
            Some(StorageFault::Slow(d)) => slow = Some(d),
            _ => {}
        }
        if header(&headers, "tus-resumable") != Some("1.0.0") {
            let mut r = tus_response(412, "Unsupported version");
            r.headers_mut()
                .insert("tus-version", "1.0.0".parse().expect("h"));
            return Ok(r);
        }
        let claims = match check_jwt(&state, &headers) {
            Ok(c) => c,
            Err(e) => return Ok(storage_error(403, "Unauthorized", e.message())),
        };
        let upsert = header(&headers, "x-upsert") == Some("true");
        if kind == On::Create {
            let Some(length) =
                header(&headers, "upload-length").and_then(|v| v.parse::<u64>().ok())
            else {
                return Ok(tus_response(
                    400,
                    "Upload-Length or Upload-Defer-Length header required",
                ));
            };
            let meta = parse_metadata(header(&headers, "upload-metadata").unwrap_or(""));
            let (Some(bucket), Some(path)) = (meta.get("bucketName"), meta.get("objectName"))
            else {
                return Ok(tus_response(
                    400,
                    "Upload-Metadata must name bucketName and objectName",
                ));
            };
            let mime = meta
                .get("contentType")
                .cloned()
                .unwrap_or_else(|| "application/octet-stream".into());
            if let Some((s, _, m)) =
                write_refusal(&state, &claims, bucket, path, Some(length), &mime, upsert)
            {
                return Ok(tus_response(s, &m));
            }
            let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("{bucket}/{path}/{}", uuid::Uuid::new_v4()));
            let file = state.new_file();
            if std::fs::write(&file, b"").is_err() {
                return Ok(tus_response(500, "storage error"));
            }
            state.uploads.lock().expect("lock").insert(
                id.clone(),
                Upload {
                    bucket: bucket.clone(),
                    path: path.clone(),
                    length,
                    offset: 0,
                    mime,
                    upsert,
                    file,
                    expired: false,
                },
            );
            let mut r = tus_response(201, "");
            r.headers_mut().insert(
                "location",
                format!("{}/upload/resumable/{id}", location_base(&state, &headers))
                    .parse()
                    .expect("h"),
            );
            return Ok(r);
        }
        let id = tail.trim_start_matches('/').to_owned();
        let lock = state.upload_lock(&id);
        let _one_at_a_time = lock.lock().await;
        let (offset, length, bucket, path, _created_with_upsert, file, mime) = {
            let uploads = state.uploads.lock().expect("lock");
            let Some(u) = uploads.get(&id) else {
                return Ok(tus_response(404, "Upload not found"));
            };
            if u.expired {
                return Ok(tus_response(410, "Upload expired"));
            }
            (
                u.offset,
                u.length,
                u.bucket.clone(),
                u.path.clone(),
                u.upsert,
                u.file.clone(),
                u.mime.clone(),
            )
        };
        if kind == On::Head && method == "HEAD" {
            let mut r = tus_response(200, "");
            let h = r.headers_mut();
            h.insert("upload-offset", offset.to_string().parse().expect("h"));
            h.insert("upload-length", length.to_string().parse().expect("h"));
            h.insert("cache-control", "no-store".parse().expect("h"));
            return Ok(r);
        }
        if method == "DELETE" {
            state.uploads.lock().expect("lock").remove(&id);
            return Ok(tus_response(204, ""));
        }
        // PATCH
        if header(&headers, "content-type") != Some("application/offset+octet-stream") {
            return Ok(tus_response(
                415,
                "Content-Type must be application/offset+octet-stream",
            ));
        }
        if header(&headers, "upload-offset").and_then(|v| v.parse::<u64>().ok()) != Some(offset) {
            return Ok(tus_response(409, "Upload-Offset conflict"));
        }
        // The write permission (and overwrite) is checked again on every chunk.
        if let Some((s, _, m)) = write_refusal(&state, &claims, &bucket, &path, None, &mime, upsert)
        {
            return Ok(tus_response(s, &m));
        }
        let declared = header(&headers, "content-length").and_then(|v| v.parse::<u64>().ok());
        let cut_after = match fault {
            Some(StorageFault::CutMidBody) => Some(declared.unwrap_or(2) / 2),
            _ => None,
        };
        let chunk = state.new_file();
        let received = receive(body, &chunk, cut_after, slow).await;
        let n = match received {
            Ok(n) => n,
            Err(n) => {
                set_len(n);
                // What arrived before the cut is kept and counts in the offset, as the real
                // server keeps it; then the connection goes.
                if n > 0 && offset + n < length && append(&file, &chunk).await.is_ok() {
                    let mut uploads = state.uploads.lock().expect("lock");
                    if let Some(u) = uploads.get_mut(&id) {
                        u.offset = offset + n;
                    }
                }
                let _ = tokio::fs::remove_file(&chunk).await;
                return Err(ScriptedCut);
            }
        };
        set_len(n);
        if offset + n > length {
            let _ = tokio::fs::remove_file(&chunk).await;
            return Ok(tus_response(
                400,
                "Upload-Offset + body exceeds Upload-Length",
            ));
        }
        if append(&file, &chunk).await.is_err() {
            return Ok(tus_response(500, "storage error"));
        }
        let _ = tokio::fs::remove_file(&chunk).await;
        let new_offset = offset + n;
        {
            let mut uploads = state.uploads.lock().expect("lock");
            if let Some(u) = uploads.get_mut(&id) {
                u.offset = new_offset;
            }
            if new_offset == length {
                uploads.remove(&id);
                state.objects.lock().expect("lock").insert(
                    (bucket, path),
                    Object {
                        file,
                        size: length,
                        mime,
                        id: uuid::Uuid::new_v4().to_string(),
                    },
                );
            }
        }
        let mut r = tus_response(204, "");
        r.headers_mut()
            .insert("upload-offset", new_offset.to_string().parse().expect("h"));
        return Ok(r);
    }

    // --- object routes ---------------------------------------------------------------------
    // Signed downloads carry their own token in the query.
    if method == "GET"
        && let Some(p) = rest.strip_prefix("/object/sign/")
    {
        return Ok(signed_download(&state, &decode_path(p), &query).await);
    }
    let kind = match method.as_str() {
        "POST"
            if rest.starts_with("/object/")
                && !rest.starts_with("/object/sign/")
                && !rest.starts_with("/object/list/") =>
        {
            Some(On::Upload)
        }
        "GET" => Some(On::Download),
        _ => None,
    };
    let fault = kind.and_then(|k| state.take_fault(k));
    let mut slow = None;
    match &fault {
        Some(StorageFault::Status(s)) => {
            let _ = body.collect().await;
            return Ok(storage_error(*s, "Injected", "injected failure"));
        }
        Some(StorageFault::Latency(d)) => tokio::time::sleep(*d).await,
        Some(StorageFault::Slow(d)) => slow = Some(*d),
        _ => {}
    }
    let claims = match check_jwt(&state, &headers) {
        Ok(c) => c,
        Err(e) => return Ok(storage_error(403, "Unauthorized", e.message())),
    };
    let split = |p: &str| -> Option<(String, String)> {
        let p = decode_path(p);
        let (b, o) = p.split_once('/')?;
        Some((b.to_owned(), o.to_owned()))
    };
    if method == "POST"
        && let Some(p) = rest.strip_prefix("/object/sign/")
    {
        let Some((bucket, path)) = split(p) else {
            return Ok(storage_error(400, "Invalid", "invalid path"));
        };
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let Some(expires) = v.get("expiresIn").and_then(Value::as_u64) else {
            return Ok(storage_error(
                400,
                "Invalid",
                "body must have required property 'expiresIn'",
            ));
        };
        if !may_read(&state, &claims, &bucket, &path)
            || !state
                .objects
                .lock()
                .expect("lock")
                .contains_key(&(bucket.clone(), path.clone()))
        {
            return Ok(storage_error(404, "not_found", "Object not found"));
        }
        let exp = crate::supabase::unix_now() + expires as i64;
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &json!({"url": format!("{bucket}/{path}"), "iat": exp - expires as i64, "exp": exp}),
            &jsonwebtoken::EncodingKey::from_secret(state.secret.as_bytes()),
        )
        .expect("sign");
        return Ok(json_response(
            200,
            json!({"signedURL": format!("/object/sign/{bucket}/{path}?token={token}")}),
        ));
    }
    if method == "POST"
        && let Some(bucket) = rest.strip_prefix("/object/list/")
    {
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let prefix = v
            .get("prefix")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_matches('/');
        return Ok(json_response(200, list(&state, bucket, prefix)));
    }
    if method == "DELETE" {
        let Some(target) = rest.strip_prefix("/object/") else {
            return Ok(storage_error(404, "not_found", "Route not found"));
        };
        let (bucket, paths) = match split(target) {
            Some((b, p)) => (b, vec![p]),
            None => {
                let bytes = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let Some(prefixes) = v.get("prefixes").and_then(Value::as_array) else {
                    return Ok(storage_error(
                        400,
                        "Invalid",
                        "body must have required property 'prefixes'",
                    ));
                };
                (
                    decode_path(target),
                    prefixes
                        .iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect(),
                )
            }
        };
        let Some(policy) = state.policy(&bucket) else {
            return Ok(storage_error(404, "Bucket not found", "Bucket not found"));
        };
        if policy.admin_writes_only && !is_admin(&state, &claims) {
            // Storage's delete under RLS silently deletes nothing.
            return Ok(json_response(200, json!([])));
        }
        let mut deleted = Vec::new();
        for p in paths {
            if let Some(o) = state
                .objects
                .lock()
                .expect("lock")
                .remove(&(bucket.clone(), p.clone()))
            {
                let _ = std::fs::remove_file(&o.file);
                deleted.push(json!({"name": p, "bucket_id": bucket, "id": o.id}));
            }
        }
        return Ok(json_response(200, Value::Array(deleted)));
    }
    if (method == "GET" || method == "HEAD")
        && let Some(p) = rest.strip_prefix("/object/authenticated/")
    {
        let Some((bucket, path)) = split(p) else {
            return Ok(storage_error(400, "Invalid", "invalid path"));
        };
        if !may_read(&state, &claims, &bucket, &path) {
            return Ok(storage_error(404, "not_found", "Object not found"));
        }
        let obj = state
            .objects
            .lock()
            .expect("lock")
            .get(&(bucket, path))
            .cloned();
        let Some(obj) = obj else {
            return Ok(storage_error(404, "not_found", "Object not found"));
        };
        if method == "HEAD" {
            // hyper sends no body for HEAD; the headers say what a GET would send.
            let mut r = serve_object(&obj, None, false, None).await;
            *r.body_mut() = full_body("");
            return Ok(r);
        }
        let cut = matches!(fault, Some(StorageFault::CutMidBody));
        return Ok(serve_object(&obj, header(&headers, "range"), cut, slow).await);
    }
    if method == "POST"
        && let Some(p) = rest.strip_prefix("/object/")
    {
        let Some((bucket, path)) = split(p) else {
            return Ok(storage_error(400, "Invalid", "invalid path"));
        };
        let mime = header(&headers, "content-type")
            .unwrap_or("text/plain;charset=UTF-8")
            .to_owned();
        let upsert = header(&headers, "x-upsert") == Some("true");
        let declared = header(&headers, "content-length").and_then(|v| v.parse::<u64>().ok());
        if let Some((s, e, m)) =
            write_refusal(&state, &claims, &bucket, &path, declared, &mime, upsert)
        {
            return Ok(storage_error(s, e, &m));
        }
        let file = state.new_file();
        let cut_after = match fault {
            Some(StorageFault::CutMidBody) => Some(declared.unwrap_or(2) / 2),
            _ => None,
        };
        let n = match receive(body, &file, cut_after, slow).await {
            Ok(n) => n,
            Err(n) => {
                set_len(n);
                let _ = std::fs::remove_file(&file);
                return Err(ScriptedCut);
            }
        };
        set_len(n);
        if let Some(limit) = state.policy(&bucket).and_then(|p| p.max_bytes)
            && n > limit
        {
            let _ = std::fs::remove_file(&file);
            return Ok(storage_error(
                413,
                "Payload too large",
                "The object exceeded the maximum allowed size",
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        state.objects.lock().expect("lock").insert(
            (bucket.clone(), path.clone()),
            Object {
                file,
                size: n,
                mime,
                id: id.clone(),
            },
        );
        return Ok(json_response(
            200,
            json!({"Id": id, "Key": format!("{bucket}/{path}")}),
        ));
    }
    Ok(storage_error(404, "not_found", "Route not found"))
}

/// Appends a received part to its upload. One blocking copy (the kernel's copy_file_range on
/// Linux) rather than tokio's 8 KiB async copy, whose thousands of thread hops per chunk made
/// the fake, not the client, the bottleneck of the resumable-upload benchmark.
async fn append(dest: &std::path::Path, chunk: &std::path::Path) -> std::io::Result<()> {
    let (dest, chunk) = (dest.to_owned(), chunk.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut out = std::fs::OpenOptions::new().append(true).open(&dest)?;
        let mut input = std::fs::File::open(&chunk)?;
        std::io::copy(&mut input, &mut out)?;
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}

fn parse_metadata(v: &str) -> HashMap<String, String> {
    v.split(',')
        .filter_map(|pair| {
            let mut it = pair.trim().splitn(2, ' ');
            let k = it.next()?.to_owned();
            let val = it
                .next()
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            Some((k, val))
        })
        .collect()
}

fn list(state: &State, bucket: &str, prefix: &str) -> Value {
    let objects = state.objects.lock().expect("lock");
    let mut folders = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    for ((b, p), o) in objects.iter() {
        if b != bucket {
            continue;
        }
        let rel = if prefix.is_empty() {
            p.as_str()
        } else if let Some(r) = p.strip_prefix(&format!("{prefix}/")) {
            r
        } else {
            continue;
        };
        match rel.split_once('/') {
            Some((folder, _)) => {
                folders.insert(folder.to_owned());
            }
            None => files.push(json!({
                "name": rel, "id": o.id,
                "metadata": {"size": o.size, "mimetype": o.mime},
            })),
        }
    }
    let mut out: Vec<Value> = folders
        .into_iter()
        .map(|f| json!({"name": f, "id": null, "metadata": null}))
        .collect();
    out.extend(files);
    Value::Array(out)
}

async fn signed_download(state: &State, p: &str, query: &str) -> Response<Body> {
    let token = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or("");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims = HashSet::from(["exp".to_owned()]);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(state.secret.as_bytes()),
        &validation,
    );
    let Ok(data) = claims else {
        return storage_error(400, "InvalidJWT", "invalid or expired signature");
    };
    if data.claims.get("url").and_then(Value::as_str) != Some(p) {
        return storage_error(
            400,
            "InvalidSignature",
            "the url do not match the signature",
        );
    }
    let Some((b, o)) = p.split_once('/') else {
        return storage_error(400, "Invalid", "invalid path");
    };
    let obj = state
        .objects
        .lock()
        .expect("lock")
        .get(&(b.to_owned(), o.to_owned()))
        .cloned();
    match obj {
        Some(obj) => serve_object(&obj, None, false, None).await,
        None => storage_error(404, "not_found", "Object not found"),
    }
}

/// Streams an object from disk, honouring `Range: bytes=<start>-[<end>]`.
async fn serve_object(
    obj: &Object,
    range: Option<&str>,
    cut: bool,
    slow: Option<Duration>,
) -> Response<Body> {
    let size = obj.size;
    let (start, end) = match range.and_then(|r| r.strip_prefix("bytes=")) {
        Some(spec) => {
            let (s, e) = spec.split_once('-').unwrap_or((spec, ""));
            let s: u64 = s.parse().unwrap_or(0);
            let e: u64 = e
                .parse()
                .unwrap_or(size.saturating_sub(1))
                .min(size.saturating_sub(1));
            if s >= size {
                // The real server: a real 416, its JSON error, no Content-Range.
                let mut r = storage_error(416, "invalid_range", "invalid range provided");
                *r.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                return r;
            }
            (s, e)
        }
        None => (0, size.saturating_sub(1)),
    };
    let len = if size == 0 { 0 } else { end - start + 1 };
    let Ok(mut file) = tokio::fs::File::open(&obj.file).await else {
        return storage_error(500, "internal", "storage error");
    };
    if file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return storage_error(500, "internal", "storage error");
    }
    let send_limit = if cut { len / 2 } else { len };
    let stream = futures_util::stream::unfold(
        (file, 0u64, false),
        move |(mut file, sent, done)| async move {
            if done {
                return None;
            }
            if sent >= send_limit {
                if cut && send_limit < len {
                    // Let hyper flush what was sent before the cut.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    return Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "cut",
                        )),
                        (file, sent, true),
                    ));
                }
                return None;
            }
            if let Some(d) = slow {
                tokio::time::sleep(d).await;
            }
            let want = (send_limit - sent).min(64 * 1024) as usize;
            let mut buf = vec![0u8; want];
            match file.read_exact(&mut buf).await {
                Ok(_) => Some((
                    Ok(Frame::data(Bytes::from(buf))),
                    (file, sent + want as u64, false),
                )),
                Err(e) => Some((Err(e), (file, sent, true))),
            }
        },
    );
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    if range.is_some() {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    let h = r.headers_mut();
    h.insert(
        "content-type",
        obj.mime
            .parse()
            .unwrap_or_else(|_| "application/octet-stream".parse().expect("h")),
    );
    h.insert("content-length", len.to_string().parse().expect("h"));
    h.insert("accept-ranges", "bytes".parse().expect("h"));
    h.insert("etag", format!("\"{}\"", obj.id).parse().expect("h"));
    if range.is_some() {
        h.insert(
            "content-range",
            format!("bytes {start}-{end}/{size}").parse().expect("h"),
        );
    }
    r
}
