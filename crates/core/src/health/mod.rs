//! The health report: what `salesdesk health` prints and the Status page shows.
//! Its JSON form is a stable interface (documented in the README): add fields, never rename.

use serde::{Deserialize, Serialize};

use crate::paths::DataPaths;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Health {
    /// Salesdesk's version.
    pub version: String,
    pub data_dir: String,
    pub store_path: String,
    pub log_dir: String,
    /// Newest local schema migration applied to the store; 0 when it could not be read.
    pub schema_version: i32,
    pub store: StoreHealth,
    pub counts: RowCounts,
    /// The AI providers as the chain sees them (and, after `--probe`, as they answered).
    /// Empty when the chain was not consulted. Never contains a key.
    #[serde(default)]
    pub providers: Vec<crate::ai::health::ProviderHealth>,
    /// Team sync: queued and refused local changes, last push and pull, last error (see
    /// docs/team-mode.md). `null` when the store could not be read.
    #[serde(default)]
    pub sync: Option<crate::sync::SyncStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct StoreHealth {
    pub ok: bool,
    /// Why the store is not OK, written for the user; `null` when OK.
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct RowCounts {
    /// Saved (not deleted) call analyses.
    pub call_analyses: i32,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        self.store.ok
    }

    /// The report for a store that could not even be opened.
    pub fn unavailable(paths: &DataPaths, error: &crate::CoreError) -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: paths.root().display().to_string(),
            store_path: paths.store_file().display().to_string(),
            log_dir: paths.log_dir().display().to_string(),
            schema_version: 0,
            store: StoreHealth {
                ok: false,
                message: Some(error.to_string()),
            },
            counts: RowCounts::default(),
            providers: Vec::new(),
            sync: None,
        }
    }
}
