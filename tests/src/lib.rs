//! Salesdesk's test kit: real components that can run here, the harness for the real desktop
//! app, and wire-faithful fakes of the remote services that cannot run on a test machine.
//! Nothing here is product code: the desktop app and the CLI never link it.
//!
//! - [`isolated`]: a test's own data directory, HOME and XDG folders.
//! - [`desktop`]: the built desktop app driven over WebDriver (tauri-driver).
//! - [`pg`]: a throwaway PostgreSQL cluster (initdb into a temp dir, a free port on 127.0.0.1),
//!   torn down on drop and killed with the test process.
//! - [`supabase`]: that cluster dressed as a Supabase project (roles, `auth` schema), with
//!   Salesdesk's remote migrations applied, users and sessions, and access tokens minted like
//!   Supabase Auth's.
//! - [`fakes`]: Gemini, OpenAI and Anthropic as their published APIs behave, with faults; and
//!   Supabase Auth ([`fakes::supabase_auth`]), optionally writing its sessions to a [`supabase`]
//!   test database.
//! - [`harness`], [`logs`]: shared set-up for the AI chain tests and captured log output.
//! - [`netcut`]: a TCP proxy a test can cut and restore (network loss mid-sync).
//! - [`gateway`]: a stand-in for the API gateway in front of a bare Storage server (the
//!   storage conformance test).
//! - [`sync`]: devices (local store + sync engine) for the sync tests and benchmark.
//! - [`team`]: a test database with the Auth and Storage fakes as one project, for team mode.
//! - [`webdriver`]: the WebDriver steps the desktop tests share (session, wait, click, read).
//! - [`keyring`]: re-running a test inside a private, unlocked gnome-keyring.
//! - [`rls`]: acting as a signed-in user on the app role's connection (row-level security).
//! - [`storage`]: test files, digests and clients shared by the storage-client tests.

pub mod desktop;
pub mod fakes;
pub mod gateway;
pub mod harness;
pub mod isolated;
pub mod keyring;
pub mod logs;
pub mod netcut;
pub mod pg;
pub mod rls;
pub mod storage;
pub mod supabase;
pub mod sync;
pub mod team;
pub mod webdriver;
