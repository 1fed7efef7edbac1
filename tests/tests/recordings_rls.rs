//! Row-level security of `app.call_recordings` on a real PostgreSQL with the real migrations,
//! attacked with direct SQL as `salesdesk_app` (what a user holding the app role's password
//! could do): the owner reads and writes their own rows; managers and admins read everyone's
//! and write none but their own; another rep sees nothing; nobody deletes; a row may only name
//! a file in its owner's own folder of the bucket, and only team-stored rows exist remotely.

use salesdesk_core::data::remote::{PushStatus, RemoteStore, SyncedTable};
use salesdesk_testkit::rls::{authenticate, db_code, exec_as};
use salesdesk_testkit::supabase::{Role, TestDb, TestUser};
use serde_json::{Value, json};
use sqlx::postgres::PgPool;
use uuid::Uuid;

const T: SyncedTable = SyncedTable::CallRecordings;

/// A valid recording row of `owner`'s, in their folder of the bucket.
fn recording(owner: &TestUser, id: Uuid, updated_at: &str) -> Value {
    let sha = "5e".repeat(32);
    json!({
        "id": id,
        "analysis_id": Uuid::now_v7(),
        "store": "team",
        "file_key": format!("{}/{sha}/Call_with_Zoe.wav", owner.id),
        "file_name": "Call with Zoë.wav",
        "file_size": 48_044,
        "file_sha256": sha,
        "mime_type": "audio/wav",
        "created_at": "2026-11-01T09:00:00Z",
        "updated_at": updated_at,
    })
}

async fn push(store: &RemoteStore, user: &TestUser, row: Value) -> PushStatus {
    let out = store
        .push_upsert(&user.token, T, &[row])
        .await
        .expect("push");
    assert_eq!(out.len(), 1);
    out[0].status
}

/// Pushes `user`'s own valid recording `id` (updated at 2026-11-02T10:00Z).
async fn push_own(store: &RemoteStore, user: &TestUser, id: Uuid) -> PushStatus {
    push(store, user, recording(user, id, "2026-11-02T10:00:00Z")).await
}

/// The ids of the recordings `user` can see with a plain select.
async fn visible(pool: &PgPool, user: &TestUser) -> Vec<Uuid> {
    let mut tx = pool.begin().await.unwrap();
    authenticate(&mut *tx, user).await.unwrap();
    let ids = sqlx::query_scalar("select id from app.call_recordings order by id")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ids
}

#[tokio::test]
async fn owners_write_managers_and_admins_read_other_reps_see_nothing() {
    let db = TestDb::new().await.unwrap();
    let store = RemoteStore::from_pool(db.app_pool().await.unwrap());
    let pool = store.pool().clone();
    let alice = db.user("alice@example.test", Role::Rep).await;
    let bob = db.user("bob@example.test", Role::Rep).await;
    let manager = db.user("manager@example.test", Role::Manager).await;
    let admin = db.user("admin@example.test", Role::Admin).await;

    let alices = Uuid::now_v7();
    assert_eq!(push_own(&store, &alice, alices).await, PushStatus::Applied);
    // Pushing it again is a no-op (the sync engine's replays).
    assert_eq!(push_own(&store, &alice, alices).await, PushStatus::Stale);
    let managers = Uuid::now_v7();
    assert_eq!(
        push_own(&store, &manager, managers).await,
        PushStatus::Applied
    );

    // Read: the owner and the bosses; never another rep.
    assert_eq!(visible(&pool, &alice).await, vec![alices]);
    assert!(visible(&pool, &bob).await.is_empty(), "Bob saw a recording");
    let mut all = vec![alices, managers];
    all.sort();
    assert_eq!(visible(&pool, &manager).await, all);
    assert_eq!(visible(&pool, &admin).await, all);
    let pulled = store.pull_changes(&bob.token, T, None, 100).await.unwrap();
    assert!(pulled.rows.is_empty(), "{:?}", pulled.rows);

    // Write: nobody but the owner, not even newer or as a tombstone.
    for intruder in [&bob, &manager, &admin] {
        // In the intruder's own folder, or the folder rule would refuse it before RLS does
        // (see the next test).
        let mut attack = recording(intruder, alices, "2030-01-01T00:00:00Z");
        attack["deleted_at"] = json!("2026-11-03T00:00:00Z");
        assert_eq!(
            push(&store, intruder, attack).await,
            PushStatus::Forbidden,
            "{}",
            intruder.email
        );
        let updated = exec_as(
            &pool,
            intruder,
            "update app.call_recordings set file_name = 'x.wav', updated_at = now() where id = $1",
            alices,
        )
        .await
        .unwrap();
        assert_eq!(updated, 0, "{} changed Alice's recording", intruder.email);
    }
    // With Alice's own key: refused outright (the folder rule), nothing changes either.
    let attack = recording(&alice, alices, "2030-01-01T00:00:00Z");
    assert!(store.push_upsert(&bob.token, T, &[attack]).await.is_err());
    assert_eq!(visible(&pool, &alice).await, vec![alices]);
    // The owner may (a tombstone, as the app deletes).
    let mut tomb = recording(&alice, alices, "2026-11-04T00:00:00Z");
    tomb["deleted_at"] = json!("2026-11-04T00:00:00Z");
    assert_eq!(push(&store, &alice, tomb).await, PushStatus::Applied);
    let deleted: Option<String> =
        sqlx::query_scalar("select deleted_at::text from app.call_recordings where id = $1")
            .bind(alices)
            .fetch_one(&db.admin)
            .await
            .unwrap();
    assert!(deleted.is_some());
    let name: String =
        sqlx::query_scalar("select file_name from app.call_recordings where id = $1")
            .bind(alices)
            .fetch_one(&db.admin)
            .await
            .unwrap();
    assert_eq!(name, "Call with Zoë.wav");

    // Delete is granted to no one, the owner included.
    for user in [&alice, &admin] {
        let err = exec_as(
            &pool,
            user,
            "delete from app.call_recordings where id = $1",
            alices,
        )
        .await
        .unwrap_err();
        assert_eq!(db_code(&err).as_deref(), Some("42501"), "{err}");
    }
}

#[tokio::test]
async fn a_row_names_only_its_owners_folder_and_a_team_store() {
    let db = TestDb::new().await.unwrap();
    let store = RemoteStore::from_pool(db.app_pool().await.unwrap());
    let pool = store.pool().clone();
    let alice = db.user("alice@example.test", Role::Rep).await;
    let bob = db.user("bob@example.test", Role::Rep).await;

    // Bob's row pointing at Alice's file (which a manager would then open as Bob's): refused.
    let forged = recording(&alice, Uuid::now_v7(), "2026-11-02T10:00:00Z");
    assert!(store.push_upsert(&bob.token, T, &[forged]).await.is_err());
    // A row claiming to be Alice's, inserted directly by Bob: refused by the policy.
    let mut claimed = recording(&alice, Uuid::now_v7(), "2026-11-02T10:00:00Z");
    claimed["owner_id"] = json!(alice.id);
    let mut tx = pool.begin().await.unwrap();
    authenticate(&mut *tx, &bob).await.unwrap();
    let err = sqlx::query(
        "insert into app.call_recordings \
         select * from jsonb_populate_record(null::app.call_recordings, $1)",
    )
    .bind(&claimed)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("42501"), "{err}");
    drop(tx);
    // A device-local recording has no business on the server; nor does a path escape.
    let mut local = recording(&bob, Uuid::now_v7(), "2026-11-02T10:00:00Z");
    local["store"] = json!("local");
    assert!(store.push_upsert(&bob.token, T, &[local]).await.is_err());
    let mut escape = recording(&bob, Uuid::now_v7(), "2026-11-02T10:00:00Z");
    escape["file_key"] = json!(format!("{}/../{}/x.wav", bob.id, alice.id));
    assert!(store.push_upsert(&bob.token, T, &[escape]).await.is_err());
    let count: i64 = sqlx::query_scalar("select count(*) from app.call_recordings")
        .fetch_one(&db.admin)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing refused was stored");

    // Changing one's own row to point elsewhere is refused too.
    let own = Uuid::now_v7();
    assert_eq!(push_own(&store, &bob, own).await, PushStatus::Applied);
    let mut moved = recording(&alice, own, "2026-11-05T10:00:00Z");
    moved["file_name"] = json!("moved.wav");
    assert!(store.push_upsert(&bob.token, T, &[moved]).await.is_err());
    let name: String =
        sqlx::query_scalar("select file_name from app.call_recordings where id = $1")
            .bind(own)
            .fetch_one(&db.admin)
            .await
            .unwrap();
    assert_eq!(name, "Call with Zoë.wav");
}
