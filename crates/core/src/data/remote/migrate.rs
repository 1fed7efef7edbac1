//! Applying `migrations/remote/` to a team database, and the two admin chores that go with it:
//! installing the project's JWT secret for the in-database token verifier, and enabling the app
//! role's login with a password.
//!
//! Migrations take a session-level advisory lock, so they need a direct (or session-mode)
//! connection: a transaction-mode pooler is refused up front.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::RemoteError;
use super::connect::{PoolerMode, RemoteConfig};

/// The schema, embedded at build time (the files are also what `supabase db push` applies).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/remote");

/// The role the desktop app logs in as (created by the first migration).
pub const APP_ROLE: &str = "salesdesk_app";

/// Supabase's legacy JWT secrets are 40+ characters; anything much shorter is a paste error.
const MIN_JWT_SECRET_LEN: usize = 32;
const MIN_APP_PASSWORD_LEN: usize = 16;
const SCRAM_ITERATIONS: u32 = 4096;

/// Optional admin chores done after the migrations, in the same session.
#[derive(Default)]
pub struct MigrateOptions {
    /// The project's JWT secret (Supabase dashboard: Project Settings > JWT Keys, legacy JWT
    /// secret). Installed alongside any already there, so rotation keeps old tokens valid
    /// until they expire.
    pub jwt_secret: Option<String>,
    /// A password for the app role; enables its LOGIN. Sent as a SCRAM verifier, never as
    /// plain text, so it does not show in server logs.
    pub app_password: Option<String>,
}

/// One migration, by version and description.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationStep {
    pub version: i64,
    pub description: String,
}

/// What `migrate` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrateReport {
    /// Migrations applied by this run, oldest first (empty when already up to date).
    pub applied: Vec<MigrationStep>,
    /// All migrations this build knows.
    pub known: usize,
    pub jwt_secret_installed: bool,
    pub app_login_enabled: bool,
    /// Number of JWT secrets now installed (0 means the app cannot sign anyone in yet).
    pub jwt_secrets: i64,
}

/// Brings the schema up to date (idempotent: a second run applies nothing) and performs the
/// chores in `options`.
pub async fn migrate(
    config: &RemoteConfig,
    options: &MigrateOptions,
) -> Result<MigrateReport, RemoteError> {
    if config.pooler() == PoolerMode::Transaction {
        return Err(RemoteError::NeedsSessionConnection {
            host: config.host(),
            port: config.port(),
        });
    }
    if let Some(secret) = &options.jwt_secret
        && secret.trim().len() < MIN_JWT_SECRET_LEN
    {
        return Err(RemoteError::InvalidRequest(format!(
            "the JWT secret is shorter than {MIN_JWT_SECRET_LEN} characters; copy the whole \
             legacy JWT secret from the Supabase dashboard"
        )));
    }
    if let Some(password) = &options.app_password
        && password.len() < MIN_APP_PASSWORD_LEN
    {
        return Err(RemoteError::InvalidRequest(format!(
            "the app role's password must be at least {MIN_APP_PASSWORD_LEN} characters"
        )));
    }

    let connect_options = config.options()?;
    let mut conn = PgConnection::connect_with(&connect_options)
        .await
        .map_err(|e| RemoteError::from_connect(&config.host(), &config.username(), e))?;

    let before = applied_versions(&mut conn).await?;
    MIGRATOR
        .run(&mut conn)
        .await
        .map_err(|e| RemoteError::Migration(migrate_error_message(e)))?;
    hide_migration_table(&mut conn).await?;
    let applied = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !before.contains(&m.version))
        .map(|m| MigrationStep {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect();

    let mut report = MigrateReport {
        applied,
        known: MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .count(),
        jwt_secret_installed: false,
        app_login_enabled: false,
        jwt_secrets: 0,
    };

    if let Some(secret) = &options.jwt_secret {
        sqlx::query("select app_private.install_jwt_secret($1, 'installed by salesdesk migrate')")
            .bind(secret.trim())
            .execute(&mut conn)
            .await
            .map_err(RemoteError::from_query)?;
        report.jwt_secret_installed = true;
    }
    if let Some(password) = &options.app_password {
        set_app_password(&mut conn, password).await?;
        report.app_login_enabled = true;
    }
    report.jwt_secrets = sqlx::query_scalar("select count(*) from app_private.jwt_secrets")
        .fetch_one(&mut conn)
        .await
        .map_err(RemoteError::from_query)?;

    let _ = conn.close().await;
    Ok(report)
}

async fn applied_versions(conn: &mut PgConnection) -> Result<Vec<i64>, RemoteError> {
    let exists: bool = sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null")
        .fetch_one(&mut *conn)
        .await
        .map_err(RemoteError::from_query)?;
    if !exists {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("select version from _sqlx_migrations where success")
        .fetch_all(&mut *conn)
        .await
        .map_err(RemoteError::from_query)
}

/// sqlx keeps its bookkeeping in `_sqlx_migrations`, in the first schema of the search path
/// (`public` on Supabase). Supabase grants the API roles (`anon`, `authenticated`) everything on
/// new tables in `public` and serves them over the Data API, so without this anyone holding the
/// public anon key could read or rewrite the migration history. Row-level security with no
/// policy closes it to everyone but the owner.
async fn hide_migration_table(conn: &mut PgConnection) -> Result<(), RemoteError> {
    sqlx::raw_sql(
        "do $$ begin \
             execute format('alter table %s enable row level security', to_regclass('_sqlx_migrations')); \
             execute format('revoke all on %s from public', to_regclass('_sqlx_migrations')); \
         end $$",
    )
    .execute(&mut *conn)
    .await
    .map_err(RemoteError::from_query)?;
    Ok(())
}

fn migrate_error_message(err: sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError;
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => match &e {
            sqlx::Error::Database(db) => {
                let mut message = db.message().to_owned();
                if db.code().as_deref() == Some("42501") {
                    message.push_str(
                        " (connect as the project's owner role, `postgres` on Supabase, which \
                         needs CREATEROLE)",
                    );
                }
                message
            }
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

/// `ALTER ROLE ... PASSWORD` takes no bind parameters and the statement may be logged, so the
/// password is turned into a SCRAM-SHA-256 verifier here (RFC 5802 / RFC 7677, the format
/// Postgres stores) and only that is sent.
async fn set_app_password(conn: &mut PgConnection, password: &str) -> Result<(), RemoteError> {
    let salt: Vec<u8> = sqlx::query_scalar("select extensions.gen_random_bytes(16)")
        .fetch_one(&mut *conn)
        .await
        .map_err(RemoteError::from_query)?;
    let verifier = scram_sha256_verifier(password, &salt, SCRAM_ITERATIONS);
    // The verifier is base64 and '$' ':' only, but quote it server-side anyway.
    let statement: String = sqlx::query_scalar(
        "select format('alter role %I with login password %L', $1::text, $2::text)",
    )
    .bind(APP_ROLE)
    .bind(&verifier)
    .fetch_one(&mut *conn)
    .await
    .map_err(RemoteError::from_query)?;
    // Safe: built by the server with format(%I, %L) above.
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut *conn)
        .await
        .map_err(RemoteError::from_query)?;
    Ok(())
}

/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64.
pub(crate) fn scram_sha256_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;

    let b64 = base64::engine::general_purpose::STANDARD;
    let salted = pbkdf2_hmac_sha256(password.as_bytes(), salt, iterations);
    let client_key = hmac_sha256(&salted, b"Client Key");
    let stored_key = sha2::Sha256::digest(client_key);
    let server_key = hmac_sha256(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        b64.encode(salt),
        b64.encode(stored_key),
        b64.encode(server_key)
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2 with one output block, which is all SCRAM-SHA-256 needs (dkLen = 32).
fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac_sha256(password, &block);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac_sha256(password, &u);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3's example: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096
    /// iterations; its ClientProof/ServerSignature follow from these StoredKey/ServerKey, which
    /// are the values Postgres stores for that password and salt.
    #[test]
    fn scram_verifier_matches_the_rfc_7677_example() {
        use base64::Engine as _;
        let salt = base64::engine::general_purpose::STANDARD
            .decode("W22ZaJ0SNY7soEsUEjb6gQ==")
            .unwrap();
        let verifier = scram_sha256_verifier("pencil", &salt, 4096);
        assert_eq!(
            verifier,
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }

    #[test]
    fn migrations_are_embedded_in_order() {
        let versions: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert!(versions.len() >= 5);
        assert!(versions.windows(2).all(|w| w[0] < w[1]));
    }
}
