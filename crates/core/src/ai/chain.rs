//! The chain: one mechanism that every capability goes through.
//!
//! For one request: a fresh cached answer if there is one; else each provider of the
//! capability's list in order, skipping (at no cost) those without a key, with a refused key
//! or with an open breaker; on each, attempts with backoff or the provider's retry hint inside
//! the total deadline; the first answer that passes the capability's validation wins and is
//! cached. When every provider fails, the newest cached answer of any age is served, marked as
//! such. The capability decides what comes after that (call analysis: the offline analyzer).
//!
//! Every reply carries the provider, the model, where it was served from and the attempt log.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::breaker::{Admission, Breakers, Changed};
use super::clock::Clock;
use super::failure::{FailureClass, FailureKind, ProviderFailure, TimeoutPhase};
use super::provider::{AttemptContext, Provider, StructuredRequest};
use super::retry::RetryDecision;
use super::settings::AiSettings;
use super::state::{CachedAnswer, CallSample, RECENT_CALLS, StateStore};
use super::{Capability, ProviderId, anthropic, gemini, openai};
use crate::analysis::report::{Attempt, ServedFrom};
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::secrets::{Keys, SecretString};

/// Checks a provider's JSON against the capability's own rules (beyond what the provider's
/// structured-output feature enforces). `Err` makes the attempt a retryable failure.
pub type Validator = Arc<dyn Fn(&Value) -> std::result::Result<(), String> + Send + Sync>;

#[derive(Clone)]
pub struct ChainRequest {
    pub capability: Capability,
    pub request: StructuredRequest,
    /// A hash of everything that determines the answer (the cache key with the model).
    pub input_hash: String,
    /// Serve a fresh cached answer without calling a provider.
    pub prefer_cache: bool,
    pub validate: Validator,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChainReply {
    pub output: Value,
    pub provider: ProviderId,
    pub model: String,
    pub served_from: ServedFrom,
    /// When the answer was first produced (cache hits only).
    pub cached_at: Option<DateTime<Utc>>,
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(
        "no AI provider is set up for {capability}: add a Gemini, OpenAI or Anthropic key in \
         Settings (or GEMINI_API_KEY / OPENAI_API_KEY / ANTHROPIC_API_KEY for the CLI)"
    )]
    NothingConfigured {
        capability: &'static str,
        attempts: Vec<Attempt>,
    },
    #[error("every AI provider failed for {capability} ({summary}) and no cached answer exists")]
    AllFailed {
        capability: &'static str,
        summary: String,
        attempts: Vec<Attempt>,
    },
}

impl ChainError {
    pub fn attempts(&self) -> &[Attempt] {
        match self {
            ChainError::NothingConfigured { attempts, .. }
            | ChainError::AllFailed { attempts, .. } => attempts,
        }
    }
}

impl From<ChainError> for CoreError {
    fn from(e: ChainError) -> Self {
        CoreError::AiUnavailable(e.to_string())
    }
}

/// Draws the full-jitter fraction; injectable so tests get exact delays.
pub type Jitter = Arc<dyn Fn() -> f64 + Send + Sync>;

pub struct Chain {
    /// Swapped whole on a save; a call takes the `Arc` (no copy of the settings per call).
    settings: RwLock<Arc<AiSettings>>,
    keys: Keys,
    key_cache: Mutex<HashMap<ProviderId, Option<(SecretString, &'static str)>>>,
    providers: HashMap<ProviderId, Arc<dyn Provider>>,
    pub(crate) breakers: Breakers,
    pub(crate) state: StateStore,
    pub(crate) clock: Arc<dyn Clock>,
    jitter: Jitter,
    pub(crate) recent: Mutex<HashMap<ProviderId, VecDeque<CallSample>>>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("providers", &self.providers.keys())
            .finish_non_exhaustive()
    }
}

/// What a [`Chain`] is built from; everything external is injected.
pub struct ChainParts {
    pub settings: AiSettings,
    pub keys: Keys,
    pub store: LocalStore,
    pub clock: Arc<dyn Clock>,
    /// `None`: the real client built from the settings' connect timeout.
    pub http: Option<reqwest::Client>,
    /// `None`: uniform random.
    pub jitter: Option<Jitter>,
    /// Replaces the built-in provider of the same id (tests, future providers).
    pub providers: Vec<Arc<dyn Provider>>,
}

impl ChainParts {
    pub fn new(settings: AiSettings, keys: Keys, store: LocalStore) -> Self {
        Self {
            settings,
            keys,
            store,
            clock: Arc::new(super::clock::SystemClock::default()),
            http: None,
            jitter: None,
            providers: Vec::new(),
        }
    }
}

impl Chain {
    /// Builds the chain and loads what earlier processes learned. Must run inside tokio.
    pub async fn build(parts: ChainParts) -> Result<Self> {
        parts.settings.validate()?;
        let http = match parts.http {
            Some(c) => c,
            None => super::http_client(Duration::from_millis(
                parts.settings.timeouts.connect_ms.into(),
            ))?,
        };
        let mut providers: HashMap<ProviderId, Arc<dyn Provider>> = HashMap::new();
        providers.insert(
            ProviderId::Gemini,
            Arc::new(gemini::Gemini::new(http.clone())),
        );
        providers.insert(
            ProviderId::OpenAi,
            Arc::new(openai::OpenAi::new(http.clone())),
        );
        providers.insert(
            ProviderId::Anthropic,
            Arc::new(anthropic::Anthropic::new(http)),
        );
        for p in parts.providers {
            providers.insert(p.id(), p);
        }
        let state = StateStore::start(parts.store);
        state.load_cache_keys().await?;
        let loaded = state.load_states().await?;
        let recent = state.load_recent_calls().await?;
        let lease =
            Duration::from_millis(parts.settings.timeouts.call_ms.into()) + Duration::from_secs(5);
        Ok(Self {
            breakers: Breakers::new(parts.settings.breaker.clone(), loaded, lease),
            settings: RwLock::new(Arc::new(parts.settings)),
            keys: parts.keys,
            key_cache: Mutex::default(),
            providers,
            state,
            clock: parts.clock,
            jitter: parts.jitter.unwrap_or_else(|| Arc::new(fastrand::f64)),
            recent: Mutex::new(recent),
        })
    }

    pub fn settings(&self) -> AiSettings {
        (*self.current_settings()).clone()
    }

    /// The settings in force, shared: what a call reads.
    pub(crate) fn current_settings(&self) -> Arc<AiSettings> {
        self.settings
            .read()
            .map(|s| Arc::clone(&s))
            .unwrap_or_default()
    }

    /// Replaces the settings in force (the caller saves them with [`AiSettings::save`]).
    pub fn set_settings(&self, settings: AiSettings) -> Result<()> {
        settings.validate()?;
        self.breakers.set_settings(settings.breaker.clone());
        if let Ok(mut s) = self.settings.write() {
            for p in ProviderId::ALL {
                let (old, new) = (s.provider(p), settings.provider(p));
                if old.model != new.model {
                    let changed = self.breakers.clear_model_missing(p, &new.model);
                    self.persist(changed);
                }
                if s.base_url(p) != settings.base_url(p)
                    || old.auth_header != new.auth_header
                    || old.api_version != new.api_version
                {
                    let changed = self.breakers.clear_misconfigured(p);
                    self.persist(changed);
                }
            }
            *s = Arc::new(settings);
        }
        Ok(())
    }

    /// Sets or replaces a provider's key (in the keyring on desktop). The chain forgets the
    /// "misconfigured" mark of the old key by itself: the fingerprint changed.
    pub async fn set_key(&self, provider: ProviderId, key: SecretString) -> Result<()> {
        self.keys
            .set(provider, key)
            .await
            .map_err(CoreError::from)?;
        self.forget_key(provider);
        Ok(())
    }

    pub async fn delete_key(&self, provider: ProviderId) -> Result<()> {
        self.keys.delete(provider).await.map_err(CoreError::from)?;
        self.forget_key(provider);
        Ok(())
    }

    pub async fn key_status(&self, provider: ProviderId) -> Result<crate::secrets::KeyStatus> {
        self.keys.status(provider).await.map_err(CoreError::from)
    }

    fn forget_key(&self, provider: ProviderId) {
        if let Ok(mut cache) = self.key_cache.lock() {
            cache.remove(&provider);
        }
    }

    /// The key, from memory after the first look-up (a keyring read is a D-Bus round trip).
    pub(crate) async fn key(
        &self,
        provider: ProviderId,
    ) -> std::result::Result<Option<(SecretString, &'static str)>, String> {
        if let Some(hit) = self
            .key_cache
            .lock()
            .ok()
            .and_then(|c| c.get(&provider).cloned())
        {
            return Ok(hit);
        }
        match self.keys.get(provider).await {
            Ok(found) => {
                if let Ok(mut cache) = self.key_cache.lock() {
                    cache.insert(provider, found.clone());
                }
                Ok(found)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    pub(crate) fn provider(&self, id: ProviderId) -> Option<&Arc<dyn Provider>> {
        self.providers.get(&id)
    }

    pub(crate) fn persist(&self, changed: Changed) {
        if let Some((p, state)) = changed {
            self.state.save_state(p, state);
        }
    }

    /// Waits until the chain's state and cache writes are saved.
    pub async fn flush(&self) {
        self.state.flush().await;
    }

    /// The model to use on `provider` now: the configured one, or its replacement once the
    /// configured one answered 404.
    fn model_for(&self, settings: &AiSettings, provider: ProviderId) -> String {
        let p = settings.provider(provider);
        match &p.fallback_model {
            Some(fallback)
                if !fallback.trim().is_empty()
                    && self.breakers.model_missing(provider, &p.model) =>
            {
                fallback.clone()
            }
            _ => p.model.clone(),
        }
    }

    pub async fn run(&self, req: &ChainRequest) -> std::result::Result<ChainReply, ChainError> {
        let settings = self.current_settings();
        let capability = req.capability.as_str();
        let cache_on = settings.cache.enabled;
        // The look-up is a database query: only when this input may have been answered before.
        if cache_on
            && req.prefer_cache
            && self
                .state
                .cache_may_have(req.capability.as_str(), &req.input_hash)
        {
            match self.fresh_cached(&settings, req).await {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cache look-up failed; calling providers"),
            }
        }

        let started = self.clock.now();
        let deadline = started + Duration::from_millis(settings.timeouts.deadline_ms.into());
        let policy = settings.retry.policy();
        let mut attempts: Vec<Attempt> = Vec::new();
        let mut any_configured = false;

        'providers: for &provider_id in settings.route(req.capability) {
            let pset = settings.provider(provider_id);
            let mut model = self.model_for(&settings, provider_id);
            if !pset.enabled {
                attempts.push(skipped(provider_id, &model, "skipped_disabled", None));
                continue;
            }
            let Some(provider) = self.provider(provider_id).cloned() else {
                continue;
            };
            let key = match self.key(provider_id).await {
                Ok(Some((key, _))) => key,
                Ok(None) => {
                    attempts.push(skipped(provider_id, &model, "skipped_no_key", None));
                    continue;
                }
                Err(e) => {
                    attempts.push(skipped(
                        provider_id,
                        &model,
                        "skipped_key_unavailable",
                        Some(e),
                    ));
                    continue;
                }
            };
            any_configured = true;
            let fingerprint = key.fingerprint();
            let (misconfigured, changed) = self.breakers.misconfigured(provider_id, &fingerprint);
            self.persist(changed);
            if let Some(reason) = misconfigured {
                attempts.push(skipped(
                    provider_id,
                    &model,
                    "skipped_misconfigured",
                    Some(reason),
                ));
                continue;
            }
            let (admission, changed) = self.breakers.admit(provider_id, self.clock.wall());
            self.persist(changed);
            if let Admission::Reject { until } = admission {
                let note =
                    until.map(|u| format!("breaker open until {}", crate::time::format_rfc3339(u)));
                attempts.push(skipped(provider_id, &model, "skipped_breaker_open", note));
                continue;
            }
            let endpoint = settings.endpoint(provider_id, key);

            let mut tries = 0u32;
            loop {
                let now = self.clock.now();
                let remaining = deadline.saturating_sub(now);
                if remaining < Duration::from_millis(50) {
                    attempts.push(skipped(provider_id, &model, "skipped_deadline", None));
                    break 'providers;
                }
                tries += 1;
                let call_timeout =
                    Duration::from_millis(settings.timeouts.call_ms.into()).min(remaining);
                let first_byte = if req.request.stream {
                    Duration::from_millis(settings.timeouts.first_byte_ms.into()).min(call_timeout)
                } else {
                    call_timeout
                };
                let ctx = AttemptContext {
                    first_byte,
                    wall_now: self.clock.wall(),
                };
                let t0 = Instant::now();
                let result = match tokio::time::timeout(
                    call_timeout,
                    provider.generate(&endpoint, &model, &req.request, ctx),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => Err(ProviderFailure::new(
                        FailureKind::Timeout(TimeoutPhase::Total),
                        format!("no complete answer within {} ms", call_timeout.as_millis()),
                    )),
                };
                let result = result.and_then(|reply| match (req.validate)(&reply.output) {
                    Ok(()) => Ok(reply),
                    Err(why) => Err(ProviderFailure::new(
                        FailureKind::SchemaInvalid,
                        format!(
                            "answer does not fit the schema: {}",
                            super::scrub(&why, &[])
                        ),
                    )),
                });
                let latency_ms = u32::try_from(t0.elapsed().as_millis()).unwrap_or(u32::MAX);
                let wall = self.clock.wall();
                match result {
                    Ok(reply) => {
                        tracing::info!(provider = %provider_id, model = %reply.model, latency_ms, capability, "AI answer");
                        attempts.push(Attempt {
                            provider: provider_id.as_str().to_owned(),
                            model: reply.model.clone(),
                            outcome: "ok".into(),
                            status: Some(200),
                            latency_ms,
                            error: None,
                        });
                        self.record(provider_id, &reply.model, "ok", Some(200), latency_ms, wall);
                        let changed = self.breakers.on_success(provider_id, wall);
                        self.persist(changed);
                        if cache_on {
                            self.state.cache_put(
                                capability,
                                &req.input_hash,
                                CachedAnswer {
                                    provider: provider_id,
                                    model: model.clone(),
                                    output: reply.output.clone(),
                                    created_at: wall,
                                },
                            );
                        }
                        return Ok(ChainReply {
                            output: reply.output,
                            provider: provider_id,
                            model: reply.model,
                            served_from: ServedFrom::Live,
                            cached_at: None,
                            attempts,
                        });
                    }
                    Err(failure) => {
                        let outcome = failure.outcome();
                        tracing::warn!(
                            provider = %provider_id, model = %model, outcome, status = ?failure.status,
                            latency_ms, error = %failure, capability, "AI attempt failed"
                        );
                        attempts.push(Attempt {
                            provider: provider_id.as_str().to_owned(),
                            model: model.clone(),
                            outcome: outcome.to_owned(),
                            status: failure.status,
                            latency_ms,
                            error: Some(failure.to_string()),
                        });
                        self.record(
                            provider_id,
                            &model,
                            outcome,
                            failure.status,
                            latency_ms,
                            wall,
                        );
                        match failure.class() {
                            FailureClass::Misconfigured => {
                                let changed = self.breakers.mark_misconfigured(
                                    provider_id,
                                    fingerprint.clone(),
                                    failure.to_string(),
                                    wall,
                                );
                                self.persist(changed);
                                continue 'providers;
                            }
                            FailureClass::QuotaExhausted => {
                                let for_ = failure.quota_exhausted.flatten().unwrap_or(
                                    Duration::from_millis(settings.breaker.quota_open_ms.into()),
                                );
                                let changed = self.breakers.open_for(
                                    provider_id,
                                    wall,
                                    for_,
                                    format!("quota exhausted: {failure}"),
                                );
                                self.persist(changed);
                                continue 'providers;
                            }
                            FailureClass::ModelNotFound => {
                                let changed =
                                    self.breakers.mark_model_missing(provider_id, &model, wall);
                                self.persist(changed);
                                let changed = self.breakers.on_answered(
                                    provider_id,
                                    wall,
                                    &failure.to_string(),
                                );
                                self.persist(changed);
                                match &pset.fallback_model {
                                    Some(fallback)
                                        if !fallback.trim().is_empty() && *fallback != model =>
                                    {
                                        tracing::warn!(provider = %provider_id, from = %model, to = %fallback, "model not found; using the configured replacement");
                                        model = fallback.clone();
                                        continue;
                                    }
                                    _ => continue 'providers,
                                }
                            }
                            FailureClass::NextProvider => {
                                let changed = self.breakers.on_answered(
                                    provider_id,
                                    wall,
                                    &failure.to_string(),
                                );
                                self.persist(changed);
                                continue 'providers;
                            }
                            FailureClass::Retryable => {
                                let changed = self.breakers.on_failure(
                                    provider_id,
                                    wall,
                                    &failure.to_string(),
                                );
                                let opened = changed.is_some();
                                self.persist(changed);
                                if let Some(hint) = failure.retry_after
                                    && hint > policy.max_wait
                                {
                                    // The provider says it is out for longer than we wait: no
                                    // other call should try it before then either.
                                    let changed = self.breakers.open_for(
                                        provider_id,
                                        wall,
                                        hint,
                                        format!("asked to wait {} s", hint.as_secs()),
                                    );
                                    self.persist(changed);
                                    continue 'providers;
                                }
                                if opened {
                                    continue 'providers;
                                }
                                let remaining = deadline.saturating_sub(self.clock.now());
                                match policy.decide(&failure, tries, remaining, (self.jitter)()) {
                                    RetryDecision::Wait(d) => self.clock.sleep(d).await,
                                    RetryDecision::NextProvider(why) => {
                                        tracing::debug!(provider = %provider_id, why, "moving to the next provider");
                                        continue 'providers;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        if cache_on {
            match self.state.cache_get(capability, &req.input_hash).await {
                Ok(answers) => {
                    if let Some(answer) = answers
                        .into_iter()
                        .find(|a| (req.validate)(&a.output).is_ok())
                    {
                        tracing::warn!(capability, provider = %answer.provider, "every provider failed; serving a cached answer");
                        return Ok(ChainReply {
                            output: answer.output,
                            provider: answer.provider,
                            model: answer.model,
                            served_from: ServedFrom::Cache,
                            cached_at: Some(answer.created_at),
                            attempts,
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cache look-up failed"),
            }
        }
        if !any_configured {
            return Err(ChainError::NothingConfigured {
                capability,
                attempts,
            });
        }
        let summary = summarize(&attempts);
        tracing::warn!(capability, %summary, "every AI provider failed");
        Err(ChainError::AllFailed {
            capability,
            summary,
            attempts,
        })
    }

    async fn fresh_cached(
        &self,
        settings: &AiSettings,
        req: &ChainRequest,
    ) -> Result<Option<ChainReply>> {
        let answers = self
            .state
            .cache_get(req.capability.as_str(), &req.input_hash)
            .await?;
        let now = self.clock.wall();
        let fresh = chrono::Duration::days(settings.cache.fresh_days.into());
        let route = settings.route(req.capability);
        // Prefer the answer of the provider that comes first in the current order.
        let best = answers
            .into_iter()
            .filter(|a| {
                now - a.created_at <= fresh
                    && route.contains(&a.provider)
                    && (req.validate)(&a.output).is_ok()
            })
            .min_by_key(|a| route.iter().position(|p| *p == a.provider));
        Ok(best.map(|a| ChainReply {
            output: a.output,
            provider: a.provider,
            model: a.model,
            served_from: ServedFrom::Cache,
            cached_at: Some(a.created_at),
            attempts: Vec::new(),
        }))
    }

    fn record(
        &self,
        provider: ProviderId,
        model: &str,
        outcome: &str,
        status: Option<u16>,
        latency_ms: u32,
        at: DateTime<Utc>,
    ) {
        let sample = CallSample {
            provider,
            model: model.to_owned(),
            outcome: outcome.to_owned(),
            status,
            latency_ms,
            at,
        };
        if let Ok(mut recent) = self.recent.lock() {
            let window = recent.entry(provider).or_default();
            if window.len() >= RECENT_CALLS {
                window.pop_front();
            }
            window.push_back(sample.clone());
        }
        self.state.record_call(sample);
    }
}

fn skipped(provider: ProviderId, model: &str, outcome: &str, error: Option<String>) -> Attempt {
    Attempt {
        provider: provider.as_str().to_owned(),
        model: model.to_owned(),
        outcome: outcome.to_owned(),
        status: None,
        latency_ms: 0,
        error,
    }
}

fn summarize(attempts: &[Attempt]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for a in attempts {
        let item = format!("{}: {}", a.provider, a.outcome);
        if parts.last() != Some(&item) {
            parts.push(item);
        }
    }
    parts.join(", ")
}
