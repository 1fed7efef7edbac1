//! `migrate` against a fresh cluster: applies everything once, nothing the second time, and
//! leaves a working app role; the files also survive being re-run as plain SQL (what a second
//! tool such as `supabase db push` would do).

use salesdesk_core::data::remote::{MigrateOptions, RemoteConfig, RemoteError, migrate};
use salesdesk_testkit::pg::PgCluster;
use salesdesk_testkit::supabase::{APP_ROLE, OWNER_ROLE, bootstrap_supabase};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

#[tokio::test]
async fn migrate_applies_to_a_fresh_cluster_and_is_idempotent() {
    let cluster = PgCluster::start().unwrap();
    bootstrap_supabase(&cluster, "postgres", "owner-password-for-tests")
        .await
        .unwrap();
    let owner_url = cluster.url(OWNER_ROLE, "owner-password-for-tests", "postgres");
    let config = RemoteConfig::from_url(&owner_url).unwrap();

    let first = migrate(&config, &MigrateOptions::default()).await.unwrap();
    assert_eq!(first.applied.len(), first.known);
    assert!(first.known >= 5);
    assert_eq!(first.jwt_secrets, 0);

    let options = MigrateOptions {
        jwt_secret: Some("a-project-jwt-secret-with-at-least-32-characters".into()),
        app_password: Some("app-password-0123456789".into()),
    };
    let second = migrate(&config, &options).await.unwrap();
    assert!(
        second.applied.is_empty(),
        "second run applied {:?}",
        second.applied
    );
    assert!(second.jwt_secret_installed && second.app_login_enabled);
    assert_eq!(second.jwt_secrets, 1);
    // Installing the same secret again does not duplicate it.
    assert_eq!(migrate(&config, &options).await.unwrap().jwt_secrets, 1);

    // The app role logs in with the password (sent as a SCRAM verifier) and sees the API.
    let mut app =
        PgConnection::connect(&cluster.url(APP_ROLE, "app-password-0123456789", "postgres"))
            .await
            .unwrap();
    let granted: bool =
        sqlx::query_scalar("select has_function_privilege('app.authenticate(text)', 'execute')")
            .fetch_one(&mut app)
            .await
            .unwrap();
    assert!(granted);
    app.close().await.unwrap();

    // The migration history is not readable by Supabase's API roles (the Data API serves
    // `public`, where sqlx keeps it).
    let mut superuser = PgConnection::connect(&cluster.superuser_url("postgres"))
        .await
        .unwrap();
    sqlx::raw_sql("grant all on _sqlx_migrations to anon")
        .execute(&mut superuser)
        .await
        .unwrap();
    let mut tx = superuser.begin().await.unwrap();
    sqlx::raw_sql("set local role anon")
        .execute(&mut *tx)
        .await
        .unwrap();
    let visible: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(visible, 0, "anon can read the migration history");
    drop(tx);
    superuser.close().await.unwrap();

    // Every file re-applied as plain SQL by the owner role (a second migration tool, or a
    // repair by hand) succeeds and changes nothing that matters.
    let mut owner = PgConnection::connect(&owner_url).await.unwrap();
    let policies_before: i64 =
        sqlx::query_scalar("select count(*) from pg_policies where schemaname = 'app'")
            .fetch_one(&mut owner)
            .await
            .unwrap();
    for migration in salesdesk_core::data::remote::migrate::MIGRATOR.iter() {
        let mut tx = owner.begin().await.unwrap();
        sqlx::raw_sql(migration.sql.clone())
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("re-running {} failed: {e}", migration.description));
        tx.commit().await.unwrap();
    }
    let policies_after: i64 =
        sqlx::query_scalar("select count(*) from pg_policies where schemaname = 'app'")
            .fetch_one(&mut owner)
            .await
            .unwrap();
    assert_eq!(policies_before, policies_after);
    assert!(policies_after >= 25);
    owner.close().await.unwrap();
}

#[tokio::test]
async fn migrate_refuses_a_transaction_pooler_and_bad_secrets_before_connecting() {
    // Nothing listens on these: the checks must fire before any connection attempt.
    let pooled = RemoteConfig::from_url("postgres://postgres:pw@127.0.0.1:6543/postgres").unwrap();
    assert!(matches!(
        migrate(&pooled, &MigrateOptions::default()).await,
        Err(RemoteError::NeedsSessionConnection { .. })
    ));
    let direct = RemoteConfig::from_url("postgres://postgres:pw@127.0.0.1:1/postgres").unwrap();
    let short = MigrateOptions {
        jwt_secret: Some("too-short".into()),
        app_password: None,
    };
    assert!(matches!(
        migrate(&direct, &short).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    assert!(matches!(
        migrate(&direct, &MigrateOptions::default()).await,
        Err(RemoteError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn migrate_as_a_role_without_createrole_fails_with_advice() {
    let cluster = PgCluster::start().unwrap();
    bootstrap_supabase(&cluster, "postgres", "owner-password-for-tests")
        .await
        .unwrap();
    let mut admin = PgConnection::connect(&cluster.superuser_url("postgres"))
        .await
        .unwrap();
    sqlx::raw_sql(
        "create role weakling login password 'weakling-password'; \
         grant create on database postgres to weakling; \
         grant usage on schema extensions to weakling",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let config =
        RemoteConfig::from_url(&cluster.url("weakling", "weakling-password", "postgres")).unwrap();
    let err = migrate(&config, &MigrateOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Migration(_)), "{err}");
    assert!(err.to_string().contains("permission denied"), "{err}");
}
