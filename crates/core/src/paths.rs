//! Where Salesdesk keeps its files: the OS data directory (for example
//! `~/.local/share/salesdesk` on Linux), or `SALESDESK_DATA_DIR` when set, for tests and
//! portable installs.

use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "SALESDESK_DATA_DIR";

#[derive(Debug, Clone)]
pub struct DataPaths {
    root: PathBuf,
}

impl DataPaths {
    /// Uses `dir` as the data directory as given.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { root: dir.into() }
    }

    /// `SALESDESK_DATA_DIR` if set and not empty, else the OS data directory.
    pub fn from_env() -> Result<Self> {
        match std::env::var_os(DATA_DIR_ENV) {
            Some(dir) if !dir.is_empty() => Ok(Self::at(dir)),
            _ => Self::os_default(),
        }
    }

    pub fn os_default() -> Result<Self> {
        directories::ProjectDirs::from("app", "Salesdesk", "salesdesk")
            .map(|dirs| Self::at(dirs.data_dir()))
            .ok_or(CoreError::NoDataDir)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The local SQLite store.
    pub fn store_file(&self) -> PathBuf {
        self.root.join("salesdesk.sqlite3")
    }

    /// Rotating JSON-lines logs.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// Creates the data directory (and its parents) if missing.
    pub fn ensure_exists(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|source| CoreError::DataDir {
            path: self.root.clone(),
            source,
        })
    }
}
