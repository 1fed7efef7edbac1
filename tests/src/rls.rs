//! Acting as a signed-in user on the app role's connection, the way the product's remote store
//! does (`app.authenticate` inside a transaction), for the row-level-security tests.

use sqlx::postgres::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::supabase::TestUser;

/// Authenticates the current transaction as `user` (`select app.authenticate(token)`).
pub async fn authenticate<'e>(tx: impl PgExecutor<'e>, user: &TestUser) -> Result<(), sqlx::Error> {
    sqlx::query("select app.authenticate($1)")
        .bind(&user.token)
        .execute(tx)
        .await
        .map(drop)
}

/// Runs `sql` (with `$1` bound to `id`) in a transaction authenticated as `user` and commits;
/// returns the affected row count or the error.
pub async fn exec_as(
    pool: &PgPool,
    user: &TestUser,
    sql: &str,
    id: Uuid,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    authenticate(&mut *tx, user).await?;
    let result = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(result.rows_affected())
}

/// The SQLSTATE of a database error (`42501` for a row-level-security refusal), if it is one.
pub fn db_code(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}
