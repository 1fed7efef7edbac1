//! Call recordings across a team, through the `Salesdesk` handle on three devices: the Supabase
//! Auth fake writing to a real PostgreSQL (the testkit's throwaway cluster, real migrations and
//! row-level security) and the Storage fake checking the same project's tokens. A rep attaches
//! a recording and syncs; a manager's device pulls the row and downloads the file (verified by
//! SHA-256) into its cache and plays it; another rep sees nothing and Storage refuses them the
//! file. An attach interrupted mid-upload (the app quit) resumes at the next start: the object
//! and the row exist exactly once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::auth::MemoryVault;
use salesdesk_core::data::analyses::NewAnalysis;
use salesdesk_core::files::{
    BucketStore, FileStore, StaticToken, StorageConfig, SupabaseStorage, Transfer,
};
use salesdesk_core::materials::{FileState, UploadState};
use salesdesk_core::recordings::{BUCKET, RecordingKind};
use salesdesk_core::team::TeamSetup;
use salesdesk_core::{ErrorKind, Salesdesk};
use salesdesk_testkit::fakes::supabase_storage::{On, StorageFault};
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::storage::{seeded_bytes, sha};
use salesdesk_testkit::supabase::TestDb;
use salesdesk_testkit::team::TeamProject;

/// Supabase's resumable-upload chunk (and the standard upload's limit).
const CHUNK: usize = 6 * 1024 * 1024;

/// A WAV header then `len` pseudo-random bytes (a recording the sniffer accepts).
fn wav(len: usize) -> Vec<u8> {
    let head = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\
\x40\x1f\x00\x00\x01\x00\x08\x00data";
    seeded_bytes(head, len, 0)
}

/// One device: its own data directory and session vaults (kept across a restart).
struct Device {
    env: IsolatedEnv,
    session: Arc<MemoryVault>,
    secrets: Arc<MemoryVault>,
}

impl Device {
    fn new() -> Self {
        Self {
            env: IsolatedEnv::new(),
            session: Arc::new(MemoryVault::default()),
            secrets: Arc::new(MemoryVault::default()),
        }
    }

    async fn open(&self, project: &TeamProject) -> Salesdesk {
        let setup = TeamSetup::with_vaults(self.session.clone(), self.secrets.clone());
        project.open(&self.env.data_dir(), setup).await
    }

    /// Opens the device, joins the team and signs `email` up and in; returns the user id.
    async fn join(&self, project: &TeamProject, email: &str) -> (Salesdesk, String) {
        let core = self.open(project).await;
        let user = project.sign_in(&core, email, true).await;
        (core, user)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.env.root().join(name)
    }
}

async fn new_analysis(core: &Salesdesk) -> String {
    core.save_analysis(NewAnalysis {
        title: "Discovery call with Zoë".into(),
        transcript: "Rep: hello\nClient: hi".into(),
        analysis: serde_json::json!({}),
        provider: "offline".into(),
        model: None,
    })
    .await
    .unwrap()
    .id
}

/// Syncs until `done` holds: the pull watermark is cluster-wide, so a pull can miss a commit
/// until every older transaction (other tests' too) has ended.
async fn sync_until<F, Fut>(core: &Salesdesk, what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        core.sync_now().await.unwrap();
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn remote_rows(db: &TestDb, id: &str) -> i64 {
    sqlx::query_scalar("select count(*) from app.call_recordings where id = $1::uuid")
        .bind(id)
        .fetch_one(&db.admin)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managers_device_pulls_downloads_and_plays_a_reps_recording_another_rep_cannot() {
    let project = TeamProject::start().await;
    let (db, storage) = (&project.db, &project.storage);
    storage.enforce_private_reads();
    let (zoe_dev, max_dev, bob_dev) = (Device::new(), Device::new(), Device::new());
    let (zoe, zoe_id) = zoe_dev.join(&project, "zoe@example.test").await;
    let (max, max_id) = max_dev.join(&project, "max@example.test").await;
    let (bob, _) = bob_dev.join(&project, "bob@example.test").await;
    sqlx::query("update app.profiles set role = 'manager' where id = $1::uuid")
        .bind(&max_id)
        .execute(&db.admin)
        .await
        .unwrap();
    storage.add_manager(&max_id);

    // The rep attaches a recording in team mode and syncs.
    let analysis = new_analysis(&zoe).await;
    let bytes = wav(300_000);
    let src = zoe_dev.path("Call with Zoë.wav");
    std::fs::write(&src, &bytes).unwrap();
    let rec = zoe
        .attach_recording(&analysis, &src, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(rec.store, "team");
    assert_eq!(rec.file_sha256, sha(&bytes));
    assert!(
        rec.file_key.starts_with(&format!("{zoe_id}/")),
        "{}",
        rec.file_key
    );
    assert_eq!(
        rec.file_state,
        FileState::Cached,
        "the uploader keeps a copy"
    );
    sync_until(&zoe, "the recording to reach the team", || async {
        remote_rows(db, &rec.id).await == 1
    })
    .await;

    // The manager's device pulls the analysis and its recording, owned by the rep.
    sync_until(&max, "the manager to pull the recording", || async {
        max.recordings(&analysis)
            .await
            .is_ok_and(|list| list.len() == 1)
    })
    .await;
    let listed = max.recordings(&analysis).await.unwrap();
    assert_eq!(listed[0].id, rec.id);
    assert_eq!(listed[0].owner_id.as_deref(), Some(zoe_id.as_str()));
    assert_eq!(
        listed[0].file_state,
        FileState::Synced,
        "not on this device yet"
    );

    // Played: downloaded on demand, verified, cached; a second play is offline.
    let library = max.recordings_library().await.unwrap();
    let previews = max_dev.env.data_dir().join("cache").join("previews");
    let preview = library.preview_copy(&rec.id, &previews).await.unwrap();
    assert_eq!(preview.kind, RecordingKind::Audio);
    assert_eq!(sha(&std::fs::read(&preview.path).unwrap()), rec.file_sha256);
    assert_eq!(
        max.recordings(&analysis).await.unwrap()[0].file_state,
        FileState::Cached
    );
    let saved = max_dev.path("saved.wav");
    let downloads = storage.count("GET", "/object/authenticated/");
    library
        .get_file(&rec.id, &saved, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&saved).unwrap(), bytes);
    assert_eq!(
        storage.count("GET", "/object/authenticated/"),
        downloads,
        "served from the cache"
    );

    // Another rep: the row never reaches their device, and Storage refuses them the file.
    bob.sync_now().await.unwrap();
    assert!(
        bob.recordings(&analysis).await.is_err(),
        "Bob cannot even see the analysis"
    );
    let rows: i64 = sqlx::query_scalar("select count(*) from call_recordings")
        .fetch_one(bob.store().pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let err = bob
        .recordings_library()
        .await
        .unwrap()
        .get_file(&rec.id, &bob_dev.path("x.wav"), &Transfer::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let mut config = StorageConfig::new(storage.origin());
    config.retry_backoff = Duration::from_millis(10);
    let direct = BucketStore::new(
        SupabaseStorage::new(
            reqwest::Client::new(),
            config,
            Arc::new(StaticToken(bob.access_token().await.unwrap())),
            bob.store().clone(),
        ),
        BUCKET,
        "",
    );
    let err = direct
        .get(&rec.file_key, &bob_dev.path("y.wav"), &Transfer::default())
        .await
        .unwrap_err();
    assert_eq!(
        salesdesk_core::CoreError::from(err).kind(),
        ErrorKind::NotFound
    );
    assert!(!bob_dev.path("y.wav").exists());

    // Signed out, the manager still plays what is cached, and is told to sign in for the rest.
    let src2 = zoe_dev.path("Second call.wav");
    std::fs::write(&src2, wav(120_000)).unwrap();
    let rec2 = zoe
        .attach_recording(&analysis, &src2, &Transfer::default())
        .await
        .unwrap();
    sync_until(&zoe, "the second recording to reach the team", || async {
        remote_rows(db, &rec2.id).await == 1
    })
    .await;
    sync_until(&max, "the manager to pull the second recording", || async {
        max.recordings(&analysis)
            .await
            .is_ok_and(|list| list.len() == 2)
    })
    .await;
    max.sign_out(false).await.unwrap();
    let library = max.recordings_library().await.unwrap();
    std::fs::remove_file(&preview.path).unwrap();
    let again = library.preview_copy(&rec.id, &previews).await.unwrap();
    assert_eq!(std::fs::read(&again.path).unwrap(), bytes);
    let err = library.preview_copy(&rec2.id, &previews).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignedOut, "{err}");
    assert!(err.to_string().contains("Second call.wav"), "{err}");
    assert!(err.to_string().contains("Sign in"), "{err}");

    for core in [zoe, max, bob] {
        core.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attach_cut_by_quitting_resumes_at_the_next_start_exactly_once() {
    let project = TeamProject::start().await;
    let (db, storage) = (&project.db, &project.storage);
    let dev = Device::new();
    let (core, user) = dev.join(&project, "zoe@example.test").await;
    let analysis = new_analysis(&core).await;
    let size = 2 * CHUNK + 5000;
    let bytes = wav(size);
    let src = dev.path("Long call.wav");
    std::fs::write(&src, &bytes).unwrap();

    // The first chunk goes through; the second crawls, and the app quits in the middle of it.
    storage.fault(On::Patch, StorageFault::Latency(Duration::ZERO));
    storage.fault(On::Patch, StorageFault::Slow(Duration::from_millis(50)));
    let (first_chunk, mut confirmed) = tokio::sync::watch::channel(false);
    let transfer = Transfer::with_progress(move |p| {
        if p.done >= CHUNK as u64 {
            let _ = first_chunk.send(true);
        }
    });
    let attaching = {
        let (core, analysis, src) = (core.clone(), analysis.clone(), src.clone());
        tokio::spawn(async move { core.attach_recording(&analysis, &src, &transfer).await })
    };
    tokio::time::timeout(Duration::from_secs(30), confirmed.wait_for(|c| *c))
        .await
        .expect("the first chunk to be confirmed")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    attaching.abort();
    assert!(attaching.await.unwrap_err().is_cancelled());
    core.close().await;

    // The next start: the attach is pending, not recorded, and resumes where the server stopped.
    let core = dev.open(&project).await;
    let library = core.recordings_library().await.unwrap();
    let pending = library.pending(None).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].state, UploadState::Uploading);
    assert_eq!(pending[0].file_name, "Long call.wav");
    assert!(core.recordings(&analysis).await.unwrap().is_empty());
    let seen_before = storage.requests().len();
    let resumed = core
        .resume_pending_recordings(|_| Transfer::default())
        .await
        .unwrap();
    assert_eq!(resumed.len(), 1);
    let rec = resumed.into_iter().next().unwrap().result.unwrap();
    assert_eq!(rec.id, pending[0].id, "the recording keeps its queued id");
    assert_eq!(
        storage.count("POST", "/upload/resumable"),
        1,
        "resumed, not restarted"
    );
    // Request headers are recorded on arrival (body sizes only when a body ends, which for
    // the chunk cut by quitting may be later), so judge by where each new chunk starts.
    let offsets: Vec<u64> = storage.requests()[seen_before..]
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.header("upload-offset").unwrap().parse().unwrap())
        .collect();
    assert!(!offsets.is_empty(), "the rest was sent");
    assert!(
        offsets.iter().all(|&o| o >= CHUNK as u64),
        "the confirmed chunk was not sent again: {offsets:?}"
    );
    let key = format!("{user}/{}/Long_call.wav", sha(&bytes));
    assert_eq!(rec.file_key, key);
    assert_eq!(
        storage.object_digest(BUCKET, &key),
        Some((size as u64, sha(&bytes)))
    );
    assert!(library.pending(None).await.unwrap().is_empty());
    assert_eq!(core.recordings(&analysis).await.unwrap(), vec![rec.clone()]);
    // Resuming again finds nothing to do; the row reaches the team once.
    assert!(
        core.resume_pending_recordings(|_| Transfer::default())
            .await
            .unwrap()
            .is_empty()
    );
    sync_until(&core, "the recording to reach the team", || async {
        remote_rows(db, &rec.id).await == 1
    })
    .await;
    let all: i64 = sqlx::query_scalar("select count(*) from app.call_recordings")
        .fetch_one(&db.admin)
        .await
        .unwrap();
    assert_eq!(all, 1);
    core.close().await;
}
