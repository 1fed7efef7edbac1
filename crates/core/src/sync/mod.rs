//! The sync engine between the local SQLite store and the team's Postgres (team mode).
//!
//! - [`outbox`]: every local write's entry, committed with the write (`WriteTx::commit`).
//! - [`tables`]: local rows <-> the JSON rows of `app.push_upsert` / `app.pull_changes`.
//! - [`engine`]: one round (push the outbox, pull each table by cursor) and its error policy.
//! - [`triggers`]: the background loop, its timer, write, wake and realtime triggers.
//! - [`status`]: what the UI, `salesdesk sync` and `salesdesk health` show.
//!
//! Deliberately left out: conflict resolution beyond last-writer-wins on `updated_at`, and
//! merging of fields; docs/team-mode.md ("Sync engine") says why.

pub mod engine;
pub(crate) mod outbox;
pub mod status;
pub mod tables;
pub mod token;
pub mod triggers;

pub use engine::{SyncConfig, SyncEngine, SyncReport};
pub use status::{RejectedWrite, SyncState, SyncStatus};
pub use token::TokenSource;
pub use triggers::{CHANNEL, SyncHandle};

/// The sync status as recorded in `store` (no network): for `salesdesk health` and the app
/// before the engine starts.
pub async fn status(store: &crate::data::local::LocalStore) -> crate::Result<SyncStatus> {
    status::read(store).await
}
