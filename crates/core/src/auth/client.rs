//! A small client for Supabase Auth's published HTTP API (`{SUPABASE_URL}/auth/v1`).
//!
//! Why not the `supabase-auth` crate (0.10.x): it brings a second HTTP stack (reqwest 0.12,
//! native TLS by default) beside the workspace's reqwest 0.13 on rustls+ring, and its known gaps
//! would each need a wrapper: no request timeouts, no refresh or session store, `error_code`
//! dropped from error bodies (so "wrong password" and "email not confirmed" look alike), a `User`
//! type that rejects replies missing optional-looking fields, and a logout that puts `scope` in
//! the body where the server reads the query string (a plain logout then signs the user out on
//! every device). Seven endpoints over the shared reqwest are smaller than those wrappers.
//!
//! Deliberately left out: OAuth/PKCE, phone sign-in, MFA and admin endpoints (not used by
//! Salesdesk). Refresh scheduling and persistence live in [`super::session`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{AuthError, SESSION_ENDING_CODES};
use super::session::{Session, SessionUser};
use crate::ai::Clock;
use crate::secrets::SecretString;

/// How long one request may take in total; Supabase Auth answers in well under a second.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which sessions a sign-out ends. Sent in the query string, where the server reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignOutScope {
    /// Only this device's session.
    #[default]
    Local,
    /// Every session of the user.
    Global,
    /// Every session except this one.
    Others,
}

impl SignOutScope {
    pub fn as_str(self) -> &'static str {
        match self {
            SignOutScope::Local => "local",
            SignOutScope::Global => "global",
            SignOutScope::Others => "others",
        }
    }
}

/// What `/verify` is given: the `token_hash` from an email link, or the 6-digit code with the
/// email address.
#[derive(Debug, Clone)]
pub enum VerifyToken {
    TokenHash(SecretString),
    EmailOtp { email: String, token: SecretString },
}

/// Which email the token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyType {
    /// Sign-up confirmation.
    Signup,
    /// Magic link / email OTP (also accepted for sign-up confirmation).
    Email,
    /// Password reset.
    Recovery,
}

impl VerifyType {
    fn as_str(self) -> &'static str {
        match self {
            VerifyType::Signup => "signup",
            VerifyType::Email => "email",
            VerifyType::Recovery => "recovery",
        }
    }
}

/// A Supabase Auth user, read leniently: only `id` is required, so a server that omits a field
/// (older versions, anonymous users) does not break sign-in.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub aud: Option<String>,
    #[serde(default)]
    pub email_confirmed_at: Option<String>,
    #[serde(default)]
    pub confirmation_sent_at: Option<String>,
    #[serde(default)]
    pub last_sign_in_at: Option<String>,
    #[serde(default)]
    pub app_metadata: Value,
    #[serde(default)]
    pub user_metadata: Value,
    #[serde(default)]
    pub is_anonymous: bool,
}

/// The result of a sign-up: a session when the project does not ask for email confirmation,
/// otherwise the new (unconfirmed) user, who must open the confirmation email first.
#[derive(Debug)]
pub enum SignUpOutcome {
    SignedIn(Session),
    ConfirmationSent(User),
}

#[derive(Deserialize)]
struct WireSession {
    access_token: String,
    refresh_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    expires_at: Option<i64>,
    user: User,
}

/// Supabase Auth's error body. Without an API-version header the server answers
/// `{code: <status>, error_code, msg}`; with one, `{code: <error_code>, message}`; the gateway
/// in front answers `{message}`. All three are read.
#[derive(Deserialize, Default)]
struct WireError {
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    weak_password: Option<WeakPassword>,
}

#[derive(Deserialize, Default)]
struct WeakPassword {
    #[serde(default)]
    reasons: Vec<String>,
}

/// The HTTP client for one Supabase project's Auth API.
#[derive(Clone)]
pub struct AuthClient {
    http: reqwest::Client,
    base: String,
    anon_key: SecretString,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl AuthClient {
    /// A client for the project at `project_url` (`https://PROJECT.supabase.co`), sending
    /// `anon_key` (the anon or publishable key) as `apikey` on every request.
    pub fn new(
        project_url: &str,
        anon_key: SecretString,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthError> {
        Self::with_timeouts(
            project_url,
            anon_key,
            clock,
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_TIMEOUT,
        )
    }

    pub fn with_timeouts(
        project_url: &str,
        anon_key: SecretString,
        clock: Arc<dyn Clock>,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Self, AuthError> {
        let url = project_url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| AuthError::Config(format!("SUPABASE_URL is not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AuthError::Config(
                "SUPABASE_URL must start with https://".into(),
            ));
        }
        if anon_key.expose().trim().is_empty() {
            return Err(AuthError::Config("the anon key is empty".into()));
        }
        let http = crate::ai::http_client_builder(connect_timeout)
            .timeout(timeout)
            .build()
            .map_err(|e| AuthError::Config(format!("cannot build the HTTP client: {e}")))?;
        let base = if url.ends_with("/auth/v1") {
            url.to_owned()
        } else {
            format!("{url}/auth/v1")
        };
        Ok(Self {
            http,
            base,
            anon_key: SecretString::new(anon_key.expose().trim()),
            clock,
        })
    }

    /// `{SUPABASE_URL}/auth/v1`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Creates an account. Sign-in may have to wait for email confirmation.
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn sign_up(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<SignUpOutcome, AuthError> {
        let body = json!({"email": email.trim(), "password": password.expose()});
        let value = self
            .send(reqwest::Method::POST, "/signup", &[], Some(body), None)
            .await?;
        // With confirmation on, the reply is the user itself; with it off, a session.
        if value.get("access_token").is_some() {
            Ok(SignUpOutcome::SignedIn(self.session_from(value)?))
        } else {
            let user = value.get("user").cloned().unwrap_or(value);
            let user: User = serde_json::from_value(user)
                .map_err(|e| AuthError::Protocol(format!("sign-up reply: {e}")))?;
            Ok(SignUpOutcome::ConfirmationSent(user))
        }
    }

    #[tracing::instrument(skip_all, err(Display))]
    pub async fn sign_in_password(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<Session, AuthError> {
        let body = json!({"email": email.trim(), "password": password.expose()});
        let value = self
            .send(
                reqwest::Method::POST,
                "/token",
                &[("grant_type", "password")],
                Some(body),
                None,
            )
            .await?;
        self.session_from(value)
    }

    /// Confirms an email (sign-up, magic link) or a password reset, and signs in.
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn verify(
        &self,
        kind: VerifyType,
        token: &VerifyToken,
    ) -> Result<Session, AuthError> {
        let body = match token {
            VerifyToken::TokenHash(hash) => {
                json!({"type": kind.as_str(), "token_hash": hash.expose()})
            }
            VerifyToken::EmailOtp { email, token } => {
                json!({"type": kind.as_str(), "email": email.trim(), "token": token.expose()})
            }
        };
        let value = self
            .send(reqwest::Method::POST, "/verify", &[], Some(body), None)
            .await?;
        self.session_from(value)
    }

    /// Sends a password-reset email. Succeeds whether or not the address has an account (the
    /// server does not tell, to keep addresses private).
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn recover(&self, email: &str) -> Result<(), AuthError> {
        let body = json!({"email": email.trim()});
        self.send(reqwest::Method::POST, "/recover", &[], Some(body), None)
            .await
            .map(drop)
    }

    /// Exchanges a refresh token for a new session. The old refresh token is spent.
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<Session, AuthError> {
        let body = json!({"refresh_token": refresh_token.expose()});
        let result = self
            .send(
                reqwest::Method::POST,
                "/token",
                &[("grant_type", "refresh_token")],
                Some(body),
                None,
            )
            .await;
        match result {
            Ok(value) => self.session_from(value),
            // Any other 400/401/403 with an Auth error body on the refresh grant is a definitive
            // "no": older servers send "Invalid Refresh Token: ..." without an error_code.
            Err(AuthError::Rejected {
                status: 400 | 401 | 403,
                code,
                message,
            }) if code != "unknown" || message.starts_with("Invalid Refresh Token") => {
                Err(AuthError::SessionEnded { code, message })
            }
            Err(e) => Err(e),
        }
    }

    /// Ends the session behind `access_token` (and others, by `scope`). A session the server
    /// no longer knows counts as signed out.
    #[tracing::instrument(skip_all, fields(scope = scope.as_str()), err(Display))]
    pub async fn sign_out(
        &self,
        access_token: &SecretString,
        scope: SignOutScope,
    ) -> Result<(), AuthError> {
        match self
            .send(
                reqwest::Method::POST,
                "/logout",
                &[("scope", scope.as_str())],
                None,
                Some(access_token),
            )
            .await
        {
            Ok(_) | Err(AuthError::SessionEnded { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Sets a new password for the signed-in user: the last step of a password reset (after
    /// `verify` with [`VerifyType::Recovery`]), or a change from the settings.
    #[tracing::instrument(skip_all, err(Display))]
    pub async fn update_password(
        &self,
        access_token: &SecretString,
        new_password: &SecretString,
    ) -> Result<User, AuthError> {
        let body = json!({"password": new_password.expose()});
        let value = self
            .send(
                reqwest::Method::PUT,
                "/user",
                &[],
                Some(body),
                Some(access_token),
            )
            .await?;
        serde_json::from_value(value).map_err(|e| AuthError::Protocol(format!("user: {e}")))
    }

    #[tracing::instrument(skip_all, err(Display))]
    pub async fn get_user(&self, access_token: &SecretString) -> Result<User, AuthError> {
        let value = self
            .send(reqwest::Method::GET, "/user", &[], None, Some(access_token))
            .await?;
        serde_json::from_value(value).map_err(|e| AuthError::Protocol(format!("user: {e}")))
    }

    fn session_from(&self, value: Value) -> Result<Session, AuthError> {
        let wire: WireSession = serde_json::from_value(value)
            .map_err(|e| AuthError::Protocol(format!("session reply: {e}")))?;
        let now = self.clock.wall();
        // `expires_in` counted on our own clock first: a desktop's clock is often minutes off,
        // and the server's absolute `expires_at` would then refresh too late (or constantly).
        let expires_at = match (wire.expires_in, wire.expires_at) {
            (Some(secs), _) => Some(now + chrono::Duration::seconds(secs)),
            (None, Some(at)) => DateTime::<Utc>::from_timestamp(at, 0),
            (None, None) => None,
        }
        .ok_or_else(|| AuthError::Protocol("the session has no expiry".into()))?;
        Ok(Session {
            access_token: SecretString::new(wire.access_token),
            refresh_token: SecretString::new(wire.refresh_token),
            expires_at,
            user: SessionUser {
                id: wire.user.id,
                email: wire.user.email,
                role: wire.user.role,
                email_confirmed_at: wire.user.email_confirmed_at,
            },
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        bearer: Option<&SecretString>,
    ) -> Result<Value, AuthError> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| AuthError::Config(format!("SUPABASE_URL is not a URL ({e})")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self
            .http
            .request(method, url)
            .header("apikey", self.anon_key.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(network_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, self.clock.wall()));
        let header_code = response
            .headers()
            .get("x-sb-error-code")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(network_error)?;
        if (200..300).contains(&status) {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|_| {
                AuthError::Protocol(format!("HTTP {status} with a body that is not JSON"))
            });
        }
        let wire: WireError = serde_json::from_slice(&bytes).unwrap_or_default();
        Err(classify(
            status,
            header_code,
            retry_after,
            wire,
            !bytes.is_empty(),
        ))
    }
}

/// `Retry-After` in either of its forms: seconds, or an HTTP date.
fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

fn network_error(e: reqwest::Error) -> AuthError {
    let what = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "the connection failed"
    } else {
        "the connection broke"
    };
    // `without_url`: the URL holds no secret, but the error text stays short and stable.
    AuthError::Network(format!("{what} ({})", e.without_url()))
}

fn classify(
    status: u16,
    header_code: Option<String>,
    retry_after: Option<Duration>,
    wire: WireError,
    had_body: bool,
) -> AuthError {
    let code = header_code
        .or(wire.error_code)
        .or_else(|| match &wire.code {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        });
    let message = wire
        .msg
        .or(wire.message)
        .or(wire.error_description)
        .unwrap_or_else(|| format!("HTTP {status}"));
    if status == 429 || code.as_deref() == Some("over_request_rate_limit") {
        return AuthError::RateLimited { retry_after };
    }
    if status >= 500 || status == 408 {
        return AuthError::Unavailable {
            status,
            error_code: code,
        };
    }
    match code.as_deref() {
        Some("invalid_credentials") => AuthError::InvalidCredentials,
        Some("email_not_confirmed") => AuthError::EmailNotConfirmed,
        Some("user_already_exists" | "email_exists") => AuthError::UserAlreadyExists,
        Some("weak_password") => AuthError::WeakPassword {
            reasons: wire.weak_password.unwrap_or_default().reasons,
        },
        Some(c @ ("otp_expired" | "flow_state_expired" | "flow_state_not_found")) => {
            AuthError::LinkExpired { code: c.to_owned() }
        }
        Some(c) if SESSION_ENDING_CODES.contains(&c) => AuthError::SessionEnded {
            code: c.to_owned(),
            message,
        },
        Some(c) => AuthError::Rejected {
            status,
            code: c.to_owned(),
            message,
        },
        // A 4xx with no Auth error body is not the Auth server speaking (a proxy, a captive
        // portal): treat it as not reaching the service, which keeps the session.
        // The API gateway in front of Auth answers `{message}` about the key itself.
        None if message.contains("API key") => {
            AuthError::Config(format!("the anon key was refused ({message})"))
        }
        None if !had_body || message.starts_with("HTTP ") => {
            AuthError::Network(format!("unexpected HTTP {status} from the network"))
        }
        None => AuthError::Rejected {
            status,
            code: "unknown".into(),
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> WireError {
        serde_json::from_str(body).unwrap_or_default()
    }

    #[test]
    fn every_error_body_form_keeps_its_code() {
        // Default form: numeric code, error_code, msg.
        let e = classify(
            400,
            None,
            None,
            parse(
                r#"{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}"#,
            ),
            true,
        );
        assert!(matches!(e, AuthError::InvalidCredentials));
        // API-versioned form: the code is the string.
        let e = classify(
            403,
            None,
            None,
            parse(
                r#"{"code":"session_not_found","message":"Session from session_id claim in JWT does not exist"}"#,
            ),
            true,
        );
        assert!(e.ends_session());
        // The header wins over the body.
        let e = classify(422, Some("weak_password".into()), None, parse("{}"), true);
        assert!(matches!(e, AuthError::WeakPassword { .. }));
        // Old refresh errors without error_code are still a rejection on the refresh grant.
        let e = classify(
            400,
            None,
            None,
            parse(
                r#"{"error":"invalid_grant","error_description":"Invalid Refresh Token: Refresh Token Not Found"}"#,
            ),
            true,
        );
        assert!(
            matches!(e, AuthError::Rejected { status: 400, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn retry_after_in_both_forms() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(
            retry_after("Thu, 26 Nov 2026 10:01:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn foreign_answers_do_not_end_a_session() {
        // A captive portal's HTML 403, a proxy's empty 407.
        assert!(classify(403, None, None, WireError::default(), true).is_transient());
        assert!(classify(407, None, None, WireError::default(), false).is_transient());
        assert!(classify(502, None, None, WireError::default(), true).is_transient());
        let limited = classify(
            429,
            None,
            Some(Duration::from_secs(3)),
            WireError::default(),
            true,
        );
        assert!(
            matches!(limited, AuthError::RateLimited { retry_after: Some(d) } if d.as_secs() == 3)
        );
        let key = classify(
            401,
            None,
            None,
            parse(r#"{"message":"Invalid API key"}"#),
            true,
        );
        assert!(matches!(key, AuthError::Config(_)));
    }
}
