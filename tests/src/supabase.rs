//! A throwaway cluster dressed as a Supabase project, with Salesdesk's remote schema applied.
//!
//! One cluster per test process: the first [`TestDb::new`] starts it, bootstraps a template
//! database (Supabase's roles and `auth` objects from `tests/sql/supabase_bootstrap.sql`, then
//! `salesdesk_core`'s real `migrate`, with a JWT secret and the app role's password), and every
//! test gets its own database cloned from that template, so tests are isolated and run in
//! parallel. The cluster goes away with the process (see [`crate::pg`]).
//!
//! Users and sessions are rows in `auth.users` / `auth.sessions`, as Supabase Auth writes
//! them; access tokens are HS256 JWTs with Supabase's claims, signed with the project secret.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use salesdesk_core::data::remote::{MigrateOptions, RemoteConfig, migrate};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions};
use uuid::Uuid;

use crate::pg::{PgCluster, random_hex};

/// What Supabase's projects run before any of ours (roles, `extensions`, `auth`).
pub const SUPABASE_BOOTSTRAP_SQL: &str = include_str!("../sql/supabase_bootstrap.sql");

/// The project owner role, as on Supabase (not a superuser).
pub const OWNER_ROLE: &str = "postgres";
/// The role the desktop app connects as.
pub const APP_ROLE: &str = "salesdesk_app";

const TEMPLATE_DB: &str = "salesdesk_template";

/// The claims of a Supabase Auth access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: serde_json::Value,
    pub exp: i64,
    pub iat: i64,
    pub email: String,
    pub phone: String,
    pub app_metadata: serde_json::Value,
    pub user_metadata: serde_json::Value,
    pub role: String,
    pub aal: String,
    pub amr: serde_json::Value,
    pub session_id: String,
    pub is_anonymous: bool,
}

impl Claims {
    /// The claims Supabase Auth puts in a password sign-in's access token, valid for an hour.
    pub fn for_session(user: Uuid, session: Uuid, email: &str) -> Self {
        let now = unix_now();
        Claims {
            iss: "http://127.0.0.1/auth/v1".into(),
            sub: user.to_string(),
            aud: serde_json::json!("authenticated"),
            exp: now + 3600,
            iat: now,
            email: email.into(),
            phone: String::new(),
            app_metadata: serde_json::json!({"provider": "email", "providers": ["email"]}),
            user_metadata: serde_json::json!({}),
            role: "authenticated".into(),
            aal: "aal1".into(),
            amr: serde_json::json!([{"method": "password", "timestamp": now}]),
            session_id: session.to_string(),
            is_anonymous: false,
        }
    }
}

/// Signs `claims` as Supabase Auth does with a project's legacy JWT secret (HS256).
pub fn mint_token(secret: &str, claims: &Claims) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A team role, as stored in `app.profiles.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Manager,
    Rep,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
        }
    }
}

/// A signed-in user: an `auth.users` row, an `auth.sessions` row and an access token for it.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub email: String,
    pub session_id: Uuid,
    pub token: String,
    pub claims: Claims,
}

struct Shared {
    cluster: PgCluster,
    jwt_secret: String,
    owner_password: String,
    app_password: String,
    strategy: &'static str,
}

static SHARED: OnceLock<std::result::Result<Shared, String>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

fn shared() -> Result<&'static Shared> {
    SHARED
        .get_or_init(|| {
            // Built on its own thread and runtime: pools belong to the runtime that made them,
            // and each test has its own.
            std::thread::spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime
                    .block_on(build_shared())
                    .map_err(|e| format!("{e:#}"))
            })
            .join()
            .unwrap_or_else(|_| Err("the test cluster set-up panicked".into()))
        })
        .as_ref()
        .map_err(|e| anyhow!("cannot set up the test database cluster: {e}"))
}

async fn build_shared() -> Result<Shared> {
    let cluster = PgCluster::start()?;
    let strategy = if cluster.major_version()? >= 15 {
        " strategy = file_copy"
    } else {
        ""
    };
    let jwt_secret = format!("test-jwt-secret-{}", random_hex(24));
    let owner_password = random_hex(16);
    let app_password = random_hex(16);

    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&cluster.superuser_url("postgres"))
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "create database {TEMPLATE_DB}"
    )))
    .execute(&admin)
    .await?;
    admin.close().await;

    bootstrap_supabase(&cluster, TEMPLATE_DB, &owner_password).await?;
    let config = RemoteConfig::from_url(&cluster.url(OWNER_ROLE, &owner_password, TEMPLATE_DB))?;
    migrate(
        &config,
        &MigrateOptions {
            jwt_secret: Some(jwt_secret.clone()),
            app_password: Some(app_password.clone()),
        },
    )
    .await
    .context("salesdesk migrate on the template database")?;

    Ok(Shared {
        cluster,
        jwt_secret,
        owner_password,
        app_password,
        strategy,
    })
}

/// Runs Supabase's bootstrap on database `db` of `cluster` and gives the `postgres` role
/// `owner_password`.
pub async fn bootstrap_supabase(cluster: &PgCluster, db: &str, owner_password: &str) -> Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&cluster.superuser_url(db))
        .await?;
    sqlx::raw_sql(SUPABASE_BOOTSTRAP_SQL)
        .execute(&pool)
        .await
        .context("supabase_bootstrap.sql")?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "alter role {OWNER_ROLE} with login password '{owner_password}'"
    )))
    .execute(&pool)
    .await?;
    pool.close().await;
    Ok(())
}

/// One test's own database, cloned from the migrated template.
pub struct TestDb {
    shared: &'static Shared,
    name: String,
    /// Superuser pool, for setting up users, sessions and roles (what Supabase Auth and the
    /// dashboard do).
    pub admin: PgPool,
}

impl TestDb {
    pub async fn new() -> Result<Self> {
        let shared = shared()?;
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        let postgres = PgPoolOptions::new()
            .max_connections(1)
            .connect(&shared.cluster.superuser_url("postgres"))
            .await?;
        // Two statements: a multi-statement string runs as one implicit transaction, and
        // CREATE DATABASE refuses to run inside one.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "create database {name} template {TEMPLATE_DB}{}",
            shared.strategy
        )))
        .execute(&postgres)
        .await
        .context("cloning the template database")?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "grant all on database {name} to {OWNER_ROLE}"
        )))
        .execute(&postgres)
        .await?;
        postgres.close().await;
        let admin = PgPoolOptions::new()
            .max_connections(2)
            .connect(&shared.cluster.superuser_url(&name))
            .await?;
        Ok(Self {
            shared,
            name,
            admin,
        })
    }

    pub fn jwt_secret(&self) -> &str {
        &self.shared.jwt_secret
    }

    /// The URL the desktop app would use: the app role and its password.
    pub fn app_url(&self) -> String {
        self.shared
            .cluster
            .url(APP_ROLE, &self.shared.app_password, &self.name)
    }

    /// The project owner's URL (what `salesdesk migrate` is given).
    pub fn owner_url(&self) -> String {
        self.shared
            .cluster
            .url(OWNER_ROLE, &self.shared.owner_password, &self.name)
    }

    pub async fn app_pool(&self) -> Result<PgPool> {
        Ok(PgPoolOptions::new()
            .max_connections(4)
            .connect(&self.app_url())
            .await?)
    }

    /// Creates a user as Supabase Auth would (the profile trigger makes their profile), gives
    /// them `role`, and signs them in: a session row and an access token for it.
    pub async fn create_user(&self, email: &str, role: Role) -> Result<TestUser> {
        let id = Uuid::new_v4();
        sqlx::query(
            "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, \
             raw_user_meta_data, created_at, updated_at, email_confirmed_at) \
             values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', \
             $2, '{\"provider\":\"email\",\"providers\":[\"email\"]}', $3, now(), now(), now())",
        )
        .bind(id)
        .bind(email)
        .bind(serde_json::json!({"full_name": email}))
        .execute(&self.admin)
        .await?;
        sqlx::query("update app.profiles set role = $2 where id = $1")
            .bind(id)
            .bind(role.as_str())
            .execute(&self.admin)
            .await?;
        self.sign_in(id, email).await
    }

    /// [`TestDb::create_user`] for a test's set-up: panics, naming the user, when it fails.
    pub async fn user(&self, email: &str, role: Role) -> TestUser {
        self.create_user(email, role)
            .await
            .unwrap_or_else(|e| panic!("create {email}: {e:#}"))
    }

    /// A new session for an existing user, with its access token.
    pub async fn sign_in(&self, user: Uuid, email: &str) -> Result<TestUser> {
        let session_id = Uuid::new_v4();
        sqlx::query(
            "insert into auth.sessions (id, user_id, created_at, updated_at, aal) \
             values ($1, $2, now(), now(), 'aal1')",
        )
        .bind(session_id)
        .bind(user)
        .execute(&self.admin)
        .await?;
        let claims = Claims::for_session(user, session_id, email);
        Ok(TestUser {
            id: user,
            email: email.into(),
            session_id,
            token: mint_token(&self.shared.jwt_secret, &claims),
            claims,
        })
    }

    /// Signs out as Supabase Auth does: the session row is deleted.
    pub async fn sign_out(&self, user: &TestUser) -> Result<()> {
        sqlx::query("delete from auth.sessions where id = $1")
            .bind(user.session_id)
            .execute(&self.admin)
            .await?;
        Ok(())
    }

    /// A token for `user` with claims changed by `edit`, signed with the project secret.
    pub fn token_with(&self, user: &TestUser, edit: impl FnOnce(&mut Claims)) -> String {
        let mut claims = user.claims.clone();
        edit(&mut claims);
        mint_token(&self.shared.jwt_secret, &claims)
    }
}

/// Creates a signed-in user on a project database reached as its owner (not a [`TestDb`]):
/// an `auth.users` row as Supabase Auth writes it (the profile trigger makes the profile),
/// `role` in `app.profiles`, a live session, and an access token signed with `jwt_secret`.
/// Used against a real Storage server (the conformance test and the storage benchmark).
pub async fn create_project_user(
    owner: &PgPool,
    jwt_secret: &str,
    email: &str,
    role: Role,
) -> Result<TestUser> {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, \
         raw_user_meta_data, created_at, updated_at, email_confirmed_at) \
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', \
         $2, '{\"provider\":\"email\",\"providers\":[\"email\"]}', '{}', now(), now(), now())",
    )
    .bind(id)
    .bind(email)
    .execute(owner)
    .await
    .context("creating the auth user")?;
    sqlx::query("update app.profiles set role = $2 where id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(owner)
        .await
        .context("setting the role")?;
    let session_id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.sessions (id, user_id, created_at, updated_at, aal) \
         values ($1, $2, now(), now(), 'aal1')",
    )
    .bind(session_id)
    .bind(id)
    .execute(owner)
    .await
    .context("creating the session")?;
    let claims = Claims::for_session(id, session_id, email);
    Ok(TestUser {
        id,
        email: email.into(),
        session_id,
        token: mint_token(jwt_secret, &claims),
        claims,
    })
}

/// Waits until every transaction that started before this call has ended: the sync pull's
/// watermark is cluster-wide, and other tests commit in parallel. Panics after `within`.
pub async fn settle(pool: &PgPool, within: std::time::Duration) {
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let mark: String = sqlx::query_scalar("select pg_current_xact_id()::text")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let step = std::time::Duration::from_millis(10);
    for _ in 0..within.as_millis() / step.as_millis() {
        let passed: bool =
            sqlx::query_scalar("select pg_snapshot_xmin(pg_current_snapshot()) > $1::text::xid8")
                .bind(&mark)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        if passed {
            return;
        }
        tokio::time::sleep(step).await;
    }
    panic!("some transaction stayed open for {within:?}");
}
