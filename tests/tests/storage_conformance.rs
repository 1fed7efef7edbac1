//! The storage client against a REAL Supabase Storage server (not the testkit's fake): standard
//! and resumable uploads, resumes after a cut mid-chunk and after a restart, forgotten upload
//! URLs, upsert, row-level security, size limits, hostile names, signed URLs and ranged
//! downloads. Every case checks the bytes that come back (SHA-256) and what the server stored.
//!
//! SKIPPED unless these are set (CI runs no real server; each test prints that it skipped):
//! - `SALESDESK_CONFORMANCE_STORAGE_URL`: a bare Storage server (`http://127.0.0.1:5000`; the
//!   test puts its own stand-in of Supabase's gateway in front, see `salesdesk_testkit::gateway`)
//!   or a project's Storage behind a gateway (`http://127.0.0.1:54321/storage/v1`). Plain http:
//!   the test cuts the connection with a TCP proxy.
//! - `SALESDESK_CONFORMANCE_JWT_SECRET`: the project's JWT secret (the server's
//!   `AUTH_JWT_SECRET`), to mint user tokens as Supabase Auth does.
//! - `SALESDESK_CONFORMANCE_DATABASE_URL`: the project database as its owner (`postgres`),
//!   with Salesdesk's migrations applied (`salesdesk migrate`), to create an admin and a rep
//!   (auth users, sessions, profiles) and to look at `storage.objects`.
//!
//! Each test creates its own users and removes them and their objects at the end. How to run a
//! server for this: docs/files.md, "Checking against a real Storage server".

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use salesdesk_core::data::local::LocalStore;
use salesdesk_core::files::download::part_path;
use salesdesk_core::files::{
    BucketStore, FileError, FileStore, StaticToken, StorageConfig, SupabaseStorage, Transfer,
    pending_uploads,
};
use salesdesk_core::secrets::SecretString;
use salesdesk_testkit::gateway::Gateway;
use salesdesk_testkit::netcut::NetCut;
use salesdesk_testkit::storage::{
    PNG, PlainTransfers, WAV, cancel_at, sha, sha_file, storage_client, test_http, write_seeded,
};
use salesdesk_testkit::supabase::{Role, create_project_user};
use sqlx::postgres::{PgPool, PgPoolOptions};
use uuid::Uuid;

const MIB: usize = 1024 * 1024;
const CHUNK: u64 = 6 * 1024 * 1024;
const URL_VAR: &str = "SALESDESK_CONFORMANCE_STORAGE_URL";
const SECRET_VAR: &str = "SALESDESK_CONFORMANCE_JWT_SECRET";
const DB_VAR: &str = "SALESDESK_CONFORMANCE_DATABASE_URL";

struct User {
    id: Uuid,
    token: String,
}

struct Conf {
    gateway: Option<Gateway>,
    cut: Arc<NetCut>,
    /// Through the cuttable proxy.
    project_url: String,
    owner: PgPool,
    dir: tempfile::TempDir,
    store: LocalStore,
    admin: User,
    rep: User,
}

/// The set-up, or `None` (after saying so) when the variables are not set.
async fn setup(test: &str) -> Option<Conf> {
    let (Ok(url), Ok(secret), Ok(db)) = (
        std::env::var(URL_VAR),
        std::env::var(SECRET_VAR),
        std::env::var(DB_VAR),
    ) else {
        println!("{test}: skipped (set {URL_VAR}, {SECRET_VAR} and {DB_VAR} to run it)");
        return None;
    };
    let url = url.trim_end_matches('/').to_owned();
    let (gateway, target) = match url.strip_suffix("/storage/v1") {
        Some(project) => (None, socket_of(project).await),
        None => {
            let g = Gateway::start(&url).await;
            let addr = g.addr();
            (Some(g), addr)
        }
    };
    let cut = Arc::new(NetCut::start(target).await);
    let project_url = format!("http://{}", cut.addr());
    let owner = PgPoolOptions::new()
        .max_connections(2)
        .connect(&db)
        .await
        .expect("connect to the conformance database");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalStore::open(&dir.path().join("salesdesk.db"))
        .await
        .expect("open store");
    let admin = create_user(&owner, &secret, Role::Admin).await;
    let rep = create_user(&owner, &secret, Role::Rep).await;
    Some(Conf {
        gateway,
        cut,
        project_url,
        owner,
        dir,
        store,
        admin,
        rep,
    })
}

async fn socket_of(url: &str) -> std::net::SocketAddr {
    let u = reqwest::Url::parse(url).expect("a URL");
    let host = u.host_str().expect("a host").to_owned();
    let port = u.port_or_known_default().expect("a port");
    tokio::net::lookup_host((host.as_str(), port))
        .await
        .expect("resolve")
        .next()
        .expect("an address")
}

async fn create_user(owner: &PgPool, secret: &str, role: Role) -> User {
    let id = Uuid::new_v4();
    let email = format!(
        "conformance-{}-{}@example.com",
        role.as_str(),
        &id.to_string()[..8]
    );
    let u = create_project_user(owner, secret, &email, role)
        .await
        .expect("create a user on the project");
    User {
        id: u.id,
        token: u.token,
    }
}

impl Conf {
    fn config(&self) -> StorageConfig {
        let mut config = StorageConfig::new(self.project_url.clone());
        config.retry_backoff = Duration::from_millis(100);
        config.request_timeout = Duration::from_secs(30);
        config.stall_timeout = Duration::from_secs(5);
        config
    }

    fn client_with(
        &self,
        user: &User,
        config: StorageConfig,
        store: LocalStore,
    ) -> SupabaseStorage {
        storage_client(
            Duration::from_secs(5),
            config,
            Arc::new(StaticToken(SecretString::new(user.token.clone()))),
            store,
        )
    }

    fn client(&self, user: &User) -> SupabaseStorage {
        self.client_with(user, self.config(), self.store.clone())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A file of `len` pseudo-random bytes after `head` (`seed` varies the content).
    fn file(&self, name: &str, head: &[u8], len: usize, seed: u64) -> (PathBuf, String) {
        let p = self.path(name);
        let digest = write_seeded(&p, head, len, seed);
        (p, digest)
    }

    /// [`Self::file`] plus the key it gets in the rep's own folder: (key, path, digest).
    fn rep_file(
        &self,
        name: &str,
        head: &[u8],
        len: usize,
        seed: u64,
    ) -> (String, PathBuf, String) {
        let (path, digest) = self.file(name, head, len, seed);
        (format!("{}/{name}", self.rep.id), path, digest)
    }

    /// The stored object's size per `storage.objects`, if there is one.
    async fn stored_size(&self, bucket: &str, name: &str) -> Option<i64> {
        sqlx::query_scalar::<_, Option<String>>(
            "select metadata->>'size' from storage.objects where bucket_id = $1 and name = $2",
        )
        .bind(bucket)
        .bind(name)
        .fetch_optional(&self.owner)
        .await
        .expect("query storage.objects")
        .flatten()
        .and_then(|s| s.parse().ok())
    }

    async fn exists(&self, bucket: &str, name: &str) -> bool {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from storage.objects where bucket_id = $1 and name = $2",
        )
        .bind(bucket)
        .bind(name)
        .fetch_one(&self.owner)
        .await
        .expect("query storage.objects")
            > 0
    }

    /// Removes what the test made: its users' objects (through the API, as their owners) and
    /// the users.
    async fn finish(self) {
        for user in [&self.admin, &self.rep] {
            let rows: Vec<(String, String)> =
                sqlx::query_as("select bucket_id, name from storage.objects where owner_id = $1")
                    .bind(user.id.to_string())
                    .fetch_all(&self.owner)
                    .await
                    .unwrap_or_default();
            let client = self.client(user);
            for (bucket, name) in rows {
                let _ = client.delete(&bucket, &[name.as_str()]).await;
            }
        }
        let _ = sqlx::query("delete from auth.users where id = any($1)")
            .bind(vec![self.admin.id, self.rep.id])
            .execute(&self.owner)
            .await;
        drop(self.gateway);
    }
}

/// A client with no token of ours (what a signed URL's recipient or a raw probe uses).
fn plain_http() -> reqwest::Client {
    test_http(Duration::from_secs(5))
}

/// The upload URL the local store tracks for `bucket/path`.
async fn tracked_url(store: &LocalStore, bucket: &str, path: &str) -> String {
    sqlx::query_scalar("select upload_url from file_uploads where bucket = ? and object_path = ?")
        .bind(bucket)
        .bind(path)
        .fetch_one(store.pool())
        .await
        .expect("a tracked upload")
}

#[tokio::test]
async fn small_upload_and_download_round_trip() {
    let Some(c) = setup("small_upload_and_download_round_trip").await else {
        return;
    };
    let client = c.client(&c.rep);
    let (key, src, digest) = c.rep_file("note.txt", b"", 4096, 1);
    let up = client
        .upload_file("call-recordings", &key, &src, "text/plain", false)
        .await
        .expect("upload");
    assert_eq!((up.size, up.sha256.as_str()), (4096, digest.as_str()));
    assert_eq!(c.stored_size("call-recordings", &key).await, Some(4096));
    let dest = c.path("note.back.txt");
    let got = client
        .download_file("call-recordings", &key, &dest, Some(&digest))
        .await
        .expect("download");
    assert_eq!((got.size, got.resumed_from), (4096, 0));
    assert_eq!(sha_file(&dest), digest);
    // A wrong expected digest is caught and nothing is left at the destination.
    let wrong = c.path("wrong.txt");
    let err = client
        .download_file("call-recordings", &key, &wrong, Some(&"0".repeat(64)))
        .await
        .expect_err("digest mismatch");
    assert!(matches!(err, FileError::Integrity { .. }), "{err:?}");
    assert!(!wrong.exists() && !part_path(&wrong).exists());
    // An object that is not there.
    let err = client
        .download_file(
            "call-recordings",
            &format!("{}/missing.txt", c.rep.id),
            &c.path("missing.txt"),
            None,
        )
        .await
        .expect_err("missing object");
    assert!(matches!(err, FileError::NotFound { .. }), "{err:?}");
    c.finish().await;
}

#[tokio::test]
async fn large_resumable_upload_in_6mb_chunks_round_trips() {
    let Some(c) = setup("large_resumable_upload_in_6mb_chunks_round_trips").await else {
        return;
    };
    let client = c.client(&c.rep);
    let (key, src, digest) = c.rep_file("call.wav", WAV, 20 * MIB, 2);
    let up = client
        .upload_file("call-recordings", &key, &src, "audio/wav", false)
        .await
        .expect("resumable upload");
    assert_eq!((up.size, up.resumed_from), (20 * MIB as u64, 0));
    assert_eq!(
        c.stored_size("call-recordings", &key).await,
        Some(20 * MIB as i64)
    );
    if let Some(g) = &c.gateway {
        let patches: Vec<u64> = g
            .passed()
            .iter()
            .filter(|p| p.method == "PATCH")
            .filter_map(|p| p.content_length)
            .collect();
        assert_eq!(
            patches,
            vec![CHUNK, CHUNK, CHUNK, 20 * MIB as u64 - 3 * CHUNK]
        );
    }
    assert!(
        pending_uploads(&c.store).await.expect("pending").is_empty(),
        "a finished upload is no longer tracked"
    );
    let dest = c.path("call.back.wav");
    client
        .download_checked("call-recordings", &key, &dest, &digest)
        .await;
    c.finish().await;
}

#[tokio::test]
async fn upload_resumes_after_a_cut_mid_chunk() {
    let Some(c) = setup("upload_resumes_after_a_cut_mid_chunk").await else {
        return;
    };
    let client = c.client(&c.rep);
    let (key, src, digest) = c.rep_file("cut.wav", WAV, 15 * MIB, 3);
    // The cut falls in the middle of the second chunk; the network is back 300 ms later.
    c.cut.cut_after_upstream(CHUNK + 3 * MIB as u64);
    let restore = async {
        while c.cut.cuts() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.cut.restore();
    };
    let transfer = Transfer::default();
    let (up, ()) = tokio::join!(
        client.upload("call-recordings", &key, &src, "audio/wav", false, &transfer),
        restore
    );
    let up = up.expect("upload survives the cut");
    assert_eq!(c.cut.cuts(), 1, "the cut happened");
    if let Some(g) = &c.gateway {
        // After the cut the client asked the server where it stopped, and went on from there.
        let seen: Vec<(String, Option<u64>, u16)> = g
            .passed()
            .into_iter()
            .filter(|p| p.path.contains("/upload/resumable"))
            .map(|p| (p.method, p.content_length, p.status))
            .collect();
        println!("resumable requests (method, length, status): {seen:?}");
        assert!(
            seen.iter().any(|(m, _, s)| m == "HEAD" && *s == 200),
            "{seen:?}"
        );
    }
    assert_eq!(up.sha256, digest);
    assert_eq!(
        c.stored_size("call-recordings", &key).await,
        Some(15 * MIB as i64)
    );
    let dest = c.path("cut.back.wav");
    client
        .download_checked("call-recordings", &key, &dest, &digest)
        .await;
    c.finish().await;
}

#[tokio::test]
async fn upload_resumes_after_a_restart_from_the_persisted_offset() {
    let Some(c) = setup("upload_resumes_after_a_restart_from_the_persisted_offset").await else {
        return;
    };
    let (key, src, digest) = c.rep_file("restart.wav", WAV, 20 * MIB, 4);
    let db = c.path("restart.db");
    {
        let store = LocalStore::open(&db).await.expect("open store");
        let client = c.client_with(&c.rep, c.config(), store.clone());
        let err = client
            .upload(
                "call-recordings",
                &key,
                &src,
                "audio/wav",
                false,
                &cancel_at(2 * CHUNK),
            )
            .await
            .expect_err("cancelled");
        assert!(matches!(err, FileError::Cancelled), "{err:?}");
        let pending = pending_uploads(&store).await.expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].confirmed, 2 * CHUNK);
        store.close().await;
    }
    assert!(!c.exists("call-recordings", &key).await, "not complete yet");
    // "Restart": a new store handle on the same file and a new client.
    let store = LocalStore::open(&db).await.expect("reopen store");
    let client = c.client_with(&c.rep, c.config(), store.clone());
    let up = client
        .upload_file("call-recordings", &key, &src, "audio/wav", false)
        .await
        .expect("resumed upload");
    assert_eq!(
        up.resumed_from,
        2 * CHUNK,
        "resumed where the server stopped"
    );
    assert_eq!(up.sha256, digest);
    assert!(pending_uploads(&store).await.expect("pending").is_empty());
    let dest = c.path("restart.back.wav");
    client
        .download_checked("call-recordings", &key, &dest, &digest)
        .await;
    c.finish().await;
}

#[tokio::test]
async fn unknown_or_terminated_upload_urls_start_over() {
    let Some(c) = setup("unknown_or_terminated_upload_urls_start_over").await else {
        return;
    };
    let client = c.client(&c.rep);
    let (key, src, digest) = c.rep_file("gone.wav", WAV, 14 * MIB, 5);
    let upload = |t: Transfer| {
        let client = client.clone();
        let (key, src) = (key.clone(), src.clone());
        async move {
            client
                .upload("call-recordings", &key, &src, "audio/wav", false, &t)
                .await
        }
    };

    // 1. The tracked URL names an upload the server never had (as after its records expired).
    let err = upload(cancel_at(CHUNK)).await.expect_err("cancelled");
    assert!(matches!(err, FileError::Cancelled), "{err:?}");
    let url = tracked_url(&c.store, "call-recordings", &key).await;
    let (base, _) = url.rsplit_once('/').expect("an upload id");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let unknown = format!(
        "{base}/{}",
        b64.encode(format!("call-recordings/{key}/{}", Uuid::new_v4()))
    );
    sqlx::query("update file_uploads set upload_url = ?")
        .bind(&unknown)
        .execute(c.store.pool())
        .await
        .expect("swap the URL");
    let up = upload(Transfer::default()).await.expect("started over");
    assert_eq!((up.resumed_from, up.sha256.as_str()), (0, digest.as_str()));
    assert_eq!(
        c.stored_size("call-recordings", &key).await,
        Some(14 * MIB as i64)
    );

    // 2. The upload was terminated on the server (TUS DELETE) after a first chunk.
    let key2 = format!("{}/gone2.wav", c.rep.id);
    let err = client
        .upload(
            "call-recordings",
            &key2,
            &src,
            "audio/wav",
            false,
            &cancel_at(CHUNK),
        )
        .await
        .expect_err("cancelled");
    assert!(matches!(err, FileError::Cancelled), "{err:?}");
    let url = tracked_url(&c.store, "call-recordings", &key2).await;
    let resp = plain_http()
        .delete(&url)
        .bearer_auth(&c.rep.token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .expect("terminate");
    assert_eq!(
        resp.status().as_u16(),
        204,
        "the server terminated the upload"
    );
    let up = client
        .upload_file("call-recordings", &key2, &src, "audio/wav", false)
        .await
        .expect("started over");
    assert_eq!((up.resumed_from, up.sha256.as_str()), (0, digest.as_str()));
    let dest = c.path("gone2.back.wav");
    client
        .download_checked("call-recordings", &key2, &dest, &digest)
        .await;
    c.finish().await;
}

#[tokio::test]
async fn overwrite_needs_upsert_standard_and_resumable() {
    let Some(c) = setup("overwrite_needs_upsert_standard_and_resumable").await else {
        return;
    };
    let client = c.client(&c.rep);
    for (name, len) in [("small.txt", 3000usize), ("big.wav", 8 * MIB)] {
        let key = format!("{}/{name}", c.rep.id);
        let mime = if len > 3000 {
            "audio/wav"
        } else {
            "text/plain"
        };
        let head: &[u8] = if len > 3000 { WAV } else { b"" };
        let (v1, _) = c.file(&format!("v1-{name}"), head, len, 10);
        let (v2, d2) = c.file(&format!("v2-{name}"), head, len, 11);
        client
            .upload_file("call-recordings", &key, &v1, mime, false)
            .await
            .expect("first version");
        let err = client
            .upload_file("call-recordings", &key, &v2, mime, false)
            .await
            .expect_err("no overwrite without upsert");
        assert!(matches!(err, FileError::Exists { .. }), "{name}: {err:?}");
        client
            .upload_file("call-recordings", &key, &v2, mime, true)
            .await
            .expect("upsert overwrites");
        let dest = c.path(&format!("back-{name}"));
        client
            .download_file("call-recordings", &key, &dest, Some(&d2))
            .await
            .expect("download the new version");
        assert_eq!(sha_file(&dest), d2, "{name}");
    }
    if let Some(g) = &c.gateway {
        // Every chunk of the upserting resumable upload said so.
        let patches: Vec<_> = g
            .passed()
            .into_iter()
            .filter(|p| p.method == "PATCH" && p.status == 204)
            .collect();
        assert!(
            patches
                .iter()
                .rev()
                .take(2)
                .all(|p| p.upsert.as_deref() == Some("true")),
            "{patches:?}"
        );
    }
    // A resumable upload without upsert whose object appears meanwhile stops with Exists (the
    // server's 409 "already exists" on the next chunk), not as an offset dispute.
    let (key, big, _) = c.rep_file("race.wav", WAV, 14 * MIB, 12);
    let err = client
        .upload(
            "call-recordings",
            &key,
            &big,
            "audio/wav",
            false,
            &cancel_at(CHUNK),
        )
        .await
        .expect_err("cancelled");
    assert!(matches!(err, FileError::Cancelled), "{err:?}");
    let (small, _) = c.file("race-small.txt", b"", 100, 13);
    client
        .upload_file("call-recordings", &key, &small, "audio/wav", false)
        .await
        .expect("someone else stores the object");
    let err = client
        .upload_file("call-recordings", &key, &big, "audio/wav", false)
        .await
        .expect_err("the object exists now");
    assert!(matches!(err, FileError::Exists { .. }), "{err:?}");
    assert!(
        pending_uploads(&c.store).await.expect("pending").is_empty(),
        "an upload that can never complete is forgotten"
    );
    assert_eq!(c.stored_size("call-recordings", &key).await, Some(100));
    c.finish().await;
}

#[tokio::test]
async fn a_rep_is_refused_on_training_materials_and_nothing_is_stored() {
    let Some(c) = setup("a_rep_is_refused_on_training_materials_and_nothing_is_stored").await
    else {
        return;
    };
    let rep = c.client(&c.rep);
    let run = Uuid::new_v4();
    for (name, len) in [("deck.pdf", 5000usize), ("video.mp4", 7 * MIB)] {
        let key = format!("conformance-{run}/{name}");
        let (src, _) = c.file(name, b"%PDF-1.7\n", len, 20);
        let err = rep
            .upload_file(
                "training-materials",
                &key,
                &src,
                "application/octet-stream",
                false,
            )
            .await
            .expect_err("a rep may not write materials");
        assert!(
            matches!(err, FileError::Forbidden { .. }),
            "{name}: {err:?}"
        );
        assert!(!c.exists("training-materials", &key).await, "{name} stored");
        assert!(
            pending_uploads(&c.store).await.expect("pending").is_empty(),
            "{name}: a refused upload is not kept for resuming"
        );
    }
    // The admin may, and the rep can then read it.
    let key = format!("conformance-{run}/deck.pdf");
    let (src, digest) = c.file("deck.pdf", b"%PDF-1.7\n", 5000, 21);
    c.client(&c.admin)
        .upload_file("training-materials", &key, &src, "application/pdf", false)
        .await
        .expect("admin upload");
    let dest = c.path("deck.back.pdf");
    rep.download_file("training-materials", &key, &dest, Some(&digest))
        .await
        .expect("a rep reads materials");
    // ...but not delete it: the server answers success and deletes nothing; the client sees
    // the object is still there and says so.
    let err = rep
        .delete("training-materials", &[key.as_str()])
        .await
        .expect_err("a rep may not delete materials");
    assert!(matches!(err, FileError::Forbidden { .. }), "{err:?}");
    assert!(
        c.exists("training-materials", &key).await,
        "a rep deleted it"
    );
    c.finish().await;
}

#[tokio::test]
async fn an_oversized_file_is_refused_by_the_server_too() {
    let Some(c) = setup("an_oversized_file_is_refused_by_the_server_too").await else {
        return;
    };
    // Without the client's own check (as with limits it does not know), the server refuses.
    let mut config = c.config();
    config.limits.remove("user-avatars");
    let client = c.client_with(&c.rep, config, c.store.clone());
    for (name, len) in [("big.png", 5 * MIB + 1), ("huge.png", 7 * MIB)] {
        let key = format!("{}/{name}", c.rep.id);
        let (src, _) = c.file(name, PNG, len, 30);
        let err = client
            .upload_file("user-avatars", &key, &src, "image/png", false)
            .await
            .expect_err("over the bucket's 5 MiB");
        assert!(
            matches!(err, FileError::RefusedTooLarge { size, .. } if size == len as u64),
            "{name}: {err:?}"
        );
        assert!(!c.exists("user-avatars", &key).await, "{name} stored");
    }
    // And the client's check refuses before a byte is sent.
    let key = format!("{}/big.png", c.rep.id);
    let err = c
        .client(&c.rep)
        .upload_file("user-avatars", &key, &c.path("big.png"), "image/png", false)
        .await
        .expect_err("refused locally");
    assert!(matches!(err, FileError::TooLarge { .. }), "{err:?}");
    // A type the bucket does not take, past the client's check.
    let mut config = c.config();
    config.limits.remove("user-avatars");
    let client = c.client_with(&c.rep, config, c.store.clone());
    let (src, _) = c.file("notes.txt", b"", 100, 31);
    let err = client
        .upload_file(
            "user-avatars",
            &format!("{}/notes.txt", c.rep.id),
            &src,
            "text/plain",
            false,
        )
        .await
        .expect_err("wrong type");
    assert!(matches!(err, FileError::TypeNotAllowed { .. }), "{err:?}");
    c.finish().await;
}

#[tokio::test]
async fn hostile_names_are_refused_and_display_names_round_trip_as_slugs() {
    let Some(c) = setup("hostile_names_are_refused_and_display_names_round_trip_as_slugs").await
    else {
        return;
    };
    let client = c.client(&c.rep);
    let (src, digest) = c.file("plain.txt", b"", 1000, 40);
    let me = c.rep.id;
    for key in [
        format!("{me}/../escape.txt"),
        format!("{me}//double.txt"),
        format!("/{me}/abs.txt"),
        format!("{me}/Präsentation.txt"),
        format!("{me}/what?.txt"),
        format!("{me}/a\u{0}b.txt"),
        format!("{me}/CON"),
        format!("{me}/#hash.txt"),
    ] {
        let err = client
            .upload_file("call-recordings", &key, &src, "text/plain", false)
            .await
            .expect_err("hostile name");
        assert!(
            matches!(err, FileError::InvalidName { .. }),
            "{key:?}: {err:?}"
        );
    }
    // The server too refuses a key outside its character set: the client's slug rule is not
    // stricter for nothing.
    let resp = plain_http()
        .post(format!(
            "{}/storage/v1/object/call-recordings/{me}/Pr%C3%A4sentation.txt",
            c.project_url
        ))
        .bearer_auth(&c.rep.token)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .expect("raw request");
    let body = resp.text().await.unwrap_or_default();
    assert!(body.contains("InvalidKey"), "{body}");
    // A display name with spaces, accents and brackets is stored under its slug and comes back.
    let store = BucketStore::new(client.clone(), "call-recordings", format!("{me}/"));
    let stored = store
        .put(
            &src,
            "Q3 deck (final) — Präsentation.txt",
            Some("text/plain"),
            &Transfer::default(),
        )
        .await
        .expect("put");
    assert!(
        stored.key.ends_with("/Q3_deck_(final)___Pr_sentation.txt"),
        "{}",
        stored.key
    );
    let dest = c.path("slug.back.txt");
    store
        .get(&stored.key, &dest, &Transfer::default())
        .await
        .expect("get");
    assert_eq!(sha_file(&dest), digest);
    c.finish().await;
}

#[tokio::test]
async fn signed_urls_fetch_without_a_token() {
    let Some(c) = setup("signed_urls_fetch_without_a_token").await else {
        return;
    };
    let client = c.client(&c.rep);
    let (key, src, digest) = c.rep_file("signed.txt", b"", 2000, 50);
    client
        .upload_file("call-recordings", &key, &src, "text/plain", false)
        .await
        .expect("upload");
    let url = client
        .signed_url("call-recordings", &key, Duration::from_secs(60))
        .await
        .expect("sign");
    assert!(
        url.starts_with(&format!(
            "{}/storage/v1/object/sign/call-recordings/",
            c.project_url
        )),
        "{url}"
    );
    let plain = plain_http();
    let bytes = plain
        .get(&url)
        .send()
        .await
        .expect("fetch")
        .error_for_status()
        .expect("signed fetch succeeds")
        .bytes()
        .await
        .expect("body");
    assert_eq!(sha(&bytes), digest);
    // A tampered token is refused.
    let tampered = format!("{}x", url);
    let resp = plain.get(&tampered).send().await.expect("fetch");
    assert!(!resp.status().is_success());
    // Signing what is not there is NotFound.
    let err = client
        .signed_url(
            "call-recordings",
            &format!("{}/nothing.txt", c.rep.id),
            Duration::from_secs(60),
        )
        .await
        .expect_err("no object");
    assert!(matches!(err, FileError::NotFound { .. }), "{err:?}");
    c.finish().await;
}

#[tokio::test]
async fn downloads_resume_with_range_after_a_cut_and_from_a_part_file() {
    let Some(c) = setup("downloads_resume_with_range_after_a_cut_and_from_a_part_file").await
    else {
        return;
    };
    let client = c.client(&c.rep);
    let (key, src, digest) = c.rep_file("range.wav", WAV, 24 * MIB, 60);
    client
        .upload_file("call-recordings", &key, &src, "audio/wav", false)
        .await
        .expect("upload");

    // A part file left by an earlier session: only the rest is fetched.
    let dest = c.path("range.back.wav");
    let bytes = std::fs::read(&src).expect("read");
    std::fs::write(part_path(&dest), &bytes[..3 * MIB]).expect("seed part");
    let got = client
        .download_file("call-recordings", &key, &dest, Some(&digest))
        .await
        .expect("resumed download");
    assert_eq!(
        (got.resumed_from, got.size),
        (3 * MIB as u64, 24 * MIB as u64)
    );
    assert_eq!(sha_file(&dest), digest);

    // A part left from a version that was overwritten since (the server ignores If-Range):
    // discarded and fetched again whole, not completed with the new version's tail.
    let (v2, d2) = c.file("range-v2.wav", WAV, 24 * MIB, 61);
    let over = c.path("range.over.wav");
    let err = client
        .download(
            "call-recordings",
            &key,
            &over,
            None,
            &cancel_at(2 * MIB as u64),
        )
        .await
        .expect_err("cancelled");
    assert!(matches!(err, FileError::Cancelled), "{err:?}");
    client
        .upload_file("call-recordings", &key, &v2, "audio/wav", true)
        .await
        .expect("overwrite");
    let got = client
        .download_file("call-recordings", &key, &over, None)
        .await
        .expect("download of the new version");
    assert_eq!((got.sha256.as_str(), got.resumed_from), (d2.as_str(), 0));
    // The rest of this test reads the new version.
    let digest = d2;

    // A cut in the middle of the body (far more left than socket buffers hold): the download
    // goes on with Range once the network is back.
    let dest = c.path("range.cut.wav");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let transfer = {
        let cut = c.cut.clone();
        Transfer {
            on_progress: Some(Arc::new(move |p| {
                if p.done >= 2 * MIB as u64 && cut.cuts() == 0 {
                    cut.cut();
                    let _ = tx.send(());
                }
            })),
            ..Transfer::default()
        }
    };
    let net = async {
        if rx.recv().await.is_some() {
            tokio::time::sleep(Duration::from_millis(300)).await;
            c.cut.restore();
        }
    };
    let (got, ()) = tokio::join!(
        client.download("call-recordings", &key, &dest, Some(&digest), &transfer),
        net
    );
    let got = got.expect("download survives the cut");
    assert_eq!(c.cut.cuts(), 1);
    assert_eq!(got.size, 24 * MIB as u64);
    assert_eq!(sha_file(&dest), digest);
    c.finish().await;
}
