//! Team mode on this device: the team project's settings, the signed-in session built from
//! them, and the keeper that refreshes that session and finds the server again after a
//! network cut.
//!
//! - [`settings`]: project URL, anon key and database URL (its password in the keyring).
//! - [`account`]: [`Team`], the session built from the settings, and the account operations
//!   front ends call (sign in/up/out, verify, reset, status).
//! - [`keeper`]: the background refresh with backoff while offline.
//! - [`setup`]: where secrets are kept and whether the environment wins (the CLI).
//! - [`tokens`]: the session as the sync engine's `TokenSource`.
//! - [`files`]: the team's Storage client, derived from the settings and session in force.
//!
//! Deliberately left out: syncing data (the sync engine asks [`Team`] for access tokens and
//! the database URL) and anything that would give a front end a token or a password.

pub mod account;
pub mod files;
pub mod keeper;
pub mod settings;
pub mod setup;
pub mod tokens;

pub use account::{AccountStatus, SignUpResult, Team, VerifyInput, VerifyKind};
pub use files::TeamStorage;
pub use settings::{TeamSettingsInput, TeamSettingsView};
pub use setup::{RetryBackoff, TeamSetup};
pub use tokens::TeamTokens;
