//! The providers' health: the chain's own view of each provider (breaker, misconfigured key,
//! retired model, last error, latency p50/p95 of recent attempts), plus an active probe that
//! costs no tokens (the models list), cached for [`PROBE_TTL_SECS`].
//!
//! This is the `providers` section of `salesdesk health --json`. Nothing in it is ever a key:
//! only whether one is set and where it comes from.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

use super::ProviderId;
use super::breaker::BreakerState;
use super::chain::Chain;
use super::failure::FailureClass;
use super::models::{ModelStatus, check};
use super::provider::{AttemptContext, ModelInfo};
use super::state::percentile;
use crate::time::format_rfc3339;

/// A probe younger than this is reused rather than repeated.
pub const PROBE_TTL_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct ProviderHealth {
    pub provider: ProviderId,
    pub enabled: bool,
    pub key_set: bool,
    /// `keyring`, `environment`, ...; `null` when no key is set.
    pub key_source: Option<String>,
    pub base_url: String,
    pub model: String,
    pub fallback_model: Option<String>,
    pub breaker: BreakerState,
    /// RFC 3339; when an open breaker lets a probe through.
    pub open_until: Option<String>,
    pub open_reason: Option<String>,
    /// Why the key is considered wrong (it was refused); cleared when the key changes.
    pub misconfigured: Option<String>,
    /// Models that answered 404 at call time.
    pub missing_models: Vec<String>,
    /// From the latest probe, when there is one.
    pub model_status: Option<ModelStatus>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub last_success_at: Option<String>,
    /// Attempts in the recent window (up to 200), and how many failed.
    pub recent_attempts: u32,
    pub recent_failures: u32,
    pub latency_p50_ms: Option<u32>,
    pub latency_p95_ms: Option<u32>,
    pub probe: Option<ProbeResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct ProbeResult {
    pub ok: bool,
    pub status: Option<u16>,
    pub latency_ms: u32,
    /// What failed, written for the user; never a key.
    pub error: Option<String>,
    /// How many models the provider lists.
    pub models_listed: u32,
    pub checked_at: String,
    /// `true` when this result was reused from an earlier probe.
    pub cached: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SavedProbe {
    probe: ProbeResult,
    model_status: Option<ModelStatus>,
}

impl Chain {
    /// The chain's view of every provider, without any network call.
    pub async fn providers_health(&self) -> Vec<ProviderHealth> {
        let mut out = Vec::new();
        for p in ProviderId::ALL {
            out.push(self.provider_health(p).await);
        }
        out
    }

    /// Probes every enabled provider with a key, each alone (breakers ignored), through its
    /// models list; results younger than [`PROBE_TTL_SECS`] are reused unless `force`.
    pub async fn probe_providers(&self, force: bool) -> Vec<ProviderHealth> {
        let probes = ProviderId::ALL.map(|p| self.probe(p, force));
        let reused = futures_util::future::join_all(probes).await;
        self.flush().await;
        let mut report = self.providers_health().await;
        for (health, reused) in report.iter_mut().zip(reused) {
            if let Some(probe) = &mut health.probe {
                probe.cached = reused;
            }
        }
        report
    }

    async fn provider_health(&self, p: ProviderId) -> ProviderHealth {
        let settings = self.settings();
        let pset = settings.provider(p);
        let key = self.key(p).await.ok().flatten();
        let state = self.breakers.snapshot(p);
        let (mut latencies, attempts, failures) = {
            let recent = self.recent.lock().ok();
            let window = recent
                .as_ref()
                .and_then(|r| r.get(&p).cloned())
                .unwrap_or_default();
            let lat: Vec<u32> = window
                .iter()
                .filter(|s| s.outcome == "ok")
                .map(|s| s.latency_ms)
                .collect();
            let failures = window.iter().filter(|s| s.outcome != "ok").count();
            (lat, window.len(), failures)
        };
        latencies.sort_unstable();
        let saved = self
            .state
            .load_probe(p)
            .await
            .ok()
            .flatten()
            .and_then(|(v, _)| serde_json::from_value::<SavedProbe>(v).ok());
        let misconfigured = match (&state.misconfigured, &key) {
            (Some(m), Some((k, _))) if m.key_fingerprint == k.fingerprint() => {
                Some(m.reason.clone())
            }
            _ => None,
        };
        ProviderHealth {
            provider: p,
            enabled: pset.enabled,
            key_set: key.is_some(),
            key_source: key.as_ref().map(|(_, s)| (*s).to_owned()),
            base_url: settings.base_url(p),
            model: pset.model.clone(),
            fallback_model: pset.fallback_model.clone(),
            breaker: state.breaker,
            open_until: state.open_until.map(format_rfc3339),
            open_reason: state.open_reason.clone(),
            misconfigured,
            missing_models: state.missing_models.keys().cloned().collect(),
            model_status: saved.as_ref().and_then(|s| s.model_status.clone()),
            last_error: state.last_error.clone(),
            last_error_at: state.last_error_at.map(format_rfc3339),
            last_success_at: state.last_success_at.map(format_rfc3339),
            recent_attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            recent_failures: u32::try_from(failures).unwrap_or(u32::MAX),
            latency_p50_ms: percentile(&latencies, 50),
            latency_p95_ms: percentile(&latencies, 95),
            // Read back from the store: an earlier probe's result.
            probe: saved.map(|s| ProbeResult {
                cached: true,
                ..s.probe
            }),
        }
    }

    /// Probes one provider; returns `true` when a recent result was reused instead.
    async fn probe(&self, p: ProviderId, force: bool) -> bool {
        let settings = self.settings();
        if !settings.provider(p).enabled {
            return true;
        }
        let Ok(Some((key, _))) = self.key(p).await else {
            return true;
        };
        let now = self.clock.wall();
        if !force
            && let Ok(Some((_, at))) = self.state.load_probe(p).await
            && (now - at).num_seconds() < PROBE_TTL_SECS
        {
            return true;
        }
        let Some(provider) = self.provider(p).cloned() else {
            return true;
        };
        let endpoint = settings.endpoint(p, key.clone());
        let timeout = Duration::from_millis(settings.timeouts.first_byte_ms.min(15_000).into());
        let ctx = AttemptContext {
            first_byte: timeout,
            wall_now: now,
        };
        let t0 = Instant::now();
        let result: Result<Vec<ModelInfo>, _> =
            match tokio::time::timeout(timeout * 2, provider.list_models(&endpoint, ctx)).await {
                Ok(r) => r,
                Err(_) => Err(super::failure::ProviderFailure::new(
                    super::failure::FailureKind::Timeout(super::failure::TimeoutPhase::Total),
                    "the models list did not answer in time",
                )),
            };
        let latency_ms = u32::try_from(t0.elapsed().as_millis()).unwrap_or(u32::MAX);
        let saved = match result {
            Ok(list) => {
                let status = check(&settings.provider(p).model, &list, now);
                if status.listed {
                    let changed = self.breakers.clear_model_missing(p, &status.model);
                    self.persist(changed);
                }
                SavedProbe {
                    probe: ProbeResult {
                        ok: true,
                        status: Some(200),
                        latency_ms,
                        error: None,
                        models_listed: u32::try_from(list.len()).unwrap_or(u32::MAX),
                        checked_at: format_rfc3339(now),
                        cached: false,
                    },
                    model_status: Some(status),
                }
            }
            Err(failure) => {
                if failure.class() == FailureClass::Misconfigured {
                    let changed = self.breakers.mark_misconfigured(
                        p,
                        key.fingerprint(),
                        failure.to_string(),
                        now,
                    );
                    self.persist(changed);
                }
                SavedProbe {
                    probe: ProbeResult {
                        ok: false,
                        status: failure.status,
                        latency_ms,
                        error: Some(failure.to_string()),
                        models_listed: 0,
                        checked_at: format_rfc3339(now),
                        cached: false,
                    },
                    model_status: None,
                }
            }
        };
        tracing::info!(provider = %p, ok = saved.probe.ok, latency_ms, "provider probe");
        if let Ok(v) = serde_json::to_value(&saved) {
            self.state.save_probe(p, v, now);
        }
        false
    }
}

/// Whether any enabled provider with a key is usable now (not misconfigured, breaker not open).
pub fn any_usable(report: &[ProviderHealth]) -> bool {
    report.iter().any(|h| {
        h.enabled && h.key_set && h.misconfigured.is_none() && h.breaker != BreakerState::Open
    })
}
