//! The desktop's background sync through the `Salesdesk` handle (`start_sync`), against a real
//! PostgreSQL (the testkit's throwaway cluster) and the Supabase Auth fake writing to it: local
//! mode does nothing and says why, a sign-in starts the engine and pushes what was queued, an
//! offline start returns at once and recovers when the network returns, a new team database
//! restarts the engine, and a sign-out stops it with the queue kept.

use std::time::{Duration, Instant};

use salesdesk_core::secrets::SecretString;
use salesdesk_core::sync::SyncState;
use salesdesk_core::team::TeamSettingsInput;
use salesdesk_core::{ErrorKind, Salesdesk};
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::netcut::NetCut;
use salesdesk_testkit::supabase::TestDb;
use salesdesk_testkit::sync::{at, db_addr, fast_config, write_client};
use salesdesk_testkit::team::{ClockedDevice, Patience};
use uuid::Uuid;

const ANON: &str = "test-anon-key-not-real";
const PASSWORD: &str = "correct horse battery";

/// The app on `env` as a session-test device, its engine syncing every 500 ms.
async fn open(device: &ClockedDevice, env: &IsolatedEnv) -> Salesdesk {
    let mut config = fast_config();
    config.period = Duration::from_millis(500);
    device.open(env).await.with_sync_config(config)
}

fn settings(fake: &SupabaseAuthFake, database_url: Option<String>) -> TeamSettingsInput {
    TeamSettingsInput {
        supabase_url: Some(fake.project_url()),
        anon_key: Some(ANON.into()),
        database_url,
        database_password: None,
    }
}

/// The app role's URL through another address (a [`NetCut`] proxy in front of the cluster).
fn url_via(db: &TestDb, via: std::net::SocketAddr) -> String {
    let direct = db_addr(db).unwrap();
    db.app_url()
        .replace(&direct.to_string(), &via.to_string())
        .replace(&format!("localhost:{}", direct.port()), &via.to_string())
}

async fn remote_name(db: &TestDb, id: &str) -> Option<String> {
    sqlx::query_scalar("select name from app.clients where id = $1::uuid")
        .bind(id)
        .fetch_optional(&db.admin)
        .await
        .unwrap()
}

/// Background effects: polled every 25 ms, failing after 20 s.
const WAIT: Patience = Patience {
    within: Duration::from_secs(20),
    poll: Duration::from_millis(25),
};

#[tokio::test]
async fn the_engine_follows_the_settings_and_the_session() {
    let db = TestDb::new().await.expect("test database");
    let fake = SupabaseAuthFake::with_db(ANON, db.jwt_secret(), db.admin.clone()).await;
    fake.set_confirm_email(false);
    let env = IsolatedEnv::new();
    let device = ClockedDevice::new();
    let core = open(&device, &env).await;
    core.start_sync();

    // Local mode: nothing runs, a write is queued, "Sync now" says why it cannot.
    let first = Uuid::now_v7().to_string();
    write_client(core.store(), &first, "Written in local mode", &at(0))
        .await
        .unwrap();
    let err = core.sync_now().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.to_string().contains("Settings > Team"), "{err}");
    assert!(!core.sync_running().await);
    let status = core.sync_status().await.unwrap();
    assert_eq!((status.state, status.queued), (SyncState::SignedOut, 1));

    // A project without a database: signed in, still nothing to sync with.
    core.save_team_settings(settings(&fake, None))
        .await
        .unwrap();
    core.sign_up("lena@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    let err = core.sync_now().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!core.sync_running().await);

    // The database saved: the engine starts by itself and pushes the queued write.
    core.save_team_settings(settings(&fake, Some(db.app_url())))
        .await
        .unwrap();
    WAIT.until("the engine to start", || core.sync_running())
        .await;
    WAIT.until("the local-mode write to reach the team", || async {
        remote_name(&db, &first).await.is_some()
    })
    .await;
    WAIT.until("an idle status", || async {
        let s = core.sync_status().await.unwrap();
        s.state == SyncState::Idle && s.queued == 0
    })
    .await;
    let status = core.sync_status().await.unwrap();
    assert!(status.last_push_at.is_some() && status.last_pull_at.is_some());
    assert_eq!(status.last_error, None);
    // The health report (the Status page) carries the same section.
    let health = core.health().await;
    assert_eq!(health.sync.as_ref().map(|s| s.queued), Some(0));

    // "Sync now" runs a round and reports it.
    let second = Uuid::now_v7().to_string();
    write_client(core.store(), &second, "Sent now", &at(1))
        .await
        .unwrap();
    let report = core.sync_now().await.unwrap();
    assert!(report.pushed + report.already_current >= 1, "{report:?}");
    assert_eq!(remote_name(&db, &second).await.as_deref(), Some("Sent now"));
    assert_eq!(report.status.map(|s| s.queued), Some(0));

    // Sign-out stops the engine; writes afterwards stay queued and say so.
    core.sign_out(false).await.unwrap();
    WAIT.until("the engine to stop", || async {
        !core.sync_running().await
    })
    .await;
    let third = Uuid::now_v7().to_string();
    write_client(core.store(), &third, "After sign-out", &at(2))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        remote_name(&db, &third).await,
        None,
        "nothing sent signed out"
    );
    let status = core.sync_status().await.unwrap();
    assert_eq!((status.state, status.queued), (SyncState::SignedOut, 1));
    let err = core.sync_now().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignedOut, "{err}");

    // Signing in again starts it again, and the queue goes out.
    core.sign_in("lena@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    WAIT.until("the write queued while signed out to go out", || async {
        remote_name(&db, &third).await.is_some()
    })
    .await;
    core.close().await;
    assert!(!core.sync_running().await, "close stops the engine");
}

#[tokio::test]
async fn an_offline_start_returns_at_once_and_the_queue_goes_out_when_the_network_returns() {
    let db = TestDb::new().await.expect("test database");
    let fake = SupabaseAuthFake::with_db(ANON, db.jwt_secret(), db.admin.clone()).await;
    fake.set_confirm_email(false);
    let proxy = NetCut::start(db_addr(&db).unwrap()).await;
    let env = IsolatedEnv::new();
    let device = ClockedDevice::new();
    let core = open(&device, &env).await;
    core.save_team_settings(settings(&fake, Some(url_via(&db, proxy.addr()))))
        .await
        .unwrap();
    core.sign_up("omar@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    core.close().await;

    // The next start, with the team database out of reach.
    proxy.cut();
    let core = open(&device, &env).await;
    let started = Instant::now();
    core.start_sync();
    let id = Uuid::now_v7().to_string();
    write_client(core.store(), &id, "Written offline", &at(0))
        .await
        .unwrap();
    // Not a timed assertion: the store must be usable while the engine cannot connect.
    assert!(core.sync_status().await.unwrap().queued >= 1);
    eprintln!("offline start: store usable after {:?}", started.elapsed());
    WAIT.until("the status to say offline", || async {
        let s = core.sync_status().await.unwrap();
        s.state == SyncState::Offline && s.queued == 1 && s.last_error.is_some()
    })
    .await;
    assert_eq!(remote_name(&db, &id).await, None);

    // The network returns: the engine's own retries push the queue, no one has to ask.
    proxy.restore();
    WAIT.until("the offline write to reach the team", || async {
        remote_name(&db, &id).await.is_some()
    })
    .await;
    WAIT.until("the status to recover", || async {
        let s = core.sync_status().await.unwrap();
        s.state == SyncState::Idle && s.queued == 0 && s.last_error.is_none()
    })
    .await;

    // A new team database URL restarts the engine on it: with the proxy cut for good, a
    // write still goes out, through the direct address.
    core.save_team_settings(settings(&fake, Some(db.app_url())))
        .await
        .unwrap();
    proxy.cut();
    let direct = Uuid::now_v7().to_string();
    write_client(core.store(), &direct, "After the move", &at(1))
        .await
        .unwrap();
    WAIT.until("the write to go out on the new database URL", || async {
        remote_name(&db, &direct).await.is_some()
    })
    .await;
    core.close().await;
}

#[tokio::test]
async fn an_expired_session_is_refreshed_and_the_queue_sent_once_sign_in_service_returns() {
    let db = TestDb::new().await.expect("test database");
    let fake = SupabaseAuthFake::with_db(ANON, db.jwt_secret(), db.admin.clone()).await;
    fake.set_confirm_email(false);
    let env = IsolatedEnv::new();
    let device = ClockedDevice::new();
    let core = open(&device, &env).await;
    core.save_team_settings(settings(&fake, Some(db.app_url())))
        .await
        .unwrap();
    core.sign_up("ines@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    core.start_session_keeper();
    core.start_sync();
    WAIT.until("the engine to start", || core.sync_running())
        .await;

    // The sign-in service goes away and the device's token expires meanwhile (its clock moves
    // two hours on): rounds cannot get a token, so writes wait, and the user stays signed in.
    fake.set_offline(true);
    device.clock.advance(Duration::from_secs(2 * 3600));
    let id = Uuid::now_v7().to_string();
    write_client(core.store(), &id, "Waiting for the session", &at(0))
        .await
        .unwrap();
    WAIT.until("the status to say offline", || async {
        let s = core.sync_status().await.unwrap();
        s.state == SyncState::Offline && s.queued == 1
    })
    .await;
    let err = core.sync_now().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Remote, "{err}");
    assert_eq!(remote_name(&db, &id).await, None);
    let account = core.account_status().await.unwrap();
    assert!(
        account.signed_in,
        "a network failure never signs anyone out"
    );
    assert_eq!(account.online, Some(false));

    // It returns: the session is refreshed and the queue goes out without anyone asking.
    fake.set_offline(false);
    WAIT.until("the queued write to reach the team", || async {
        remote_name(&db, &id).await.is_some()
    })
    .await;
    let account = core.account_status().await.unwrap();
    assert_eq!(account.online, Some(true));
    assert!(!account.expired, "the session was refreshed");
    core.close().await;
}
