//! The session keeper: a background task that refreshes the access token before it expires
//! and, while the sign-in service cannot be reached, retries with backoff, so the session is
//! fresh again soon after the network returns. A failure to reach the server never signs the
//! user out (see `auth::session`); only the server's refusal does.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::account::Team;
use crate::auth::AuthError;
use crate::data::local::LocalStore;

/// How long the keeper sleeps when there is nothing to refresh (no project, not signed in);
/// a sign-in or settings change wakes it sooner.
const IDLE: Duration = Duration::from_secs(600);
/// Never wait less than this before a planned refresh (a clock jump must not spin the loop).
const MIN_WAIT: Duration = Duration::from_secs(1);

impl Team {
    /// Starts the keeper on the current tokio runtime (once; later calls do nothing).
    pub fn start_keeper(self: &Arc<Self>, store: LocalStore) {
        let Ok(mut slot) = self.keeper.lock() else {
            return;
        };
        if slot.is_some() {
            return;
        }
        let team = Arc::downgrade(self);
        let wake = self.wake.clone();
        *slot = Some(tokio::spawn(run(team, wake, store)));
    }

    /// Stops the keeper (the app is closing).
    pub fn stop_keeper(&self) {
        if let Ok(mut slot) = self.keeper.lock()
            && let Some(handle) = slot.take()
        {
            handle.abort();
        }
    }
}

async fn run(team: Weak<Team>, wake: Arc<tokio::sync::Notify>, store: LocalStore) {
    let mut failures = 0u32;
    loop {
        let Some(strong) = team.upgrade() else {
            return;
        };
        let wait = step(&strong, &store, &mut failures).await;
        drop(strong);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
    }
}

/// One round: refresh if due; returns how long to wait before the next round.
async fn step(team: &Team, store: &LocalStore, failures: &mut u32) -> Duration {
    let manager = match team.session(store).await {
        Ok(Some(m)) => m,
        Ok(None) => return IDLE,
        Err(e) => {
            tracing::warn!(error = %e, "team settings unreadable; the session keeper waits");
            return IDLE;
        }
    };
    let Ok(status) = manager.status().await else {
        return IDLE;
    };
    let Some(expires_at) = status.expires_at.filter(|_| status.signed_in) else {
        *failures = 0;
        return IDLE;
    };
    let clock = &team.setup.clock;
    let margin = chrono::Duration::from_std(crate::auth::session::DEFAULT_REFRESH_MARGIN)
        .unwrap_or_default();
    let due = expires_at - margin;
    let now = clock.wall();
    if due > now && *failures == 0 {
        return (due - now)
            .to_std()
            .unwrap_or(MIN_WAIT)
            .clamp(MIN_WAIT, IDLE);
    }
    let mut outcome = manager.access_token().await.map(drop);
    // A token that is still valid comes back even when its refresh failed: only a new expiry
    // says the refresh worked. Otherwise this is a failure to reach the server like any other
    // (and must back off, not retry every second).
    if outcome.is_ok()
        && let Ok(after) = manager.status().await
        && after
            .expires_at
            .is_some_and(|at| at - margin <= clock.wall())
    {
        outcome = Err(AuthError::Network(
            "the session could not be refreshed; its token is still valid for now".into(),
        ));
    }
    team.observe(&outcome);
    match outcome {
        Ok(()) => {
            *failures = 0;
            MIN_WAIT
        }
        Err(e) if e.is_transient() => {
            *failures = failures.saturating_add(1);
            let wait = match &e {
                AuthError::RateLimited {
                    retry_after: Some(d),
                } => (*d).max(team.setup.retry.wait(*failures)),
                _ => team.setup.retry.wait(*failures),
            };
            if let Ok(mut link) = team.link.lock() {
                link.next_retry_at =
                    Some(now + chrono::Duration::from_std(wait).unwrap_or_default());
            }
            tracing::info!(error = %e, retry_in_ms = wait.as_millis() as u64, "session refresh deferred");
            wait
        }
        Err(e) => {
            // Session ended (cleared by the manager) or refused: nothing to retry.
            tracing::info!(error = %e, "session refresh refused");
            *failures = 0;
            IDLE
        }
    }
}
