//! Circuit breakers, one per provider, shared by every capability.
//!
//! Closed: traffic flows; consecutive failed attempts are counted. At the threshold the
//! breaker opens: the provider gets no traffic and adds no latency. After the cool-down one
//! call is let through as a half-open probe; success closes the breaker, failure reopens it
//! with twice the cool-down (capped). A quota that will not come back soon, or a retry hint
//! longer than the chain waits, opens it straight away until the reset.
//!
//! Separate from the breaker: a provider whose key was refused (401/403) is "misconfigured"
//! until its key changes (tracked by fingerprint, never the key).
//!
//! The state lives in memory for speed; every change is handed to [`super::state`] to be saved,
//! so a restarted app or a new CLI process starts from what the last one learned.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ProviderId;
use super::settings::BreakerSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    #[default]
    Closed,
    Open,
    HalfOpen,
}

/// Everything the chain remembers about one provider (saved as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProviderState {
    pub breaker: BreakerState,
    pub consecutive_failures: u32,
    pub open_until: Option<DateTime<Utc>>,
    pub open_reason: Option<String>,
    /// The cool-down the next failed probe doubles.
    pub cooldown_ms: u64,
    /// The fingerprint of the key that was refused, and why.
    pub misconfigured: Option<Misconfigured>,
    /// Models that answered "not found", with when.
    pub missing_models: BTreeMap<String, DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the current half-open probe started (not saved: a probe dies with its process).
    #[serde(skip)]
    pub probe_started: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Misconfigured {
    pub key_fingerprint: String,
    pub reason: String,
}

/// Whether a call may go to a provider now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allow,
    /// The breaker was open and its cool-down is over: this call is the probe.
    Probe,
    Reject {
        until: Option<DateTime<Utc>>,
    },
}

/// A state change the caller must persist.
pub type Changed = Option<(ProviderId, ProviderState)>;

#[derive(Debug)]
pub struct Breakers {
    states: Mutex<HashMap<ProviderId, ProviderState>>,
    settings: Mutex<BreakerSettings>,
    /// A probe older than this is presumed dead (its call was cancelled) and replaced.
    probe_lease: Duration,
}

impl Breakers {
    pub fn new(
        settings: BreakerSettings,
        loaded: HashMap<ProviderId, ProviderState>,
        probe_lease: Duration,
    ) -> Self {
        Self {
            states: Mutex::new(loaded),
            settings: Mutex::new(settings),
            probe_lease,
        }
    }

    pub fn set_settings(&self, settings: BreakerSettings) {
        if let Ok(mut s) = self.settings.lock() {
            *s = settings;
        }
    }

    fn settings(&self) -> BreakerSettings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn with<R>(&self, p: ProviderId, f: impl FnOnce(&mut ProviderState) -> R) -> R {
        let mut states = match self.states.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(states.entry(p).or_default())
    }

    pub fn snapshot(&self, p: ProviderId) -> ProviderState {
        self.with(p, |s| s.clone())
    }

    pub fn admit(&self, p: ProviderId, now: DateTime<Utc>) -> (Admission, Changed) {
        let lease = chrono::Duration::from_std(self.probe_lease).unwrap_or_default();
        self.with(p, |s| match s.breaker {
            BreakerState::Closed => (Admission::Allow, None),
            BreakerState::Open | BreakerState::HalfOpen => {
                let cooled = s.open_until.is_none_or(|until| now >= until);
                let probe_live = s.probe_started.is_some_and(|t| now - t < lease);
                if cooled && !probe_live {
                    s.breaker = BreakerState::HalfOpen;
                    s.probe_started = Some(now);
                    (Admission::Probe, Some((p, s.clone())))
                } else {
                    (
                        Admission::Reject {
                            until: s.open_until,
                        },
                        None,
                    )
                }
            }
        })
    }

    /// The provider answered well.
    pub fn on_success(&self, p: ProviderId, now: DateTime<Utc>) -> Changed {
        let base = u64::from(self.settings().cooldown_ms);
        self.with(p, |s| {
            let changed = s.breaker != BreakerState::Closed
                || s.consecutive_failures != 0
                || s.misconfigured.is_some();
            s.breaker = BreakerState::Closed;
            s.consecutive_failures = 0;
            s.open_until = None;
            s.open_reason = None;
            s.probe_started = None;
            s.cooldown_ms = base;
            s.misconfigured = None;
            // Saving every success would put a disk write on every call: save transitions,
            // and refresh `last_success_at` in memory.
            s.last_success_at = Some(now);
            changed.then(|| (p, s.clone()))
        })
    }

    /// The provider answered, but the failure was about the request (400, blocked output):
    /// it is alive, so a probe counts as passed, and the failure streak is not extended.
    pub fn on_answered(&self, p: ProviderId, now: DateTime<Utc>, error: &str) -> Changed {
        let probing = self.with(p, |s| s.breaker != BreakerState::Closed);
        let changed = if probing {
            self.on_success(p, now)
        } else {
            None
        };
        self.with(p, |s| {
            s.last_error = Some(error.to_owned());
            s.last_error_at = Some(now);
        });
        changed
    }

    /// A failed attempt that counts against the provider's health.
    pub fn on_failure(&self, p: ProviderId, now: DateTime<Utc>, error: &str) -> Changed {
        let settings = self.settings();
        self.with(p, |s| {
            s.last_error = Some(error.to_owned());
            s.last_error_at = Some(now);
            s.consecutive_failures = s.consecutive_failures.saturating_add(1);
            let base = u64::from(settings.cooldown_ms);
            let max = u64::from(settings.max_cooldown_ms).max(base);
            match s.breaker {
                BreakerState::HalfOpen => {
                    s.cooldown_ms = (s.cooldown_ms.max(base)).saturating_mul(2).min(max);
                    open(
                        s,
                        now,
                        Duration::from_millis(s.cooldown_ms),
                        format!("probe failed: {error}"),
                    );
                    Some((p, s.clone()))
                }
                BreakerState::Open => None,
                BreakerState::Closed
                    if s.consecutive_failures >= settings.failure_threshold.max(1) =>
                {
                    s.cooldown_ms = base;
                    open(
                        s,
                        now,
                        Duration::from_millis(base),
                        format!(
                            "{} consecutive failures, last: {error}",
                            s.consecutive_failures
                        ),
                    );
                    Some((p, s.clone()))
                }
                BreakerState::Closed => None,
            }
        })
    }

    /// Opens the breaker until `now + for_` (a spent quota, a long retry hint). Never shortens
    /// an opening already in force.
    pub fn open_for(
        &self,
        p: ProviderId,
        now: DateTime<Utc>,
        for_: Duration,
        reason: String,
    ) -> Changed {
        self.with(p, |s| {
            let until =
                now + chrono::Duration::from_std(for_).unwrap_or(chrono::Duration::hours(1));
            if s.breaker == BreakerState::Open && s.open_until.is_some_and(|u| u >= until) {
                return None;
            }
            s.last_error = Some(reason.clone());
            s.last_error_at = Some(now);
            open(s, now, for_, reason);
            Some((p, s.clone()))
        })
    }

    pub fn mark_misconfigured(
        &self,
        p: ProviderId,
        key_fingerprint: String,
        reason: String,
        now: DateTime<Utc>,
    ) -> Changed {
        self.with(p, |s| {
            s.misconfigured = Some(Misconfigured {
                key_fingerprint,
                reason: reason.clone(),
            });
            s.last_error = Some(reason);
            s.last_error_at = Some(now);
            s.probe_started = None;
            if s.breaker == BreakerState::HalfOpen {
                s.breaker = BreakerState::Open;
            }
            Some((p, s.clone()))
        })
    }

    /// The reason the provider is misconfigured with this key, if it is. A different key
    /// clears the mark: the user fixed it.
    pub fn misconfigured(&self, p: ProviderId, key_fingerprint: &str) -> (Option<String>, Changed) {
        self.with(p, |s| match &s.misconfigured {
            Some(m) if m.key_fingerprint == key_fingerprint => (Some(m.reason.clone()), None),
            Some(_) => {
                s.misconfigured = None;
                (None, Some((p, s.clone())))
            }
            None => (None, None),
        })
    }

    /// Forgets a refused key: the user pointed the provider somewhere else (base URL, auth
    /// header style), where the same key may well be accepted.
    pub fn clear_misconfigured(&self, p: ProviderId) -> Changed {
        self.with(p, |s| s.misconfigured.take().map(|_| (p, s.clone())))
    }

    pub fn mark_model_missing(&self, p: ProviderId, model: &str, now: DateTime<Utc>) -> Changed {
        self.with(p, |s| {
            s.missing_models.insert(model.to_owned(), now);
            Some((p, s.clone()))
        })
    }

    pub fn model_missing(&self, p: ProviderId, model: &str) -> bool {
        self.with(p, |s| s.missing_models.contains_key(model))
    }

    /// Forgets a model's 404 (the user changed the model setting, or a probe found it).
    pub fn clear_model_missing(&self, p: ProviderId, model: &str) -> Changed {
        self.with(p, |s| {
            s.missing_models.remove(model).map(|_| (p, s.clone()))
        })
    }
}

fn open(s: &mut ProviderState, now: DateTime<Utc>, for_: Duration, reason: String) {
    s.breaker = BreakerState::Open;
    s.open_until =
        Some(now + chrono::Duration::from_std(for_).unwrap_or(chrono::Duration::hours(1)));
    s.open_reason = Some(reason);
    s.probe_started = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breakers() -> Breakers {
        Breakers::new(
            BreakerSettings {
                failure_threshold: 2,
                cooldown_ms: 1_000,
                max_cooldown_ms: 3_000,
                quota_open_ms: 10_000,
            },
            HashMap::new(),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn transitions() {
        let b = breakers();
        let p = ProviderId::Gemini;
        let t0 = Utc::now();
        assert_eq!(b.admit(p, t0).0, Admission::Allow);
        assert!(b.on_failure(p, t0, "e").is_none());
        assert!(b.on_failure(p, t0, "e").is_some());
        assert_eq!(b.snapshot(p).breaker, BreakerState::Open);
        assert!(matches!(b.admit(p, t0).0, Admission::Reject { .. }));
        let t1 = t0 + chrono::Duration::milliseconds(1_001);
        assert_eq!(b.admit(p, t1).0, Admission::Probe);
        // Only one probe at a time.
        assert!(matches!(b.admit(p, t1).0, Admission::Reject { .. }));
        // Failed probe: reopen with a doubled cool-down.
        b.on_failure(p, t1, "e");
        let s = b.snapshot(p);
        assert_eq!(s.breaker, BreakerState::Open);
        assert_eq!(s.cooldown_ms, 2_000);
        assert!(matches!(
            b.admit(p, t1 + chrono::Duration::milliseconds(1_500)).0,
            Admission::Reject { .. }
        ));
        let t2 = t1 + chrono::Duration::milliseconds(2_001);
        assert_eq!(b.admit(p, t2).0, Admission::Probe);
        b.on_failure(p, t2, "e");
        assert_eq!(b.snapshot(p).cooldown_ms, 3_000, "capped");
        let t3 = t2 + chrono::Duration::milliseconds(3_001);
        assert_eq!(b.admit(p, t3).0, Admission::Probe);
        assert!(b.on_success(p, t3).is_some());
        assert_eq!(b.snapshot(p).breaker, BreakerState::Closed);
        assert_eq!(b.admit(p, t3).0, Admission::Allow);
    }

    #[test]
    fn misconfigured_until_key_changes() {
        let b = breakers();
        let p = ProviderId::OpenAi;
        b.mark_misconfigured(p, "aaa".into(), "401".into(), Utc::now());
        assert!(b.misconfigured(p, "aaa").0.is_some());
        assert!(b.misconfigured(p, "bbb").0.is_none());
        assert!(
            b.misconfigured(p, "aaa").0.is_none(),
            "cleared by the new key"
        );
    }

    #[test]
    fn open_for_never_shortens() {
        let b = breakers();
        let p = ProviderId::Anthropic;
        let now = Utc::now();
        assert!(
            b.open_for(p, now, Duration::from_secs(100), "quota".into())
                .is_some()
        );
        assert!(
            b.open_for(p, now, Duration::from_secs(10), "hint".into())
                .is_none()
        );
        assert!(matches!(
            b.admit(p, now + chrono::Duration::seconds(50)).0,
            Admission::Reject { .. }
        ));
    }
}
