//! The offline copies of team files on this device (training materials and call recordings,
//! each in its own cache folder so a recording can never evict a pinned material): their size
//! budget (a setting kept in the local store), what they take together, and emptying them.
//! Pinned files are never dropped, neither by a smaller budget nor by a clear: they count
//! against the budget all the same.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cache;
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::time::now_rfc3339;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;
/// The budget until the user sets one.
pub const DEFAULT_BUDGET: u64 = 2 * GIB;
/// Below this a single training video would not fit.
pub const MIN_BUDGET: u64 = 256 * MIB;
pub const MAX_BUDGET: u64 = 1024 * GIB;

/// The offline copies as Settings shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct OfflineFiles {
    /// The most the copies may take; unpinned ones are dropped, least recently used first.
    pub budget_bytes: u64,
    pub used_bytes: u64,
    /// Of `used_bytes`, the pinned files (kept whatever the budget).
    pub pinned_bytes: u64,
    pub files: u32,
}

/// The budget in force.
pub async fn budget(store: &LocalStore) -> Result<u64> {
    let saved: Option<i64> =
        sqlx::query_scalar("SELECT budget_bytes FROM offline_files_settings WHERE id = 1")
            .fetch_optional(store.pool())
            .await
            .map_err(|e| store.err(e))?;
    Ok(saved.map_or(DEFAULT_BUDGET, |b| b.max(0) as u64))
}

/// Saves a new budget and, when it is smaller than what the copies take, drops the least
/// recently used unpinned ones at once.
pub async fn set_budget(store: &LocalStore, roots: &[&Path], bytes: u64) -> Result<OfflineFiles> {
    if !(MIN_BUDGET..=MAX_BUDGET).contains(&bytes) {
        return Err(CoreError::InvalidInput(format!(
            "the offline files budget must be between {} MiB and {} GiB, not {} MiB",
            MIN_BUDGET / MIB,
            MAX_BUDGET / GIB,
            bytes / MIB
        )));
    }
    sqlx::query(
        "INSERT INTO offline_files_settings (id, budget_bytes, updated_at) VALUES (1, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET budget_bytes = excluded.budget_bytes, \
         updated_at = excluded.updated_at",
    )
    .bind(bytes as i64)
    .bind(now_rfc3339())
    .execute(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    let pinned = pinned_digests(store).await?;
    cache::shrink(roots, bytes, &pinned);
    usage(store, roots).await
}

/// What the copies take now.
pub async fn usage(store: &LocalStore, roots: &[&Path]) -> Result<OfflineFiles> {
    let pinned = pinned_digests(store).await?;
    let mut out = OfflineFiles {
        budget_bytes: budget(store).await?,
        used_bytes: 0,
        pinned_bytes: 0,
        files: 0,
    };
    for e in roots.iter().flat_map(|r| cache::cached_files(r)) {
        out.used_bytes += e.size;
        out.files += 1;
        if pinned.contains(&e.digest) {
            out.pinned_bytes += e.size;
        }
    }
    Ok(out)
}

/// Drops every unpinned copy (they download again when opened).
pub async fn clear(store: &LocalStore, roots: &[&Path]) -> Result<OfflineFiles> {
    let pinned = pinned_digests(store).await?;
    cache::shrink(roots, 0, &pinned);
    usage(store, roots).await
}

/// The SHA-256 digests of the files of pinned materials.
pub(crate) async fn pinned_digests(store: &LocalStore) -> Result<HashSet<String>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT m.file_sha256 FROM material_pins p \
         JOIN training_materials m ON m.id = p.material_id WHERE m.file_sha256 IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(rows.into_iter().collect())
}
