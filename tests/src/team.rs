//! A Supabase project for team-mode tests through the `Salesdesk` handle: a real PostgreSQL
//! test database, the Auth fake writing its users to it, and the Storage fake checking the same
//! project's tokens; devices opened against it and users signed in.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::ai::ManualClock;
use salesdesk_core::auth::MemoryVault;
use salesdesk_core::secrets::SecretString;
use salesdesk_core::team::{RetryBackoff, TeamSettingsInput, TeamSetup};
use salesdesk_core::{DataPaths, Salesdesk};

use crate::fakes::supabase_auth::SupabaseAuthFake;
use crate::fakes::supabase_storage::StorageFake;
use crate::isolated::IsolatedEnv;
use crate::supabase::TestDb;

/// The project's anon key (not a real one).
pub const ANON: &str = "test-anon-key-not-real";
/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

pub struct TeamProject {
    pub db: TestDb,
    /// Sign-up needs no email confirmation.
    pub auth: SupabaseAuthFake,
    pub storage: StorageFake,
}

impl TeamProject {
    pub async fn start() -> Self {
        let db = TestDb::new().await.expect("test database");
        let auth = SupabaseAuthFake::with_db(ANON, db.jwt_secret(), db.admin.clone()).await;
        auth.set_confirm_email(false);
        let storage = StorageFake::start(db.jwt_secret()).await;
        Self { db, auth, storage }
    }

    /// The app on `dir` in team mode with `setup`'s vaults, its Storage on this project's fake.
    pub async fn open(&self, dir: &Path, setup: TeamSetup) -> Salesdesk {
        open_device(dir, setup, &self.storage).await
    }

    /// Points `core` at the project, signs `email` up (when `new`) and in with [`PASSWORD`];
    /// returns the user id.
    pub async fn sign_in(&self, core: &Salesdesk, email: &str, new: bool) -> String {
        core.save_team_settings(TeamSettingsInput {
            supabase_url: Some(self.auth.project_url()),
            anon_key: Some(ANON.into()),
            database_url: Some(self.db.app_url()),
            database_password: None,
        })
        .await
        .unwrap();
        if new {
            core.sign_up(email, &SecretString::new(PASSWORD))
                .await
                .unwrap();
        }
        let status = core
            .sign_in(email, &SecretString::new(PASSWORD))
            .await
            .unwrap();
        status.user_id.expect("user id")
    }
}

/// The app on `dir` in team mode with `setup`'s vaults, its Storage client pointed at
/// `storage` (on Supabase, Auth and Storage share one project URL; the fakes listen apart).
pub async fn open_device(dir: &Path, setup: TeamSetup, storage: &StorageFake) -> Salesdesk {
    let origin = storage.origin();
    Salesdesk::open(DataPaths::at(dir))
        .await
        .unwrap()
        .with_team(setup)
        .with_storage_config(move |c| {
            c.project_url = origin.clone();
            c.retry_backoff = Duration::from_millis(10);
            c.request_timeout = Duration::from_secs(5);
        })
}

/// Team mode with fresh in-memory vaults (a device that keeps nothing across processes).
pub fn memory_vaults() -> TeamSetup {
    TeamSetup::with_vaults(
        Arc::new(MemoryVault::default()),
        Arc::new(MemoryVault::default()),
    )
}

/// A device for session tests: session and password vaults in memory (kept across restarts of
/// the handle), a clock the test moves, and network timeouts and retries short enough for a
/// test.
pub struct ClockedDevice {
    pub session: Arc<MemoryVault>,
    pub password: Arc<MemoryVault>,
    pub clock: Arc<ManualClock>,
}

impl Default for ClockedDevice {
    fn default() -> Self {
        Self::new()
    }
}

impl ClockedDevice {
    pub fn new() -> Self {
        Self {
            session: Arc::new(MemoryVault::default()),
            password: Arc::new(MemoryVault::default()),
            clock: Arc::new(ManualClock::new()),
        }
    }

    /// Team mode on this device's vaults and clock.
    pub fn setup(&self) -> TeamSetup {
        let mut setup = TeamSetup::with_vaults(self.session.clone(), self.password.clone());
        setup.clock = self.clock.clone();
        setup.connect_timeout = Duration::from_secs(1);
        setup.request_timeout = Duration::from_millis(800);
        setup.retry = RetryBackoff {
            base: Duration::from_millis(40),
            max: Duration::from_millis(200),
        };
        setup
    }

    /// The app on `env`'s data directory in team mode on this device's vaults and clock.
    pub async fn open(&self, env: &IsolatedEnv) -> Salesdesk {
        Salesdesk::open(DataPaths::at(env.data_dir()))
            .await
            .unwrap()
            .with_team(self.setup())
    }
}

/// How long to wait for a background task's effect, and how often to look.
pub struct Patience {
    pub within: Duration,
    pub poll: Duration,
}

impl Patience {
    /// Polls `cond` until it holds; fails naming `what` after `within`.
    pub async fn until<F, Fut>(&self, what: &str, cond: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = std::time::Instant::now();
        while !cond().await {
            assert!(
                start.elapsed() < self.within,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(self.poll).await;
        }
    }
}
