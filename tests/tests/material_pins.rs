//! Pins that wait for the network, against the Supabase Storage fake behind a cuttable TCP
//! proxy: a pin made offline is recorded at once ("queued download"), a failed fetch shows its
//! reason (offline, not found) and survives a restart, the next pass after the network returns
//! caches the file, which then opens offline; the background file work fetches a new pin on
//! its own when woken; an unpin forgets the failure; a download in flight is listed with its
//! progress for the page's bar.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::data::materials::MaterialMeta;
use salesdesk_core::files::{
    BucketStore, FileStore, StaticToken, StorageConfig, SupabaseStorage, Transfer,
};
use salesdesk_core::materials::{
    BUCKET, FileProblemReason, FileState, TeamFiles, TransferDirection,
};
use salesdesk_core::secrets::SecretString;
use salesdesk_core::{DataPaths, Salesdesk};
use salesdesk_testkit::fakes::supabase_storage::{On, StorageFake, StorageFault};
use salesdesk_testkit::netcut::NetCut;
use salesdesk_testkit::storage::{sha, sha_file, storage_client};
use salesdesk_testkit::supabase::{Claims, mint_token, unix_now};
use uuid::Uuid;

const SECRET: &str = "material-pins-fake-storage-jwt-secret-32ch";
const KIB: usize = 1024;

struct Env {
    dir: tempfile::TempDir,
    fake: StorageFake,
    net: NetCut,
    user: Uuid,
}

impl Env {
    async fn new() -> Self {
        let fake = StorageFake::start(SECRET).await;
        let net = NetCut::start(fake.addr()).await;
        let user = Uuid::new_v4();
        fake.add_admin(&user.to_string());
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            fake,
            net,
            user,
        }
    }

    fn storage(&self, core: &Salesdesk) -> SupabaseStorage {
        let mut claims = Claims::for_session(self.user, Uuid::new_v4(), "admin@example.com");
        claims.exp = unix_now() + 3600;
        // Through the proxy, so that a test can pull the cable.
        let mut config = StorageConfig::new(format!("http://{}", self.net.addr()));
        config.retry_backoff = Duration::from_millis(10);
        config.request_timeout = Duration::from_secs(3);
        storage_client(
            Duration::from_secs(2),
            config,
            Arc::new(StaticToken(SecretString::new(mint_token(SECRET, &claims)))),
            core.store().clone(),
        )
    }

    /// The app as it starts; a second call on the same directory is a restart. The cache
    /// budget is small, so an uploader's own copy is not kept and a pin has to download.
    async fn open(&self) -> (Salesdesk, SupabaseStorage) {
        let core = Salesdesk::open(DataPaths::at(self.dir.path().join("data")))
            .await
            .expect("open");
        let storage = self.storage(&core);
        let core = core.with_team_files(TeamFiles {
            storage: storage.clone(),
            cache_budget: 256 * KIB as u64,
        });
        (core, storage)
    }

    fn pdf(&self, name: &str, len: usize, seed: u8) -> (PathBuf, String) {
        let mut bytes = b"%PDF-1.7\n".to_vec();
        bytes.extend((0..len as u32).map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed)));
        let p = self.dir.path().join(name);
        std::fs::write(&p, &bytes).expect("write");
        (p, sha(&bytes))
    }
}

fn meta(title: &str) -> MaterialMeta {
    MaterialMeta {
        title: title.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_made_offline_waits_for_the_network_and_survives_a_restart() {
    let env = Env::new().await;
    let (core, storage) = env.open().await;
    let (src, digest) = env.pdf("Objections.pdf", 200 * KIB, 1);
    let m = core
        .add_material(&src, &meta("Objections"), &Transfer::default())
        .await
        .expect("add");
    let (gone_src, _) = env.pdf("Old deck.pdf", 100 * KIB, 2);
    let gone = core
        .add_material(&gone_src, &meta("Old deck"), &Transfer::default())
        .await
        .expect("add");
    let library = core.materials().await.unwrap();
    assert_eq!(
        library.get(&m.id).await.unwrap().file_state,
        FileState::Synced,
        "too big for the small cache: not kept after the upload"
    );

    // Offline: the pin is recorded at once, the file is queued, the pass says why it waits.
    env.net.cut();
    library.pin(&m.id).await.expect("pin offline");
    let entry = library.get(&m.id).await.unwrap();
    assert!(entry.pinned);
    assert_eq!(entry.file_state, FileState::QueuedDownload);
    assert_eq!(entry.file_problem, None);
    let report = core.run_file_jobs().await.expect("pass");
    assert!(report.done.is_empty());
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let entry = library.get(&m.id).await.unwrap();
    assert_eq!(entry.file_state, FileState::Failed);
    let problem = entry.file_problem.expect("a reason");
    assert_eq!(problem.reason, FileProblemReason::Offline);
    assert_eq!(problem.direction, TransferDirection::Download);
    assert_eq!(problem.attempts, 1);
    assert!(
        problem.message.contains("when the network is back"),
        "{}",
        problem.message
    );
    // A file not kept here cannot open offline; the error says it is the network.
    assert!(
        core.get_material_file(&m.id, &env.dir.path().join("x.pdf"), &Transfer::default())
            .await
            .is_err()
    );

    // A restart keeps the pin and the reason; a second failed pass counts the attempt.
    core.close().await;
    let (core, _storage) = env.open().await;
    let library = core.materials().await.unwrap();
    let entry = library.get(&m.id).await.unwrap();
    assert!(entry.pinned, "the pin survives a restart");
    assert_eq!(entry.file_state, FileState::Failed);
    core.run_file_jobs().await.expect("pass");
    assert_eq!(
        library
            .get(&m.id)
            .await
            .unwrap()
            .file_problem
            .unwrap()
            .attempts,
        2
    );

    // The network is back: the next pass caches the file and clears the reason.
    env.net.restore();
    let report = core.run_file_jobs().await.expect("pass");
    assert_eq!(report.done, vec![m.id.clone()]);
    assert!(report.failed.is_empty(), "{report:?}");
    let entry = library.get(&m.id).await.unwrap();
    assert_eq!(entry.file_state, FileState::Cached);
    assert_eq!(entry.file_problem, None);
    // ... and it opens with the cable pulled again.
    env.net.cut();
    let out = env.dir.path().join("offline.pdf");
    core.get_material_file(&m.id, &out, &Transfer::default())
        .await
        .expect("a pinned file opens offline");
    assert_eq!(sha_file(&out), digest);
    env.net.restore();

    // A pinned file the server no longer has: "not found", and the other pins still go.
    BucketStore::new(storage, BUCKET, "")
        .delete(gone.file_path.as_deref().unwrap())
        .await
        .expect("delete the object behind the app's back");
    library.pin(&gone.id).await.unwrap();
    let report = core.run_file_jobs().await.expect("pass");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let entry = library.get(&gone.id).await.unwrap();
    assert_eq!(entry.file_state, FileState::Failed);
    assert_eq!(
        entry.file_problem.as_ref().unwrap().reason,
        FileProblemReason::NotFound
    );
    // Unpinning drops the failure: the file is simply in the team's storage (or not).
    library.unpin(&gone.id).await.unwrap();
    let entry = library.get(&gone.id).await.unwrap();
    assert_eq!(entry.file_state, FileState::Synced);
    assert_eq!(entry.file_problem, None);
    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_work_fetches_a_new_pin_when_woken() {
    let env = Env::new().await;
    let (core, _storage) = env.open().await;
    let (src, _) = env.pdf("Discovery.pdf", 300 * KIB, 3);
    let m = core
        .add_material(&src, &meta("Discovery"), &Transfer::default())
        .await
        .unwrap();
    // Started before the pin: its first pass has nothing to do.
    core.start_file_jobs();
    let library = core.materials().await.unwrap();
    library.pin(&m.id).await.unwrap();
    core.wake_file_jobs();
    let mut state = FileState::QueuedDownload;
    for _ in 0..100 {
        state = library.get(&m.id).await.unwrap().file_state;
        if state == FileState::Cached {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, FileState::Cached, "fetched in the background");
    assert!(
        core.file_transfers().is_empty(),
        "nothing is left in flight after the pass"
    );
    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_in_flight_is_listed_with_its_progress() {
    let env = Env::new().await;
    let (core, _storage) = env.open().await;
    let len = 600 * KIB;
    let (src, _) = env.pdf("Demo script.pdf", len, 4);
    let m = core
        .add_material(&src, &meta("Demo script"), &Transfer::default())
        .await
        .unwrap();
    core.materials().await.unwrap().pin(&m.id).await.unwrap();
    // A slow link, so that the download is seen mid-way.
    env.fake
        .fault(On::Download, StorageFault::Slow(Duration::from_millis(60)));
    let pass = tokio::spawn({
        let core = core.clone();
        async move { core.run_file_jobs().await }
    });
    let mut seen = None;
    for _ in 0..200 {
        if let Some(t) = core
            .file_transfers()
            .into_iter()
            .find(|t| t.material_id == m.id && t.progress.done > 0)
        {
            seen = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = seen.expect("the download is listed while it runs");
    assert_eq!(t.direction, TransferDirection::Download);
    assert!(t.progress.done < t.progress.total, "{t:?}");
    assert!(t.progress.total >= len as u64, "{t:?}");
    let report = pass.await.unwrap().unwrap();
    assert_eq!(report.done, vec![m.id.clone()]);
    assert!(core.file_transfers().is_empty());
    core.close().await;
}
