//! The sync engine against a real PostgreSQL (the testkit's throwaway cluster with the real
//! migrations) and real SQLite stores: offline writes, convergence of concurrent edits, the
//! pull cursor under out-of-order commits, refused writes, token refresh, a network cut in the
//! middle of a push, and realtime notices.

use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::ErrorKind;
use salesdesk_core::sync::{SyncEngine, SyncState, TokenSource};
use salesdesk_testkit::netcut::NetCut;
use salesdesk_testkit::supabase::{Role, TestDb, TestUser};
use salesdesk_testkit::sync::{
    MintedToken, app_pool, at, db_addr, device, fast_config, local_value, write_client, write_row,
};
use uuid::Uuid;

fn id() -> String {
    Uuid::now_v7().to_string()
}

async fn remote_count(db: &TestDb, table: &str, ids: &[String]) -> i64 {
    let ids: Vec<Uuid> = ids.iter().map(|i| Uuid::parse_str(i).unwrap()).collect();
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from app.{table} where id = any($1)"
    )))
    .bind(ids)
    .fetch_one(&db.admin)
    .await
    .unwrap()
}

async fn remote_name(db: &TestDb, id: &str) -> Option<String> {
    sqlx::query_scalar("select name from app.clients where id = $1::uuid")
        .bind(id)
        .fetch_optional(&db.admin)
        .await
        .unwrap()
}

/// Waits until every transaction that started before now has ended (the pull watermark is
/// cluster-wide, and other tests run in parallel).
async fn settle(db: &TestDb) {
    salesdesk_testkit::supabase::settle(&db.admin, Duration::from_secs(10)).await;
}

struct Setup {
    db: TestDb,
    _dirs: Vec<tempfile::TempDir>,
}

impl Setup {
    async fn new() -> Self {
        Self {
            db: TestDb::new().await.expect("test database"),
            _dirs: Vec::new(),
        }
    }

    async fn user(&self, email: &str, role: Role) -> TestUser {
        self.db.user(email, role).await
    }

    async fn device_via(
        &mut self,
        tokens: Arc<dyn TokenSource>,
        via: Option<std::net::SocketAddr>,
    ) -> Arc<SyncEngine> {
        let dir = tempfile::tempdir().unwrap();
        let pool = app_pool(&self.db, via, 4).await.unwrap();
        let engine = device(dir.path(), pool, tokens, fast_config())
            .await
            .unwrap();
        self._dirs.push(dir);
        engine
    }

    async fn device(&mut self, user: &TestUser) -> Arc<SyncEngine> {
        self.device_via(MintedToken::new(user), None).await
    }
}

#[tokio::test]
async fn local_mode_writes_are_queued_and_pushed_after_joining_a_team() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let dev = s.device(&ana).await;
    // Written before any sign-in: the outbox has them.
    let ids: Vec<String> = (0..5).map(|_| id()).collect();
    for (i, row) in ids.iter().enumerate() {
        write_client(dev.store(), row, &format!("Client {i}"), &at(i as i64))
            .await
            .unwrap();
    }
    let status = dev.status().await.unwrap();
    assert_eq!(status.queued, 5);
    assert_eq!(status.state, SyncState::SignedOut, "never synced yet");

    let report = dev.sync_once().await.unwrap();
    assert_eq!(report.pushed, 5);
    assert_eq!(remote_count(&s.db, "clients", &ids).await, 5);
    let status = report.status.unwrap();
    assert_eq!(status.queued, 0);
    assert_eq!(status.state, SyncState::Idle);
    assert!(status.last_push_at.is_some() && status.last_pull_at.is_some());
}

#[tokio::test]
async fn offline_writes_stay_queued_and_go_out_when_the_network_returns() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let proxy = NetCut::start(db_addr(&s.db).unwrap()).await;
    let dev = s
        .device_via(MintedToken::new(&ana), Some(proxy.addr()))
        .await;
    proxy.cut();

    let ids: Vec<String> = (0..50).map(|_| id()).collect();
    for (i, row) in ids.iter().enumerate() {
        write_client(dev.store(), row, &format!("Offline {i}"), &at(i as i64))
            .await
            .unwrap();
    }
    let err = dev.sync_once().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Remote, "{err}");
    let status = dev.status().await.unwrap();
    assert_eq!(status.state, SyncState::Offline);
    assert_eq!(status.queued, 50, "nothing dropped while offline");
    assert!(status.last_error.is_some());
    assert_eq!(remote_count(&s.db, "clients", &ids).await, 0);

    proxy.restore();
    let report = dev.sync_once().await.unwrap();
    assert_eq!(report.pushed, 50);
    assert_eq!(remote_count(&s.db, "clients", &ids).await, 50);
    let status = dev.status().await.unwrap();
    assert_eq!((status.queued, status.state), (0, SyncState::Idle));
    assert_eq!(status.last_error, None);

    // A second device of the same user gets them all through the pull.
    let other = s.device(&ana).await;
    settle(&s.db).await;
    let report = other.sync_once().await.unwrap();
    assert!(report.pulled >= 50, "{report:?}");
    for (i, row) in ids.iter().enumerate() {
        assert_eq!(
            local_value(other.store(), "clients", row, "name").await,
            Some(format!("Offline {i}"))
        );
        // The owner the server assigned came back with the row.
        assert_eq!(
            local_value(other.store(), "clients", row, "owner_id").await,
            Some(ana.id.to_string())
        );
    }
}

#[tokio::test]
async fn concurrent_offline_edits_on_two_devices_converge_to_the_newer_version() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let (d1, d2) = (s.device(&ana).await, s.device(&ana).await);
    let row = id();
    write_client(d1.store(), &row, "Original", &at(0))
        .await
        .unwrap();
    d1.sync_once().await.unwrap();
    settle(&s.db).await;
    d2.sync_once().await.unwrap();
    assert_eq!(
        local_value(d2.store(), "clients", &row, "name")
            .await
            .as_deref(),
        Some("Original")
    );

    // Both edit offline; d2's edit is newer. The newer one syncs first, then the older one.
    write_client(d1.store(), &row, "Older edit", &at(1_000))
        .await
        .unwrap();
    write_client(d2.store(), &row, "Newer edit", &at(2_000))
        .await
        .unwrap();
    let r2 = d2.sync_once().await.unwrap();
    assert_eq!(r2.pushed, 1);
    let r1 = d1.sync_once().await.unwrap();
    assert_eq!(
        (r1.pushed, r1.already_current),
        (0, 1),
        "the older edit loses on the server"
    );
    settle(&s.db).await;
    d1.sync_once().await.unwrap();
    d2.sync_once().await.unwrap();
    for d in [&d1, &d2] {
        assert_eq!(
            local_value(d.store(), "clients", &row, "name")
                .await
                .as_deref(),
            Some("Newer edit")
        );
        assert_eq!(
            local_value(d.store(), "clients", &row, "updated_at").await,
            Some(at(2_000))
        );
    }
    assert_eq!(
        remote_name(&s.db, &row).await.as_deref(),
        Some("Newer edit")
    );

    // The other order: the older edit syncs first and is then overwritten everywhere.
    write_client(d1.store(), &row, "Newest, synced last", &at(4_000))
        .await
        .unwrap();
    write_client(d2.store(), &row, "Stale, synced first", &at(3_000))
        .await
        .unwrap();
    d2.sync_once().await.unwrap();
    d1.sync_once().await.unwrap();
    settle(&s.db).await;
    d2.sync_once().await.unwrap();
    d1.sync_once().await.unwrap();
    for d in [&d1, &d2] {
        assert_eq!(
            local_value(d.store(), "clients", &row, "name")
                .await
                .as_deref(),
            Some("Newest, synced last")
        );
    }
}

#[tokio::test]
async fn two_managers_editing_one_campaign_converge_on_both_devices() {
    let mut s = Setup::new().await;
    let mia = s.user("mia@example.test", Role::Manager).await;
    let max = s.user("max@example.test", Role::Admin).await;
    let (d1, d2) = (s.device(&mia).await, s.device(&max).await);
    let row = id();
    write_row(
        d1.store(),
        "campaigns",
        &row,
        &[
            ("name", "Spring"),
            ("budget", "1200.50"),
            ("starts_on", "2026-03-01"),
            ("created_at", &at(0)),
            ("updated_at", &at(0)),
        ],
    )
    .await
    .unwrap();
    d1.sync_once().await.unwrap();
    settle(&s.db).await;
    d2.sync_once().await.unwrap();
    assert_eq!(
        local_value(d2.store(), "campaigns", &row, "budget")
            .await
            .as_deref(),
        Some("1200.50"),
        "numeric comes back as exact decimal text"
    );
    assert_eq!(
        local_value(d2.store(), "campaigns", &row, "starts_on")
            .await
            .as_deref(),
        Some("2026-03-01")
    );

    write_row(
        d1.store(),
        "campaigns",
        &row,
        &[("name", "Spring (Mia)"), ("updated_at", &at(5_000))],
    )
    .await
    .unwrap();
    write_row(
        d2.store(),
        "campaigns",
        &row,
        &[
            ("name", "Spring (Max)"),
            ("budget", "99.90"),
            ("updated_at", &at(6_000)),
        ],
    )
    .await
    .unwrap();
    d1.sync_once().await.unwrap();
    d2.sync_once().await.unwrap();
    settle(&s.db).await;
    d1.sync_once().await.unwrap();
    d2.sync_once().await.unwrap();
    for d in [&d1, &d2] {
        assert_eq!(
            local_value(d.store(), "campaigns", &row, "name")
                .await
                .as_deref(),
            Some("Spring (Max)")
        );
        assert_eq!(
            local_value(d.store(), "campaigns", &row, "budget")
                .await
                .as_deref(),
            Some("99.90")
        );
    }
}

#[tokio::test]
async fn a_transaction_committing_after_a_later_one_is_still_pulled() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let dev = s.device(&ana).await;
    dev.sync_once().await.unwrap();

    let insert = "insert into app.clients (id, owner_id, name, created_at, updated_at) \
                  values ($1::uuid, $2, $3, now(), now())";
    let (early, late) = (id(), id());
    // The early transaction takes its id first and stays open...
    let mut first = s.db.admin.begin().await.unwrap();
    sqlx::query(insert)
        .bind(&early)
        .bind(ana.id)
        .bind("Committed last")
        .execute(&mut *first)
        .await
        .unwrap();
    // ...while a later one commits.
    sqlx::query(insert)
        .bind(&late)
        .bind(ana.id)
        .bind("Committed first")
        .execute(&s.db.admin)
        .await
        .unwrap();
    dev.sync_once().await.unwrap();
    // Not delivered yet: it is above the watermark the open transaction holds.
    assert_eq!(
        local_value(dev.store(), "clients", &late, "name").await,
        None
    );

    first.commit().await.unwrap();
    settle(&s.db).await;
    dev.sync_once().await.unwrap();
    assert_eq!(
        local_value(dev.store(), "clients", &early, "name")
            .await
            .as_deref(),
        Some("Committed last"),
        "the row whose transaction committed late was not skipped by the cursor"
    );
    assert_eq!(
        local_value(dev.store(), "clients", &late, "name")
            .await
            .as_deref(),
        Some("Committed first")
    );
}

#[tokio::test]
async fn a_refused_write_stays_visible_with_its_reason_and_does_not_block_the_others() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let dev = s.device(&ana).await;
    // Training materials are written by admins only.
    let material = id();
    write_row(
        dev.store(),
        "training_materials",
        &material,
        &[
            ("title", "Playbook"),
            ("created_at", &at(0)),
            ("updated_at", &at(0)),
        ],
    )
    .await
    .unwrap();
    // A signup with a negative value passes the local table but not the server's check.
    let bad_signup = id();
    write_row(
        dev.store(),
        "signups",
        &bad_signup,
        &[
            ("client_id", &id()),
            ("signed_up_on", "2026-11-02"),
            ("value", "-5.00"),
            ("created_at", &at(0)),
            ("updated_at", &at(0)),
        ],
    )
    .await
    .unwrap();
    let good_signup = id();
    write_row(
        dev.store(),
        "signups",
        &good_signup,
        &[
            ("client_id", &id()),
            ("signed_up_on", "2026-11-02"),
            ("value", "10.00"),
            ("created_at", &at(0)),
            ("updated_at", &at(0)),
        ],
    )
    .await
    .unwrap();
    let clients: Vec<String> = (0..3).map(|_| id()).collect();
    for c in &clients {
        write_client(dev.store(), c, "Fine", &at(0)).await.unwrap();
    }

    let report = dev.sync_once().await.unwrap();
    assert_eq!(report.pushed, 4, "{report:?}");
    assert_eq!(report.rejected, 2, "{report:?}");
    assert_eq!(remote_count(&s.db, "clients", &clients).await, 3);
    assert_eq!(
        remote_count(&s.db, "signups", std::slice::from_ref(&good_signup)).await,
        1
    );
    assert_eq!(
        remote_count(&s.db, "signups", std::slice::from_ref(&bad_signup)).await,
        0
    );
    assert_eq!(
        remote_count(&s.db, "training_materials", std::slice::from_ref(&material)).await,
        0
    );

    let status = report.status.unwrap();
    assert_eq!((status.queued, status.rejected_count), (0, 2));
    let refused = status
        .rejected
        .iter()
        .find(|r| r.row_id == material)
        .unwrap();
    assert_eq!(refused.table, "training_materials");
    assert!(
        refused.reason.contains("may not edit"),
        "{}",
        refused.reason
    );
    let invalid = status
        .rejected
        .iter()
        .find(|r| r.row_id == bad_signup)
        .unwrap();
    assert!(
        invalid.reason.contains("refused this change"),
        "{}",
        invalid.reason
    );
    // The local copies are kept.
    assert_eq!(
        local_value(dev.store(), "training_materials", &material, "title")
            .await
            .as_deref(),
        Some("Playbook")
    );

    // Not retried by later rounds...
    let again = dev.sync_once().await.unwrap();
    assert_eq!((again.pushed, again.rejected), (0, 0));
    assert_eq!(again.status.unwrap().rejected_count, 2);
    // ...until the user corrects the record.
    write_row(
        dev.store(),
        "signups",
        &bad_signup,
        &[("value", "5.00"), ("updated_at", &at(10))],
    )
    .await
    .unwrap();
    let fixed = dev.sync_once().await.unwrap();
    assert_eq!(fixed.pushed, 1);
    assert_eq!(fixed.status.unwrap().rejected_count, 1);
    assert_eq!(remote_count(&s.db, "signups", &[bad_signup]).await, 1);
}

#[tokio::test]
async fn a_network_cut_in_the_middle_of_a_push_loses_nothing_and_duplicates_nothing() {
    let s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let proxy = NetCut::start(db_addr(&s.db).unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let pool = app_pool(&s.db, Some(proxy.addr()), 4).await.unwrap();
    let mut config = fast_config();
    config.push_batch = 50;
    let dev = device(dir.path(), pool, MintedToken::new(&ana), config)
        .await
        .unwrap();
    let ids: Vec<String> = (0..3000).map(|_| id()).collect();
    for chunk in ids.chunks(500) {
        let mut tx = dev.store().begin_write().await.unwrap();
        for row in chunk {
            sqlx::query(
                "INSERT INTO clients (id, name, created_at, updated_at) VALUES (?, 'Bulk', ?, ?)",
            )
            .bind(row)
            .bind(at(0))
            .bind(at(0))
            .execute(tx.conn())
            .await
            .unwrap();
            tx.record(
                "clients",
                row.clone(),
                salesdesk_core::data::local::RowOp::Upsert,
            );
        }
        tx.commit().await.unwrap();
    }

    let pushing = {
        let dev = dev.clone();
        tokio::spawn(async move { dev.sync_once().await })
    };
    // Cut once part of the queue has reached the server.
    let ids_for_poll = ids.clone();
    loop {
        let n = remote_count(&s.db, "clients", &ids_for_poll).await;
        if n > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.cut();
    let first = pushing.await.unwrap();
    let landed = remote_count(&s.db, "clients", &ids).await;
    assert!(first.is_err(), "the cut should have interrupted the push");
    assert!(landed < 3000, "{landed} rows landed before the cut");
    let status = dev.status().await.unwrap();
    assert_eq!(status.state, SyncState::Offline);
    assert!(
        status.queued as i64 >= 3000 - landed,
        "{landed} landed, status {status:?}, error {:?}",
        first.as_ref().err().map(|e| e.to_string())
    );

    proxy.restore();
    let report = dev.sync_once().await.unwrap();
    assert_eq!(remote_count(&s.db, "clients", &ids).await, 3000);
    // Each row was applied exactly once over the two rounds; a row whose batch reached the
    // server but whose answer was lost comes back as already current.
    assert_eq!(report.pushed as i64 + landed, 3000, "{report:?}");
    assert_eq!(report.status.unwrap().queued, 0);
    let distinct: i64 =
        sqlx::query_scalar("select count(distinct id) from app.clients where name = 'Bulk'")
            .fetch_one(&s.db.admin)
            .await
            .unwrap();
    assert_eq!(distinct, 3000);
}

#[tokio::test]
async fn a_remote_change_reaches_a_listening_device_without_waiting_for_the_timer() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let dir = tempfile::tempdir().unwrap();
    let pool = app_pool(&s.db, None, 4).await.unwrap();
    let mut config = fast_config();
    config.period = Duration::from_secs(3600);
    let listening = device(dir.path(), pool.clone(), MintedToken::new(&ana), config)
        .await
        .unwrap();
    let handle = listening.clone().start(Some(pool));
    // Let the first round and the listener start.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let writer = s.device(&ana).await;
    let row = id();
    write_client(writer.store(), &row, "From the other device", &at(0))
        .await
        .unwrap();
    writer.sync_once().await.unwrap();

    let mut arrived = None;
    for _ in 0..100 {
        arrived = local_value(listening.store(), "clients", &row, "name").await;
        if arrived.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handle.stop().await;
    assert_eq!(arrived.as_deref(), Some("From the other device"));
}

#[tokio::test]
async fn a_local_write_is_pushed_by_the_background_loop_soon_after() {
    let s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let dir = tempfile::tempdir().unwrap();
    let pool = app_pool(&s.db, None, 4).await.unwrap();
    let mut config = fast_config();
    config.period = Duration::from_secs(3600);
    let dev = device(dir.path(), pool, MintedToken::new(&ana), config)
        .await
        .unwrap();
    let handle = dev.clone().start(None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = id();
    write_client(dev.store(), &row, "Pushed by the loop", &at(0))
        .await
        .unwrap();
    let mut there = false;
    for _ in 0..100 {
        if remote_name(&s.db, &row).await.is_some() {
            there = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handle.stop().await;
    assert!(there, "the write was not pushed by the debounced trigger");
}

#[tokio::test]
async fn a_signed_out_session_keeps_the_queue() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let tokens = MintedToken::new(&ana);
    let dev = s.device_via(tokens.clone(), None).await;
    s.db.sign_out(&ana).await.unwrap();
    let row = id();
    write_client(dev.store(), &row, "Kept", &at(0))
        .await
        .unwrap();
    let err = dev.sync_once().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignedOut, "{err}");
    assert_eq!(tokens.refreshes(), 1, "one refresh was tried");
    let status = dev.status().await.unwrap();
    assert_eq!((status.state, status.queued), (SyncState::SignedOut, 1));
}

#[tokio::test]
async fn a_token_the_database_refuses_is_refreshed_once_and_a_network_failed_refresh_keeps_everything()
 {
    use salesdesk_core::ai::ManualClock;
    use salesdesk_core::auth::{AuthClient, MemoryVault, SessionManager, SessionStore};
    use salesdesk_core::secrets::SecretString;
    use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;

    const ANON: &str = "anon-key-for-tests";
    let mut s = Setup::new().await;
    let fake = SupabaseAuthFake::with_db(ANON, s.db.jwt_secret(), s.db.admin.clone()).await;
    fake.set_confirm_email(false);
    fake.set_access_ttl(2);
    // A frozen clock: the session manager believes its token is fresh while the database, on
    // real time, sees it expire (a clock that disagrees with the server's, or an early expiry).
    let clock = Arc::new(ManualClock::new());
    let client = AuthClient::with_timeouts(
        &fake.project_url(),
        SecretString::new(ANON),
        clock,
        Duration::from_secs(2),
        Duration::from_millis(800),
    )
    .unwrap();
    let manager = Arc::new(
        SessionManager::new(client, SessionStore::new(Arc::new(MemoryVault::default())))
            .with_margin(Duration::ZERO),
    );
    manager
        .sign_up(
            "ria@example.test",
            &SecretString::new("correct horse battery"),
        )
        .await
        .unwrap()
        .expect("signed in at once");
    let dev = s.device_via(manager.clone(), None).await;

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let first = id();
    write_client(dev.store(), &first, "After expiry", &at(0))
        .await
        .unwrap();
    let report = dev.sync_once().await.unwrap();
    assert_eq!(report.pushed, 1);
    assert_eq!(manager.refresh_count(), 1, "one refresh after the refusal");
    assert_eq!(
        remote_name(&s.db, &first).await.as_deref(),
        Some("After expiry")
    );

    // Expired again, and now the sign-in service cannot be reached.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    fake.set_offline(true);
    let second = id();
    write_client(dev.store(), &second, "Waiting", &at(1))
        .await
        .unwrap();
    let err = dev.sync_once().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Remote, "{err}");
    let status = dev.status().await.unwrap();
    assert_eq!((status.state, status.queued), (SyncState::Offline, 1));
    assert!(manager.status().await.unwrap().signed_in, "still signed in");

    fake.set_offline(false);
    let report = dev.sync_once().await.unwrap();
    assert_eq!(report.pushed, 1);
    assert_eq!(
        remote_name(&s.db, &second).await.as_deref(),
        Some("Waiting")
    );
}

#[tokio::test]
async fn discarding_a_refused_change_brings_back_the_teams_version() {
    let mut s = Setup::new().await;
    let mia = s.user("mia@example.test", Role::Manager).await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let (manager, rep) = (s.device(&mia).await, s.device(&ana).await);
    let campaign = id();
    write_row(
        manager.store(),
        "campaigns",
        &campaign,
        &[
            ("name", "Winter"),
            ("created_at", &at(0)),
            ("updated_at", &at(0)),
        ],
    )
    .await
    .unwrap();
    manager.sync_once().await.unwrap();
    settle(&s.db).await;
    rep.sync_once().await.unwrap();

    // Reps may read campaigns but not change them.
    write_row(
        rep.store(),
        "campaigns",
        &campaign,
        &[("name", "Renamed by a rep"), ("updated_at", &at(10))],
    )
    .await
    .unwrap();
    let report = rep.sync_once().await.unwrap();
    assert_eq!(report.rejected, 1);
    assert_eq!(
        local_value(rep.store(), "campaigns", &campaign, "name")
            .await
            .as_deref(),
        Some("Renamed by a rep"),
        "the refused version is kept until the user decides"
    );

    let store = rep.store();
    assert!(
        !salesdesk_core::sync::discard_rejected(store, "campaigns", &id())
            .await
            .unwrap()
    );
    assert!(
        salesdesk_core::sync::discard_rejected(store, "not_a_table", &campaign)
            .await
            .is_err()
    );
    assert!(
        salesdesk_core::sync::discard_rejected(store, "campaigns", &campaign)
            .await
            .unwrap()
    );
    let report = rep.sync_once().await.unwrap();
    assert_eq!(report.status.unwrap().rejected_count, 0);
    assert_eq!(
        local_value(rep.store(), "campaigns", &campaign, "name")
            .await
            .as_deref(),
        Some("Winter")
    );
    assert_eq!(
        remote_name_of(&s.db, "campaigns", &campaign)
            .await
            .as_deref(),
        Some("Winter")
    );
}

async fn remote_name_of(db: &TestDb, table: &str, id: &str) -> Option<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select name from app.{table} where id = $1::uuid"
    )))
    .bind(id)
    .fetch_optional(&db.admin)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_realtime_listener_reconnects_after_a_cut_and_catches_up() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let proxy = NetCut::start(db_addr(&s.db).unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = fast_config();
    config.period = Duration::from_secs(3600);
    let listening = device(
        dir.path(),
        app_pool(&s.db, None, 4).await.unwrap(),
        MintedToken::new(&ana),
        config,
    )
    .await
    .unwrap();
    // Only the listener goes through the cable that gets cut.
    let listen_pool = app_pool(&s.db, Some(proxy.addr()), 1).await.unwrap();
    let handle = listening.clone().start(Some(listen_pool));
    tokio::time::sleep(Duration::from_millis(500)).await;

    proxy.cut();
    let writer = s.device(&ana).await;
    let row = id();
    write_client(writer.store(), &row, "Written during the cut", &at(0))
        .await
        .unwrap();
    writer.sync_once().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        local_value(listening.store(), "clients", &row, "name").await,
        None,
        "no notice can arrive while the listener is cut off"
    );

    proxy.restore();
    let mut arrived = None;
    for _ in 0..100 {
        arrived = local_value(listening.store(), "clients", &row, "name").await;
        if arrived.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handle.stop().await;
    assert_eq!(arrived.as_deref(), Some("Written during the cut"));
}

/// A token source that, when the push asks for its token (after the rows were read), writes
/// the row again: a local write racing the push.
struct RacingWrite {
    inner: Arc<MintedToken>,
    store: salesdesk_core::data::local::LocalStore,
    row: String,
    done: std::sync::atomic::AtomicBool,
}

impl TokenSource for RacingWrite {
    fn user_id(
        &self,
    ) -> futures_util::future::BoxFuture<'_, Result<String, salesdesk_core::auth::AuthError>> {
        self.inner.user_id()
    }
    fn access_token(
        &self,
    ) -> futures_util::future::BoxFuture<
        '_,
        Result<salesdesk_core::secrets::SecretString, salesdesk_core::auth::AuthError>,
    > {
        Box::pin(async move {
            if !self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
                write_client(
                    &self.store,
                    &self.row,
                    "Written during the push",
                    &at(5_000),
                )
                .await
                .unwrap();
            }
            self.inner.access_token().await
        })
    }
    fn refresh(
        &self,
        rejected: salesdesk_core::secrets::SecretString,
    ) -> futures_util::future::BoxFuture<
        '_,
        Result<salesdesk_core::secrets::SecretString, salesdesk_core::auth::AuthError>,
    > {
        self.inner.refresh(rejected)
    }
}

#[tokio::test]
async fn a_write_racing_the_push_keeps_its_entry_and_goes_out_next() {
    let s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let dir = tempfile::tempdir().unwrap();
    let store = salesdesk_core::data::local::LocalStore::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    let row = id();
    write_client(&store, &row, "Before the push", &at(0))
        .await
        .unwrap();
    let tokens = Arc::new(RacingWrite {
        inner: MintedToken::new(&ana),
        store: store.clone(),
        row: row.clone(),
        done: Default::default(),
    });
    let dev = SyncEngine::with_config(
        store,
        salesdesk_core::data::remote::RemoteStore::from_pool(
            app_pool(&s.db, None, 4).await.unwrap(),
        ),
        tokens,
        fast_config(),
    );
    let first = dev.sync_once().await.unwrap();
    // The version read before the racing write went out, and the racing write's own (newer)
    // entry survived the removal of the old one, so the same round pushed it too.
    assert_eq!(first.pushed, 2, "{first:?}");
    assert_eq!(
        remote_name(&s.db, &row).await.as_deref(),
        Some("Written during the push")
    );
    assert_eq!(first.status.unwrap().queued, 0);
    assert_eq!(
        local_value(dev.store(), "clients", &row, "name")
            .await
            .as_deref(),
        Some("Written during the push")
    );
    let second = dev.sync_once().await.unwrap();
    assert_eq!((second.pushed, second.already_current), (0, 0));
}

#[tokio::test]
async fn a_rep_promoted_to_manager_pulls_the_teams_older_rows() {
    let mut s = Setup::new().await;
    let ana = s.user("ana@example.test", Role::Rep).await;
    let bob = s.user("bob@example.test", Role::Rep).await;
    let (ana_dev, bob_dev) = (s.device(&ana).await, s.device(&bob).await);
    let bobs = id();
    write_client(bob_dev.store(), &bobs, "Bob's client", &at(0))
        .await
        .unwrap();
    bob_dev.sync_once().await.unwrap();
    // Ana's own row is written after Bob's, so her cursor ends past his.
    let anas = id();
    write_client(ana_dev.store(), &anas, "Ana's client", &at(1))
        .await
        .unwrap();
    ana_dev.sync_once().await.unwrap();
    settle(&s.db).await;
    ana_dev.sync_once().await.unwrap();
    assert_eq!(
        local_value(ana_dev.store(), "clients", &bobs, "name").await,
        None
    );

    sqlx::query("update app.profiles set role = 'manager' where id = $1")
        .bind(ana.id)
        .execute(&s.db.admin)
        .await
        .unwrap();
    settle(&s.db).await;
    ana_dev.sync_once().await.unwrap();
    assert_eq!(
        local_value(ana_dev.store(), "profiles", &ana.id.to_string(), "role")
            .await
            .as_deref(),
        Some("manager")
    );
    assert_eq!(
        local_value(ana_dev.store(), "clients", &bobs, "name")
            .await
            .as_deref(),
        Some("Bob's client"),
        "the role change restarted the pull of the other tables"
    );
}
