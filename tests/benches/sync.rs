//! Sync engine throughput against the testkit's throwaway PostgreSQL cluster on 127.0.0.1 and
//! real SQLite files. Not run by the test suite: `cargo bench -p salesdesk-testkit --bench
//! sync` (`SALESDESK_BENCH_ROWS`, `SALESDESK_BENCH_CLIENTS` for other sizes).
//!
//! 1. push 10,000 queued writes from one device;
//! 2. pull those 10,000 rows on a fresh device of the same user;
//! 3. 200 simulated clients (each its own user, local store and engine) writing 20 rows each
//!    and syncing at once through one pool of 20 connections: round latency and throughput.

use std::sync::Arc;
use std::time::{Duration, Instant};

use salesdesk_core::data::local::{LocalStore, RowOp};
use salesdesk_core::data::remote::RemoteStore;
use salesdesk_core::sync::{SyncConfig, SyncEngine};
use salesdesk_testkit::supabase::{Role, TestDb};
use salesdesk_testkit::sync::{MintedToken, app_pool, at};
use uuid::Uuid;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Queues `n` new clients in transactions of 500 (the app's write path, outbox included).
async fn queue_clients(store: &LocalStore, n: usize, prefix: &str) {
    let mut written = 0;
    while written < n {
        let mut tx = store.begin_write().await.expect("begin");
        for i in written..(written + 500).min(n) {
            let id = Uuid::now_v7().to_string();
            sqlx::query(
                "INSERT INTO clients (id, name, company, tags, created_at, updated_at) \
                 VALUES (?, ?, 'Bench Ltd', '[\"bench\"]', ?, ?)",
            )
            .bind(&id)
            .bind(format!("{prefix} {i}"))
            .bind(at(i as i64))
            .bind(at(i as i64))
            .execute(tx.conn())
            .await
            .expect("insert");
            tx.record("clients", id, RowOp::Upsert);
        }
        tx.commit().await.expect("commit");
        written = (written + 500).min(n);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let rows = env_usize("SALESDESK_BENCH_ROWS", 10_000);
    let clients = env_usize("SALESDESK_BENCH_CLIENTS", 200);
    let per_client = 20;
    let db = TestDb::new().await.expect("test cluster");
    let dir = tempfile::tempdir().expect("temp dir");
    println!("sync benchmark: {rows} rows; {clients} clients x {per_client} rows, pool of 20");

    // 1. Push.
    let ana = db
        .create_user("bench@example.test", Role::Rep)
        .await
        .expect("user");
    let store = LocalStore::open(&dir.path().join("a.db"))
        .await
        .expect("store");
    let queue_start = Instant::now();
    queue_clients(&store, rows, "Client").await;
    let queued_in = queue_start.elapsed();
    let engine = SyncEngine::new(
        store,
        RemoteStore::from_pool(app_pool(&db, None, 4).await.expect("pool")),
        MintedToken::new(&ana),
    );
    let start = Instant::now();
    let report = engine.push_only().await.expect("push");
    let push = start.elapsed();
    assert_eq!(report.pushed as usize, rows);
    println!(
        "queue {rows} writes (WriteTx + outbox, 500/transaction): {:.0} ms ({:.0} writes/s)",
        ms(queued_in),
        rows as f64 / queued_in.as_secs_f64()
    );
    println!(
        "push  {rows} queued writes: {:.0} ms ({:.0} rows/s)",
        ms(push),
        rows as f64 / push.as_secs_f64()
    );

    // 2. Pull on a fresh device of the same user.
    let fresh = SyncEngine::new(
        LocalStore::open(&dir.path().join("b.db"))
            .await
            .expect("store"),
        RemoteStore::from_pool(app_pool(&db, None, 4).await.expect("pool")),
        MintedToken::new(&ana),
    );
    // The pull sees a row once every transaction older than it has ended.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let report = fresh.pull_only().await.expect("pull");
    let pull = start.elapsed();
    // The user's own profile comes along with the clients.
    assert!(report.pulled as usize >= rows, "{report:?}");
    println!(
        "pull  {} rows into a fresh store: {:.0} ms ({:.0} rows/s)",
        report.pulled,
        ms(pull),
        f64::from(report.pulled) / pull.as_secs_f64()
    );

    // 3. Many clients, one pool of 20 connections.
    let pool = app_pool(&db, None, 20).await.expect("pool");
    let mut engines = Vec::with_capacity(clients);
    for c in 0..clients {
        let user = db
            .create_user(&format!("rep{c}@example.test"), Role::Rep)
            .await
            .expect("user");
        let store = LocalStore::open(&dir.path().join(format!("c{c}.db")))
            .await
            .expect("store");
        queue_clients(&store, per_client, &format!("Rep {c} client")).await;
        engines.push(Arc::new(SyncEngine::with_config(
            store,
            RemoteStore::from_pool(pool.clone()),
            MintedToken::new(&user),
            SyncConfig {
                max_attempts: 6,
                ..SyncConfig::default()
            },
        )));
    }
    let start = Instant::now();
    let tasks: Vec<_> = engines
        .iter()
        .cloned()
        .map(|engine| {
            tokio::spawn(async move {
                let t = Instant::now();
                let report = engine.sync_once().await;
                (t.elapsed(), report)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(clients);
    let mut pushed = 0usize;
    let mut failed = 0usize;
    for task in tasks {
        let (elapsed, report) = task.await.expect("task");
        match report {
            Ok(r) => pushed += r.pushed as usize,
            Err(e) => {
                failed += 1;
                eprintln!("a client's round failed: {e}");
            }
        }
        latencies.push(elapsed);
    }
    let wall = start.elapsed();
    latencies.sort();
    println!(
        "{clients} clients, one round each (push {per_client} + pull all tables), pool of 20: \
         wall {:.0} ms; round p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; {:.0} rounds/s, \
         {:.0} pushed rows/s; {failed} failed",
        ms(wall),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.95)),
        ms(percentile(&latencies, 1.0)),
        clients as f64 / wall.as_secs_f64(),
        pushed as f64 / wall.as_secs_f64()
    );
    assert_eq!(pushed, clients * per_client);
}
