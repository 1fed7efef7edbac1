//! The Storage buckets and their row-level security (migration 20261126000007_storage.sql) on
//! a real PostgreSQL with Supabase's `storage` schema, queried the way Supabase's Storage
//! server queries it: inside a transaction, `role` set to `authenticated` and the caller's JWT
//! claims in `request.jwt.claims` (plus the legacy per-claim settings it also sets).

use std::collections::HashMap;

use salesdesk_core::files::StorageConfig;
use salesdesk_testkit::fakes::supabase_storage::salesdesk_buckets;
use salesdesk_testkit::supabase::{Role, TestDb, TestUser};
use sqlx::Row;
use uuid::Uuid;

/// What one storage request may do, as the Storage server would find out.
struct AsStorage<'a> {
    db: &'a TestDb,
    claims: Option<serde_json::Value>,
}

impl<'a> AsStorage<'a> {
    fn user(db: &'a TestDb, user: &TestUser) -> Self {
        Self {
            db,
            claims: Some(serde_json::to_value(&user.claims).unwrap()),
        }
    }

    fn no_claims(db: &'a TestDb) -> Self {
        Self { db, claims: None }
    }

    async fn begin(&self) -> sqlx::Transaction<'static, sqlx::Postgres> {
        let mut tx = self.db.admin.begin().await.unwrap();
        let claims = self
            .claims
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default();
        let sub = self
            .claims
            .as_ref()
            .and_then(|c| c["sub"].as_str().map(str::to_owned))
            .unwrap_or_default();
        sqlx::query(
            "select set_config('role', 'authenticated', true), \
             set_config('request.jwt.claims', $1, true), \
             set_config('request.jwt.claim.sub', $2, true), \
             set_config('request.jwt.claim.role', 'authenticated', true), \
             set_config('request.method', 'POST', true), \
             set_config('storage.allow_delete_query', 'true', true)",
        )
        .bind(claims)
        .bind(sub)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx
    }

    /// Inserts an object row as an upload would; Ok(true) = allowed. Rolled back.
    async fn can_upload(&self, bucket: &str, name: &str) -> bool {
        let mut tx = self.begin().await;
        let owner = self
            .claims
            .as_ref()
            .and_then(|c| c["sub"].as_str().map(str::to_owned));
        let result = sqlx::query(
            "insert into storage.objects (bucket_id, name, owner, owner_id, metadata) \
             values ($1, $2, $3::uuid, $3, '{}'::jsonb)",
        )
        .bind(bucket)
        .bind(name)
        .bind(owner)
        .execute(&mut *tx)
        .await;
        tx.rollback().await.unwrap();
        match result {
            Ok(_) => true,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => false,
            Err(e) => panic!("unexpected error uploading {bucket}/{name}: {e}"),
        }
    }

    async fn can_read(&self, bucket: &str, name: &str) -> bool {
        let mut tx = self.begin().await;
        let n: i64 = sqlx::query_scalar(
            "select count(*) from storage.objects where bucket_id = $1 and name = $2",
        )
        .bind(bucket)
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        n == 1
    }

    async fn can_delete(&self, bucket: &str, name: &str) -> bool {
        let mut tx = self.begin().await;
        let done = sqlx::query("delete from storage.objects where bucket_id = $1 and name = $2")
            .bind(bucket)
            .bind(name)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        done.rows_affected() == 1
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Upload,
    Read,
    Delete,
}
use Op::{Delete, Read, Upload};

/// Asserts, case by case and in order, whether the caller (`None`: a request without claims)
/// may do `op` on `bucket/name`.
async fn assert_access(
    db: &TestDb,
    bucket: &str,
    name: &str,
    cases: &[(Option<&TestUser>, Op, bool)],
) {
    for &(user, op, allowed) in cases {
        let who = match user {
            Some(u) => AsStorage::user(db, u),
            None => AsStorage::no_claims(db),
        };
        let got = match op {
            Upload => who.can_upload(bucket, name).await,
            Read => who.can_read(bucket, name).await,
            Delete => who.can_delete(bucket, name).await,
        };
        let caller = user.map_or("no claims", |u| u.email.as_str());
        assert_eq!(got, allowed, "{op:?} {bucket}/{name} as {caller}");
    }
}

/// Puts an object in place as the storage owner would (no policies involved).
async fn seed(db: &TestDb, bucket: &str, name: &str) {
    sqlx::query("insert into storage.objects (bucket_id, name, metadata) values ($1, $2, '{}')")
        .bind(bucket)
        .bind(name)
        .execute(&db.admin)
        .await
        .unwrap();
}

/// public, file_size_limit, allowed_mime_types
type BucketRow = (bool, Option<i64>, Option<Vec<String>>);

#[tokio::test]
async fn buckets_exist_with_the_limits_the_app_and_the_fake_use() {
    let db = TestDb::new().await.unwrap();
    let rows = sqlx::query(
        "select id, public, file_size_limit, allowed_mime_types from storage.buckets order by id",
    )
    .fetch_all(&db.admin)
    .await
    .unwrap();
    let found: HashMap<String, BucketRow> = rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("id"),
                (
                    r.get("public"),
                    r.get("file_size_limit"),
                    r.get("allowed_mime_types"),
                ),
            )
        })
        .collect();
    let app = StorageConfig::new("http://unused").limits;
    let fake = salesdesk_buckets();
    assert_eq!(found.len(), 4, "{found:?}");
    for (id, (public, limit, mime)) in &found {
        assert!(!public, "{id} must not be public");
        let app_limit = &app[id];
        assert_eq!(*limit, Some(app_limit.max_bytes as i64), "{id}: app limit");
        assert_eq!(mime, &app_limit.allowed_mime, "{id}: app types");
        assert_eq!(
            fake[id].max_bytes,
            Some(app_limit.max_bytes),
            "{id}: fake limit"
        );
        assert_eq!(
            fake[id].allowed_mime, app_limit.allowed_mime,
            "{id}: fake types"
        );
    }
}

#[tokio::test]
async fn materials_are_read_by_everyone_signed_in_and_written_by_admins() {
    let db = TestDb::new().await.unwrap();
    let admin = db.user("admin@example.com", Role::Admin).await;
    let manager = db.user("mgr@example.com", Role::Manager).await;
    let rep = db.user("rep@example.com", Role::Rep).await;
    let key = format!("{}/{}/deck.pdf", Uuid::now_v7(), "a".repeat(64));

    assert_access(
        &db,
        "training-materials",
        &key,
        &[
            (Some(&rep), Upload, false),
            (Some(&manager), Upload, false),
            (Some(&admin), Upload, true),
        ],
    )
    .await;

    seed(&db, "training-materials", &key).await;
    for user in [&admin, &manager, &rep] {
        assert!(
            AsStorage::user(&db, user)
                .can_read("training-materials", &key)
                .await
        );
    }
    assert_access(
        &db,
        "training-materials",
        &key,
        &[
            (Some(&rep), Delete, false),
            (Some(&admin), Delete, true),
            (None, Read, false),
        ],
    )
    .await;

    // Signed out: the session row is gone, and so is access, at once.
    db.sign_out(&rep).await.unwrap();
    assert!(
        !AsStorage::user(&db, &rep)
            .can_read("training-materials", &key)
            .await
    );
    db.sign_out(&admin).await.unwrap();
    assert!(
        !AsStorage::user(&db, &admin)
            .can_upload("training-materials", &key)
            .await
    );
}

#[tokio::test]
async fn recordings_and_images_are_private_to_their_owner_and_seen_by_managers() {
    let db = TestDb::new().await.unwrap();
    let admin = db.user("admin@example.com", Role::Admin).await;
    let manager = db.user("mgr@example.com", Role::Manager).await;
    let rep = db.user("rep@example.com", Role::Rep).await;
    let other = db.user("other@example.com", Role::Rep).await;
    for bucket in ["call-recordings", "generated-images"] {
        let own = format!("{}/call-1.wav", rep.id);
        let theirs = format!("{}/call-2.wav", other.id);
        assert!(
            AsStorage::user(&db, &rep).can_upload(bucket, &own).await,
            "{bucket}"
        );
        assert!(
            !AsStorage::user(&db, &rep).can_upload(bucket, &theirs).await,
            "{bucket}"
        );
        assert!(
            !AsStorage::user(&db, &rep)
                .can_upload(bucket, "loose.wav")
                .await
        );
        // Even an admin writes only into their own folder.
        assert!(!AsStorage::user(&db, &admin).can_upload(bucket, &own).await);

        seed(&db, bucket, &own).await;
        assert!(AsStorage::user(&db, &rep).can_read(bucket, &own).await);
        assert!(!AsStorage::user(&db, &other).can_read(bucket, &own).await);
        assert!(AsStorage::user(&db, &manager).can_read(bucket, &own).await);
        assert!(AsStorage::user(&db, &admin).can_read(bucket, &own).await);
        assert!(!AsStorage::user(&db, &other).can_delete(bucket, &own).await);
        assert!(
            !AsStorage::user(&db, &manager)
                .can_delete(bucket, &own)
                .await
        );
        assert!(AsStorage::user(&db, &rep).can_delete(bucket, &own).await);
        assert!(!AsStorage::no_claims(&db).can_read(bucket, &own).await);
    }
    // A forged claim naming the rep but a session that does not exist gets nothing.
    let forged = serde_json::json!({"sub": rep.id, "role": "authenticated",
        "session_id": Uuid::new_v4()});
    let as_forged = AsStorage {
        db: &db,
        claims: Some(forged),
    };
    assert!(
        !as_forged
            .can_read("call-recordings", &format!("{}/call-1.wav", rep.id))
            .await
    );
}

#[tokio::test]
async fn avatars_are_read_by_everyone_signed_in_and_written_by_their_owner() {
    let db = TestDb::new().await.unwrap();
    let rep = db.user("rep@example.com", Role::Rep).await;
    let other = db.user("other@example.com", Role::Rep).await;
    let admin = db.user("admin@example.com", Role::Admin).await;
    let own = format!("{}/avatar.png", rep.id);
    assert_access(
        &db,
        "user-avatars",
        &own,
        &[
            (Some(&rep), Upload, true),
            (Some(&other), Upload, false),
            (Some(&admin), Upload, false),
        ],
    )
    .await;
    seed(&db, "user-avatars", &own).await;
    assert_access(
        &db,
        "user-avatars",
        &own,
        &[
            (Some(&other), Read, true),
            (Some(&other), Delete, false),
            (Some(&rep), Delete, true),
            (None, Read, false),
        ],
    )
    .await;
}

#[tokio::test]
async fn the_app_role_cannot_act_as_the_storage_server() {
    let db = TestDb::new().await.unwrap();
    let pool = db.app_pool().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let err = sqlx::query("select set_config('role', 'authenticated', true)")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    drop(tx);
    let err = sqlx::query("select count(*) from storage.objects")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    let err = sqlx::query("select app_storage.caller_role()")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
}

#[tokio::test]
async fn on_a_postgres_without_supabase_storage_the_step_does_nothing() {
    let db = TestDb::new().await.unwrap();
    let sql = salesdesk_core::data::remote::migrate::MIGRATOR
        .iter()
        .find(|m| m.description.contains("storage"))
        .expect("the storage migration is embedded")
        .sql
        .clone();
    let mut tx = db.admin.begin().await.unwrap();
    sqlx::raw_sql("alter schema storage rename to storage_elsewhere")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::raw_sql(sql)
        .execute(&mut *tx)
        .await
        .expect("the step applies without a storage schema");
    let has_storage: bool =
        sqlx::query_scalar("select exists (select 1 from pg_namespace where nspname = 'storage')")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert!(!has_storage, "the step must not create Supabase's schema");
    tx.rollback().await.unwrap();
}

/// As on the real server's schema (its migration 0055): a DELETE on storage.objects outside a
/// Storage request (which sets `storage.allow_delete_query`) is refused, even for the owner.
#[tokio::test]
async fn direct_deletes_outside_the_storage_server_are_refused() {
    let db = TestDb::new().await.unwrap();
    seed(&db, "training-materials", "direct/x.pdf").await;
    let err = sqlx::query("delete from storage.objects where name = 'direct/x.pdf'")
        .execute(&db.admin)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Use the Storage API"), "{err}");
    let n: i64 =
        sqlx::query_scalar("select count(*) from storage.objects where name = 'direct/x.pdf'")
            .fetch_one(&db.admin)
            .await
            .unwrap();
    assert_eq!(n, 1, "nothing deleted");
}
