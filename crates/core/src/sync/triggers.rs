//! When rounds run: at start, on a timer (the fallback), shortly after local writes
//! (debounced), when the front end says the network is back or asks for "sync now", and on
//! realtime notices from Postgres (`LISTEN salesdesk_changes`, raised by the triggers of
//! `migrations/remote/20261126000006_realtime.sql`).
//!
//! The listener needs a session connection (LISTEN state lives in the server session, which a
//! transaction-mode pooler does not keep): give it a pool on the direct connection or the
//! session pooler. Without one, or while it cannot connect, the periodic round still runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::engine::SyncEngine;
use crate::ErrorKind;

/// The notification channel; the payload is only a table name.
pub const CHANNEL: &str = "salesdesk_changes";

/// The running background sync. Dropping it stops the tasks.
#[derive(Debug)]
pub struct SyncHandle {
    engine: Arc<SyncEngine>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl SyncEngine {
    /// Starts the background loop (a round at once) and, with `listen`, the realtime listener.
    pub fn start(self: Arc<Self>, listen: Option<PgPool>) -> SyncHandle {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(run_loop(self.clone(), stopped.clone()))];
        if let Some(pool) = listen {
            tasks.push(tokio::spawn(listen_loop(self.clone(), pool, stopped)));
        }
        SyncHandle {
            engine: self,
            stop,
            tasks,
        }
    }
}

impl SyncHandle {
    pub fn engine(&self) -> &Arc<SyncEngine> {
        &self.engine
    }

    /// A round now ("sync now", or the network is back).
    pub fn sync_now(&self) {
        self.engine.wake();
    }

    /// Stops the tasks, letting a running round finish.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn run_loop(engine: Arc<SyncEngine>, mut stop: watch::Receiver<bool>) {
    let mut writes = engine.store.subscribe_writes();
    writes.borrow_and_update();
    let mut failures = 0u32;
    loop {
        let wait = match engine.sync_once().await {
            Ok(_) => {
                failures = 0;
                engine.config.period
            }
            // Nothing to retry until someone signs in (which wakes us through sync_now).
            Err(e) if e.kind() == ErrorKind::SignedOut => {
                failures = 0;
                engine.config.period
            }
            Err(_) => {
                failures = failures.saturating_add(1);
                engine
                    .config
                    .backoff(failures)
                    .clamp(Duration::from_millis(50), engine.config.period)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            changed = writes.changed() => {
                if changed.is_err() {
                    return;
                }
                // Debounce: let a burst of writes finish, then push them together.
                tokio::select! {
                    () = tokio::time::sleep(engine.config.debounce) => {}
                    _ = stop.changed() => return,
                }
                writes.borrow_and_update();
            }
            () = engine.wake.notified() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

async fn listen_loop(engine: Arc<SyncEngine>, pool: PgPool, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    // At most one follow-up pull waiting, however many notices arrive meanwhile.
    let follow_up_pending = Arc::new(AtomicBool::new(false));
    loop {
        let connected = AtomicBool::new(false);
        let session = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            connected.store(true, Ordering::SeqCst);
            // (Re)connected: anything missed while not listening is caught by a pull now.
            engine.wake();
            tracing::debug!("listening for team database changes");
            loop {
                match listener.try_recv().await? {
                    Some(_notice) => {
                        engine.wake();
                        if !follow_up_pending.swap(true, Ordering::SeqCst) {
                            let (later, pending) = (engine.clone(), follow_up_pending.clone());
                            tokio::spawn(async move {
                                tokio::time::sleep(later.config.realtime_follow_up).await;
                                pending.store(false, Ordering::SeqCst);
                                later.wake();
                            });
                        }
                    }
                    // The connection dropped (PgListener reconnects on the next call); a
                    // notice may have been lost meanwhile.
                    None => engine.wake(),
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            result = session => {
                if let Err(e) = result {
                    tracing::info!(error = %e, "realtime listener disconnected; periodic sync continues");
                }
            }
            _ = stop.changed() => return,
        }
        failures = if connected.load(Ordering::SeqCst) {
            1
        } else {
            failures.saturating_add(1)
        };
        tokio::select! {
            () = tokio::time::sleep(engine.config.backoff(failures).max(Duration::from_millis(100))) => {}
            _ = stop.changed() => return,
        }
    }
}
