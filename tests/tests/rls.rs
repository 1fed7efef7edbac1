//! Row-level security of the team database, attacked the way a user who has extracted the app
//! role's password from their own keyring would: psql-style direct SQL as `salesdesk_app`.
//!
//! Every test runs against a real PostgreSQL with the real migrations (see
//! `salesdesk_testkit::supabase`).

use salesdesk_core::data::remote::{
    PoolerMode, PushStatus, RemoteConfig, RemoteError, RemoteStore, SyncedTable,
};
use salesdesk_testkit::rls::{authenticate, db_code, exec_as};
use salesdesk_testkit::supabase::{Role, TestDb, TestUser, mint_token, unix_now};
use serde_json::{Value, json};
use sqlx::{Executor, Row};
use uuid::Uuid;

/// Tables where each user owns their rows.
const OWNED: [SyncedTable; 6] = [
    SyncedTable::Clients,
    SyncedTable::CallAnalyses,
    SyncedTable::RoleplaySessions,
    SyncedTable::MarketReports,
    SyncedTable::GeneratedImages,
    SyncedTable::Signups,
];

/// A valid row for `table`, with the given id and updated_at.
fn row(table: SyncedTable, id: Uuid, updated_at: &str) -> Value {
    let mut row = match table {
        SyncedTable::Clients => json!({"name": "Acme Corp", "tags": ["vip"]}),
        SyncedTable::CallAnalyses => json!({
            "title": "Discovery call", "transcript": "Rep: hi\nClient: hello",
            "analysis": {"schema_version": 1}, "provider": "offline", "score": 71.5
        }),
        SyncedTable::RoleplaySessions => json!({"title": "Objection handling", "messages": []}),
        SyncedTable::MarketReports => {
            json!({"title": "EU SaaS", "query": "eu saas", "content": "..."})
        }
        SyncedTable::GeneratedImages => json!({"prompt": "a lighthouse"}),
        SyncedTable::Signups => {
            json!({"client_id": Uuid::now_v7(), "signed_up_on": "2026-11-01", "value": 1200})
        }
        SyncedTable::TrainingMaterials => json!({"title": "Pricing playbook", "tags": ["pricing"]}),
        SyncedTable::Campaigns => json!({"name": "Black Friday", "status": "active"}),
        SyncedTable::Profiles => unreachable!("profiles are not pushed"),
        SyncedTable::CallRecordings => unreachable!("needs its owner's folder: recordings_rls.rs"),
    };
    row["id"] = json!(id);
    row["updated_at"] = json!(updated_at);
    row["created_at"] = json!("2026-11-01T09:00:00Z");
    row
}

async fn store(db: &TestDb) -> RemoteStore {
    RemoteStore::from_pool(db.app_pool().await.expect("app role can log in"))
}

async fn push_one(
    store: &RemoteStore,
    user: &TestUser,
    table: SyncedTable,
    row: Value,
) -> PushStatus {
    let out = store
        .push_upsert(&user.token, table, &[row])
        .await
        .expect("push");
    assert_eq!(out.len(), 1);
    out[0].status
}

/// Pushes a row of `table` with `id` as `user` (updated at 2026-11-02T10:00Z), which the server
/// must apply: the set-up most tests start from.
async fn push_applied(store: &RemoteStore, user: &TestUser, table: SyncedTable, id: Uuid) {
    let status = push_one(store, user, table, row(table, id, "2026-11-02T10:00:00Z")).await;
    assert_eq!(status, PushStatus::Applied, "{}", table.as_str());
}

/// Waits for every older transaction, so that a pull sees them all.
async fn settle(store: &RemoteStore) {
    salesdesk_testkit::supabase::settle(store.pool(), std::time::Duration::from_secs(5)).await;
}

/// All rows of `table` the user can pull, following the cursor to the end.
async fn pull_all(store: &RemoteStore, user: &TestUser, table: SyncedTable) -> Vec<Value> {
    settle(store).await;
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .pull_changes(&user.token, table, cursor.as_deref(), 1000)
            .await
            .expect("pull");
        rows.extend(page.rows);
        cursor = page.next_cursor;
        if !page.has_more {
            return rows;
        }
    }
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn reps_cannot_see_or_change_each_others_rows_in_any_owned_table() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let pool = store.pool().clone();
    let alice = db.user("alice@example.test", Role::Rep).await;
    let bob = db.user("bob@example.test", Role::Rep).await;

    for table in OWNED {
        let t = table.as_str();
        let bobs = Uuid::now_v7();
        let alices = Uuid::now_v7();
        push_applied(&store, &bob, table, bobs).await;
        push_applied(&store, &alice, table, alices).await;

        // Read: neither a direct select nor a pull shows Bob's row to Alice.
        let seen = exec_as(
            &pool,
            &alice,
            &format!("select 1 from app.{t} where id = $1"),
            bobs,
        )
        .await
        .unwrap();
        assert_eq!(seen, 0, "{t}: Alice selected Bob's row");
        assert_eq!(
            ids(&pull_all(&store, &alice, table).await),
            vec![alices.to_string()],
            "{t}"
        );
        assert_eq!(
            ids(&pull_all(&store, &bob, table).await),
            vec![bobs.to_string()],
            "{t}"
        );

        // Update and tombstone: no rows match.
        let updated = exec_as(
            &pool,
            &alice,
            &format!("update app.{t} set updated_at = now(), deleted_at = now() where id = $1"),
            bobs,
        )
        .await
        .unwrap();
        assert_eq!(updated, 0, "{t}: Alice updated Bob's row");

        // Delete: not granted to anyone (deletes are tombstones).
        let err = exec_as(
            &pool,
            &alice,
            &format!("delete from app.{t} where id = $1"),
            bobs,
        )
        .await
        .unwrap_err();
        assert_eq!(db_code(&err).as_deref(), Some("42501"), "{t}: {err}");
        let err = exec_as(
            &pool,
            &bob,
            &format!("delete from app.{t} where id = $1"),
            bobs,
        )
        .await
        .unwrap_err();
        assert_eq!(db_code(&err).as_deref(), Some("42501"), "{t}: {err}");

        // Insert a row claiming to be Bob's: the policy refuses it.
        let forged = {
            let mut r = row(table, Uuid::now_v7(), "2026-11-02T10:00:00Z");
            r["owner_id"] = json!(bob.id);
            r
        };
        let mut tx = pool.begin().await.unwrap();
        authenticate(&mut *tx, &alice).await.unwrap();
        let err = sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into app.{t} select * from jsonb_populate_record(null::app.{t}, $1)"
        )))
        .bind(&forged)
        .execute(&mut *tx)
        .await
        .unwrap_err();
        assert_eq!(db_code(&err).as_deref(), Some("42501"), "{t}: {err}");
        drop(tx);

        // Push over Bob's id, newer and as a tombstone: forbidden, Bob's row unchanged.
        let mut attack = row(table, bobs, "2030-01-01T00:00:00Z");
        attack["deleted_at"] = json!("2026-11-03T00:00:00Z");
        assert_eq!(
            push_one(&store, &alice, table, attack).await,
            PushStatus::Forbidden,
            "{t}"
        );
        let bob_rows = pull_all(&store, &bob, table).await;
        assert_eq!(bob_rows[0]["deleted_at"], Value::Null, "{t}");
        assert_eq!(bob_rows[0]["owner_id"], json!(bob.id), "{t}");
        assert!(
            bob_rows[0]["updated_at"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-02T10:00:00"),
            "{t}"
        );
    }
}

#[tokio::test]
async fn owner_id_cannot_be_changed_or_chosen() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let alice = db.user("alice@example.test", Role::Rep).await;
    let bob = db.user("bob@example.test", Role::Rep).await;
    let id = Uuid::now_v7();

    // A pushed owner_id is ignored: the row belongs to the pusher.
    let mut r = row(SyncedTable::Clients, id, "2026-11-02T10:00:00Z");
    r["owner_id"] = json!(bob.id);
    assert_eq!(
        push_one(&store, &alice, SyncedTable::Clients, r).await,
        PushStatus::Applied
    );
    assert_eq!(
        pull_all(&store, &alice, SyncedTable::Clients).await[0]["owner_id"],
        json!(alice.id)
    );
    assert!(
        pull_all(&store, &bob, SyncedTable::Clients)
            .await
            .is_empty()
    );

    // Giving one's row away is refused (owner_id is not updatable by the app role).
    let err = exec_as(
        store.pool(),
        &alice,
        &format!(
            "update app.clients set owner_id = '{}' where id = $1",
            bob.id
        ),
        id,
    )
    .await
    .unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("42501"), "{err}");
}

#[tokio::test]
async fn managers_and_admins_read_everyones_rows_but_write_only_their_own() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let rep = db.user("rep@example.test", Role::Rep).await;
    let manager = db.user("manager@example.test", Role::Manager).await;
    let admin = db.user("admin@example.test", Role::Admin).await;

    for table in OWNED {
        let reps = Uuid::now_v7();
        push_applied(&store, &rep, table, reps).await;
        for boss in [&manager, &admin] {
            let rows = pull_all(&store, boss, table).await;
            assert!(
                ids(&rows).contains(&reps.to_string()),
                "{} cannot read a rep's {}",
                boss.email,
                table.as_str()
            );
            assert_eq!(
                push_one(
                    &store,
                    boss,
                    table,
                    row(table, reps, "2030-01-01T00:00:00Z")
                )
                .await,
                PushStatus::Forbidden,
                "{} overwrote a rep's {}",
                boss.email,
                table.as_str()
            );
        }
    }
}

#[tokio::test]
async fn training_materials_are_read_by_everyone_and_written_by_admins_only() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let rep = db.user("rep@example.test", Role::Rep).await;
    let manager = db.user("manager@example.test", Role::Manager).await;
    let admin = db.user("admin@example.test", Role::Admin).await;
    let other_admin = db.user("admin2@example.test", Role::Admin).await;
    let t = SyncedTable::TrainingMaterials;

    let doc = Uuid::now_v7();
    push_applied(&store, &admin, t, doc).await;
    for reader in [&rep, &manager, &other_admin] {
        assert_eq!(
            ids(&pull_all(&store, reader, t).await),
            vec![doc.to_string()]
        );
    }
    for writer in [&rep, &manager] {
        assert_eq!(
            push_one(
                &store,
                writer,
                t,
                row(t, Uuid::now_v7(), "2026-11-02T10:00:00Z")
            )
            .await,
            PushStatus::Forbidden
        );
        assert_eq!(
            push_one(&store, writer, t, row(t, doc, "2030-01-01T00:00:00Z")).await,
            PushStatus::Forbidden
        );
        let updated = exec_as(
            store.pool(),
            writer,
            "update app.training_materials set title = 'pwned' where id = $1",
            doc,
        )
        .await
        .unwrap();
        assert_eq!(updated, 0);
    }
    // Any admin may maintain the library.
    assert_eq!(
        push_one(&store, &other_admin, t, row(t, doc, "2026-11-03T10:00:00Z")).await,
        PushStatus::Applied
    );
    assert_eq!(pull_all(&store, &rep, t).await.len(), 1);
}

#[tokio::test]
async fn campaigns_are_run_by_managers_and_seen_by_all_signups_belong_to_their_rep() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let rep = db.user("rep@example.test", Role::Rep).await;
    let rep2 = db.user("rep2@example.test", Role::Rep).await;
    let manager = db.user("manager@example.test", Role::Manager).await;
    let c = SyncedTable::Campaigns;

    assert_eq!(
        push_one(
            &store,
            &rep,
            c,
            row(c, Uuid::now_v7(), "2026-11-02T10:00:00Z")
        )
        .await,
        PushStatus::Forbidden
    );
    let campaign = Uuid::now_v7();
    push_applied(&store, &manager, c, campaign).await;
    assert_eq!(
        ids(&pull_all(&store, &rep, c).await),
        vec![campaign.to_string()]
    );
    assert_eq!(
        push_one(&store, &rep, c, row(c, campaign, "2030-01-01T00:00:00Z")).await,
        PushStatus::Forbidden
    );

    let s = SyncedTable::Signups;
    let mut signup = row(s, Uuid::now_v7(), "2026-11-02T10:00:00Z");
    signup["campaign_id"] = json!(campaign);
    assert_eq!(push_one(&store, &rep, s, signup).await, PushStatus::Applied);
    assert_eq!(pull_all(&store, &rep, s).await.len(), 1);
    assert!(pull_all(&store, &rep2, s).await.is_empty());
    assert_eq!(pull_all(&store, &manager, s).await.len(), 1);
}

#[tokio::test]
async fn forged_claims_session_settings_and_roles_gain_nothing() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let pool = store.pool().clone();
    let alice = db.user("alice@example.test", Role::Rep).await;
    let bob = db.user("bob@example.test", Role::Admin).await;
    let bobs = Uuid::now_v7();
    push_applied(&store, &bob, SyncedTable::Clients, bobs).await;

    let doc = Uuid::now_v7();
    push_applied(&store, &bob, SyncedTable::TrainingMaterials, doc).await;

    let claims = json!({"sub": bob.id, "role": "authenticated", "session_id": bob.session_id, "aud": "authenticated"}).to_string();
    let forgeries = [
        format!("set request.jwt.claims = '{claims}'"),
        format!("set request.jwt.claim.sub = '{}'", bob.id),
        format!("select set_config('request.jwt.claims', '{claims}', false)"),
        format!(
            "set app.identity = '{}|{}|{}|{}'",
            bob.id,
            bob.session_id,
            unix_now() + 3600,
            "0".repeat(64)
        ),
        format!("set app.user_id = '{}'", bob.id),
        "set app.role = 'admin'".to_string(),
    ];
    for forgery in &forgeries {
        let mut conn = pool.acquire().await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(forgery.clone()))
            .await
            .unwrap();
        // Without app.authenticate: every read of protected data is refused.
        for query in [
            "select count(*) from app.clients",
            "select count(*) from app.profiles",
            "select count(*) from app.training_materials",
            "select app.current_user_id()::text",
        ] {
            let err = sqlx::query(query).fetch_one(&mut *conn).await.unwrap_err();
            assert_eq!(
                db_code(&err).as_deref(),
                Some("28000"),
                "{forgery} / {query}: {err}"
            );
        }
        let err = sqlx::query("select * from app.pull_changes('clients', null, 100)")
            .fetch_one(&mut *conn)
            .await
            .unwrap_err();
        assert_eq!(db_code(&err).as_deref(), Some("28000"), "{forgery}: {err}");
        // And with Alice's real token, the forgery changes nothing: she is still Alice.
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        authenticate(&mut *tx, &alice).await.unwrap();
        let (uid, role): (Uuid, String) =
            sqlx::query_as("select app.current_user_id(), app.current_user_role()")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert_eq!((uid, role.as_str()), (alice.id, "rep"), "{forgery}");
        let seen: i64 = sqlx::query_scalar("select count(*) from app.clients where id = $1")
            .bind(bobs)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(seen, 0, "{forgery}");
        tx.rollback().await.unwrap();
        // Do not hand a connection with forged settings back to the pool.
        conn.close_on_drop();
    }

    // The sealed identity of one transaction is worthless in another (e.g. left behind on a
    // pooled connection with SET), and cannot be re-pointed at another user.
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    authenticate(&mut *tx, &alice).await.unwrap();
    let sealed: String = sqlx::query_scalar("select current_setting('app.identity')")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let swapped = sealed.replacen(&alice.id.to_string(), &bob.id.to_string(), 1);
    sqlx::query("select set_config('app.identity', $1, true)")
        .bind(&swapped)
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = sqlx::query("select count(*) from app.clients")
        .fetch_one(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("28000"), "{err}");
    drop(tx);
    sqlx::query("select set_config('app.identity', $1, false)")
        .bind(&sealed)
        .execute(&mut *conn)
        .await
        .unwrap();
    let err = sqlx::query("select count(*) from app.clients")
        .fetch_one(&mut *conn)
        .await
        .unwrap_err();
    assert_eq!(
        db_code(&err).as_deref(),
        Some("28000"),
        "replayed seal: {err}"
    );
    conn.close_on_drop();

    // SET ROLE to a more powerful role is not possible: the app role is a member of nothing.
    for role in [
        "authenticated",
        "service_role",
        "postgres",
        "supabase_admin",
        "anon",
    ] {
        let err = pool
            .execute(sqlx::AssertSqlSafe(format!("set role {role}")))
            .await
            .unwrap_err();
        assert_eq!(
            db_code(&err).as_deref(),
            Some("42501"),
            "set role {role}: {err}"
        );
    }

    // Internal functions cannot be called at all.
    for call in [
        "select app_private.verify_jwt('x.y.z')",
        "select app_private.identity_seal('a', 'b', 'c')",
        "select app_private.check_session(gen_random_uuid(), gen_random_uuid())",
        "select app_private.install_jwt_secret('attacker-chosen-secret-of-at-least-32-chars')",
        "select app_private.base64url_decode('eA')",
    ] {
        let err = pool.execute(call).await.unwrap_err();
        assert_eq!(db_code(&err).as_deref(), Some("42501"), "{call}: {err}");
    }
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let alice = db.user("alice@example.test", Role::Rep).await;
    let bob = db.user("bob@example.test", Role::Admin).await;

    let (header, payload, signature) = {
        let parts: Vec<&str> = alice.token.split('.').collect();
        (
            parts[0].to_owned(),
            parts[1].to_owned(),
            parts[2].to_owned(),
        )
    };
    let b64 = |v: &Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let mut bob_claims = alice.claims.clone();
    bob_claims.sub = bob.id.to_string();
    let tampered_payload = b64(&serde_json::to_value(&bob_claims).unwrap());

    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-token".into()),
        ("empty", String::new()),
        (
            "wrong secret",
            mint_token("some-other-projects-secret-0123456789abcdef", &alice.claims),
        ),
        (
            "payload swapped to Bob, signature kept",
            format!("{header}.{tampered_payload}.{signature}"),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                payload
            ),
        ),
        (
            "alg HS512 header",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "HS512", "typ": "JWT"})),
                payload,
                signature
            ),
        ),
        (
            "expired",
            db.token_with(&alice, |c| c.exp = unix_now() - 10),
        ),
        ("not yet valid", {
            let mut c = alice.claims.clone();
            c.exp = unix_now() + 7200;
            let mut v = serde_json::to_value(&c).unwrap();
            v["nbf"] = json!(unix_now() + 3600);
            let key = jsonwebtoken::EncodingKey::from_secret(db.jwt_secret().as_bytes());
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                &v,
                &key,
            )
            .unwrap()
        }),
        (
            "service_role claim",
            db.token_with(&alice, |c| c.role = "service_role".into()),
        ),
        (
            "anon claim",
            db.token_with(&alice, |c| c.role = "anon".into()),
        ),
        (
            "wrong audience",
            db.token_with(&alice, |c| c.aud = json!("someone-else")),
        ),
        (
            "anonymous sign-in",
            db.token_with(&alice, |c| c.is_anonymous = true),
        ),
        (
            "Bob's session id with Alice's sub",
            db.token_with(&alice, |c| c.session_id = bob.session_id.to_string()),
        ),
        (
            "Bob's sub with Alice's session id",
            db.token_with(&alice, |c| c.sub = bob.id.to_string()),
        ),
        (
            "unknown session",
            db.token_with(&alice, |c| c.session_id = Uuid::new_v4().to_string()),
        ),
    ];
    for (what, token) in cases {
        match store.begin_as(&token).await {
            Err(RemoteError::SignedOut(_)) => {}
            Err(other) => panic!("{what}: expected a sign-in error, got {other}"),
            Ok(_) => panic!("{what}: the token was accepted"),
        }
        assert!(
            matches!(
                store
                    .pull_changes(&token, SyncedTable::Clients, None, 10)
                    .await,
                Err(RemoteError::SignedOut(_))
            ),
            "{what}"
        );
    }
    // The genuine token still works.
    store
        .begin_as(&alice.token)
        .await
        .unwrap()
        .rollback()
        .await
        .unwrap();
}

#[tokio::test]
async fn signing_out_revokes_access_at_the_next_statement() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let alice = db.user("alice@example.test", Role::Rep).await;
    let mine = Uuid::now_v7();
    push_applied(&store, &alice, SyncedTable::Clients, mine).await;

    let mut tx = store.begin_as(&alice.token).await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from app.clients")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(n, 1);
    db.sign_out(&alice).await.unwrap();
    // Same transaction, next statement: gone.
    let err = sqlx::query("select count(*) from app.clients")
        .fetch_one(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("28000"), "{err}");
    drop(tx);
    // And the (still unexpired) token cannot start a new transaction.
    assert!(matches!(
        store.begin_as(&alice.token).await,
        Err(RemoteError::SignedOut(_))
    ));
    // A new sign-in works again.
    let again = db.sign_in(alice.id, &alice.email).await.unwrap();
    assert_eq!(
        pull_all(&store, &again, SyncedTable::Clients).await.len(),
        1
    );

    // A banned user loses access too, whatever sessions they hold.
    sqlx::query("update auth.users set banned_until = now() + interval '1 day' where id = $1")
        .bind(alice.id)
        .execute(&db.admin)
        .await
        .unwrap();
    assert!(matches!(
        store.begin_as(&again.token).await,
        Err(RemoteError::SignedOut(_))
    ));
}

#[tokio::test]
async fn a_rep_cannot_promote_themselves() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let pool = store.pool().clone();
    let rep = db.user("rep@example.test", Role::Rep).await;
    let admin = db.user("admin@example.test", Role::Admin).await;

    // Direct update of the role column: no privilege.
    let err = exec_as(
        &pool,
        &rep,
        "update app.profiles set role = 'admin' where id = $1",
        rep.id,
    )
    .await
    .unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("42501"), "{err}");
    // Through the admin function: refused for a rep.
    let mut tx = store.begin_as(&rep.token).await.unwrap();
    let err = sqlx::query("select app.set_user_role($1, 'admin')")
        .bind(rep.id)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("42501"), "{err}");
    drop(tx);
    // Editing one's own name works; someone else's does not.
    assert_eq!(
        exec_as(
            &pool,
            &rep,
            "update app.profiles set full_name = 'Rep Rep' where id = $1",
            rep.id
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        exec_as(
            &pool,
            &rep,
            "update app.profiles set full_name = 'pwned' where id = $1",
            admin.id
        )
        .await
        .unwrap(),
        0
    );
    // Claiming a role at sign-up (user_metadata is user-controlled) gives nothing.
    sqlx::query(
        "insert into auth.users (id, email, raw_user_meta_data, raw_app_meta_data) \
         values ($1, 'sneaky@example.test', '{\"role\": \"admin\", \"full_name\": \"Sneaky\"}', '{}')",
    )
    .bind(Uuid::new_v4())
    .execute(&db.admin)
    .await
    .unwrap();
    let role: String =
        sqlx::query_scalar("select role from app.profiles where email = 'sneaky@example.test'")
            .fetch_one(&db.admin)
            .await
            .unwrap();
    assert_eq!(role, "rep");

    let role_of = |id: Uuid| {
        let admin_pool = db.admin.clone();
        async move {
            sqlx::query_scalar::<_, String>("select role from app.profiles where id = $1")
                .bind(id)
                .fetch_one(&admin_pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(role_of(rep.id).await, "rep");
    // An admin can promote, and the last admin cannot be demoted.
    let mut tx = store.begin_as(&admin.token).await.unwrap();
    sqlx::query("select app.set_user_role($1, 'manager')")
        .bind(rep.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = sqlx::query("select app.set_user_role($1, 'rep')")
        .bind(admin.id)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("42501"), "{err}");
    drop(tx);
    assert_eq!(
        role_of(rep.id).await,
        "rep",
        "rolled back with the transaction"
    );
    let mut tx = store.begin_as(&admin.token).await.unwrap();
    sqlx::query("select app.set_user_role($1, 'manager')")
        .bind(rep.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(role_of(rep.id).await, "manager");
}

#[tokio::test]
async fn the_app_role_cannot_read_secrets_or_auth_tables_and_owns_nothing() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let pool = store.pool().clone();
    let alice = db.user("alice@example.test", Role::Admin).await;

    for query in [
        "select * from app_private.jwt_secrets",
        "select * from app_private.server_key",
        "select * from auth.users",
        "select * from auth.sessions",
        "select * from auth.refresh_tokens",
    ] {
        let err = pool.execute(query).await.unwrap_err();
        assert_eq!(db_code(&err).as_deref(), Some("42501"), "{query}: {err}");
        // Even authenticated as an admin of the team.
        let mut tx = store.begin_as(&alice.token).await.unwrap();
        let err = sqlx::query(query).fetch_all(&mut *tx).await.unwrap_err();
        assert_eq!(db_code(&err).as_deref(), Some("42501"), "{query}: {err}");
    }
    let err = pool.execute("insert into app_private.jwt_secrets (secret) values ('attacker-chosen-secret-of-at-least-32-chars')").await.unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("42501"), "{err}");

    let attrs = sqlx::query(
        "select rolsuper, rolbypassrls, rolinherit, rolcreaterole, rolcreatedb, \
         (select count(*) from pg_class where relowner = r.oid) as owned, \
         (select count(*) from pg_proc where proowner = r.oid) as owned_functions, \
         (select count(*) from pg_auth_members where member = r.oid) as memberships \
         from pg_roles r where rolname = current_user",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!attrs.get::<bool, _>("rolsuper"));
    assert!(!attrs.get::<bool, _>("rolbypassrls"));
    assert!(!attrs.get::<bool, _>("rolinherit"));
    assert!(!attrs.get::<bool, _>("rolcreaterole"));
    assert!(!attrs.get::<bool, _>("rolcreatedb"));
    assert_eq!(attrs.get::<i64, _>("owned"), 0);
    assert_eq!(attrs.get::<i64, _>("owned_functions"), 0);
    assert_eq!(attrs.get::<i64, _>("memberships"), 0);
}

#[tokio::test]
async fn pulls_miss_no_row_when_transactions_commit_out_of_order() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let alice = db.user("alice@example.test", Role::Rep).await;
    let t = SyncedTable::Clients;

    // T1 writes first but commits last.
    let first = Uuid::now_v7();
    let second = Uuid::now_v7();
    let mut t1 = store.begin_as(&alice.token).await.unwrap();
    sqlx::query("select * from app.push_upsert('clients', $1)")
        .bind(json!([row(t, first, "2026-11-02T10:00:00Z")]))
        .fetch_all(&mut *t1)
        .await
        .unwrap();
    assert_eq!(
        push_one(&store, &alice, t, row(t, second, "2026-11-02T10:00:01Z")).await,
        PushStatus::Applied
    );

    // While T1 is open, the pull holds back at the watermark: the committed second row is
    // not handed out yet, because a cursor past it would skip T1's row.
    let page = store
        .pull_changes(&alice.token, t, None, 100)
        .await
        .unwrap();
    assert!(
        page.rows.is_empty(),
        "pulled past an open transaction: {:?}",
        ids(&page.rows)
    );
    let cursor = page.next_cursor;

    t1.commit().await.unwrap();
    settle(&store).await;
    let page = store
        .pull_changes(&alice.token, t, cursor.as_deref(), 100)
        .await
        .unwrap();
    let mut got = ids(&page.rows);
    got.sort();
    let mut want = vec![first.to_string(), second.to_string()];
    want.sort();
    assert_eq!(got, want);

    // From the last cursor: nothing new, then an update comes through again.
    let cursor = page.next_cursor.unwrap();
    assert!(
        store
            .pull_changes(&alice.token, t, Some(&cursor), 100)
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    assert_eq!(
        push_one(&store, &alice, t, row(t, first, "2026-11-02T11:00:00Z")).await,
        PushStatus::Applied
    );
    settle(&store).await;
    let page = store
        .pull_changes(&alice.token, t, Some(&cursor), 100)
        .await
        .unwrap();
    assert_eq!(ids(&page.rows), vec![first.to_string()]);

    // A malformed cursor is an error, not a silent restart.
    assert!(matches!(
        store.pull_changes(&alice.token, t, Some("1:2"), 10).await,
        Err(RemoteError::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn push_is_idempotent_last_writer_wins_and_carries_tombstones() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let alice = db.user("alice@example.test", Role::Rep).await;
    let t = SyncedTable::CallAnalyses;
    let id = Uuid::now_v7();

    let v1 = row(t, id, "2026-11-02T10:00:00Z");
    assert_eq!(
        push_one(&store, &alice, t, v1.clone()).await,
        PushStatus::Applied
    );
    assert_eq!(
        push_one(&store, &alice, t, v1.clone()).await,
        PushStatus::Stale,
        "replay"
    );
    let mut older = row(t, id, "2026-11-01T10:00:00Z");
    older["title"] = json!("older");
    assert_eq!(push_one(&store, &alice, t, older).await, PushStatus::Stale);
    let mut newer = row(t, id, "2026-11-03T10:00:00Z");
    newer["title"] = json!("newer");
    assert_eq!(
        push_one(&store, &alice, t, newer).await,
        PushStatus::Applied
    );
    let mut tombstone = row(t, id, "2026-11-04T10:00:00Z");
    tombstone["title"] = json!("newer");
    tombstone["deleted_at"] = json!("2026-11-04T10:00:00Z");
    assert_eq!(
        push_one(&store, &alice, t, tombstone).await,
        PushStatus::Applied
    );

    let rows = pull_all(&store, &alice, t).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["title"], json!("newer"));
    assert!(
        rows[0]["deleted_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-04T10:00:00")
    );
    // created_at is kept from the first version.
    assert!(
        rows[0]["created_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-01T09:00:00")
    );

    // Duplicates in one batch: one answer, the newest wins.
    let other = Uuid::now_v7();
    let mut a = row(t, other, "2026-11-05T10:00:00Z");
    a["title"] = json!("a");
    let mut b = row(t, other, "2026-11-05T11:00:00Z");
    b["title"] = json!("b");
    let out = store.push_upsert(&alice.token, t, &[a, b]).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].status, PushStatus::Applied);
    let rows = pull_all(&store, &alice, t).await;
    assert_eq!(
        rows.iter().find(|r| r["id"] == json!(other)).unwrap()["title"],
        json!("b")
    );

    // A clock far in the future cannot pin a row for ever: it is clamped to the server's now.
    let future = Uuid::now_v7();
    assert_eq!(
        push_one(&store, &alice, t, row(t, future, "2099-01-01T00:00:00Z")).await,
        PushStatus::Applied
    );
    let rows = pull_all(&store, &alice, t).await;
    let stored = rows.iter().find(|r| r["id"] == json!(future)).unwrap()["updated_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!stored.starts_with("2099"), "{stored}");

    // Malformed batches are refused whole.
    assert!(matches!(
        store
            .push_upsert(&alice.token, t, &[json!({"title": "no id"})])
            .await,
        Err(RemoteError::InvalidRequest(_))
    ));
    assert!(matches!(
        store
            .push_upsert(&alice.token, SyncedTable::Profiles, &[])
            .await,
        Err(RemoteError::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn ten_thousand_rows_push_and_pull_in_pages() {
    let db = TestDb::new().await.unwrap();
    let store = store(&db).await;
    let alice = db.user("alice@example.test", Role::Rep).await;
    let manager = db.user("manager@example.test", Role::Manager).await;
    let t = SyncedTable::Clients;

    let rows: Vec<Value> = (0..10_000)
        .map(|_| row(t, Uuid::now_v7(), "2026-11-02T10:00:00Z"))
        .collect();
    for batch in rows.chunks(5000) {
        let out = store.push_upsert(&alice.token, t, batch).await.unwrap();
        assert_eq!(out.len(), batch.len());
        assert!(out.iter().all(|o| o.status == PushStatus::Applied));
    }
    let out = store
        .push_upsert(&alice.token, t, &rows[..5000])
        .await
        .unwrap();
    assert!(out.iter().all(|o| o.status == PushStatus::Stale));

    for user in [&alice, &manager] {
        let mut seen = std::collections::HashSet::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        settle(&store).await;
        loop {
            let page = store
                .pull_changes(&user.token, t, cursor.as_deref(), 3000)
                .await
                .unwrap();
            pages += 1;
            for r in &page.rows {
                assert!(
                    seen.insert(r["id"].as_str().unwrap().to_owned()),
                    "row delivered twice"
                );
            }
            cursor = page.next_cursor;
            if !page.has_more {
                break;
            }
        }
        assert_eq!(seen.len(), 10_000);
        assert_eq!(pages, 4);
    }
}

#[tokio::test]
async fn works_through_a_transaction_mode_pooler_configuration() {
    let db = TestDb::new().await.unwrap();
    // The core's pooler settings (no statement cache) against the same server.
    let config = RemoteConfig::from_url(&db.app_url())
        .unwrap()
        .with_pooler(PoolerMode::Transaction);
    let store = RemoteStore::connect(&config).await.unwrap();
    let alice = db.user("alice@example.test", Role::Rep).await;
    let id = Uuid::now_v7();
    for _ in 0..3 {
        store
            .push_upsert(
                &alice.token,
                SyncedTable::Clients,
                &[row(SyncedTable::Clients, id, "2026-11-02T10:00:00Z")],
            )
            .await
            .unwrap();
        assert_eq!(
            pull_all(&store, &alice, SyncedTable::Clients).await.len(),
            1
        );
    }
    // Nothing identity-related survives a transaction on the connection.
    let mut conn = store.pool().acquire().await.unwrap();
    let err = sqlx::query("select app.current_user_id()")
        .fetch_one(&mut *conn)
        .await
        .unwrap_err();
    assert_eq!(db_code(&err).as_deref(), Some("28000"));
}
