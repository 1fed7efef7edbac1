//! Crash safety of the write path and the sync engine: a child process writes 1,000 records
//! (and syncs in the background as the app does) and is killed with SIGKILL at random points,
//! then restarted. Every write the child reported as done (printed after `commit` returned)
//! must be in the local store, and after a sync exactly once in Postgres.
//!
//! The child is the ignored test `child_writer` of this same binary, run with `--ignored`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use std::time::Duration;

use salesdesk_core::data::local::LocalStore;
use salesdesk_core::data::remote::RemoteStore;
use salesdesk_core::sync::SyncEngine;
use salesdesk_testkit::supabase::{Role, TestDb};
use salesdesk_testkit::sync::{MintedToken, app_pool, at, fast_config, write_client};
use uuid::Uuid;

const TOTAL: usize = 1000;
const ENV_DIR: &str = "SALESDESK_CRASH_DIR";
const ENV_START: &str = "SALESDESK_CRASH_START";
const ENV_URL: &str = "SALESDESK_CRASH_DB_URL";
const ENV_TOKEN: &str = "SALESDESK_CRASH_TOKEN";
const ENV_USER: &str = "SALESDESK_CRASH_USER";

/// The child: writes records `START..TOTAL`, printing `WROTE <n> <id>` after each commit, with
/// the sync engine running in the background.
#[tokio::test]
#[ignore = "run as a child process by kill_9_during_writes_and_sync_loses_and_duplicates_nothing"]
async fn child_writer() {
    let Ok(dir) = std::env::var(ENV_DIR) else {
        return;
    };
    let start: usize = std::env::var(ENV_START).unwrap().parse().unwrap();
    let store = LocalStore::open(&std::path::Path::new(&dir).join("salesdesk.db"))
        .await
        .unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy(&std::env::var(ENV_URL).unwrap())
        .unwrap();
    let user = salesdesk_testkit::supabase::TestUser {
        id: Uuid::parse_str(&std::env::var(ENV_USER).unwrap()).unwrap(),
        email: String::new(),
        session_id: Uuid::nil(),
        token: std::env::var(ENV_TOKEN).unwrap(),
        claims: salesdesk_testkit::supabase::Claims::for_session(Uuid::nil(), Uuid::nil(), ""),
    };
    let mut config = fast_config();
    config.debounce = Duration::from_millis(10);
    config.push_batch = 20;
    let engine = Arc::new(SyncEngine::with_config(
        store.clone(),
        RemoteStore::from_pool(pool),
        MintedToken::new(&user),
        config,
    ));
    let _sync = engine.start(None);
    for n in start..TOTAL {
        let id = Uuid::now_v7().to_string();
        write_client(&store, &id, &format!("Write {n}"), &at(n as i64))
            .await
            .unwrap();
        println!("WROTE {n} {id}");
    }
    println!("DONE");
}

#[tokio::test]
async fn kill_9_during_writes_and_sync_loses_and_duplicates_nothing() {
    let db = TestDb::new().await.unwrap();
    let user = db.user("kim@example.test", Role::Rep).await;
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut reported: Vec<(usize, String)> = Vec::new();
    let mut kills = 0;
    let mut interrupted = 0;
    let mut done = false;
    while !done {
        let start = reported.last().map(|(n, _)| n + 1).unwrap_or(0);
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV_DIR, dir.path())
            .env(ENV_START, start.to_string())
            .env(ENV_URL, db.app_url())
            .env(ENV_TOKEN, &user.token)
            .env(ENV_USER, user.id.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Kill after a random number of reported writes (so always mid-way), four times; then
        // let the last run finish.
        let kill_after = (kills < 4).then(|| 1 + (Uuid::new_v4().as_u128() % 200) as usize);
        let (mut lines, mut writes) = (Vec::new(), 0);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("WROTE ") {
                writes += 1;
            }
            lines.push(line);
            if kill_after == Some(writes) {
                child.kill().unwrap();
                kills += 1;
            }
        }
        child.wait().unwrap();
        if !lines.iter().any(|l| l == "DONE") {
            interrupted += 1;
        }
        for line in lines {
            if line == "DONE" {
                done = true;
            }
            let mut parts = line.split(' ');
            if let (Some("WROTE"), Some(n), Some(id), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
                && let (Ok(n), Ok(id)) = (n.parse::<usize>(), Uuid::parse_str(id))
            {
                reported.push((n, id.to_string()));
            }
        }
    }
    assert_eq!(kills, 4);
    assert!(interrupted >= 1, "no kill landed during the writes");
    let synced_before_restart: i64 =
        sqlx::query_scalar("select count(*) from app.clients where owner_id = $1")
            .bind(user.id)
            .fetch_one(&db.admin)
            .await
            .unwrap();
    assert_eq!(reported.last().map(|(n, _)| *n), Some(TOTAL - 1));

    // Every reported write is in the local store.
    let store = LocalStore::open(&dir.path().join("salesdesk.db"))
        .await
        .unwrap();
    store.check().await.unwrap();
    let local_ids: Vec<String> = sqlx::query_scalar("SELECT id FROM clients")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let local: std::collections::HashSet<&str> = local_ids.iter().map(String::as_str).collect();
    for (n, id) in &reported {
        assert!(
            local.contains(id.as_str()),
            "reported write {n} ({id}) is missing locally"
        );
    }

    // After a sync, every local row is in Postgres exactly once, and nothing else is.
    let engine = SyncEngine::with_config(
        store.clone(),
        RemoteStore::from_pool(app_pool(&db, None, 4).await.unwrap()),
        MintedToken::new(&user),
        fast_config(),
    );
    let report = engine.sync_once().await.unwrap();
    eprintln!(
        "{interrupted} runs killed mid-way; {synced_before_restart} rows synced by the children, \
         {} by the final round",
        report.pushed
    );
    let status = report.status.unwrap();
    assert_eq!((status.queued, status.rejected_count), (0, 0), "{status:?}");
    let remote: Vec<(Uuid, i64)> = sqlx::query_as(
        "select id, count(*) over (partition by id) from app.clients where owner_id = $1",
    )
    .bind(user.id)
    .fetch_all(&db.admin)
    .await
    .unwrap();
    assert!(remote.iter().all(|(_, n)| *n == 1));
    let remote: std::collections::HashSet<String> =
        remote.into_iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(
        remote.len(),
        local.len(),
        "Postgres and the local store hold the same rows"
    );
    for id in &local {
        assert!(remote.contains(*id), "{id} is local but not in Postgres");
    }
}
