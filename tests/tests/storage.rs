//! The storage client and the file stores against the Supabase Storage fake: round trips with
//! checksums, resumable uploads that survive cuts, restarts and expired URLs, token refresh,
//! bucket policies, downloads resumed with `Range`, cancel, and every kind of bad input.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use salesdesk_core::data::local::LocalStore;
use salesdesk_core::files::{
    FileError, FileStore, LocalFileStore, StaticToken, StorageConfig, SupabaseStorage, TokenSource,
    Transfer, pending_uploads,
};
use salesdesk_core::secrets::SecretString;
use salesdesk_core::{CoreError, ErrorKind};
use salesdesk_testkit::fakes::supabase_storage::{On, StorageFake, StorageFault};
use salesdesk_testkit::storage::{
    PNG, PlainTransfers, WAV, cancel_at, sha, sha_file, storage_client, write_seeded,
};
use salesdesk_testkit::supabase::{Claims, mint_token, unix_now};
use uuid::Uuid;

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const MIB: usize = 1024 * 1024;
const CHUNK: u64 = 6 * 1024 * 1024;

struct Env {
    dir: tempfile::TempDir,
    fake: StorageFake,
    store: LocalStore,
    user: Uuid,
}

impl Env {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = StorageFake::start(SECRET).await;
        let store = LocalStore::open(&dir.path().join("salesdesk.db"))
            .await
            .expect("open store");
        Self {
            dir,
            fake,
            store,
            user: Uuid::new_v4(),
        }
    }

    fn token(&self, expires_in: i64) -> String {
        let mut c = Claims::for_session(self.user, Uuid::new_v4(), "rep@example.com");
        c.exp = unix_now() + expires_in;
        mint_token(SECRET, &c)
    }

    fn client_with(&self, tokens: Arc<dyn TokenSource>) -> SupabaseStorage {
        let mut config = StorageConfig::new(self.fake.origin());
        config.retry_backoff = Duration::from_millis(10);
        config.request_timeout = Duration::from_secs(3);
        config.stall_timeout = Duration::from_millis(500);
        storage_client(Duration::from_secs(2), config, tokens, self.store.clone())
    }

    fn client(&self) -> SupabaseStorage {
        self.client_with(Arc::new(StaticToken(SecretString::new(self.token(3600)))))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A file of `len` pseudo-random bytes after `head`.
    fn file(&self, name: &str, head: &[u8], len: usize) -> (PathBuf, String) {
        let p = self.path(name);
        let digest = write_seeded(&p, head, len, 0);
        (p, digest)
    }
}

#[tokio::test]
async fn small_file_round_trip_with_signed_url() {
    let env = Env::new().await;
    let client = env.client();
    let (src, digest) = env.file("note.txt", b"", 1024);
    let up = client
        .upload_file("call-recordings", "u1/note.txt", &src, "text/plain", false)
        .await
        .expect("upload");
    assert_eq!((up.size, up.sha256.as_str()), (1024, digest.as_str()));
    assert_eq!(
        env.fake.object_digest("call-recordings", "u1/note.txt"),
        Some((1024, digest.clone()))
    );
    assert_eq!(env.fake.count("POST", "/object/call-recordings/"), 1);
    assert_eq!(
        env.fake.count("POST", "/upload/resumable"),
        0,
        "small files skip TUS"
    );

    let dest = env.path("back.txt");
    let got = client
        .download_file("call-recordings", "u1/note.txt", &dest, Some(&digest))
        .await
        .expect("download");
    assert_eq!(got.sha256, digest);
    assert_eq!(sha_file(&dest), digest);

    // Overwriting needs upsert.
    let err = client
        .upload_file("call-recordings", "u1/note.txt", &src, "text/plain", false)
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::Exists { .. }), "{err:?}");

    let url = client
        .signed_url("call-recordings", "u1/note.txt", Duration::from_secs(60))
        .await
        .expect("sign");
    let body = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha(&body), digest);

    client
        .delete("call-recordings", &["u1/note.txt"])
        .await
        .expect("delete");
    assert_eq!(
        env.fake.object_digest("call-recordings", "u1/note.txt"),
        None
    );
}

#[tokio::test]
async fn large_file_goes_in_6mb_chunks_and_round_trips() {
    let env = Env::new().await;
    let client = env.client();
    let size = 2 * CHUNK as usize + MIB;
    let (src, digest) = env.file("call.mp3", b"", size);
    let reports = Arc::new(Mutex::new(Vec::new()));
    let r2 = reports.clone();
    let t = Transfer::with_progress(move |p| r2.lock().unwrap().push(p));
    let up = client
        .upload(
            "call-recordings",
            "u1/call.mp3",
            &src,
            "audio/mpeg",
            false,
            &t,
        )
        .await
        .expect("upload");
    assert_eq!(up.resumed_from, 0);
    assert_eq!(
        env.fake.object_digest("call-recordings", "u1/call.mp3"),
        Some((size as u64, digest.clone()))
    );
    let patches: Vec<_> = env
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    let lens: Vec<u64> = patches.iter().map(|r| r.body_len).collect();
    assert_eq!(lens, vec![CHUNK, CHUNK, MIB as u64]);
    let create = env
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(create.header("tus-resumable"), Some("1.0.0"));
    assert_eq!(
        create.header("upload-length"),
        Some(size.to_string().as_str())
    );
    assert!(
        create
            .header("upload-metadata")
            .unwrap()
            .contains("bucketName ")
    );
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.last().map(|p| p.done), Some(size as u64));
    assert!(reports.iter().all(|p| p.total == size as u64));
    assert!(
        pending_uploads(&env.store).await.unwrap().is_empty(),
        "done uploads are forgotten"
    );

    // Overwrite: x-upsert on the creation and on every PATCH.
    env.fake.clear_requests();
    client
        .upload_file("call-recordings", "u1/call.mp3", &src, "audio/mpeg", true)
        .await
        .expect("upsert");
    let reqs = env.fake.requests();
    assert!(
        reqs.iter()
            .filter(|r| r.method == "PATCH" || r.method == "POST")
            .all(|r| r.header("x-upsert") == Some("true"))
    );

    let dest = env.path("call-back.mp3");
    let got = client
        .download_file("call-recordings", "u1/call.mp3", &dest, Some(&digest))
        .await
        .expect("download");
    assert_eq!((got.size, got.sha256), (size as u64, digest));
}

#[tokio::test]
async fn upload_resumes_after_a_cut_mid_chunk_and_a_5xx() {
    let env = Env::new().await;
    let client = env.client();
    let size = 2 * CHUNK as usize + 1000;
    let (src, digest) = env.file("cut.wav", b"", size);
    env.fake.fault(On::Patch, StorageFault::CutMidBody);
    env.fake.fault(On::Patch, StorageFault::Status(503));
    let up = client
        .upload_file("call-recordings", "u1/cut.wav", &src, "audio/wav", false)
        .await
        .expect("upload survives the cut");
    assert_eq!(up.sha256, digest);
    assert_eq!(
        env.fake.object_digest("call-recordings", "u1/cut.wav"),
        Some((size as u64, digest))
    );
    assert_eq!(
        env.fake.count("POST", "/upload/resumable"),
        1,
        "resumed, not restarted"
    );
    assert!(
        env.fake.count("HEAD", "/upload/resumable/") >= 1,
        "asked the server for its offset"
    );
    // The server kept what arrived before the cut, so the upload went on from mid-chunk.
    let offsets: Vec<u64> = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .filter_map(|r| r.header("upload-offset").and_then(|v| v.parse().ok()))
        .collect();
    assert!(offsets.iter().any(|o| o % CHUNK != 0), "{offsets:?}");
}

#[tokio::test]
async fn upload_resumes_after_a_restart_from_the_local_store() {
    let env = Env::new().await;
    let size = 2 * CHUNK as usize + 5000;
    let (src, digest) = env.file("big.wav", b"", size);
    {
        let first = env.client();
        let err = first
            .upload(
                "call-recordings",
                "u1/big.wav",
                &src,
                "audio/wav",
                false,
                &cancel_at(CHUNK),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, FileError::Cancelled), "{err:?}");
        let core: CoreError = err.into();
        assert_eq!(core.kind(), ErrorKind::Cancelled);
    }
    let pending = pending_uploads(&env.store).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].confirmed, CHUNK);
    env.store.close().await;

    // A new process: the store reopened from disk, a new client.
    let store = LocalStore::open(&env.dir.path().join("salesdesk.db"))
        .await
        .unwrap();
    let env2 = Env { store, ..env };
    let second = env2.client();
    let up = second
        .upload_file("call-recordings", "u1/big.wav", &src, "audio/wav", false)
        .await
        .expect("resumed upload");
    assert_eq!(up.resumed_from, CHUNK);
    assert_eq!(env2.fake.count("POST", "/upload/resumable"), 1);
    let patched: u64 = env2
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.body_len)
        .sum();
    assert_eq!(patched, size as u64, "no byte sent twice");
    assert_eq!(
        env2.fake.object_digest("call-recordings", "u1/big.wav"),
        Some((size as u64, digest))
    );
}

#[tokio::test]
async fn an_expired_upload_url_starts_over() {
    let env = Env::new().await;
    let client = env.client();
    let size = CHUNK as usize + 5000;
    let (src, digest) = env.file("exp.wav", b"", size);
    let err = client
        .upload(
            "call-recordings",
            "u1/exp.wav",
            &src,
            "audio/wav",
            false,
            &cancel_at(CHUNK),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::Cancelled));
    env.fake.expire_uploads();
    let up = client
        .upload_file("call-recordings", "u1/exp.wav", &src, "audio/wav", false)
        .await
        .expect("started over");
    assert_eq!(up.resumed_from, 0);
    assert_eq!(env.fake.count("POST", "/upload/resumable"), 2);
    assert_eq!(
        env.fake.object_digest("call-recordings", "u1/exp.wav"),
        Some((size as u64, digest))
    );
}

/// Hands out an expired token until asked to refresh.
struct RefreshingToken {
    stale: String,
    fresh: String,
    refreshed: AtomicBool,
    refreshes: AtomicU32,
}

impl TokenSource for RefreshingToken {
    fn access_token(&self, refresh: bool) -> BoxFuture<'_, Result<SecretString, FileError>> {
        Box::pin(async move {
            if refresh {
                self.refreshed.store(true, Ordering::SeqCst);
                self.refreshes.fetch_add(1, Ordering::SeqCst);
            }
            let t = if self.refreshed.load(Ordering::SeqCst) {
                &self.fresh
            } else {
                &self.stale
            };
            Ok(SecretString::new(t.clone()))
        })
    }
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_a_dead_one_signs_out() {
    let env = Env::new().await;
    let tokens = Arc::new(RefreshingToken {
        stale: env.token(-60),
        fresh: env.token(3600),
        refreshed: AtomicBool::new(false),
        refreshes: AtomicU32::new(0),
    });
    let client = env.client_with(tokens.clone());
    let (small, _) = env.file("s.txt", b"", 2000);
    let (large, digest) = env.file("l.wav", b"", CHUNK as usize + 10);
    client
        .upload_file("call-recordings", "u1/s.txt", &small, "text/plain", false)
        .await
        .expect("small upload after refresh (400 with statusCode 403)");
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);
    tokens.refreshed.store(false, Ordering::SeqCst);
    client
        .upload_file("call-recordings", "u1/l.wav", &large, "audio/wav", false)
        .await
        .expect("resumable upload after refresh (TUS: 400 with statusCode 403)");
    assert_eq!(
        env.fake
            .object_digest("call-recordings", "u1/l.wav")
            .map(|d| d.1),
        Some(digest)
    );

    let dead = env.client_with(Arc::new(StaticToken(SecretString::new(env.token(-60)))));
    let err = dead
        .upload_file("call-recordings", "u1/x.txt", &small, "text/plain", false)
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::SignedOut { .. }), "{err:?}");
    assert_eq!(CoreError::from(err).kind(), ErrorKind::SignedOut);

    // A token signed with another secret is no better.
    let mut c = Claims::for_session(env.user, Uuid::new_v4(), "rep@example.com");
    c.exp = unix_now() + 3600;
    let forged = mint_token("another-secret-another-secret-another-secret", &c);
    let err = env
        .client_with(Arc::new(StaticToken(SecretString::new(forged))))
        .upload_file("call-recordings", "u1/y.txt", &small, "text/plain", false)
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::SignedOut { .. }), "{err:?}");
    assert_eq!(env.fake.object_digest("call-recordings", "u1/y.txt"), None);
}

#[tokio::test]
async fn materials_are_writable_by_admins_only() {
    let env = Env::new().await;
    let client = env.client();
    let (small, _) = env.file("deck.txt", b"", 3000);
    let (large, _) = env.file("deck.bin", b"", CHUNK as usize + 1);
    for src in [&small, &large] {
        let err = client
            .upload_file("training-materials", "m/deck.txt", src, "text/plain", false)
            .await
            .unwrap_err();
        assert!(matches!(err, FileError::Forbidden { .. }), "{err:?}");
        assert!(err.to_string().contains("training-materials"), "{err}");
    }
    assert_eq!(
        env.fake.object_digest("training-materials", "m/deck.txt"),
        None
    );
    // An admin by the token's claim...
    let mut c = Claims::for_session(Uuid::new_v4(), Uuid::new_v4(), "admin@example.com");
    c.app_metadata = serde_json::json!({"provider": "email", "role": "admin"});
    let admin = env.client_with(Arc::new(StaticToken(SecretString::new(mint_token(
        SECRET, &c,
    )))));
    admin
        .upload_file(
            "training-materials",
            "m/by-claim.txt",
            &small,
            "text/plain",
            false,
        )
        .await
        .expect("an admin claim may write materials");
    // A rep's delete: the server answers success and deletes nothing, which the client
    // notices (the object is still there) and reports.
    let err = client
        .delete("training-materials", &["m/by-claim.txt"])
        .await
        .expect_err("a rep may not delete materials");
    assert!(matches!(err, FileError::Forbidden { .. }), "{err:?}");
    assert!(
        env.fake
            .object_digest("training-materials", "m/by-claim.txt")
            .is_some()
    );
    client
        .delete("training-materials", &["m/never-there.txt"])
        .await
        .expect("deleting what is gone is fine");
    admin
        .delete("training-materials", &["m/by-claim.txt"])
        .await
        .expect("an admin deletes");
    assert_eq!(
        env.fake
            .object_digest("training-materials", "m/by-claim.txt"),
        None
    );
    // ...or by the team's admin list.
    env.fake.add_admin(&env.user.to_string());
    client
        .upload_file(
            "training-materials",
            "m/deck.txt",
            &small,
            "text/plain",
            false,
        )
        .await
        .expect("admins may write materials");
}

#[tokio::test]
async fn downloads_resume_with_range_and_cancel_keeps_the_part() {
    let env = Env::new().await;
    let client = env.client();
    let (src, digest) = env.file("seed.bin", b"", 3 * MIB + 77);
    env.fake.put_object(
        "call-recordings",
        "u1/rec.wav",
        &std::fs::read(&src).unwrap(),
        "audio/wav",
    );
    env.fake.fault(On::Download, StorageFault::CutMidBody);
    let dest = env.path("rec.wav");
    let got = client
        .download_file("call-recordings", "u1/rec.wav", &dest, Some(&digest))
        .await
        .expect("download survives a cut");
    assert_eq!(got.sha256, digest);
    let gets: Vec<_> = env
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(gets.len(), 2);
    assert!(
        gets[1].header("range").unwrap().starts_with("bytes="),
        "second GET resumes"
    );
    assert_ne!(gets[1].header("range"), Some("bytes=0-"));

    // Cancel mid-way: no file at dest, the part stays and the next call resumes from it.
    let dest2 = env.path("rec2.wav");
    let err = client
        .download(
            "call-recordings",
            "u1/rec.wav",
            &dest2,
            Some(&digest),
            &cancel_at(MIB as u64),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::Cancelled));
    assert!(!dest2.exists());
    let again = client
        .download_file("call-recordings", "u1/rec.wav", &dest2, Some(&digest))
        .await
        .expect("resumed");
    assert!(again.resumed_from >= MIB as u64);
    assert_eq!(sha_file(&dest2), digest);

    // A wrong expected digest: refused, nothing at dest.
    let dest3 = env.path("rec3.wav");
    let err = client
        .download_file(
            "call-recordings",
            "u1/rec.wav",
            &dest3,
            Some(&"0".repeat(64)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::Integrity { .. }), "{err:?}");
    assert!(!dest3.exists());

    let err = client
        .download_file("call-recordings", "u1/nope.wav", &dest3, None)
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::NotFound { .. }), "{err:?}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_is_a_clear_error_and_keeps_the_old_file() {
    let env = Env::new().await;
    let client = env.client();
    let (src, digest) = env.file("seed.bin", b"", 200_000);
    env.fake.put_object(
        "call-recordings",
        "u1/a.wav",
        &std::fs::read(&src).unwrap(),
        "audio/wav",
    );
    let dest = env.path("a.wav");
    std::fs::write(&dest, b"the old copy").unwrap();
    // The part file lands on a device that is always full.
    std::os::unix::fs::symlink(
        "/dev/full",
        salesdesk_core::files::download::part_path(&dest),
    )
    .unwrap();
    let err = client
        .download_file("call-recordings", "u1/a.wav", &dest, Some(&digest))
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::DiskFull { .. }), "{err:?}");
    assert!(err.to_string().contains("full"));
    assert_eq!(CoreError::from(err).kind(), ErrorKind::Store);
    assert_eq!(std::fs::read(&dest).unwrap(), b"the old copy");

    let local = LocalFileStore::new(env.path("files"));
    let stored = local
        .put(&src, "seed.bin", None, &Transfer::default())
        .await
        .unwrap();
    let dest = env.path("b.bin");
    std::os::unix::fs::symlink(
        "/dev/full",
        salesdesk_core::files::download::part_path(&dest),
    )
    .unwrap();
    let err = local
        .get(&stored.key, &dest, &Transfer::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::DiskFull { .. }), "{err:?}");
    assert!(!dest.exists());
}

/// Every bad input against both stores: a clear error, nothing sent, nothing lost.
#[tokio::test]
async fn bad_inputs_are_refused_before_anything_is_stored() {
    let env = Env::new().await;
    let local = LocalFileStore::new(env.path("files"));
    let remote = salesdesk_core::files::BucketStore::new(
        env.client(),
        "user-avatars",
        format!("{}/", env.user),
    );
    let stores: [(&str, &dyn FileStore); 2] = [("local", &local), ("remote", &remote)];
    let (good, good_sha) = env.file("good.png", PNG, 10_000);
    let mut kept = Vec::new();
    for (which, store) in stores {
        let s = store
            .put(&good, "Me.png", None, &Transfer::default())
            .await
            .expect("good file");
        assert_eq!(s.sha256, good_sha);
        assert_eq!(s.mime, "image/png");
        kept.push((which, s));
    }
    env.fake.clear_requests();

    let long = format!("{}.png", "a".repeat(300));
    for name in [
        "../../etc/passwd.png",
        "a/b.png",
        "a\\b.png",
        "bell\u{7}.png",
        "CON.png",
        "lpt1",
        long.as_str(),
        "",
    ] {
        for (which, store) in stores {
            let err = store
                .put(&good, name, None, &Transfer::default())
                .await
                .unwrap_err();
            assert!(
                matches!(err, FileError::InvalidName { .. }),
                "{which} {name:?}: {err:?}"
            );
            assert_eq!(CoreError::from(err).kind(), ErrorKind::InvalidInput);
        }
    }

    let (fake_pdf, _) = env.file("deck.pdf", PNG, 5000);
    let (text_png, _) = env.file("pic.png", b"just some words, not an image", 30);
    let (empty, _) = env.file("empty.png", b"", 0);
    for (which, store) in stores {
        let err = store
            .put(&fake_pdf, "deck.pdf", None, &Transfer::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, FileError::ContentMismatch { .. }),
            "{which}: {err:?}"
        );
        assert!(err.to_string().contains("png"), "{err}");
        let err = store
            .put(&text_png, "pic.png", None, &Transfer::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("plain text"), "{err}");
        let err = store
            .put(&empty, "empty.png", None, &Transfer::default())
            .await
            .unwrap_err();
        assert!(matches!(err, FileError::Empty { .. }), "{which}: {err:?}");
        assert!(err.to_string().contains("empty"));
        let err = store
            .put(
                &env.path("missing.png"),
                "missing.png",
                None,
                &Transfer::default(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, FileError::SourceVanished { .. }),
            "{which}: {err:?}"
        );
    }

    // Over the avatar bucket's 5 MB limit: refused before a byte is sent.
    let (huge, _) = env.file("huge.png", PNG, 6 * MIB);
    let err = remote
        .put(&huge, "huge.png", None, &Transfer::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains(&(5 * MIB).to_string()), "{err}");
    // A type the bucket does not take.
    let (wav, _) = env.file("voice.wav", WAV, 2000);
    let err = remote
        .put(&wav, "voice.wav", None, &Transfer::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::TypeNotAllowed { .. }), "{err:?}");
    assert!(
        env.fake.requests().is_empty(),
        "nothing reached the server: {:?}",
        env.fake.requests().len()
    );

    // Everything stored before is intact.
    for (which, s) in kept {
        let store: &dyn FileStore = if which == "local" { &local } else { &remote };
        let dest = env.path(&format!("check-{which}.png"));
        store
            .get(&s.key, &dest, &Transfer::default())
            .await
            .expect("still there");
        assert_eq!(sha_file(&dest), good_sha);
    }
}

#[tokio::test]
async fn a_file_that_changes_or_vanishes_while_uploading_is_not_recorded() {
    let env = Env::new().await;
    let client = env.client();
    let size = 2 * CHUNK as usize + 10;

    let (src, _) = env.file("grow.wav", b"", size);
    let p = src.clone();
    let t = Transfer::with_progress(move |pr| {
        if pr.done >= CHUNK {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            f.write_all(b"more").unwrap();
        }
    });
    let err = client
        .upload(
            "call-recordings",
            "u1/grow.wav",
            &src,
            "audio/wav",
            false,
            &t,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::SourceChanged { .. }), "{err:?}");
    assert!(err.to_string().contains("changed"));

    let (src, _) = env.file("gone.wav", b"", size);
    let p = src.clone();
    let t = Transfer::with_progress(move |pr| {
        if pr.done >= CHUNK {
            let _ = std::fs::remove_file(&p);
        }
    });
    let err = client
        .upload(
            "call-recordings",
            "u1/gone.wav",
            &src,
            "audio/wav",
            false,
            &t,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::SourceVanished { .. }), "{err:?}");

    assert_eq!(
        env.fake.object_digest("call-recordings", "u1/grow.wav"),
        None
    );
    assert_eq!(
        env.fake.object_digest("call-recordings", "u1/gone.wav"),
        None
    );
    assert!(
        pending_uploads(&env.store).await.unwrap().is_empty(),
        "nothing recorded"
    );

    // The local store: edited during the copy.
    let local = LocalFileStore::new(env.path("files"));
    let (src, _) = env.file("edit.wav", WAV, 3 * MIB);
    let p = src.clone();
    let t = Transfer::with_progress(move |pr| {
        if pr.done >= MIB as u64 && pr.done < 2 * MIB as u64 {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            f.write_all(b"x").unwrap();
        }
    });
    let err = local.put(&src, "edit.wav", None, &t).await.unwrap_err();
    assert!(matches!(err, FileError::SourceChanged { .. }), "{err:?}");
    let objects = walk(&env.path("files/sha256"));
    assert!(objects.is_empty(), "no object recorded: {objects:?}");
    assert!(walk(&env.path("files/tmp")).is_empty(), "no temp file left");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn local_store_is_content_addressed() {
    let env = Env::new().await;
    let local = LocalFileStore::new(env.path("files"));
    let (src, digest) = env.file("a.wav", WAV, 100_000);
    let a = local
        .put(&src, "a.wav", None, &Transfer::default())
        .await
        .unwrap();
    let b = local
        .put(&src, "copy of a.wav", None, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(a.key, digest);
    assert_eq!(a, b);
    assert_eq!(a.mime, "audio/wav");
    let object = local.object_path(&a.key).unwrap();
    assert!(object.ends_with(format!("sha256/{}/{}", &digest[..2], &digest[2..])));
    assert_eq!(walk(&env.path("files/sha256")).len(), 1);
    let dest = env.path("out.wav");
    assert_eq!(
        local
            .get(&a.key, &dest, &Transfer::default())
            .await
            .unwrap(),
        100_000
    );
    assert_eq!(sha_file(&dest), digest);
    // A corrupted object is caught on the way out.
    std::fs::write(&object, b"bit rot").unwrap();
    let err = local
        .get(&a.key, &env.path("rot.wav"), &Transfer::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::Integrity { .. }), "{err:?}");
    local.delete(&a.key).await.unwrap();
    let err = local
        .get(&a.key, &dest, &Transfer::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::NotFound { .. }));
    let err = local
        .get("../../etc/passwd", &dest, &Transfer::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::NotFound { .. }));
}

#[tokio::test]
async fn bucket_store_round_trips_and_dedupes() {
    let env = Env::new().await;
    let store = salesdesk_core::files::BucketStore::new(
        env.client(),
        "call-recordings",
        format!("{}/", env.user),
    );
    let (src, digest) = env.file("Call with Zoë.wav", WAV, CHUNK as usize + 3000);
    let s = store
        .put(&src, "Call with Zoë.wav", None, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(s.key, format!("{}/{digest}/Call_with_Zo_.wav", env.user));
    assert_eq!(
        env.fake.object_mime("call-recordings", &s.key).as_deref(),
        Some("audio/wav")
    );
    let again = store
        .put(&src, "Call with Zoë.wav", None, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(again, s, "same content, same key");
    let dest = env.path("zoe.wav");
    store
        .get(&s.key, &dest, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(sha_file(&dest), digest);
    store.delete(&s.key).await.unwrap();
    assert_eq!(env.fake.object_digest("call-recordings", &s.key), None);
}

#[tokio::test]
async fn a_silent_server_is_timed_out_and_retried() {
    let env = Env::new().await;
    let client = env.client();
    let (src, digest) = env.file("slow.wav", b"", CHUNK as usize + 100);
    env.fake
        .fault(On::Patch, StorageFault::Latency(Duration::from_secs(10)));
    let up = client
        .upload_file("call-recordings", "u1/slow.wav", &src, "audio/wav", false)
        .await
        .expect("retried after the timeout");
    assert_eq!(up.sha256, digest);
    // A download that stalls mid-body resumes too.
    env.fake
        .fault(On::Download, StorageFault::Slow(Duration::from_secs(10)));
    let dest = env.path("slow-back.wav");
    client
        .download_checked("call-recordings", "u1/slow.wav", &dest, &digest)
        .await;
}

#[tokio::test]
async fn the_lru_cache_keeps_to_its_budget_and_saves_downloads() {
    let env = Env::new().await;
    let remote = salesdesk_core::files::BucketStore::new(env.client(), "call-recordings", "u1/");
    let cached = salesdesk_core::files::CachedStore::new(remote, env.path("cache"), 250_000);
    let mut keys = Vec::new();
    for i in 0..3u8 {
        let (src, _) = env.file(&format!("c{i}.wav"), &[WAV, &[i; 64]].concat(), 100_000);
        let s = cached
            .put(&src, &format!("c{i}.wav"), None, &Transfer::default())
            .await
            .unwrap();
        keys.push(s);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(cached.cached_bytes() <= 250_000);
    assert!(!cached.is_cached(&keys[0].key), "the oldest was evicted");
    assert!(cached.is_cached(&keys[1].key) && cached.is_cached(&keys[2].key));

    env.fake.clear_requests();
    let dest = env.path("c1-back.wav");
    cached
        .get(&keys[1].key, &dest, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(sha_file(&dest), keys[1].sha256);
    assert_eq!(
        env.fake.count("GET", "/object/"),
        0,
        "served from the cache"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;

    let dest = env.path("c0-back.wav");
    cached
        .get(&keys[0].key, &dest, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(sha_file(&dest), keys[0].sha256);
    assert_eq!(env.fake.count("GET", "/object/"), 1, "downloaded once");
    // c1 was used more recently than c2, so c2 made room for c0.
    assert!(cached.is_cached(&keys[0].key) && cached.is_cached(&keys[1].key));
    assert!(!cached.is_cached(&keys[2].key));
    assert!(cached.cached_bytes() <= 250_000);

    cached.delete(&keys[0].key).await.unwrap();
    assert!(!cached.is_cached(&keys[0].key));
    assert_eq!(
        env.fake.object_digest("call-recordings", &keys[0].key),
        None
    );
}

#[tokio::test]
async fn offset_conflicts_rehead_and_forgotten_uploads_start_over() {
    let env = Env::new().await;
    let client = env.client();
    let size = CHUNK as usize + 4096;
    let (src, digest) = env.file("c.wav", b"", size);
    env.fake.fault(On::Patch, StorageFault::Status(409));
    client
        .upload_file("call-recordings", "u1/c.wav", &src, "audio/wav", false)
        .await
        .expect("409 → HEAD → continue");
    assert_eq!(env.fake.count("POST", "/upload/resumable"), 1);
    assert!(env.fake.count("HEAD", "/upload/resumable/") >= 1);
    assert_eq!(
        env.fake
            .object_digest("call-recordings", "u1/c.wav")
            .map(|d| d.1),
        Some(digest.clone())
    );

    env.fake.clear_requests();
    env.fake.fault(On::Patch, StorageFault::Status(404));
    client
        .upload_file("call-recordings", "u1/c2.wav", &src, "audio/wav", false)
        .await
        .expect("404 → a new upload");
    assert_eq!(env.fake.count("POST", "/upload/resumable"), 2);
    assert_eq!(
        env.fake
            .object_digest("call-recordings", "u1/c2.wav")
            .map(|d| d.1),
        Some(digest)
    );

    // The fake's listing, as the real API shapes it: folders first (id null), then files.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let listing: serde_json::Value = serde_json::from_slice(
        &http
            .post(format!(
                "{}/storage/v1/object/list/call-recordings",
                env.fake.origin()
            ))
            .bearer_auth(env.token(60))
            .header("content-type", "application/json")
            .body(r#"{"prefix":""}"#)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(listing[0]["name"], "u1");
    assert!(listing[0]["id"].is_null());
}

/// An edit that keeps the size and the modification time (what a careless tool or a restored
/// backup can do) is caught by the hash of what was sent: the last chunk is never sent.
#[tokio::test]
async fn a_same_size_edit_with_the_old_mtime_never_completes_the_object() {
    let env = Env::new().await;
    let client = env.client();
    let size = 2 * CHUNK as usize + 10;
    let (src, _) = env.file("sneaky.wav", b"", size);
    let mtime = std::fs::metadata(&src).unwrap().modified().unwrap();
    let p = src.clone();
    let edited = Arc::new(AtomicBool::new(false));
    let flag = edited.clone();
    let t = Transfer::with_progress(move |pr| {
        if pr.done >= CHUNK && !flag.swap(true, Ordering::SeqCst) {
            use std::io::{Seek, SeekFrom, Write};
            let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            // A byte of the second chunk, not sent yet.
            f.seek(SeekFrom::Start(CHUNK + 100)).unwrap();
            f.write_all(b"!").unwrap();
            f.set_modified(mtime).unwrap();
        }
    });
    let err = client
        .upload(
            "call-recordings",
            "u1/sneaky.wav",
            &src,
            "audio/wav",
            false,
            &t,
        )
        .await
        .unwrap_err();
    assert!(edited.load(Ordering::SeqCst));
    assert!(matches!(err, FileError::SourceChanged { .. }), "{err:?}");
    assert_eq!(
        env.fake.object_digest("call-recordings", "u1/sneaky.wav"),
        None,
        "the server never completed a mixed object"
    );
    assert!(pending_uploads(&env.store).await.unwrap().is_empty());
}

/// The real server builds `Location` from the headers it sees (or its configured public URL):
/// behind a gateway that passes no prefix, or that reports another port, it names a URL the
/// client cannot use, and the token must not go there anyway. The client keeps only the id.
#[tokio::test]
async fn a_location_naming_another_host_is_rebuilt_on_the_project_url() {
    let env = Env::new().await;
    let client = env.client();
    // A closed port on loopback, and no /storage/v1: nothing may be sent there.
    env.fake.set_public_url(Some("http://127.0.0.1:1"));
    let (src, digest) = env.file("loc.wav", b"", CHUNK as usize + 100);
    client
        .upload_file("call-recordings", "u1/loc.wav", &src, "audio/wav", false)
        .await
        .expect("upload through the project URL");
    assert_eq!(
        env.fake
            .object_digest("call-recordings", "u1/loc.wav")
            .map(|d| d.1),
        Some(digest)
    );
    assert_eq!(env.fake.count("PATCH", "/upload/resumable/"), 2);
}

/// Server-side refusals of an upload read as the file's problem: size (413), type (415), and
/// an object that appeared while a resumable upload without upsert was under way (409
/// "already exists" on a chunk, which is not an offset dispute).
#[tokio::test]
async fn server_refusals_of_an_upload_name_the_file() {
    let env = Env::new().await;
    let mut config = StorageConfig::new(env.fake.origin());
    config.retry_backoff = Duration::from_millis(10);
    // As with limits the client does not know: only the server checks.
    config.limits.clear();
    let client = storage_client(
        Duration::from_secs(2),
        config,
        Arc::new(StaticToken(SecretString::new(env.token(3600)))),
        env.store.clone(),
    );
    for len in [5 * MIB + 1, CHUNK as usize + 1] {
        let (src, _) = env.file("big.png", PNG, len);
        let err = client
            .upload_file("user-avatars", "u1/big.png", &src, "image/png", false)
            .await
            .expect_err("over 5 MiB");
        assert!(
            matches!(err, FileError::RefusedTooLarge { size, .. } if size == len as u64),
            "{err:?}"
        );
        assert!(err.to_string().contains("nothing was uploaded"));
    }
    let (txt, _) = env.file("n.txt", b"", 10);
    let err = client
        .upload_file("user-avatars", "u1/n.txt", &txt, "text/plain", false)
        .await
        .expect_err("not an image");
    assert!(matches!(err, FileError::TypeNotAllowed { .. }), "{err:?}");

    let (big, _) = env.file("race.wav", b"", 2 * CHUNK as usize + 10);
    let err = client
        .upload(
            "call-recordings",
            "u1/race.wav",
            &big,
            "audio/wav",
            false,
            &cancel_at(CHUNK),
        )
        .await
        .expect_err("cancelled");
    assert!(matches!(err, FileError::Cancelled), "{err:?}");
    env.fake.put_object(
        "call-recordings",
        "u1/race.wav",
        b"someone else's",
        "audio/wav",
    );
    let err = client
        .upload_file("call-recordings", "u1/race.wav", &big, "audio/wav", false)
        .await
        .expect_err("exists now");
    assert!(matches!(err, FileError::Exists { .. }), "{err:?}");
    assert!(pending_uploads(&env.store).await.unwrap().is_empty());
    assert_eq!(
        env.fake
            .object_digest("call-recordings", "u1/race.wav")
            .map(|d| d.0),
        Some(14)
    );
}

/// The real server refuses a malformed token in its JWT library's words ("Invalid Compact
/// JWS"), as the same 403 AccessDenied as a row-level-security refusal: it is a sign-out.
#[tokio::test]
async fn a_malformed_token_signs_out_on_every_route() {
    let env = Env::new().await;
    let client = env.client_with(Arc::new(StaticToken(SecretString::new(
        "test-not-a-jwt-key-not-real".to_owned(),
    ))));
    let (small, _) = env.file("s.txt", b"", 100);
    let (large, _) = env.file("l.wav", b"", CHUNK as usize + 10);
    for (src, mime) in [(&small, "text/plain"), (&large, "audio/wav")] {
        let err = client
            .upload_file("call-recordings", "u1/x", src, mime, false)
            .await
            .expect_err("refused");
        assert!(matches!(err, FileError::SignedOut { .. }), "{err:?}");
    }
    env.fake
        .put_object("call-recordings", "u1/there.txt", b"abc", "text/plain");
    let err = client
        .download_file(
            "call-recordings",
            "u1/there.txt",
            &env.path("there.txt"),
            None,
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, FileError::SignedOut { .. }), "{err:?}");
}

/// The real server ignores `If-Range`: a part left from an object that was overwritten since
/// must not be completed with the new version's tail. The ETag noted with the part tells.
#[tokio::test]
async fn a_part_of_an_overwritten_object_is_discarded_not_completed() {
    let env = Env::new().await;
    let client = env.client();
    let (v1, _) = env.file("v1.bin", b"", 3 * MIB);
    let (v2, d2) = env.file("v2.bin", b"v2", 3 * MIB);
    env.fake.put_object(
        "call-recordings",
        "u1/over.wav",
        &std::fs::read(&v1).unwrap(),
        "audio/wav",
    );
    let dest = env.path("over.wav");
    let err = client
        .download(
            "call-recordings",
            "u1/over.wav",
            &dest,
            None,
            &cancel_at(MIB as u64),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::Cancelled), "{err:?}");
    env.fake.put_object(
        "call-recordings",
        "u1/over.wav",
        &std::fs::read(&v2).unwrap(),
        "audio/wav",
    );
    // No expected digest: only the ETag can tell the part is of another version.
    let got = client
        .download_file("call-recordings", "u1/over.wav", &dest, None)
        .await
        .expect("download of the new version");
    assert_eq!((got.sha256.as_str(), got.resumed_from), (d2.as_str(), 0));
    assert_eq!(sha_file(&dest), d2);
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("salesdesk-part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
