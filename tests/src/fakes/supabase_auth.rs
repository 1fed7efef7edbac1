//! A wire-faithful fake of Supabase Auth (GoTrue) as a Supabase project serves it under
//! `/auth/v1`: `POST /signup`, `POST /token?grant_type=password|refresh_token`,
//! `POST /logout?scope=global|local|others`, `POST /recover`, `POST /verify`, `GET /user`,
//! `PUT /user` (password only).
//!
//! What it reproduces, because the client depends on it:
//! - the API gateway's `apikey` check (401 `{message, hint}` without an Auth error code);
//! - Auth's error bodies `{code: <status>, error_code, msg}` with the `x-sb-error-code` header
//!   and the real statuses (400 `invalid_credentials` / `email_not_confirmed` /
//!   `refresh_token_not_found` / `refresh_token_already_used` / `session_expired`, 403
//!   `session_not_found` / `bad_jwt` / `otp_expired`, 422 `weak_password` /
//!   `user_already_exists`, 429 `over_request_rate_limit`);
//! - full user objects, and sessions `{access_token, token_type, expires_in, expires_at,
//!   refresh_token, user}`;
//! - access tokens signed as Supabase signs them (HS256, the project secret, the claims of
//!   [`crate::supabase::Claims`]);
//! - refresh-token rotation with reuse detection: a spent token used again within the reuse
//!   interval gets the current token back, later it revokes the session's whole token family;
//! - email confirmation required before password sign-in (unless turned off), with the emails
//!   kept in an outbox the test reads ([`SupabaseAuthFake::outbox`]);
//! - `scope` read from the logout query string only (the body is ignored, as on the server).
//!
//! State lives in memory; when built with [`SupabaseAuthFake::with_db`] every user, session and
//! refresh token is also written to the test cluster's `auth.users` / `auth.sessions` /
//! `auth.refresh_tokens`, so Postgres's RLS sees exactly what Auth did (sign-out deletes the
//! session row, and `app.authenticate` then refuses the token).
//!
//! Faults ([`AuthFault`]) are scripted per request: a network cut, a 5xx, latency, a 429 with
//! `Retry-After`. [`SupabaseAuthFake::set_offline`] cuts every request until turned back on.
//! Left out: OAuth, PKCE, phone, MFA, admin endpoints, and GoTrue's own rate limits.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;
use uuid::Uuid;

use super::{Body, Recorded, ScriptedCut, full_body, json_response, stop_serving};
use crate::supabase::{Claims, mint_token, unix_now};

/// What to do with one request (scripted with [`SupabaseAuthFake::script`]).
#[derive(Debug, Clone, PartialEq)]
pub enum AuthFault {
    /// Answer normally.
    Ok,
    /// Close the connection without answering (a network cut mid-request).
    Reset,
    /// An error status with Auth's body for it (`unexpected_failure` for a 5xx).
    Status(u16),
    /// 429 `over_request_rate_limit` with `Retry-After: secs`.
    RateLimited(u64),
    /// Wait, then do the inner fault.
    Latency(Duration, Box<AuthFault>),
}

/// An email the fake "sent": what the link or code in it carries.
#[derive(Debug, Clone)]
pub struct SentEmail {
    pub to: String,
    /// `signup` or `recovery`.
    pub kind: String,
    /// The `token_hash` of the link.
    pub token_hash: String,
    /// The 6-digit code shown in the email.
    pub otp: String,
}

#[derive(Debug, Clone)]
struct FakeUser {
    id: Uuid,
    identity_id: Uuid,
    email: String,
    password: String,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    confirmation_sent_at: Option<DateTime<Utc>>,
    recovery_sent_at: Option<DateTime<Utc>>,
    last_sign_in_at: Option<DateTime<Utc>>,
    user_metadata: Value,
}

#[derive(Debug, Clone)]
struct FakeSession {
    user: Uuid,
    not_after: Option<i64>,
}

#[derive(Debug, Clone)]
struct RefreshToken {
    session: Uuid,
    revoked_at: Option<Instant>,
    /// The token that replaced this one.
    child: Option<String>,
}

#[derive(Debug, Clone)]
struct PendingToken {
    user: Uuid,
    kind: &'static str,
    otp: String,
}

#[derive(Default)]
struct Inner {
    users: HashMap<Uuid, FakeUser>,
    sessions: HashMap<Uuid, FakeSession>,
    refresh_tokens: HashMap<String, RefreshToken>,
    pending: HashMap<String, PendingToken>,
    outbox: Vec<SentEmail>,
}

struct Config {
    confirm_email: bool,
    access_ttl: i64,
    reuse_interval: Duration,
}

struct Shared {
    anon_key: String,
    jwt_secret: String,
    db: Option<PgPool>,
    issuer: Mutex<String>,
    config: Mutex<Config>,
    inner: tokio::sync::Mutex<Inner>,
    script: Mutex<VecDeque<AuthFault>>,
    offline: AtomicBool,
    requests: Mutex<Vec<Recorded>>,
    connections: Mutex<Vec<AbortHandle>>,
}

/// A running fake Supabase Auth. Dropping it stops the server.
pub struct SupabaseAuthFake {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: AbortHandle,
}

impl Drop for SupabaseAuthFake {
    fn drop(&mut self) {
        stop_serving(&self.accept, &self.shared.connections);
    }
}

impl SupabaseAuthFake {
    /// A fake with its state in memory only, signing with `jwt_secret`, accepting `anon_key`.
    pub async fn start(anon_key: &str, jwt_secret: &str) -> Self {
        Self::start_inner(anon_key, jwt_secret, None).await
    }

    /// A fake that also writes users, sessions and refresh tokens to the `auth` schema behind
    /// `admin` (a superuser pool on the test database), signing with that project's secret.
    pub async fn with_db(anon_key: &str, jwt_secret: &str, admin: PgPool) -> Self {
        Self::start_inner(anon_key, jwt_secret, Some(admin)).await
    }

    async fn start_inner(anon_key: &str, jwt_secret: &str, db: Option<PgPool>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            anon_key: anon_key.to_owned(),
            jwt_secret: jwt_secret.to_owned(),
            db,
            issuer: Mutex::new(format!("http://{addr}/auth/v1")),
            config: Mutex::new(Config {
                confirm_email: true,
                access_ttl: 3600,
                reuse_interval: Duration::from_secs(10),
            }),
            inner: tokio::sync::Mutex::new(Inner::default()),
            script: Mutex::new(VecDeque::new()),
            offline: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            connections: Mutex::new(Vec::new()),
        });
        let accept = super::serve_http1(listener, shared.clone(), |s| &s.connections, handle);
        Self {
            addr,
            shared,
            accept,
        }
    }

    /// The project URL (`http://127.0.0.1:PORT`), what SUPABASE_URL holds; Auth is under
    /// `/auth/v1`.
    pub fn project_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Whether password sign-in waits for email confirmation (on by default, as on Supabase).
    pub fn set_confirm_email(&self, on: bool) {
        if let Ok(mut c) = self.shared.config.lock() {
            c.confirm_email = on;
        }
    }

    /// Access-token lifetime in seconds (Supabase's default: 3600).
    pub fn set_access_ttl(&self, secs: i64) {
        if let Ok(mut c) = self.shared.config.lock() {
            c.access_ttl = secs;
        }
    }

    /// How long a spent refresh token may be replayed harmlessly (Supabase's default: 10 s).
    pub fn set_reuse_interval(&self, d: Duration) {
        if let Ok(mut c) = self.shared.config.lock() {
            c.reuse_interval = d;
        }
    }

    /// Queues faults for the next requests, in order.
    pub fn script(&self, faults: impl IntoIterator<Item = AuthFault>) {
        if let Ok(mut s) = self.shared.script.lock() {
            s.extend(faults);
        }
    }

    /// While on, every request has its connection cut (the network is down).
    pub fn set_offline(&self, offline: bool) {
        self.shared.offline.store(offline, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Every email sent so far, oldest first.
    pub async fn outbox(&self) -> Vec<SentEmail> {
        self.shared.inner.lock().await.outbox.clone()
    }

    /// The newest email of `kind` sent to `to`.
    pub async fn last_email(&self, to: &str, kind: &str) -> Option<SentEmail> {
        self.outbox()
            .await
            .into_iter()
            .rev()
            .find(|e| e.to.eq_ignore_ascii_case(to) && e.kind == kind)
    }

    /// Live sessions of the user with this email.
    pub async fn session_count(&self, email: &str) -> usize {
        let inner = self.shared.inner.lock().await;
        let Some(user) = find_user(&inner, email) else {
            return 0;
        };
        inner.sessions.values().filter(|s| s.user == user).count()
    }

    /// Ends the time box of every session of `email` (as a project's session time-box or
    /// inactivity timeout does): their refresh tokens then answer `session_expired`.
    pub async fn expire_sessions(&self, email: &str) {
        let mut inner = self.shared.inner.lock().await;
        let Some(user) = find_user(&inner, email) else {
            return;
        };
        let past = unix_now() - 1;
        for s in inner.sessions.values_mut().filter(|s| s.user == user) {
            s.not_after = Some(past);
        }
        if let Some(db) = &self.shared.db {
            sqlx::query("update auth.sessions set not_after = to_timestamp($2) where user_id = $1")
                .bind(user)
                .bind(past as f64)
                .execute(db)
                .await
                .expect("expire sessions in auth.sessions");
        }
    }
}

fn find_user(inner: &Inner, email: &str) -> Option<Uuid> {
    inner
        .users
        .values()
        .find(|u| u.email.eq_ignore_ascii_case(email.trim()))
        .map(|u| u.id)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn random_token(len: usize) -> String {
    let mut out = String::new();
    while out.len() < len {
        out.push_str(&Uuid::new_v4().simple().to_string());
    }
    out.truncate(len);
    out
}

/// Auth's error response: `{code, error_code, msg}` and `x-sb-error-code`.
fn auth_error(status: u16, code: &str, msg: &str) -> Response<Body> {
    auth_error_with(status, code, msg, json!({}))
}

fn auth_error_with(status: u16, code: &str, msg: &str, extra: Value) -> Response<Body> {
    let mut body = json!({"code": status, "error_code": code, "msg": msg});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let mut r = json_response(status, body);
    r.headers_mut()
        .insert("x-sb-error-code", code.parse().expect("header"));
    r
}

/// The gateway's answer about the key: no Auth error code.
fn gateway_error(message: &str, hint: &str) -> Response<Body> {
    json_response(401, json!({"message": message, "hint": hint}))
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
    if let Ok(mut r) = shared.requests.lock() {
        r.push(recorded.clone());
    }
    if shared.offline.load(Ordering::SeqCst) {
        return Err(ScriptedCut);
    }
    let mut fault = shared
        .script
        .lock()
        .ok()
        .and_then(|mut s| s.pop_front())
        .unwrap_or(AuthFault::Ok);
    while let AuthFault::Latency(wait, inner) = fault {
        tokio::time::sleep(wait).await;
        fault = *inner;
    }
    match fault {
        AuthFault::Ok | AuthFault::Latency(..) => {}
        AuthFault::Reset => return Err(ScriptedCut),
        AuthFault::Status(status) => {
            let code = if status >= 500 {
                "unexpected_failure"
            } else {
                "request_timeout"
            };
            return Ok(auth_error(
                status,
                code,
                "Unexpected failure, please check server logs for more information",
            ));
        }
        AuthFault::RateLimited(secs) => {
            let mut r = auth_error(429, "over_request_rate_limit", "Request rate limit reached");
            r.headers_mut()
                .insert("retry-after", secs.to_string().parse().expect("header"));
            return Ok(r);
        }
    }
    match recorded.header("apikey") {
        None => {
            return Ok(gateway_error(
                "No API key found in request",
                "No `apikey` request header or url param was found.",
            ));
        }
        Some(k) if k != shared.anon_key => {
            return Ok(gateway_error(
                "Invalid API key",
                "Double check your Supabase `anon` or `service_role` API key.",
            ));
        }
        Some(_) => {}
    }
    let path = parts.uri.path();
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if !bytes.is_empty() && recorded.body.is_null() {
        return Ok(auth_error(
            400,
            "bad_json",
            "Could not parse request body as JSON",
        ));
    }
    let body = &recorded.body;
    let bearer = recorded
        .header("authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::to_owned);
    let method = parts.method.as_str();
    let resp = match (method, path) {
        ("POST", "/auth/v1/signup") => signup(&shared, body).await,
        ("POST", "/auth/v1/token") => match query.get("grant_type").map(String::as_str) {
            Some("password") => password_grant(&shared, body).await,
            Some("refresh_token") => refresh_grant(&shared, body).await,
            _ => auth_error(400, "validation_failed", "unsupported_grant_type"),
        },
        ("POST", "/auth/v1/logout") => logout(&shared, bearer, query.get("scope")).await,
        ("POST", "/auth/v1/recover") => recover(&shared, body).await,
        ("POST", "/auth/v1/verify") => verify(&shared, body).await,
        ("GET", "/auth/v1/user") => get_user(&shared, bearer).await,
        ("PUT", "/auth/v1/user") => update_user(&shared, bearer, body).await,
        _ => auth_error(404, "not_found", "Not found"),
    };
    Ok(resp)
}

fn str_field<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or("")
}

fn user_json(u: &FakeUser) -> Value {
    let confirmed = u.confirmed_at.map(ts);
    json!({
        "id": u.id,
        "aud": "authenticated",
        "role": "authenticated",
        "email": u.email,
        "email_confirmed_at": confirmed,
        "phone": "",
        "confirmation_sent_at": u.confirmation_sent_at.map(ts),
        "recovery_sent_at": u.recovery_sent_at.map(ts),
        "confirmed_at": confirmed,
        "last_sign_in_at": u.last_sign_in_at.map(ts),
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": u.user_metadata,
        "identities": [{
            "identity_id": u.identity_id,
            "id": u.id,
            "user_id": u.id,
            "identity_data": {"email": u.email, "email_verified": u.confirmed_at.is_some(), "phone_verified": false, "sub": u.id},
            "provider": "email",
            "last_sign_in_at": ts(u.created_at),
            "created_at": ts(u.created_at),
            "updated_at": ts(u.created_at),
            "email": u.email
        }],
        "created_at": ts(u.created_at),
        "updated_at": ts(Utc::now()),
        "is_anonymous": false
    })
}

async fn db_exec(
    shared: &Shared,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) {
    if let Some(db) = &shared.db {
        query.execute(db).await.expect("write to the auth schema");
    }
}

fn send_email(inner: &mut Inner, user: &FakeUser, kind: &'static str) {
    let token_hash = random_token(56);
    let otp = format!("{:06}", fastrand_u32() % 1_000_000);
    inner.pending.insert(
        token_hash.clone(),
        PendingToken {
            user: user.id,
            kind,
            otp: otp.clone(),
        },
    );
    inner.outbox.push(SentEmail {
        to: user.email.clone(),
        kind: kind.to_owned(),
        token_hash,
        otp,
    });
}

fn fastrand_u32() -> u32 {
    let b = Uuid::new_v4();
    let b = b.as_bytes();
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

async fn signup(shared: &Shared, body: &Value) -> Response<Body> {
    let email = str_field(body, "email").trim().to_lowercase();
    let password = str_field(body, "password");
    if email.is_empty() || !email.contains('@') {
        return auth_error(
            400,
            "validation_failed",
            "Unable to validate email address: invalid format",
        );
    }
    if password.chars().count() < 6 {
        return auth_error_with(
            422,
            "weak_password",
            "Password should be at least 6 characters.",
            json!({"weak_password": {"reasons": ["length"]}}),
        );
    }
    let confirm = shared
        .config
        .lock()
        .map(|c| c.confirm_email)
        .unwrap_or(true);
    let mut inner = shared.inner.lock().await;
    if let Some(id) = find_user(&inner, &email) {
        let user = inner.users[&id].clone();
        if !confirm {
            return auth_error(422, "user_already_exists", "User already registered");
        }
        if user.confirmed_at.is_none() {
            // Unconfirmed: the confirmation email is sent again.
            send_email(&mut inner, &user, "signup");
            return json_response(200, user_json(&user));
        }
        // Confirmed, with confirmations on: Auth answers a look-alike user with no identities
        // so that sign-up does not reveal which addresses have accounts.
        let mut fake = user_json(&FakeUser {
            id: Uuid::new_v4(),
            ..user
        });
        fake["identities"] = json!([]);
        return json_response(200, fake);
    }
    let now = Utc::now();
    let user = FakeUser {
        id: Uuid::new_v4(),
        identity_id: Uuid::new_v4(),
        email: email.clone(),
        password: password.to_owned(),
        created_at: now,
        confirmed_at: (!confirm).then_some(now),
        confirmation_sent_at: confirm.then_some(now),
        recovery_sent_at: None,
        last_sign_in_at: None,
        user_metadata: body.get("data").cloned().unwrap_or_else(|| json!({})),
    };
    db_exec(
        shared,
        sqlx::query(
            "insert into auth.users (instance_id, id, aud, role, email, encrypted_password, \
             raw_app_meta_data, raw_user_meta_data, created_at, updated_at, email_confirmed_at, \
             confirmation_sent_at) values ('00000000-0000-0000-0000-000000000000', $1, \
             'authenticated', 'authenticated', $2, 'fake-bcrypt', \
             '{\"provider\":\"email\",\"providers\":[\"email\"]}', $3, now(), now(), $4, $5)",
        )
        .bind(user.id)
        .bind(&user.email)
        .bind(&user.user_metadata)
        .bind(user.confirmed_at)
        .bind(user.confirmation_sent_at),
    )
    .await;
    inner.users.insert(user.id, user.clone());
    if confirm {
        send_email(&mut inner, &user, "signup");
        json_response(200, user_json(&user))
    } else {
        issue_session(shared, &mut inner, user.id).await
    }
}

/// A new session with its first refresh token, answered as Auth does.
async fn issue_session(shared: &Shared, inner: &mut Inner, user: Uuid) -> Response<Body> {
    let session = Uuid::new_v4();
    inner.sessions.insert(
        session,
        FakeSession {
            user,
            not_after: None,
        },
    );
    db_exec(
        shared,
        sqlx::query(
            "insert into auth.sessions (id, user_id, created_at, updated_at, aal) \
             values ($1, $2, now(), now(), 'aal1')",
        )
        .bind(session)
        .bind(user),
    )
    .await;
    let token = new_refresh_token(shared, inner, session, user, None).await;
    let now = Utc::now();
    if let Some(u) = inner.users.get_mut(&user) {
        u.last_sign_in_at = Some(now);
    }
    session_response(shared, inner, session, &token)
}

async fn new_refresh_token(
    shared: &Shared,
    inner: &mut Inner,
    session: Uuid,
    user: Uuid,
    parent: Option<&str>,
) -> String {
    let token = random_token(12);
    inner.refresh_tokens.insert(
        token.clone(),
        RefreshToken {
            session,
            revoked_at: None,
            child: None,
        },
    );
    db_exec(
        shared,
        sqlx::query(
            "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, \
             updated_at, parent, session_id) values ('00000000-0000-0000-0000-000000000000', $1, \
             $2, false, now(), now(), $3, $4)",
        )
        .bind(&token)
        .bind(user.to_string())
        .bind(parent)
        .bind(session),
    )
    .await;
    token
}

fn session_response(
    shared: &Shared,
    inner: &Inner,
    session: Uuid,
    refresh: &str,
) -> Response<Body> {
    let s = &inner.sessions[&session];
    let user = &inner.users[&s.user];
    let ttl = shared.config.lock().map(|c| c.access_ttl).unwrap_or(3600);
    let mut claims = Claims::for_session(user.id, session, &user.email);
    claims.iss = shared.issuer.lock().map(|i| i.clone()).unwrap_or_default();
    claims.exp = claims.iat + ttl;
    claims.user_metadata = user.user_metadata.clone();
    let access = mint_token(&shared.jwt_secret, &claims);
    json_response(
        200,
        json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ttl,
            "expires_at": claims.exp,
            "refresh_token": refresh,
            "user": user_json(user),
        }),
    )
}

async fn password_grant(shared: &Shared, body: &Value) -> Response<Body> {
    let email = str_field(body, "email");
    let password = str_field(body, "password");
    let mut inner = shared.inner.lock().await;
    let Some(id) = find_user(&inner, email) else {
        return auth_error(400, "invalid_credentials", "Invalid login credentials");
    };
    let user = inner.users[&id].clone();
    if user.password != password {
        return auth_error(400, "invalid_credentials", "Invalid login credentials");
    }
    if user.confirmed_at.is_none() {
        return auth_error(400, "email_not_confirmed", "Email not confirmed");
    }
    issue_session(shared, &mut inner, id).await
}

async fn refresh_grant(shared: &Shared, body: &Value) -> Response<Body> {
    let presented = str_field(body, "refresh_token").to_owned();
    let reuse_interval = shared
        .config
        .lock()
        .map(|c| c.reuse_interval)
        .unwrap_or_default();
    let mut inner = shared.inner.lock().await;
    let not_found = || {
        auth_error(
            400,
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        )
    };
    let Some(rt) = inner.refresh_tokens.get(&presented).cloned() else {
        return not_found();
    };
    let Some(session) = inner.sessions.get(&rt.session).cloned() else {
        return not_found();
    };
    if session.not_after.is_some_and(|t| t <= unix_now()) {
        return auth_error(
            400,
            "session_expired",
            "Invalid Refresh Token: Session Expired",
        );
    }
    if let Some(revoked_at) = rt.revoked_at {
        // Within the reuse interval a replay (two tabs, a retried request) gets the session's
        // current token; after it, the replay is taken as theft and the family is revoked.
        let active = rt.child.clone().filter(|c| {
            inner
                .refresh_tokens
                .get(c)
                .is_some_and(|t| t.revoked_at.is_none())
        });
        if let (true, Some(active)) = (revoked_at.elapsed() <= reuse_interval, active) {
            return session_response(shared, &inner, rt.session, &active);
        }
        let now = Instant::now();
        for t in inner
            .refresh_tokens
            .values_mut()
            .filter(|t| t.session == rt.session)
        {
            t.revoked_at.get_or_insert(now);
        }
        db_exec(
            shared,
            sqlx::query("update auth.refresh_tokens set revoked = true where session_id = $1")
                .bind(rt.session),
        )
        .await;
        return auth_error(
            400,
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used",
        );
    }
    let token = new_refresh_token(
        shared,
        &mut inner,
        rt.session,
        session.user,
        Some(&presented),
    )
    .await;
    if let Some(old) = inner.refresh_tokens.get_mut(&presented) {
        old.revoked_at = Some(Instant::now());
        old.child = Some(token.clone());
    }
    db_exec(
        shared,
        sqlx::query(
            "update auth.refresh_tokens set revoked = true, updated_at = now() where token = $1",
        )
        .bind(&presented),
    )
    .await;
    session_response(shared, &inner, rt.session, &token)
}

/// Verifies an access token as Auth's middleware does: signature, expiry, then the session.
fn authenticate(
    shared: &Shared,
    inner: &Inner,
    bearer: Option<String>,
) -> Result<(Uuid, Uuid), Response<Body>> {
    let Some(token) = bearer else {
        return Err(auth_error(
            401,
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        ));
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["authenticated"]);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Claims>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(shared.jwt_secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        auth_error(
            403,
            "bad_jwt",
            &format!("invalid JWT: unable to parse or verify signature, {e}"),
        )
    })?
    .claims;
    let (Ok(user), Ok(session)) = (
        claims.sub.parse::<Uuid>(),
        claims.session_id.parse::<Uuid>(),
    ) else {
        return Err(auth_error(
            403,
            "bad_jwt",
            "invalid claim: missing sub or session_id claim",
        ));
    };
    if !inner.sessions.contains_key(&session) {
        return Err(auth_error(
            403,
            "session_not_found",
            "Session from session_id claim in JWT does not exist",
        ));
    }
    Ok((user, session))
}

async fn logout(shared: &Shared, bearer: Option<String>, scope: Option<&String>) -> Response<Body> {
    let mut inner = shared.inner.lock().await;
    let (user, session) = match authenticate(shared, &inner, bearer) {
        Ok(ids) => ids,
        Err(resp) => return resp,
    };
    let scope = scope.map(String::as_str).unwrap_or("global");
    let doomed: Vec<Uuid> = match scope {
        "local" => vec![session],
        "global" | "others" => inner
            .sessions
            .iter()
            .filter(|(id, s)| s.user == user && (scope == "global" || **id != session))
            .map(|(id, _)| *id)
            .collect(),
        _ => {
            return auth_error(
                400,
                "validation_failed",
                "Unsupported logout scope \"{scope}\""
                    .replace("{scope}", scope)
                    .as_str(),
            );
        }
    };
    for id in &doomed {
        inner.sessions.remove(id);
    }
    inner
        .refresh_tokens
        .retain(|_, t| !doomed.contains(&t.session));
    db_exec(
        shared,
        sqlx::query("delete from auth.sessions where id = any($1)").bind(&doomed),
    )
    .await;
    let mut r = Response::new(full_body(""));
    *r.status_mut() = hyper::StatusCode::NO_CONTENT;
    r
}

async fn recover(shared: &Shared, body: &Value) -> Response<Body> {
    let email = str_field(body, "email");
    if !email.contains('@') {
        return auth_error(
            400,
            "validation_failed",
            "Unable to validate email address: invalid format",
        );
    }
    let mut inner = shared.inner.lock().await;
    if let Some(id) = find_user(&inner, email) {
        let now = Utc::now();
        if let Some(u) = inner.users.get_mut(&id) {
            u.recovery_sent_at = Some(now);
        }
        let user = inner.users[&id].clone();
        send_email(&mut inner, &user, "recovery");
    }
    // The same answer whether or not the address has an account.
    json_response(200, json!({}))
}

async fn verify(shared: &Shared, body: &Value) -> Response<Body> {
    let kind = str_field(body, "type");
    let expired = || auth_error(403, "otp_expired", "Token has expired or is invalid");
    let mut inner = shared.inner.lock().await;
    let hash = if let Some(h) = body.get("token_hash").and_then(Value::as_str) {
        h.to_owned()
    } else {
        let email = str_field(body, "email");
        let token = str_field(body, "token");
        let Some(user) = find_user(&inner, email) else {
            return expired();
        };
        match inner
            .pending
            .iter()
            .find(|(_, p)| p.user == user && p.otp == token)
        {
            Some((h, _)) => h.clone(),
            None => return expired(),
        }
    };
    let Some(pending) = inner.pending.get(&hash).cloned() else {
        return expired();
    };
    let kind_matches = match pending.kind {
        "signup" => matches!(kind, "signup" | "email"),
        "recovery" => kind == "recovery",
        _ => false,
    };
    if !kind_matches {
        return expired();
    }
    inner.pending.remove(&hash);
    let now = Utc::now();
    if let Some(u) = inner.users.get_mut(&pending.user) {
        // A recovery link also proves the address.
        u.confirmed_at.get_or_insert(now);
    }
    db_exec(
        shared,
        sqlx::query(
            "update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()) \
             where id = $1",
        )
        .bind(pending.user),
    )
    .await;
    issue_session(shared, &mut inner, pending.user).await
}

async fn get_user(shared: &Shared, bearer: Option<String>) -> Response<Body> {
    let inner = shared.inner.lock().await;
    match authenticate(shared, &inner, bearer) {
        Ok((user, _)) => match inner.users.get(&user) {
            Some(u) => json_response(200, user_json(u)),
            None => auth_error(
                403,
                "user_not_found",
                "User from sub claim in JWT does not exist",
            ),
        },
        Err(resp) => resp,
    }
}

async fn update_user(shared: &Shared, bearer: Option<String>, body: &Value) -> Response<Body> {
    let mut inner = shared.inner.lock().await;
    let (user, _) = match authenticate(shared, &inner, bearer) {
        Ok(ids) => ids,
        Err(resp) => return resp,
    };
    let Some(password) = body.get("password").and_then(Value::as_str) else {
        // Only password changes are modelled; other fields are accepted and ignored.
        return match inner.users.get(&user) {
            Some(u) => json_response(200, user_json(u)),
            None => auth_error(
                403,
                "user_not_found",
                "User from sub claim in JWT does not exist",
            ),
        };
    };
    if password.chars().count() < 6 {
        return auth_error_with(
            422,
            "weak_password",
            "Password should be at least 6 characters.",
            json!({"weak_password": {"reasons": ["length"]}}),
        );
    }
    let Some(u) = inner.users.get_mut(&user) else {
        return auth_error(
            403,
            "user_not_found",
            "User from sub claim in JWT does not exist",
        );
    };
    if u.password == password {
        return auth_error(
            422,
            "same_password",
            "New password should be different from the old password.",
        );
    }
    u.password = password.to_owned();
    json_response(200, user_json(u))
}
