//! A throwaway environment for one test: data directory, HOME and XDG folders under one
//! temporary directory, removed when dropped. Nothing of the user's is read or written.

use std::path::{Path, PathBuf};

pub struct IsolatedEnv {
    root: tempfile::TempDir,
}

impl IsolatedEnv {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("salesdesk-test-")
            .tempdir()
            .expect("create a temporary directory");
        for dir in ["data", "home", "config", "cache", "share", "runtime"] {
            std::fs::create_dir_all(root.path().join(dir)).expect("create test folders");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // XDG_RUNTIME_DIR must be private to its owner, or GTK and D-Bus complain.
            let _ = std::fs::set_permissions(
                root.path().join("runtime"),
                std::fs::Permissions::from_mode(0o700),
            );
        }
        Self { root }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The Salesdesk data directory (`SALESDESK_DATA_DIR`).
    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The environment a child process (CLI, desktop app, driver) should run with.
    pub fn vars(&self) -> Vec<(&'static str, PathBuf)> {
        let r = self.root.path();
        vec![
            ("SALESDESK_DATA_DIR", self.data_dir()),
            ("HOME", r.join("home")),
            ("XDG_CONFIG_HOME", r.join("config")),
            ("XDG_CACHE_HOME", r.join("cache")),
            ("XDG_DATA_HOME", r.join("share")),
            ("XDG_RUNTIME_DIR", r.join("runtime")),
        ]
    }

    /// Applies [`vars`](Self::vars) to a command.
    pub fn apply(&self, cmd: &mut std::process::Command) {
        for (k, v) in self.vars() {
            cmd.env(k, v);
        }
    }
}

impl Default for IsolatedEnv {
    fn default() -> Self {
        Self::new()
    }
}
