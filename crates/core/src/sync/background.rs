//! The sync engine's lifecycle in an app that stays open (the desktop): running while a team
//! database is set up and someone is signed in, restarted when the database or the user
//! changes, stopped on sign-out.
//!
//! It never waits on the network to start: the team database pool connects lazily, so an
//! offline start shows the local data at once and the engine's own backoff finds the server
//! again. Deliberately left out: the rounds themselves (`engine`) and when they run
//! (`triggers`).

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

use super::engine::{SyncConfig, SyncEngine, SyncReport};
use super::status::{self, RoundRecord, SyncState, SyncStatus};
use super::triggers::SyncHandle;
use crate::data::local::LocalStore;
use crate::data::remote::{PoolerMode, RemoteConfig, RemoteStore};
use crate::error::{CoreError, Result};
use crate::secrets::SecretString;
use crate::team::{Team, TeamTokens};

/// How often the supervisor looks again at the settings and the session on its own (a session
/// the server ended, a password changed in the keyring). Sign-in, sign-out and settings saved
/// through [`crate::Salesdesk`] wake it at once.
const RECHECK: Duration = Duration::from_secs(30);
/// How long a stop waits for a running round before cutting it short (it is safe to: every
/// step commits on its own and the outbox keeps what was not acknowledged).
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What the engine runs for: the team database and the user. A change of either restarts it.
struct Target {
    url: SecretString,
    user_id: String,
}

impl Target {
    fn same_as(&self, other: &Target) -> bool {
        self.url.expose() == other.url.expose() && self.user_id == other.user_id
    }
}

struct Running {
    target: Target,
    handle: SyncHandle,
    remote: RemoteStore,
}

/// Why there is no engine running, for "sync now".
enum Idle {
    LocalMode,
    NoDatabase,
    SignedOut,
}

/// The background sync of one data directory. Cheap to share (`Arc`).
pub struct BackgroundSync {
    config: SyncConfig,
    running: Mutex<Option<Running>>,
    changed: Arc<Notify>,
    supervisor: StdMutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for BackgroundSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackgroundSync")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for BackgroundSync {
    fn default() -> Self {
        Self::new(SyncConfig::default())
    }
}

impl BackgroundSync {
    pub fn new(config: SyncConfig) -> Self {
        Self {
            config,
            running: Mutex::new(None),
            changed: Arc::new(Notify::new()),
            supervisor: StdMutex::new(None),
        }
    }

    /// Starts the supervisor on the current tokio runtime (once; later calls do nothing). It
    /// looks at the settings and the session now, on every [`Self::changed`] and every 30 s.
    pub fn start(self: &Arc<Self>, team: Arc<Team>, store: LocalStore) {
        let Ok(mut slot) = self.supervisor.lock() else {
            return;
        };
        if slot.is_some() {
            return;
        }
        let this = Arc::downgrade(self);
        let changed = self.changed.clone();
        *slot = Some(tokio::spawn(async move {
            loop {
                // Held only for the check, so dropping the last handle ends the loop.
                let Some(sync) = this.upgrade() else {
                    return;
                };
                sync.reconcile(&team, &store).await;
                drop(sync);
                tokio::select! {
                    () = tokio::time::sleep(RECHECK) => {}
                    () = changed.notified() => {}
                }
            }
        }));
    }

    /// The settings or the session changed: look again now.
    pub fn changed(&self) {
        self.changed.notify_one();
    }

    /// Whether an engine is running (team database set up, someone signed in).
    pub async fn is_running(&self) -> bool {
        self.running.lock().await.is_some()
    }

    /// The status as the UI shows it: the running engine's (which knows a round is under way)
    /// or the one recorded in the store.
    pub async fn status(&self, store: &LocalStore) -> Result<SyncStatus> {
        let engine = self
            .running
            .lock()
            .await
            .as_ref()
            .map(|r| r.handle.engine().clone());
        match engine {
            Some(engine) => engine.status().await,
            None => status::read(store).await,
        }
    }

    /// Brings the engine in line with the settings and the session: starts, restarts or stops
    /// it. Never touches the network.
    pub async fn reconcile(&self, team: &Arc<Team>, store: &LocalStore) {
        if let Err(idle) = self.reconcile_inner(team, store).await {
            tracing::debug!(reason = idle.as_str(), "background sync not running");
        }
    }

    async fn reconcile_inner(
        &self,
        team: &Arc<Team>,
        store: &LocalStore,
    ) -> std::result::Result<(), Idle> {
        let wanted = wanted(team, store).await;
        let mut running = self.running.lock().await;
        if let (Ok(target), Some(current)) = (&wanted, running.as_ref())
            && current.target.same_as(target)
        {
            return Ok(());
        }
        if let Some(old) = running.take() {
            stop(old).await;
            // Say so until the next engine's first round says otherwise.
            if matches!(wanted, Err(Idle::SignedOut | Idle::LocalMode)) {
                record_idle(store, SyncState::SignedOut, None).await;
            }
        }
        let target = wanted?;
        match self.launch(team, store, target) {
            Ok(started) => {
                tracing::info!("background sync started");
                *running = Some(started);
                Ok(())
            }
            Err(e) => {
                // A URL that cannot be used: the user must fix it in Settings > Team, and the
                // Status page says so. Writes stay queued meanwhile.
                tracing::warn!(error = %e, "background sync cannot start");
                record_idle(store, SyncState::Offline, Some(&e.to_string())).await;
                Err(Idle::NoDatabase)
            }
        }
    }

    fn launch(&self, team: &Arc<Team>, store: &LocalStore, target: Target) -> Result<Running> {
        let config = RemoteConfig::from_url(target.url.expose())?;
        let pool = config.connect_lazy()?;
        // LISTEN needs a server session of its own, which a transaction pooler does not keep.
        let listen = (config.pooler() == PoolerMode::Session).then(|| pool.clone());
        let remote = RemoteStore::from_pool(pool);
        let engine = Arc::new(SyncEngine::with_config(
            store.clone(),
            remote.clone(),
            Arc::new(TeamTokens::new(team.clone(), store.clone())),
            self.config.clone(),
        ));
        Ok(Running {
            target,
            handle: engine.start(listen),
            remote,
        })
    }

    /// One round now ("Sync now"): after looking at the settings and the session again, so a
    /// sign-in a moment ago is included. Errors say why nothing could be synced.
    pub async fn sync_now(&self, team: &Arc<Team>, store: &LocalStore) -> Result<SyncReport> {
        let idle = self.reconcile_inner(team, store).await.err();
        let engine = self
            .running
            .lock()
            .await
            .as_ref()
            .map(|r| r.handle.engine().clone());
        match (engine, idle) {
            (Some(engine), _) => engine.sync_once().await,
            (None, Some(Idle::LocalMode)) => Err(CoreError::TeamNotConfigured),
            (None, Some(Idle::SignedOut)) => Err(crate::auth::AuthError::NotSignedIn.into()),
            (None, _) => Err(CoreError::InvalidInput(
                "no usable team database is set: enter its connection URL and password in \
                 Settings > Team (the Status page shows what is wrong with the saved one)"
                    .into(),
            )),
        }
    }

    /// Stops the supervisor and the engine (the app is closing).
    pub async fn stop(&self) {
        if let Ok(mut slot) = self.supervisor.lock()
            && let Some(task) = slot.take()
        {
            task.abort();
        }
        if let Some(old) = self.running.lock().await.take() {
            stop(old).await;
        }
    }
}

impl Idle {
    fn as_str(&self) -> &'static str {
        match self {
            Idle::LocalMode => "local mode",
            Idle::NoDatabase => "no usable team database",
            Idle::SignedOut => "signed out",
        }
    }
}

/// The target the settings and the session call for, or why there is none. No network: the
/// account status is what the device knows.
async fn wanted(team: &Team, store: &LocalStore) -> std::result::Result<Target, Idle> {
    let account = match team.status(store).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "team settings unreadable; background sync waits");
            return Err(Idle::LocalMode);
        }
    };
    if !account.configured {
        return Err(Idle::LocalMode);
    }
    // Signed in first: the database URL's password is a keyring read, not worth doing for
    // nothing every 30 s.
    let (true, Some(user_id)) = (account.signed_in, account.user_id) else {
        return Err(Idle::SignedOut);
    };
    match team.database_url(store).await {
        Ok(Some(url)) => Ok(Target { url, user_id }),
        Ok(None) => Err(Idle::NoDatabase),
        Err(e) => {
            tracing::warn!(error = %e, "team database URL unreadable; background sync waits");
            Err(Idle::NoDatabase)
        }
    }
}

async fn stop(old: Running) {
    if tokio::time::timeout(STOP_GRACE, old.handle.stop())
        .await
        .is_err()
    {
        tracing::info!("a sync round was cut short by a stop; its work is kept in the outbox");
    }
    let _ = tokio::time::timeout(STOP_GRACE, old.remote.close()).await;
    tracing::info!("background sync stopped");
}

async fn record_idle(store: &LocalStore, state: SyncState, error: Option<&str>) {
    let recorded = status::record(
        store,
        RoundRecord {
            state,
            user_id: None,
            pushed: false,
            pulled: false,
            error,
        },
    )
    .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "cannot record the sync state");
    }
}
