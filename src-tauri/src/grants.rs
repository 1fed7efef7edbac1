//! Files the user handed to the app: dropped on the window or chosen in a file dialog.
//!
//! The webview is treated as untrusted, so commands that read a file accept only a path granted
//! here; a compromised page cannot make the app read (and send to an AI provider) any other
//! file of the user's.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use salesdesk_core::ErrorKind;

use crate::error::CommandError;

#[derive(Default)]
pub struct GrantedFiles {
    paths: Mutex<HashSet<PathBuf>>,
}

impl GrantedFiles {
    pub fn grant<I: IntoIterator<Item = PathBuf>>(&self, paths: I) {
        let mut granted = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        for path in paths {
            // Canonical form, so `a/../b` or a symlink cannot dodge the check.
            if let Ok(canonical) = path.canonicalize() {
                granted.insert(canonical);
            }
        }
    }

    /// The canonical path if the user granted it, else an error the UI can show.
    pub fn check(&self, path: &Path) -> Result<PathBuf, CommandError> {
        let canonical = path.canonicalize().map_err(|e| CommandError {
            kind: ErrorKind::InvalidInput,
            message: format!("cannot open {}: {e}", path.display()),
        })?;
        let granted = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        if granted.contains(&canonical) || e2e_granted(&canonical) {
            Ok(canonical)
        } else {
            Err(CommandError {
                kind: ErrorKind::InvalidInput,
                message: "Salesdesk can only open files you drop on its window or choose with \
                          \"Choose file…\"; please do that again"
                    .into(),
            })
        }
    }
}

/// Debug builds only: files under `SALESDESK_E2E_GRANT_DIR` count as granted. WebDriver
/// cannot drag a file from the desktop onto the window, so the end-to-end test delivers the
/// drop to the page as Tauri would (the same paths, through the same handler) but cannot make
/// the OS grant them; this stands in for that one step. Release builds never read the variable.
#[cfg(debug_assertions)]
fn e2e_granted(canonical: &Path) -> bool {
    std::env::var_os("SALESDESK_E2E_GRANT_DIR")
        .and_then(|dir| Path::new(&dir).canonicalize().ok())
        .is_some_and(|dir| canonical.starts_with(dir))
}

#[cfg(not(debug_assertions))]
fn e2e_granted(_canonical: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_granted_files_pass_even_through_dot_dot() {
        let dir = tempfile::tempdir().unwrap();
        let granted = dir.path().join("call.vtt");
        let other = dir.path().join("secret.txt");
        std::fs::write(&granted, "WEBVTT").unwrap();
        std::fs::write(&other, "secret").unwrap();
        let grants = GrantedFiles::default();
        grants.grant([granted.clone()]);

        assert!(grants.check(&granted).is_ok());
        let sneaky = dir.path().join("sub/../call.vtt");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert_eq!(
            grants.check(&sneaky).unwrap(),
            granted.canonicalize().unwrap()
        );
        let err = grants.check(&other).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(grants.check(&dir.path().join("missing.txt")).is_err());
    }
}
