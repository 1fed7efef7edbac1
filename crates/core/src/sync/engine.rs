//! One sync round: push the outbox, then pull every table, each step against the team
//! database as the signed-in user. The background loop and its triggers are in `triggers`.
//!
//! Failure handling, by class:
//! - network / server busy ([`RemoteError::is_transient`]): retried with exponential backoff
//!   and full jitter inside the round, then the round ends `offline`; nothing is dropped;
//! - the database refuses the token (`SignedOut`): one session refresh and one retry; a
//!   refresh that fails for network reasons is `offline` and keeps the session;
//! - a row the server refuses (forbidden, invalid): that row's entry is marked rejected with
//!   a reason and the rest of the batch goes on (a failing batch is split in halves to find
//!   the row).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Mutex, Notify, OnceCell};
use uuid::Uuid;

use super::outbox::{self, Entry};
use super::status::{self, RoundRecord, SyncState, SyncStatus};
use super::tables::{TableSpec, pushable};
use super::token::TokenSource;
use crate::ErrorKind;
use crate::auth::AuthError;
use crate::data::local::LocalStore;
use crate::data::remote::{MAX_PUSH_ROWS, PushStatus, RemoteError, RemoteStore, SyncedTable};
use crate::error::{CoreError, Result};
use crate::secrets::SecretString;

/// Tunables; the defaults suit the desktop app.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Rows per pull page (one local transaction each).
    pub pull_page: u32,
    /// Outbox entries read and pushed per batch (at most [`MAX_PUSH_ROWS`] per table call).
    pub push_batch: usize,
    /// Attempts of one remote call on transient failures, the first included.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The periodic round: the fallback when realtime is not available.
    pub period: Duration,
    /// How long after a local write the push waits for more writes.
    pub debounce: Duration,
    /// After a realtime notice, a second pull this much later catches a change that an older
    /// transaction still running on the server held below the pull watermark.
    pub realtime_follow_up: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            pull_page: 1000,
            push_batch: MAX_PUSH_ROWS,
            max_attempts: 4,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(30),
            period: Duration::from_secs(30),
            debounce: Duration::from_millis(500),
            realtime_follow_up: Duration::from_secs(1),
        }
    }
}

impl SyncConfig {
    /// Full jitter: uniform in `[0, min(cap, base * 2^retry))`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX));
        exp.min(self.backoff_cap).mul_f64(fastrand::f64())
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SyncReport {
    /// Local changes the server took.
    pub pushed: u32,
    /// Local changes the server already had (a replay) or had newer.
    pub already_current: u32,
    /// Local changes refused in this round (kept; see the status).
    pub rejected: u32,
    /// Remote rows written to the local store.
    pub pulled: u32,
    /// Remote rows not applied: the local version is newer, still queued, or the same.
    pub kept_local: u32,
    /// Remote rows that could not be stored locally (logged with their table and id).
    pub skipped: u32,
    pub status: Option<SyncStatus>,
}

/// Why a round stopped early.
enum Stop {
    Offline(CoreError),
    SignedOut(CoreError),
    Failed(CoreError),
}

impl Stop {
    fn state(&self) -> SyncState {
        match self {
            Stop::SignedOut(_) => SyncState::SignedOut,
            Stop::Offline(_) | Stop::Failed(_) => SyncState::Offline,
        }
    }
    fn into_error(self) -> CoreError {
        match self {
            Stop::Offline(e) | Stop::SignedOut(e) | Stop::Failed(e) => e,
        }
    }
}

fn auth_stop(e: AuthError) -> Stop {
    if e.is_transient() {
        Stop::Offline(e.into())
    } else if e.kind() == ErrorKind::SignedOut {
        Stop::SignedOut(e.into())
    } else {
        Stop::Failed(e.into())
    }
}

fn remote_stop(e: RemoteError) -> Stop {
    if e.is_transient() {
        Stop::Offline(e.into())
    } else if matches!(e, RemoteError::SignedOut(_)) {
        Stop::SignedOut(e.into())
    } else {
        Stop::Failed(e.into())
    }
}

fn local_stop(e: CoreError) -> Stop {
    Stop::Failed(e)
}

/// Errors the server raised about the rows sent (a constraint, bad data, not allowed), as
/// opposed to the connection, the session or the server's health: only these reject a row.
/// Anything else stops the round and leaves the queue as it is.
fn is_row_level(e: &RemoteError) -> bool {
    matches!(
        e,
        RemoteError::Forbidden(_) | RemoteError::InvalidRequest(_)
    )
}

fn forbidden_reason(table: SyncedTable) -> String {
    format!(
        "the team database did not accept this change: your account may not edit this record \
         in {} (it belongs to someone else, or your team role cannot change it). Your copy is \
         kept on this device; ask a manager or admin, or edit the record again to retry",
        table.as_str().replace('_', " ")
    )
}

fn invalid_reason(e: &RemoteError) -> String {
    format!(
        "the team database refused this change ({e}). Your copy is kept on this device; correct \
         the record to retry"
    )
}

pub struct SyncEngine {
    pub(super) store: LocalStore,
    remote: RemoteStore,
    tokens: Arc<dyn TokenSource>,
    pub(super) config: SyncConfig,
    specs: OnceCell<HashMap<SyncedTable, TableSpec>>,
    round: Mutex<()>,
    syncing: AtomicBool,
    pub(super) wake: Notify,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine")
            .field("store", &self.store.path())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SyncEngine {
    pub fn new(store: LocalStore, remote: RemoteStore, tokens: Arc<dyn TokenSource>) -> Self {
        Self::with_config(store, remote, tokens, SyncConfig::default())
    }

    pub fn with_config(
        store: LocalStore,
        remote: RemoteStore,
        tokens: Arc<dyn TokenSource>,
        config: SyncConfig,
    ) -> Self {
        Self {
            store,
            remote,
            tokens,
            config,
            specs: OnceCell::new(),
            round: Mutex::new(()),
            syncing: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    pub fn store(&self) -> &LocalStore {
        &self.store
    }

    /// The status as the UI shows it.
    pub async fn status(&self) -> Result<SyncStatus> {
        let mut status = status::read(&self.store).await?;
        if self.syncing.load(Ordering::SeqCst) {
            status.state = SyncState::Syncing;
        }
        Ok(status)
    }

    /// Asks the background loop (if started) for a round now: "sync now", network back.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    async fn specs(&self) -> Result<&HashMap<SyncedTable, TableSpec>> {
        self.specs
            .get_or_try_init(|| async {
                let mut conn = self
                    .store
                    .pool()
                    .acquire()
                    .await
                    .map_err(|e| self.store.err(e))?;
                let mut specs = HashMap::new();
                for table in SyncedTable::ALL {
                    let spec = TableSpec::load(&mut conn, table)
                        .await
                        .map_err(|e| self.store.err(e))?;
                    specs.insert(table, spec);
                }
                Ok(specs)
            })
            .await
    }

    /// Runs one round: push, then pull. One round at a time; a caller arriving during a round
    /// waits for it and then runs its own (so its writes are included).
    pub async fn sync_once(&self) -> Result<SyncReport> {
        self.round_of(true, true).await
    }

    /// Only the push half of a round (benchmarks, and "send now" without a pull).
    pub async fn push_only(&self) -> Result<SyncReport> {
        self.round_of(true, false).await
    }

    /// Only the pull half of a round.
    pub async fn pull_only(&self) -> Result<SyncReport> {
        self.round_of(false, true).await
    }

    async fn round_of(&self, push: bool, pull: bool) -> Result<SyncReport> {
        let _one_at_a_time = self.round.lock().await;
        self.syncing.store(true, Ordering::SeqCst);
        let mut report = SyncReport::default();
        let (mut pushed, mut pulled) = (false, false);
        let mut user = None;
        let result = async {
            let user_id = self.tokens.user_id().await.map_err(auth_stop)?;
            user = Some(user_id.clone());
            if push {
                self.push(&mut report).await?;
                pushed = true;
            }
            if pull {
                self.pull(&user_id, &mut report).await?;
                pulled = true;
            }
            Ok::<_, Stop>(())
        }
        .await;
        self.syncing.store(false, Ordering::SeqCst);
        let (state, error) = match &result {
            Ok(()) => (SyncState::Idle, None),
            Err(stop) => {
                let message = match stop {
                    Stop::Offline(e) | Stop::SignedOut(e) | Stop::Failed(e) => e.to_string(),
                };
                (stop.state(), Some(message))
            }
        };
        if let Some(error) = &error {
            tracing::info!(%error, "sync round stopped");
        }
        status::record(
            &self.store,
            RoundRecord {
                state,
                user_id: user.as_deref(),
                pushed,
                pulled,
                error: error.as_deref(),
            },
        )
        .await?;
        result.map_err(Stop::into_error)?;
        report.status = Some(self.status().await?);
        tracing::debug!(
            pushed = report.pushed,
            pulled = report.pulled,
            rejected = report.rejected,
            "sync round done"
        );
        Ok(report)
    }

    /// Calls the team database with the user's token: transient failures are retried with
    /// backoff, a refused token is refreshed once.
    async fn remote_call<'a, T>(
        &self,
        op: impl Fn(SecretString) -> BoxFuture<'a, std::result::Result<T, RemoteError>>,
    ) -> std::result::Result<T, Stop> {
        let mut token: SecretString = self.tokens.access_token().await.map_err(auth_stop)?;
        let mut refreshed = false;
        let mut retry = 0;
        loop {
            match op(token.clone()).await {
                Ok(value) => return Ok(value),
                Err(RemoteError::SignedOut(_)) if !refreshed => {
                    refreshed = true;
                    token = self.tokens.refresh(token).await.map_err(auth_stop)?;
                }
                Err(e) if e.is_transient() && retry + 1 < self.config.max_attempts => {
                    retry += 1;
                    tracing::debug!(error = %e, retry, "team database call failed; retrying");
                    tokio::time::sleep(self.config.backoff(retry)).await;
                    token = self.tokens.access_token().await.map_err(auth_stop)?;
                }
                Err(e) => return Err(remote_stop(e)),
            }
        }
    }

    async fn push(&self, report: &mut SyncReport) -> std::result::Result<(), Stop> {
        let specs = self.specs().await.map_err(local_stop)?;
        let mut after = 0;
        loop {
            let entries = {
                let mut conn = self.conn().await?;
                outbox::pending(&mut conn, after, self.config.push_batch.max(1))
                    .await
                    .map_err(|e| local_stop(self.store.err(e)))?
            };
            let Some(last) = entries.last() else {
                return Ok(());
            };
            after = last.seq;
            // Per table, in the order the tables first appear in the outbox.
            let mut groups: Vec<(SyncedTable, Vec<Entry>)> = Vec::new();
            for entry in entries {
                let Some(table) = pushable(&entry.table) else {
                    self.reject(
                        entry.seq,
                        &format!("{} is not a table Salesdesk syncs", entry.table),
                    )
                    .await?;
                    report.rejected += 1;
                    continue;
                };
                match groups.iter_mut().find(|(t, _)| *t == table) {
                    Some((_, group)) => group.push(entry),
                    None => groups.push((table, vec![entry])),
                }
            }
            for (table, group) in groups {
                for chunk in group.chunks(MAX_PUSH_ROWS) {
                    self.push_group(&specs[&table], chunk, report).await?;
                }
            }
        }
    }

    async fn conn(&self) -> std::result::Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, Stop> {
        self.store
            .pool()
            .acquire()
            .await
            .map_err(|e| local_stop(self.store.err(e)))
    }

    async fn reject(&self, seq: i64, reason: &str) -> std::result::Result<(), Stop> {
        let mut conn = self.conn().await?;
        outbox::reject(&mut conn, seq, reason)
            .await
            .map_err(|e| local_stop(self.store.err(e)))
    }

    async fn push_group(
        &self,
        spec: &TableSpec,
        entries: &[Entry],
        report: &mut SyncReport,
    ) -> std::result::Result<(), Stop> {
        let table = spec.table;
        let rows = {
            let ids: Vec<&str> = entries.iter().map(|e| e.row_id.as_str()).collect();
            let mut conn = self.conn().await?;
            spec.read_rows(&mut conn, &ids)
                .await
                .map_err(|e| local_stop(self.store.err(e)))?
        };
        let mut items: Vec<(&Entry, Value)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match rows.get(&entry.row_id) {
                Some(row) => items.push((entry, row.clone())),
                None => {
                    // The app never hard-deletes a synced row; if one is gone, say so rather
                    // than drop its entry silently.
                    self.reject(
                        entry.seq,
                        "this record is missing from the local database, so it cannot be sent",
                    )
                    .await?;
                    report.rejected += 1;
                }
            }
        }
        // Batches that fail as a whole are split to find the refused rows.
        let mut stack = vec![items];
        while let Some(items) = stack.pop() {
            if items.is_empty() {
                continue;
            }
            let rows: Vec<Value> = items.iter().map(|(_, row)| row.clone()).collect();
            let (remote, rows) = (&self.remote, rows.as_slice());
            let result = self
                .remote_call(move |token| {
                    Box::pin(async move { remote.push_upsert(token.expose(), table, rows).await })
                })
                .await;
            match result {
                Ok(outcomes) => self.settle(table, &items, &outcomes, report).await?,
                Err(Stop::Failed(CoreError::Remote(e))) if is_row_level(&e) => {
                    if items.len() == 1 {
                        tracing::info!(table = table.as_str(), row = %items[0].0.row_id, "change refused by the team database");
                        self.reject(items[0].0.seq, &invalid_reason(&e)).await?;
                        report.rejected += 1;
                    } else {
                        let mut first = items;
                        let second = first.split_off(first.len() / 2);
                        stack.push(second);
                        stack.push(first);
                    }
                }
                Err(stop) => {
                    let message = match &stop {
                        Stop::Offline(e) | Stop::SignedOut(e) | Stop::Failed(e) => e.to_string(),
                    };
                    let seqs: Vec<i64> = stack
                        .iter()
                        .flatten()
                        .chain(items.iter())
                        .map(|(e, _)| e.seq)
                        .collect();
                    let mut conn = self.conn().await?;
                    outbox::note_failure(&mut conn, &seqs, &message)
                        .await
                        .map_err(|e| local_stop(self.store.err(e)))?;
                    return Err(stop);
                }
            }
        }
        Ok(())
    }

    async fn settle(
        &self,
        table: SyncedTable,
        items: &[(&Entry, Value)],
        outcomes: &[crate::data::remote::PushOutcome],
        report: &mut SyncReport,
    ) -> std::result::Result<(), Stop> {
        let by_id: HashMap<Uuid, PushStatus> = outcomes.iter().map(|o| (o.id, o.status)).collect();
        let mut done = Vec::new();
        for (entry, _) in items {
            let status = Uuid::parse_str(&entry.row_id)
                .ok()
                .and_then(|id| by_id.get(&id).copied());
            match status {
                Some(PushStatus::Applied) => {
                    report.pushed += 1;
                    done.push(entry.seq);
                }
                Some(PushStatus::Stale) => {
                    report.already_current += 1;
                    done.push(entry.seq);
                }
                Some(PushStatus::Forbidden) => {
                    self.reject(entry.seq, &forbidden_reason(table)).await?;
                    report.rejected += 1;
                }
                // No answer for this row (cannot happen with push_upsert): it stays queued.
                None => {}
            }
        }
        let mut conn = self.conn().await?;
        outbox::remove(&mut conn, &done)
            .await
            .map_err(|e| local_stop(self.store.err(e)))
    }

    async fn pull(&self, user_id: &str, report: &mut SyncReport) -> std::result::Result<(), Stop> {
        let specs = self.specs().await.map_err(local_stop)?;
        for table in SyncedTable::ALL {
            let spec = &specs[&table];
            let mut cursor: Option<String> = sqlx::query_scalar(
                "SELECT cursor FROM sync_cursors WHERE user_id = ? AND table_name = ?",
            )
            .bind(user_id)
            .bind(table.as_str())
            .fetch_optional(self.store.pool())
            .await
            .map_err(|e| local_stop(self.store.err(e)))?;
            loop {
                let (remote, at, limit) = (&self.remote, cursor.as_deref(), self.config.pull_page);
                let page = self
                    .remote_call(move |token| {
                        Box::pin(async move {
                            remote.pull_changes(token.expose(), table, at, limit).await
                        })
                    })
                    .await?;
                if !page.rows.is_empty() {
                    self.apply_page(
                        spec,
                        user_id,
                        &page.rows,
                        page.next_cursor.as_deref(),
                        report,
                    )
                    .await
                    .map_err(local_stop)?;
                }
                cursor = page.next_cursor;
                if !page.has_more {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Applies one page and stores the cursor after it, in one local transaction: a crash
    /// leaves either both or neither. Pulled rows create no outbox entries.
    async fn apply_page(
        &self,
        spec: &TableSpec,
        user_id: &str,
        rows: &[Value],
        next_cursor: Option<&str>,
        report: &mut SyncReport,
    ) -> Result<()> {
        let pulled_before = report.pulled;
        let mut tx = self.store.begin_write().await?;
        let role_before = if spec.table == SyncedTable::Profiles {
            own_role(&mut tx, user_id).await?
        } else {
            None
        };
        for row in rows {
            match spec.apply_row(tx.conn(), row).await {
                Ok(true) => report.pulled += 1,
                Ok(false) => report.kept_local += 1,
                // A constraint the local table has and the server did not (SQLite undoes
                // only the failing statement): skip the row rather than stall every pull.
                Err(sqlx::Error::Database(db)) if db.kind() != sqlx::error::ErrorKind::Other => {
                    tracing::warn!(
                        table = spec.table.as_str(),
                        row = row.get("id").and_then(serde_json::Value::as_str).unwrap_or(""),
                        error = %db.message(),
                        "a pulled row does not fit the local table; skipped"
                    );
                    report.skipped += 1;
                }
                Err(e) => return Err(tx.err(e)),
            }
        }
        // A new team role changes which rows the user may read (a rep promoted to manager now
        // sees everyone's): the other tables' pulls start over, later in this same round
        // (profiles are pulled first).
        if spec.table == SyncedTable::Profiles
            && role_before.is_some()
            && own_role(&mut tx, user_id).await? != role_before
        {
            sqlx::query("DELETE FROM sync_cursors WHERE user_id = ? AND table_name <> 'profiles'")
                .bind(user_id)
                .execute(tx.conn())
                .await
                .map_err(|e| tx.err(e))?;
        }
        if let Some(cursor) = next_cursor {
            sqlx::query(
                "INSERT INTO sync_cursors (user_id, table_name, cursor, updated_at) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (user_id, table_name) \
                 DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            )
            .bind(user_id)
            .bind(spec.table.as_str())
            .bind(cursor)
            .bind(crate::time::now_rfc3339())
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
        }
        tx.commit().await?;
        if spec.table == SyncedTable::TrainingMaterials && report.pulled > pulled_before {
            // The library fetches pinned files a pulled row may have changed.
            self.store.materials_pulled();
        }
        Ok(())
    }
}

async fn own_role(tx: &mut crate::data::local::WriteTx, user_id: &str) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT role FROM profiles WHERE id = ?")
        .bind(user_id)
        .fetch_optional(tx.conn())
        .await
        .map_err(|e| tx.err(e))
}
