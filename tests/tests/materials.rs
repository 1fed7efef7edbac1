//! The training-materials library in team mode against the Supabase Storage fake: an admin's
//! large file goes up by resumable upload under `{id}/{sha256}/{slug}` and only then is
//! recorded; a cancelled addition keeps its server offset and resumes from it on retry; an
//! addition interrupted by an exit resumes at the next start; a rep is refused and nothing is
//! recorded; an oversized file is refused before any request; pinned files stay in a cache
//! too small to hold them otherwise.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::data::materials::{MaterialMeta, MaterialQuery};
use salesdesk_core::files::{BucketLimit, StaticToken, StorageConfig, Transfer};
use salesdesk_core::materials::{BUCKET, FileState, TeamFiles, UploadState};
use salesdesk_core::secrets::SecretString;
use salesdesk_core::{DataPaths, ErrorKind, Salesdesk};
use salesdesk_testkit::fakes::supabase_storage::StorageFake;
use salesdesk_testkit::storage::{fill_pseudo_random, sha, sha_file, storage_client};
use salesdesk_testkit::supabase::{Claims, mint_token, unix_now};
use uuid::Uuid;

const SECRET: &str = "materials-fake-storage-jwt-secret-32-chars-long";
const MIB: usize = 1024 * 1024;
const CHUNK: u64 = 6 * 1024 * 1024;

struct Env {
    dir: tempfile::TempDir,
    fake: StorageFake,
    user: Uuid,
}

impl Env {
    async fn new(admin: bool) -> Self {
        let fake = StorageFake::start(SECRET).await;
        let user = Uuid::new_v4();
        if admin {
            fake.add_admin(&user.to_string());
        }
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            fake,
            user,
        }
    }

    /// The app as it starts: the same data directory each time (a restart is a second call).
    async fn open(&self, budget: u64, tweak: impl FnOnce(&mut StorageConfig)) -> Salesdesk {
        let core = Salesdesk::open(DataPaths::at(self.dir.path().join("data")))
            .await
            .expect("open");
        let mut claims = Claims::for_session(self.user, Uuid::new_v4(), "admin@example.com");
        claims.exp = unix_now() + 3600;
        let token = mint_token(SECRET, &claims);
        let mut config = StorageConfig::new(self.fake.origin());
        config.retry_backoff = Duration::from_millis(10);
        config.request_timeout = Duration::from_secs(5);
        tweak(&mut config);
        let storage = storage_client(
            Duration::from_secs(2),
            config,
            Arc::new(StaticToken(SecretString::new(token))),
            core.store().clone(),
        );
        core.with_team_files(TeamFiles {
            storage,
            cache_budget: budget,
        })
    }

    /// A PDF-looking file of `len` pseudo-random bytes.
    fn pdf(&self, name: &str, len: usize) -> (PathBuf, String) {
        let bytes = fill_pseudo_random(
            b"%PDF-1.7\n".to_vec(),
            len,
            0x2545_F491_4F6C_DD1D ^ len as u64,
        );
        let p = self.dir.path().join(name);
        std::fs::write(&p, &bytes).expect("write");
        (p, sha(&bytes))
    }
}

fn meta(title: &str) -> MaterialMeta {
    MaterialMeta {
        title: title.into(),
        description: Some("for new reps".into()),
        tags: vec!["onboarding".into()],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_adds_a_large_file_then_gets_and_pins_it() {
    let env = Env::new(true).await;
    // A cache smaller than the file: it is not kept after upload, only once pinned.
    let core = env.open(MIB as u64, |_| {}).await;
    let (src, digest) = env.pdf("Pricing Deck (Q3).pdf", 13 * MIB);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let transfer = Transfer::with_progress(move |p| seen2.lock().unwrap().push(p.done));
    let m = core
        .add_material(&src, &meta(""), &transfer)
        .await
        .expect("add");
    assert_eq!(m.title, "Pricing Deck (Q3)");
    assert_eq!(m.file_sha256.as_deref(), Some(digest.as_str()));
    let key = m.file_path.clone().unwrap();
    assert_eq!(key, format!("{}/{}/Pricing_Deck_(Q3).pdf", m.id, digest));
    assert_eq!(
        env.fake.object_digest(BUCKET, &key),
        Some((13 * MIB as u64, digest.clone()))
    );
    assert_eq!(
        *seen.lock().unwrap().last().unwrap(),
        13 * MIB as u64,
        "progress reaches the whole file"
    );
    assert!(env.fake.count("PATCH", "/upload/resumable") >= 3);

    let library = core.materials().await.unwrap();
    let entry = library.get(&m.id).await.unwrap();
    assert_eq!(entry.file_state, FileState::Synced);
    assert_eq!(entry.file_name, "Pricing_Deck_(Q3).pdf");

    let out = env.dir.path().join("out.pdf");
    let size = core
        .get_material_file(&m.id, &out, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(size, 13 * MIB as u64);
    assert_eq!(sha_file(&out), digest);
    // Too big for the 1 MiB cache: not kept.
    assert_eq!(
        library.get(&m.id).await.unwrap().file_state,
        FileState::Synced
    );

    library.pin(&m.id).await.expect("pin");
    let pinned = library.get(&m.id).await.unwrap();
    assert!(pinned.pinned);
    assert_eq!(pinned.file_state, FileState::QueuedDownload);
    let report = library
        .fetch_pinned(|_| Transfer::default())
        .await
        .expect("fetch pinned");
    assert_eq!(report.done, vec![m.id.clone()]);
    let pinned = library.get(&m.id).await.unwrap();
    assert_eq!(pinned.file_state, FileState::Cached);
    // Another file through the cache would evict by LRU; the pinned one stays.
    let (other, _) = env.pdf("other.pdf", MIB / 2);
    let m2 = core
        .add_material(&other, &meta("Other"), &Transfer::default())
        .await
        .unwrap();
    core.get_material_file(&m2.id, &env.dir.path().join("o.pdf"), &Transfer::default())
        .await
        .unwrap();
    assert_eq!(
        library.get(&m.id).await.unwrap().file_state,
        FileState::Cached
    );

    // Offline, the pinned file still opens (served from the cache).
    env.fake.stop();
    let again = env.dir.path().join("again.pdf");
    core.get_material_file(&m.id, &again, &Transfer::default())
        .await
        .expect("pinned file opens offline");
    assert_eq!(sha_file(&again), digest);
    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_addition_keeps_its_offset_and_retry_resumes() {
    let env = Env::new(true).await;
    let core = env.open(64 * MIB as u64, |_| {}).await;
    let (src, digest) = env.pdf("long.pdf", 15 * MIB);
    let library = core.materials().await.unwrap();
    let pending = library.queue(&src, &meta("Long read")).await.unwrap();
    let transfer = Transfer::default();
    let flag = transfer.cancel.clone();
    let transfer = Transfer {
        on_progress: Some(Arc::new(move |p| {
            if p.done >= CHUNK {
                flag.cancel();
            }
        })),
        ..transfer
    };
    let err = library.upload(&pending.id, &transfer).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    let now = library.pending().await.unwrap();
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].state, UploadState::Failed);
    assert_eq!(now[0].uploaded, CHUNK, "the confirmed chunk is remembered");
    assert!(
        library
            .list(&MaterialQuery::default())
            .await
            .unwrap()
            .is_empty(),
        "no row before the file is stored"
    );
    // Failed additions are not resumed at start; they wait for a retry.
    assert!(
        core.resume_pending_uploads(|_| Transfer::default())
            .await
            .unwrap()
            .is_empty()
    );

    env.fake.clear_requests();
    let m = library
        .upload(&pending.id, &Transfer::default())
        .await
        .expect("retry");
    assert_eq!(m.id, pending.id);
    let creates = env.fake.count("POST", "/upload/resumable");
    assert_eq!(creates, 0, "the retry resumed the same upload");
    let offsets: Vec<String> = env
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .filter_map(|r| r.header("upload-offset").map(str::to_owned))
        .collect();
    assert_eq!(offsets.first().map(String::as_str), Some("6291456"));
    assert_eq!(
        env.fake
            .object_digest(BUCKET, m.file_path.as_deref().unwrap()),
        Some((15 * MIB as u64, digest))
    );
    assert!(library.pending().await.unwrap().is_empty());
    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_addition_interrupted_by_an_exit_resumes_at_the_next_start() {
    let env = Env::new(true).await;
    let (src, digest) = env.pdf("handbook.pdf", 2 * MIB);
    {
        let core = env.open(64 * MIB as u64, |_| {}).await;
        // Queued, then the app exits before its turn.
        core.materials()
            .await
            .unwrap()
            .queue(&src, &meta("Handbook"))
            .await
            .unwrap();
        core.close().await;
    }
    let core = env.open(64 * MIB as u64, |_| {}).await;
    let resumed = core
        .resume_pending_uploads(|_| Transfer::default())
        .await
        .unwrap();
    assert_eq!(resumed.len(), 1);
    let m = resumed.into_iter().next().unwrap().result.expect("resumed");
    assert_eq!(m.title, "Handbook");
    assert_eq!(m.file_sha256.as_deref(), Some(digest.as_str()));
    assert_eq!(
        core.materials()
            .await
            .unwrap()
            .list(&MaterialQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_is_refused_and_nothing_is_recorded() {
    let env = Env::new(false).await;
    let core = env.open(64 * MIB as u64, |_| {}).await;
    let (src, _) = env.pdf("deck.pdf", 64 * 1024);
    let err = core
        .add_material(&src, &meta("Deck"), &Transfer::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    let library = core.materials().await.unwrap();
    assert!(library.pending().await.unwrap().is_empty());
    assert!(
        library
            .list(&MaterialQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_file_is_refused_before_any_request() {
    let env = Env::new(true).await;
    let core = env
        .open(64 * MIB as u64, |c| {
            c.limits.insert(
                BUCKET.into(),
                BucketLimit {
                    max_bytes: MIB as u64,
                    allowed_mime: None,
                },
            );
        })
        .await;
    let (src, _) = env.pdf("huge.pdf", 2 * MIB);
    let err = core
        .add_material(&src, &meta("Huge"), &Transfer::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("1048576-byte limit"), "{err}");
    assert!(env.fake.requests().is_empty(), "nothing was sent");
    assert!(
        core.materials()
            .await
            .unwrap()
            .pending()
            .await
            .unwrap()
            .is_empty()
    );
    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_link_downloads_the_file_without_the_app_and_local_mode_refuses() {
    let env = Env::new(true).await;
    let core = env.open(16 * MIB as u64, |_| {}).await;
    let (src, digest) = env.pdf("Price list.pdf", 300 * 1024);
    let m = core
        .add_material(&src, &meta("Price list"), &Transfer::default())
        .await
        .expect("add");
    let library = core.materials().await.unwrap();

    let link = library
        .share_link(&m.id, Duration::from_secs(3600))
        .await
        .expect("share");
    let expires = chrono::DateTime::parse_from_rfc3339(&link.expires_at).unwrap();
    let left = expires.signed_duration_since(chrono::Utc::now());
    assert!(
        (3500..=3600).contains(&left.num_seconds()),
        "{}",
        link.expires_at
    );
    // No session, no app: the link alone brings the exact bytes.
    let body = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .expect("the link works")
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha(&body), digest);

    for bad in [Duration::from_secs(10), Duration::from_secs(31 * 24 * 3600)] {
        let err = library.share_link(&m.id, bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("1 minute to 30 days"), "{err}");
    }
    let err = library
        .share_link(
            "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d",
            Duration::from_secs(3600),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    core.close().await;

    // Local mode: the file is only on this device, so there is nothing to link to.
    let local = Salesdesk::open(DataPaths::at(env.dir.path().join("local")))
        .await
        .unwrap();
    let kept = local
        .add_material(&src, &meta("Price list"), &Transfer::default())
        .await
        .unwrap();
    let err = local
        .materials()
        .await
        .unwrap()
        .share_link(&kept.id, Duration::from_secs(3600))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("need team mode"), "{err}");
    local.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_copies_report_their_space_keep_a_budget_and_clear_all_but_pins() {
    use salesdesk_core::files::offline::{DEFAULT_BUDGET, OfflineFiles};
    let env = Env::new(true).await;
    let core = env.open(16 * MIB as u64, |_| {}).await;
    let mut added = Vec::new();
    for (i, name) in ["a.pdf", "b.pdf", "c.pdf"].into_iter().enumerate() {
        let (src, _) = env.pdf(name, 200 * 1024 + i * 1000);
        added.push(
            core.add_material(&src, &meta(name), &Transfer::default())
                .await
                .unwrap(),
        );
    }
    let library = core.materials().await.unwrap();
    library.pin(&added[1].id).await.unwrap();
    let size = |i: usize| added[i].file_size.unwrap();
    assert_eq!(
        core.offline_files().await.unwrap(),
        OfflineFiles {
            budget_bytes: DEFAULT_BUDGET,
            used_bytes: size(0) + size(1) + size(2),
            pinned_bytes: size(1),
            files: 3,
        }
    );

    // Out of range: refused, the budget in force unchanged.
    for bad in [100 * MIB as u64, 2 * 1024 * 1024 * MIB as u64] {
        let err = core.set_offline_budget(bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("between 256 MiB and 1024 GiB"),
            "{err}"
        );
    }
    assert_eq!(
        core.offline_files().await.unwrap().budget_bytes,
        DEFAULT_BUDGET
    );
    let set = core.set_offline_budget(512 * MIB as u64).await.unwrap();
    assert_eq!(set.budget_bytes, 512 * MIB as u64);
    assert_eq!(set.files, 3, "everything fits: nothing dropped");

    // Clearing keeps only the pinned copy; the others download again when opened.
    let cleared = core.clear_offline_files().await.unwrap();
    assert_eq!((cleared.files, cleared.used_bytes), (1, size(1)));
    assert_eq!(
        library.get(&added[0].id).await.unwrap().file_state,
        FileState::Synced
    );
    assert_eq!(
        library.get(&added[1].id).await.unwrap().file_state,
        FileState::Cached
    );
    let out = env.dir.path().join("a-again.pdf");
    core.get_material_file(&added[0].id, &out, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(sha_file(&out), added[0].file_sha256.clone().unwrap());
    core.close().await;

    // The budget is a setting of this device: still there after a restart.
    let again = env.open(16 * MIB as u64, |_| {}).await;
    assert_eq!(
        again.offline_files().await.unwrap().budget_bytes,
        512 * MIB as u64
    );
    again.close().await;
}
