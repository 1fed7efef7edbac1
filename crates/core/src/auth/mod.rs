//! Team accounts on Supabase Auth: sign up, sign in with email and password, email
//! confirmation, password reset, sign-out, and a session kept fresh and saved in the OS keyring.
//!
//! - [`client`]: the HTTP client for `{SUPABASE_URL}/auth/v1` (and why it is not the
//!   `supabase-auth` crate).
//! - [`session`]: the saved session and the manager that refreshes it.
//! - [`error`]: failures, split into "could not reach" (keep the session) and "rejected".
//!
//! Deliberately left out: OAuth providers, phone and MFA, and anything that would put a token in
//! the webview. The UI learns only [`SessionStatus`].

pub mod client;
pub mod error;
pub mod session;

pub use client::{AuthClient, SignOutScope, SignUpOutcome, User, VerifyToken, VerifyType};
pub use error::AuthError;
pub use session::{
    KeyringVault, MemoryVault, Session, SessionManager, SessionStatus, SessionStore, SessionUser,
    SessionVault, SignOutReport,
};

/// The environment variables the CLI reads (the names Supabase's own tools use).
pub const ENV_URL: &str = "SUPABASE_URL";
pub const ENV_ANON_KEY: &str = "SUPABASE_ANON_KEY";
