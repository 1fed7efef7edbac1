//! The Supabase Storage client (`/storage/v1`), as the signed-in user.
//!
//! The real server's habits shape this code (checked against it: tests/tests/
//! storage_conformance.rs): most errors arrive as HTTP 400 with the real status as a *string*
//! in the body (`{"statusCode":"403","error":…,"message":…,"code":…}`), including the resumable
//! endpoints' token refusals, while their other answers carry real statuses and a plain-text
//! body; so every error goes through [`ApiError`], which takes the body's status over the HTTP
//! one. A refused token and a row-level-security refusal are both 403 `AccessDenied`; only the
//! message (the JWT library's: `"exp" claim timestamp check failed`, `signature verification
//! failed`, `Invalid Compact JWS`, …) tells them apart. An access token can expire
//! mid-transfer: on a 401/403 the [`TokenSource`] is asked for a fresh one, once per request.
//!
//! Files up to [`StorageConfig::standard_max`] go in one request; larger ones through
//! [`super::tus`]. Not here: bucket administration, image transforms, public URLs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::names::{check_object_path, encode_path, key_slug};
use super::progress::Meter;
use super::{FileError, FileStore, SourceFacts, StoredFile, Transfer, hash_file, preflight};
use crate::data::local::LocalStore;
use crate::secrets::SecretString;

/// Supabase's resumable uploads take exactly 6 MB chunks (all but the last).
pub const CHUNK_SIZE: u64 = 6 * 1024 * 1024;
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Where the signed-in user's access token comes from (the auth session in the app).
pub trait TokenSource: Send + Sync {
    /// The current access token. `refresh` = the previous one was refused: refresh first.
    fn access_token(&self, refresh: bool) -> BoxFuture<'_, Result<SecretString, FileError>>;
}

/// A fixed token (the CLI with a token from the environment, tests).
#[derive(Debug)]
pub struct StaticToken(pub SecretString);

impl TokenSource for StaticToken {
    fn access_token(&self, _refresh: bool) -> BoxFuture<'_, Result<SecretString, FileError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// What a bucket accepts, checked before any byte is sent (the server checks again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketLimit {
    pub max_bytes: u64,
    /// `None`: any type. Entries may end in `/*` (`image/*`).
    pub allowed_mime: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// The project URL (`https://<ref>.supabase.co`); `/storage/v1` is appended.
    pub project_url: String,
    /// The project's publishable (anon) key, sent as `apikey` when set (the API gateway wants it).
    pub api_key: Option<SecretString>,
    /// Files up to this size use the standard upload; larger ones are resumable.
    pub standard_max: u64,
    pub chunk_size: u64,
    /// Consecutive failed attempts (transport errors, 5xx) tolerated before giving up.
    pub max_attempts: u32,
    /// First wait between attempts; doubles each time.
    pub retry_backoff: Duration,
    /// Longest a request may take to send its body and get its answer's headers (a 6 MB
    /// chunk fits at ~50 KB/s). A silent server fails the attempt, which is then retried.
    pub request_timeout: Duration,
    /// Longest silence tolerated in the middle of a download body.
    pub stall_timeout: Duration,
    pub limits: HashMap<String, BucketLimit>,
}

impl StorageConfig {
    /// Salesdesk's four buckets with the limits the project's migrations give them.
    pub fn new(project_url: impl Into<String>) -> Self {
        let mut limits = HashMap::new();
        let mime = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect());
        limits.insert(
            "training-materials".into(),
            BucketLimit {
                max_bytes: 500 * 1024 * 1024,
                allowed_mime: None,
            },
        );
        limits.insert(
            "call-recordings".into(),
            BucketLimit {
                max_bytes: 2 * 1024 * 1024 * 1024,
                allowed_mime: mime(&["audio/*", "video/*", "text/*", "application/x-subrip"]),
            },
        );
        limits.insert(
            "user-avatars".into(),
            BucketLimit {
                max_bytes: 5 * 1024 * 1024,
                allowed_mime: mime(&["image/png", "image/jpeg", "image/webp", "image/gif"]),
            },
        );
        limits.insert(
            "generated-images".into(),
            BucketLimit {
                max_bytes: 20 * 1024 * 1024,
                allowed_mime: mime(&["image/*"]),
            },
        );
        Self {
            project_url: project_url.into(),
            api_key: None,
            standard_max: CHUNK_SIZE,
            chunk_size: CHUNK_SIZE,
            max_attempts: 5,
            retry_backoff: Duration::from_millis(500),
            request_timeout: Duration::from_secs(120),
            stall_timeout: Duration::from_secs(30),
            limits,
        }
    }

    pub(crate) fn api(&self, path: &str) -> String {
        format!(
            "{}/storage/v1{}",
            self.project_url.trim_end_matches('/'),
            path
        )
    }
}

/// An error answer from Storage, with the real status (the body's over the HTTP one).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: u16,
    pub error: String,
    pub message: String,
    /// Storage's error code (`AccessDenied`, `KeyAlreadyExists`, `InvalidJWT`, …), if any.
    pub code: String,
}

impl ApiError {
    pub(crate) async fn read(resp: reqwest::Response) -> Self {
        let http = resp.status().as_u16();
        let mut body = Vec::new();
        let mut resp = resp;
        while let Ok(Some(chunk)) = resp.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_ERROR_BODY {
                break;
            }
        }
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let body_status = match v.get("statusCode") {
            Some(Value::String(s)) => s.parse::<u16>().ok(),
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            _ => None,
        };
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let mut message = text("message");
        if message.is_empty() && v.is_null() {
            message = String::from_utf8_lossy(&body[..body.len().min(200)])
                .trim()
                .to_owned();
        }
        Self {
            status: body_status.unwrap_or(http),
            error: text("error"),
            message,
            code: text("code"),
        }
    }

    /// The token was refused (a refresh may help); a 403 from row-level security is the
    /// role's answer, which a new token would only repeat.
    pub(crate) fn is_auth(&self) -> bool {
        self.status == 401 || (self.status == 403 && self.mentions_token())
    }

    pub(crate) fn is_transient(&self) -> bool {
        matches!(self.status, 408 | 429 | 500..=599)
    }

    fn mentions_token(&self) -> bool {
        if self.code == "InvalidJWT" {
            return true;
        }
        let m = format!("{} {}", self.error, self.message).to_ascii_lowercase();
        // The words of the JWT library's refusals (jose): expired, bad signature, malformed.
        ["jwt", "jws", "token", "exp", "claim", "signature"]
            .iter()
            .any(|w| m.contains(w))
    }

    /// The answer to an upload, in the terms of the file being uploaded: the server's size and
    /// type refusals (413 / 415, which the bucket's or the project's limits cause) name the
    /// file and what to do.
    pub(crate) fn into_upload_error(
        self,
        bucket: &str,
        path: &str,
        size: u64,
        content_type: &str,
    ) -> FileError {
        match self.status {
            413 => FileError::RefusedTooLarge {
                name: path.to_owned(),
                size,
                bucket: bucket.to_owned(),
            },
            415 => FileError::TypeNotAllowed {
                bucket: bucket.to_owned(),
                mime: content_type.to_owned(),
            },
            _ => self.into_file_error(bucket, path),
        }
    }

    /// A 409 that says the object exists (rather than that the offsets disagree).
    pub(crate) fn is_duplicate(&self) -> bool {
        self.status == 409
            && (self.code == "KeyAlreadyExists"
                || self.message.to_ascii_lowercase().contains("already exists"))
    }

    pub(crate) fn into_file_error(self, bucket: &str, path: &str) -> FileError {
        let message = if self.message.is_empty() {
            self.error.clone()
        } else {
            self.message.clone()
        };
        match self.status {
            401 => FileError::SignedOut { message },
            403 if self.mentions_token() => FileError::SignedOut { message },
            403 => FileError::Forbidden {
                bucket: bucket.to_owned(),
                message,
            },
            404 => FileError::NotFound {
                key: format!("{bucket}/{path}"),
            },
            409 => FileError::Exists {
                bucket: bucket.to_owned(),
                path: path.to_owned(),
            },
            s if self.is_transient() => FileError::Network {
                message: format!("{s}: {message}"),
            },
            status => FileError::Rejected { status, message },
        }
    }
}

/// The outcome of one authenticated request that reached the server.
pub(crate) enum Reply {
    Ok(reqwest::Response),
    Failed(ApiError),
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub size: u64,
    pub sha256: String,
    /// Bytes the server already had from an earlier, interrupted attempt.
    pub resumed_from: u64,
}

/// The Supabase Storage client. Cheap to clone.
#[derive(Clone)]
pub struct SupabaseStorage {
    pub(crate) http: reqwest::Client,
    pub(crate) config: StorageConfig,
    pub(crate) tokens: Arc<dyn TokenSource>,
    /// Tracks resumable uploads, so that they survive a restart.
    pub(crate) store: LocalStore,
}

impl std::fmt::Debug for SupabaseStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupabaseStorage")
            .field("project_url", &self.config.project_url)
            .finish_non_exhaustive()
    }
}

impl SupabaseStorage {
    pub fn new(
        http: reqwest::Client,
        config: StorageConfig,
        tokens: Arc<dyn TokenSource>,
        store: LocalStore,
    ) -> Self {
        Self {
            http,
            config,
            tokens,
            store,
        }
    }

    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    /// Sends the request `build` makes with a token; on 401/403 asks the token source for a
    /// fresh token and tries once more. Transport failures become [`FileError::Network`].
    pub(crate) async fn send_authed(
        &self,
        build: impl Fn(&str) -> Result<reqwest::RequestBuilder, FileError>,
    ) -> Result<Reply, FileError> {
        let mut refresh = false;
        loop {
            let token = self.tokens.access_token(refresh).await?;
            let mut req = build(token.expose())?.bearer_auth(token.expose());
            if let Some(key) = &self.config.api_key {
                req = req.header("apikey", key.expose());
            }
            // Bounds the wait for the answer's headers, not the body that follows (downloads
            // bound their body reads by `stall_timeout`).
            let resp = match tokio::time::timeout(self.config.request_timeout, req.send()).await {
                Ok(r) => r.map_err(|e| FileError::Network {
                    message: describe_transport(&e),
                })?,
                Err(_) => {
                    return Err(FileError::Network {
                        message: format!(
                            "no answer within {} s",
                            self.config.request_timeout.as_secs_f32()
                        ),
                    });
                }
            };
            if resp.status().is_success() {
                return Ok(Reply::Ok(resp));
            }
            let err = ApiError::read(resp).await;
            if err.is_auth() && !refresh {
                tracing::debug!(
                    status = err.status,
                    "storage refused the token; refreshing once"
                );
                refresh = true;
                continue;
            }
            return Ok(Reply::Failed(err));
        }
    }

    /// The checks made before any byte is sent: a valid path, a non-empty file within the
    /// bucket's size limit and of a type it accepts.
    pub(crate) fn check_upload(
        &self,
        bucket: &str,
        object_path: &str,
        size: u64,
        content_type: &str,
    ) -> Result<(), FileError> {
        check_object_path(object_path)?;
        self.check_limits(bucket, object_path, size, content_type)
    }

    /// The bucket's size and type rules for a file called `name`.
    pub(crate) fn check_limits(
        &self,
        bucket: &str,
        name: &str,
        size: u64,
        content_type: &str,
    ) -> Result<(), FileError> {
        if size == 0 {
            return Err(FileError::Empty {
                name: name.to_owned(),
            });
        }
        if let Some(limit) = self.config.limits.get(bucket) {
            if size > limit.max_bytes {
                return Err(FileError::TooLarge {
                    name: name.to_owned(),
                    size,
                    limit: limit.max_bytes,
                    bucket: bucket.to_owned(),
                });
            }
            if let Some(allowed) = &limit.allowed_mime
                && !mime_allowed(allowed, content_type)
            {
                return Err(FileError::TypeNotAllowed {
                    bucket: bucket.to_owned(),
                    mime: content_type.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Uploads the file at `src` to `bucket/object_path`. `upsert` overwrites an existing
    /// object; without it an existing object is [`FileError::Exists`].
    pub async fn upload(
        &self,
        bucket: &str,
        object_path: &str,
        src: &Path,
        content_type: &str,
        upsert: bool,
        transfer: &Transfer,
    ) -> Result<Uploaded, FileError> {
        let facts = SourceFacts::of(src)?;
        self.check_upload(bucket, object_path, facts.size, content_type)?;
        let sha256 = hash_file(src).await?;
        facts.still_matches(src)?;
        self.upload_checked(
            bucket,
            object_path,
            src,
            content_type,
            upsert,
            facts,
            sha256,
            transfer,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn upload_checked(
        &self,
        bucket: &str,
        object_path: &str,
        src: &Path,
        content_type: &str,
        upsert: bool,
        facts: SourceFacts,
        sha256: String,
        transfer: &Transfer,
    ) -> Result<Uploaded, FileError> {
        transfer.check_cancel()?;
        if facts.size <= self.config.standard_max {
            self.upload_standard(
                bucket,
                object_path,
                src,
                content_type,
                upsert,
                &facts,
                &sha256,
                transfer,
            )
            .await?;
            return Ok(Uploaded {
                size: facts.size,
                sha256,
                resumed_from: 0,
            });
        }
        let job = super::tus::Job {
            bucket,
            object_path,
            src,
            content_type,
            upsert,
            facts,
            sha256,
        };
        let resumed_from = super::tus::upload(self, &job, transfer).await?;
        Ok(Uploaded {
            size: job.facts.size,
            sha256: job.sha256,
            resumed_from,
        })
    }

    /// One request for a small file. The bytes sent are the bytes hashed: the file is read
    /// once (at most `standard_max`) and compared with the hash taken before.
    #[allow(clippy::too_many_arguments)]
    async fn upload_standard(
        &self,
        bucket: &str,
        object_path: &str,
        src: &Path,
        content_type: &str,
        upsert: bool,
        facts: &SourceFacts,
        sha256: &str,
        transfer: &Transfer,
    ) -> Result<(), FileError> {
        let bytes = tokio::fs::read(src)
            .await
            .map_err(|e| super::source_error(src, e))?;
        use sha2::Digest;
        if bytes.len() as u64 != facts.size || super::hex(&sha2::Sha256::digest(&bytes)) != sha256 {
            return Err(FileError::SourceChanged {
                path: src.to_owned(),
            });
        }
        let bytes = bytes::Bytes::from(bytes);
        let url = self
            .config
            .api(&format!("/object/{bucket}/{}", encode_path(object_path)));
        let meter = Meter::new(0, facts.size);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let reply = self
                .send_authed(|_| {
                    Ok(self
                        .http
                        .post(&url)
                        .header("content-type", content_type)
                        .header("cache-control", "max-age=3600")
                        .header("x-upsert", if upsert { "true" } else { "false" })
                        .body(bytes.clone()))
                })
                .await;
            let err = match reply {
                Ok(Reply::Ok(_)) => break,
                Ok(Reply::Failed(e)) if !e.is_transient() => {
                    return Err(e.into_upload_error(bucket, object_path, facts.size, content_type));
                }
                Ok(Reply::Failed(e)) => e.into_file_error(bucket, object_path),
                Err(e @ FileError::Network { .. }) => e,
                Err(e) => return Err(e),
            };
            if attempt >= self.config.max_attempts {
                return Err(err);
            }
            transfer.check_cancel()?;
            tokio::time::sleep(self.backoff(attempt)).await;
        }
        meter.report(transfer, facts.size);
        facts.still_matches(src)?;
        Ok(())
    }

    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        self.config.retry_backoff * 2u32.saturating_pow(attempt.saturating_sub(1).min(6))
    }

    /// A URL anyone holding it can download `bucket/object_path` with, for `expires_in`.
    pub async fn signed_url(
        &self,
        bucket: &str,
        object_path: &str,
        expires_in: Duration,
    ) -> Result<String, FileError> {
        check_object_path(object_path)?;
        let url = self.config.api(&format!(
            "/object/sign/{bucket}/{}",
            encode_path(object_path)
        ));
        let body = json!({ "expiresIn": expires_in.as_secs().max(1) });
        match self
            .send_authed(|_| Ok(json_body(self.http.post(&url), &body)))
            .await?
        {
            Reply::Ok(resp) => {
                let bytes = resp.bytes().await.map_err(|e| FileError::Network {
                    message: describe_transport(&e),
                })?;
                let v: Value = serde_json::from_slice(&bytes).map_err(|e| FileError::Rejected {
                    status: 200,
                    message: format!("unreadable answer to a signing request: {e}"),
                })?;
                let signed = v
                    .get("signedURL")
                    .or_else(|| v.get("signedUrl"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| FileError::Rejected {
                        status: 200,
                        message: "the signing answer has no signedURL".into(),
                    })?;
                // The server answers with a path relative to /storage/v1.
                if signed.starts_with("http://") || signed.starts_with("https://") {
                    Ok(signed.to_owned())
                } else {
                    Ok(self.config.api(signed))
                }
            }
            Reply::Failed(e) => Err(e.into_file_error(bucket, object_path)),
        }
    }

    /// Deletes objects; objects already gone are not an error. The server answers a delete
    /// its policies forbid with success and an empty list, so an object missing from the
    /// answer is looked at again: still there means [`FileError::Forbidden`].
    pub async fn delete(&self, bucket: &str, object_paths: &[&str]) -> Result<(), FileError> {
        for p in object_paths {
            check_object_path(p)?;
        }
        let url = self.config.api(&format!("/object/{bucket}"));
        let body = json!({ "prefixes": object_paths });
        let resp = match self
            .send_authed(|_| Ok(json_body(self.http.delete(&url), &body)))
            .await?
        {
            Reply::Ok(resp) => resp,
            Reply::Failed(e) => return Err(e.into_file_error(bucket, &object_paths.join(","))),
        };
        let answer: Value = resp
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let deleted: Vec<&str> = answer
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|o| o.get("name").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        for p in object_paths {
            if !deleted.contains(p) && self.still_there(bucket, p).await? {
                return Err(FileError::Forbidden {
                    bucket: bucket.to_owned(),
                    message: format!("{p} was not deleted: the team's storage rules keep it"),
                });
            }
        }
        Ok(())
    }

    /// Whether the caller can still see `bucket/path` (`HEAD` on the authenticated route).
    async fn still_there(&self, bucket: &str, path: &str) -> Result<bool, FileError> {
        let url = self.config.api(&format!(
            "/object/authenticated/{bucket}/{}",
            encode_path(path)
        ));
        Ok(matches!(
            self.send_authed(|_| Ok(self.http.head(&url))).await?,
            Reply::Ok(_)
        ))
    }
}

fn json_body(req: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    req.header("content-type", "application/json")
        .body(body.to_string())
}

fn mime_allowed(allowed: &[String], mime: &str) -> bool {
    let mime = mime.split(';').next().unwrap_or("").trim();
    allowed.iter().any(|a| match a.strip_suffix("/*") {
        Some(family) => mime.split('/').next() == Some(family),
        None => a.eq_ignore_ascii_case(mime),
    })
}

/// A transport failure in words, without the URL (which can carry a signed token).
pub(crate) fn describe_transport(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_request() {
        "the connection broke during the transfer"
    } else {
        "network error"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {detail}")
    }
}

/// One bucket of [`SupabaseStorage`] as a [`FileStore`]. Keys are `{prefix}{sha256}/{slug}`:
/// content-addressed like the local store, so a second upload of the same file is a no-op and
/// a download can be verified from the key alone.
#[derive(Debug, Clone)]
pub struct BucketStore {
    storage: SupabaseStorage,
    bucket: String,
    /// A folder for this user's files, e.g. `"<user id>/"`; may be empty.
    prefix: String,
}

impl BucketStore {
    pub fn new(
        storage: SupabaseStorage,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            storage,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

impl FileStore for BucketStore {
    fn put<'a>(
        &'a self,
        src: &'a Path,
        name: &'a str,
        mime: Option<&'a str>,
        transfer: &'a Transfer,
    ) -> BoxFuture<'a, Result<StoredFile, FileError>> {
        Box::pin(async move {
            let (name, mime, facts) = preflight(src, name, mime)?;
            self.storage
                .check_limits(&self.bucket, &name, facts.size, &mime)?;
            let sha256 = hash_file(src).await?;
            facts.still_matches(src)?;
            let key = format!("{}{}/{}", self.prefix, sha256, key_slug(&name));
            let size = facts.size;
            match self
                .storage
                .upload_checked(
                    &self.bucket,
                    &key,
                    src,
                    &mime,
                    false,
                    facts,
                    sha256.clone(),
                    transfer,
                )
                .await
            {
                // Same key = same content: it is already stored.
                Ok(_) | Err(FileError::Exists { .. }) => Ok(StoredFile {
                    key,
                    size,
                    sha256,
                    mime,
                }),
                Err(e) => Err(e),
            }
        })
    }

    fn get<'a>(
        &'a self,
        key: &'a str,
        dest: &'a Path,
        transfer: &'a Transfer,
    ) -> BoxFuture<'a, Result<u64, FileError>> {
        Box::pin(async move {
            let got = self
                .storage
                .download(&self.bucket, key, dest, super::digest_of_key(key), transfer)
                .await?;
            Ok(got.size)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(async move { self.storage.delete(&self.bucket, &[key]).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refused_token_is_worth_a_refresh() {
        let answer = |status, error: &str, message: &str| ApiError {
            status,
            error: error.into(),
            message: message.into(),
            code: "AccessDenied".into(),
        };
        assert!(answer(401, "Unauthorized", "").is_auth());
        assert!(answer(403, "Unauthorized", "jwt expired").is_auth());
        // The real server's refusals of a token (its JWT library's words).
        for m in [
            "\"exp\" claim timestamp check failed",
            "signature verification failed",
            "Invalid Compact JWS",
            "JWS Protected Header is invalid",
        ] {
            assert!(answer(403, "Unauthorized", m).is_auth(), "{m}");
        }
        let rls = answer(
            403,
            "Unauthorized",
            "new row violates row-level security policy",
        );
        assert!(!rls.is_auth(), "the role's refusal, not the token's");
        assert!(matches!(
            rls.into_file_error("training-materials", "a/b.pdf"),
            FileError::Forbidden { .. }
        ));
    }

    #[test]
    fn mime_families() {
        let allowed = vec!["image/*".to_owned(), "text/csv".to_owned()];
        assert!(mime_allowed(&allowed, "image/png"));
        assert!(mime_allowed(&allowed, "text/csv; charset=utf-8"));
        assert!(!mime_allowed(&allowed, "application/pdf"));
    }

    #[test]
    fn keys_name_their_digest() {
        let sha = "a".repeat(64);
        assert_eq!(
            super::super::digest_of_key(&format!("u/{sha}/x.pdf")),
            Some(sha.as_str())
        );
        assert_eq!(super::super::digest_of_key(&sha), Some(sha.as_str()));
        assert_eq!(super::super::digest_of_key("u/x.pdf"), None);
    }
}
