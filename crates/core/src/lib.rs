//! Salesdesk's product core: everything that touches a disk, a network or a secret.
//!
//! It knows nothing of Tauri or of any UI: the desktop shell (`src-tauri/`) and the `salesdesk`
//! CLI are two thin front ends over the [`Salesdesk`] handle defined here.

pub mod ai;
pub mod analysis;
pub mod auth;
pub mod avatars;
pub mod data;
pub mod error;
pub mod file_jobs;
pub mod files;
pub mod health;
pub mod import;
pub mod materials;
pub mod paths;
pub mod recordings;
pub mod secrets;
pub mod sync;
pub mod team;
pub mod telemetry;
mod time;

mod salesdesk;

pub use error::{CoreError, ErrorKind, Result};
pub use paths::DataPaths;
pub use salesdesk::{AiSetup, Salesdesk};
