//! The chain's memory in the local store: provider state (breakers, misconfigured keys,
//! missing models), recent attempts (latency percentiles), the response cache and the last
//! probe of each provider.
//!
//! Reads happen at start (state, recent calls) and on cache look-ups. Writes never sit on a
//! call's path: they go through one background writer task that batches them into a single
//! transaction, so a call pays no fsync. [`StateStore::flush`] waits for everything queued
//! (the CLI calls it before exiting).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::ProviderId;
use super::breaker::ProviderState;
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::time::format_rfc3339;

/// Recent attempts kept per provider, in memory and on disk.
pub const RECENT_CALLS: usize = 200;
/// Cache entries remembered in memory (the writer may not have saved them yet); covers the
/// largest batch the writer gathers.
const RECENT_CACHE: usize = 4_096;

#[derive(Debug, Clone, PartialEq)]
pub struct CallSample {
    pub provider: ProviderId,
    pub model: String,
    pub outcome: String,
    pub status: Option<u16>,
    pub latency_ms: u32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CachedAnswer {
    pub provider: ProviderId,
    pub model: String,
    pub output: Value,
    pub created_at: DateTime<Utc>,
}

enum Write {
    State(ProviderId, ProviderState),
    Call(CallSample),
    Cache {
        capability: String,
        input_hash: String,
        answer: CachedAnswer,
    },
    Probe(ProviderId, Value, DateTime<Utc>),
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Clone)]
pub struct StateStore {
    store: LocalStore,
    tx: mpsc::UnboundedSender<Write>,
    /// Ends the writer's gathering window early: a flush, or a full batch waiting.
    wake: Arc<tokio::sync::Notify>,
    /// Writes sent since the writer last woke (only to cut the window short when many wait).
    queued: Arc<std::sync::atomic::AtomicUsize>,
    recent_cache: Arc<Mutex<RecentCache>>,
    /// Every (capability, input hash) the cache holds, loaded at start and kept up to date,
    /// so that a call whose input was never answered skips the database look-up.
    known: Arc<Mutex<HashSet<(String, String)>>>,
}

/// Answers by (capability, input hash) that the writer may not have saved yet.
type RecentCache = HashMap<(String, String), Vec<CachedAnswer>>;

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Write")
    }
}

impl StateStore {
    /// Starts the writer task; must be called inside a tokio runtime.
    pub fn start(store: LocalStore) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let wake = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(writer(store.clone(), rx, wake.clone()));
        Self {
            store,
            tx,
            wake,
            queued: Arc::default(),
            recent_cache: Arc::default(),
            known: Arc::default(),
        }
    }

    /// Loads the keys of the cached answers (at start, before the first call).
    pub async fn load_cache_keys(&self) -> Result<()> {
        let keys: Vec<(String, String)> =
            sqlx::query_as("SELECT DISTINCT capability, input_hash FROM ai_response_cache")
                .fetch_all(self.store.pool())
                .await
                .map_err(|e| self.store.err(e))?;
        if let Ok(mut known) = self.known.lock() {
            known.extend(keys);
        }
        Ok(())
    }

    /// Whether this process knows of a cached answer for the input. `false` can be wrong only
    /// when another process (the CLI beside the app) cached it since this one started: the
    /// call then goes to a provider, which is slower but still right.
    pub fn cache_may_have(&self, capability: &str, input_hash: &str) -> bool {
        self.known.lock().map_or(true, |k| {
            k.contains(&(capability.to_owned(), input_hash.to_owned()))
        })
    }

    fn send(&self, write: Write) {
        let flush = matches!(write, Write::Flush(_));
        if self.tx.send(write).is_ok() {
            let n = self
                .queued
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if flush || n + 1 >= MAX_BATCH {
                self.queued.store(0, std::sync::atomic::Ordering::Relaxed);
                self.wake.notify_one();
            }
        }
    }

    pub fn save_state(&self, provider: ProviderId, state: ProviderState) {
        self.send(Write::State(provider, state));
    }

    pub fn record_call(&self, sample: CallSample) {
        self.send(Write::Call(sample));
    }

    pub fn save_probe(&self, provider: ProviderId, result: Value, at: DateTime<Utc>) {
        self.send(Write::Probe(provider, result, at));
    }

    pub fn cache_put(&self, capability: &str, input_hash: &str, answer: CachedAnswer) {
        if let Ok(mut known) = self.known.lock() {
            known.insert((capability.to_owned(), input_hash.to_owned()));
        }
        if let Ok(mut recent) = self.recent_cache.lock() {
            if recent.len() >= RECENT_CACHE {
                recent.clear();
            }
            let entry = recent
                .entry((capability.to_owned(), input_hash.to_owned()))
                .or_default();
            entry.retain(|a| !(a.provider == answer.provider && a.model == answer.model));
            entry.push(answer.clone());
        }
        self.send(Write::Cache {
            capability: capability.to_owned(),
            input_hash: input_hash.to_owned(),
            answer,
        });
    }

    /// Cached answers for this input, newest first.
    pub async fn cache_get(&self, capability: &str, input_hash: &str) -> Result<Vec<CachedAnswer>> {
        let mut answers = self
            .recent_cache
            .lock()
            .ok()
            .and_then(|r| {
                r.get(&(capability.to_owned(), input_hash.to_owned()))
                    .cloned()
            })
            .unwrap_or_default();
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT provider, model, response, created_at FROM ai_response_cache \
             WHERE capability = ? AND input_hash = ? ORDER BY created_at DESC",
        )
        .bind(capability)
        .bind(input_hash)
        .fetch_all(self.store.pool())
        .await
        .map_err(|e| self.store.err(e))?;
        for (provider, model, response, created_at) in rows {
            let (Some(provider), Ok(output), Ok(created_at)) = (
                ProviderId::parse(&provider),
                serde_json::from_str::<Value>(&response),
                DateTime::parse_from_rfc3339(&created_at),
            ) else {
                continue;
            };
            if answers
                .iter()
                .any(|a| a.provider == provider && a.model == model)
            {
                continue;
            }
            answers.push(CachedAnswer {
                provider,
                model,
                output,
                created_at: created_at.with_timezone(&Utc),
            });
        }
        answers.sort_by_key(|a| std::cmp::Reverse(a.created_at));
        Ok(answers)
    }

    pub async fn load_states(&self) -> Result<HashMap<ProviderId, ProviderState>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT provider, state FROM ai_provider_state")
                .fetch_all(self.store.pool())
                .await
                .map_err(|e| self.store.err(e))?;
        let mut out = HashMap::new();
        for (provider, state) in rows {
            let Some(p) = ProviderId::parse(&provider) else {
                continue;
            };
            match serde_json::from_str::<ProviderState>(&state) {
                Ok(s) => {
                    out.insert(p, s);
                }
                Err(e) => {
                    tracing::warn!(provider = %p, error = %e, "ignoring unreadable saved provider state")
                }
            }
        }
        Ok(out)
    }

    pub async fn load_recent_calls(&self) -> Result<HashMap<ProviderId, VecDeque<CallSample>>> {
        let mut out: HashMap<ProviderId, VecDeque<CallSample>> = HashMap::new();
        for p in ProviderId::ALL {
            let rows: Vec<(String, String, Option<i64>, i64, String)> = sqlx::query_as(
                "SELECT model, outcome, status, latency_ms, at FROM ai_provider_calls \
                 WHERE provider = ? ORDER BY id DESC LIMIT ?",
            )
            .bind(p.as_str())
            .bind(i64::try_from(RECENT_CALLS).unwrap_or(200))
            .fetch_all(self.store.pool())
            .await
            .map_err(|e| self.store.err(e))?;
            let window = out.entry(p).or_default();
            for (model, outcome, status, latency_ms, at) in rows.into_iter().rev() {
                window.push_back(CallSample {
                    provider: p,
                    model,
                    outcome,
                    status: status.and_then(|s| u16::try_from(s).ok()),
                    latency_ms: u32::try_from(latency_ms).unwrap_or(u32::MAX),
                    at: DateTime::parse_from_rfc3339(&at)
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    pub async fn load_probe(&self, provider: ProviderId) -> Result<Option<(Value, DateTime<Utc>)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT result, checked_at FROM ai_model_checks WHERE provider = ?")
                .bind(provider.as_str())
                .fetch_optional(self.store.pool())
                .await
                .map_err(|e| self.store.err(e))?;
        Ok(row.and_then(|(result, at)| {
            Some((
                serde_json::from_str(&result).ok()?,
                DateTime::parse_from_rfc3339(&at).ok()?.with_timezone(&Utc),
            ))
        }))
    }

    /// Waits until every write queued so far is committed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        self.send(Write::Flush(done));
        // A closed writer drops the sender: the wait ends either way.
        let _ = wait.await;
    }
}

/// How long the writer gathers writes before committing them. A commit is an fsync (the store
/// runs with `synchronous = FULL`); one per call put that cost, and the CPU behind it, next to
/// every call. Gathering for a moment makes it a few commits a second whatever the traffic.
/// What a crash can lose in that window is health samples and cache entries: harmless.
const GATHER: std::time::Duration = std::time::Duration::from_millis(100);
/// A batch commits early once this many writes are waiting.
const MAX_BATCH: usize = 4_096;

async fn writer(
    store: LocalStore,
    mut rx: mpsc::UnboundedReceiver<Write>,
    wake: Arc<tokio::sync::Notify>,
) {
    // Trimming old samples is a range delete: do it now and then, not on every batch.
    let mut since_trim = 0usize;
    let mut backlog = false;
    while let Some(first) = rx.recv().await {
        if !backlog && !matches!(first, Write::Flush(_)) {
            // Sleep through the window rather than waking for every write (a wake-up per
            // write was a thread switch per call); a flush or a full queue cuts it short.
            let until = tokio::time::Instant::now() + GATHER;
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {}
                _ = wake.notified() => {}
            }
        }
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        // More waiting than one batch takes: commit the next one without sleeping.
        backlog = batch.len() == MAX_BATCH;
        let mut waiters = Vec::new();
        let writes: Vec<Write> = batch
            .into_iter()
            .filter_map(|w| match w {
                Write::Flush(done) => {
                    waiters.push(done);
                    None
                }
                other => Some(other),
            })
            .collect();
        let writes = coalesce(writes);
        since_trim += writes.len();
        let trim = since_trim >= 100 || !waiters.is_empty();
        if trim {
            since_trim = 0;
        }
        if !writes.is_empty()
            && let Err(e) = apply(&store, writes, trim).await
        {
            // Losing a health sample or a cache entry is harmless; say so and go on.
            tracing::warn!(error = %e, "could not save AI chain state");
        }
        for w in waiters {
            let _ = w.send(());
        }
    }
}

/// Drops writes that a later one in the same batch makes pointless, keeping the order of the
/// rest: older states of a provider, older answers for a cache key, older probes, and call
/// samples beyond the newest [`RECENT_CALLS`] of each provider (the table keeps no more).
fn coalesce(writes: Vec<Write>) -> Vec<Write> {
    let mut keep = vec![true; writes.len()];
    let mut states = std::collections::HashSet::new();
    let mut probes = std::collections::HashSet::new();
    let mut caches = std::collections::HashSet::new();
    let mut calls: HashMap<ProviderId, usize> = HashMap::new();
    for (i, w) in writes.iter().enumerate().rev() {
        keep[i] = match w {
            Write::State(p, _) => states.insert(*p),
            Write::Probe(p, _, _) => probes.insert(*p),
            Write::Cache {
                capability,
                input_hash,
                answer,
            } => caches.insert((
                capability.clone(),
                input_hash.clone(),
                answer.provider,
                answer.model.clone(),
            )),
            Write::Call(s) => {
                let n = calls.entry(s.provider).or_default();
                *n += 1;
                *n <= RECENT_CALLS
            }
            Write::Flush(_) => true,
        };
    }
    writes
        .into_iter()
        .zip(keep)
        .filter_map(|(w, k)| k.then_some(w))
        .collect()
}

async fn apply(store: &LocalStore, writes: Vec<Write>, trim: bool) -> Result<()> {
    // Local-only tables: written through the single write path, but not recorded for sync.
    let mut tx = store.begin_write().await?;
    let mut touched = Vec::new();
    for w in writes {
        let done = match w {
            Write::State(p, state) => {
                let json = serde_json::to_string(&state).map_err(|e| CoreError::Internal(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO ai_provider_state (provider, state, updated_at) VALUES (?, ?, ?) \
                     ON CONFLICT (provider) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(p.as_str())
                .bind(json)
                .bind(crate::time::now_rfc3339())
                .execute(tx.conn())
                .await
            }
            Write::Call(s) => {
                if trim && !touched.contains(&s.provider) {
                    touched.push(s.provider);
                }
                sqlx::query(
                    "INSERT INTO ai_provider_calls (provider, model, outcome, status, latency_ms, at) VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(s.provider.as_str())
                .bind(&s.model)
                .bind(&s.outcome)
                .bind(s.status.map(i64::from))
                .bind(i64::from(s.latency_ms))
                .bind(format_rfc3339(s.at))
                .execute(tx.conn())
                .await
            }
            Write::Cache {
                capability,
                input_hash,
                answer,
            } => {
                sqlx::query(
                    "INSERT INTO ai_response_cache (capability, input_hash, provider, model, response, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (capability, input_hash, provider, model) \
                     DO UPDATE SET response = excluded.response, created_at = excluded.created_at",
                )
                .bind(capability)
                .bind(input_hash)
                .bind(answer.provider.as_str())
                .bind(&answer.model)
                .bind(answer.output.to_string())
                .bind(format_rfc3339(answer.created_at))
                .execute(tx.conn())
                .await
            }
            Write::Probe(p, result, at) => {
                sqlx::query(
                    "INSERT INTO ai_model_checks (provider, result, checked_at) VALUES (?, ?, ?) \
                     ON CONFLICT (provider) DO UPDATE SET result = excluded.result, checked_at = excluded.checked_at",
                )
                .bind(p.as_str())
                .bind(result.to_string())
                .bind(format_rfc3339(at))
                .execute(tx.conn())
                .await
            }
            Write::Flush(_) => continue,
        };
        done.map_err(|e| tx.err(e))?;
    }
    for p in touched {
        sqlx::query(
            "DELETE FROM ai_provider_calls WHERE provider = ? AND id <= \
             (SELECT id FROM ai_provider_calls WHERE provider = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        )
        .bind(p.as_str())
        .bind(p.as_str())
        .bind(i64::try_from(RECENT_CALLS).unwrap_or(200))
        .execute(tx.conn())
        .await
        .map_err(|e| tx.err(e))?;
    }
    tx.commit().await?;
    Ok(())
}

/// p-th percentile (0-100) by nearest rank.
pub fn percentile(sorted: &[u32], p: u32) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p.min(100)) * sorted.len() as u64)
        .div_ceil(100)
        .max(1);
    sorted.get(usize::try_from(rank - 1).unwrap_or(0)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(p: ProviderId, latency_ms: u32) -> Write {
        Write::Call(CallSample {
            provider: p,
            model: "m".into(),
            outcome: "ok".into(),
            status: Some(200),
            latency_ms,
            at: Utc::now(),
        })
    }

    #[test]
    fn coalesce_keeps_the_newest_of_each_kind() {
        let mut writes = Vec::new();
        for i in 0..(RECENT_CALLS as u32 + 50) {
            writes.push(sample(ProviderId::Gemini, i));
        }
        writes.push(sample(ProviderId::OpenAi, 7));
        let state = |failures| {
            Write::State(
                ProviderId::Gemini,
                ProviderState {
                    consecutive_failures: failures,
                    ..ProviderState::default()
                },
            )
        };
        writes.push(state(1));
        writes.push(state(2));
        let cache = |score| Write::Cache {
            capability: "call_analysis".into(),
            input_hash: "h".into(),
            answer: CachedAnswer {
                provider: ProviderId::Gemini,
                model: "m".into(),
                output: serde_json::json!({ "score": score }),
                created_at: Utc::now(),
            },
        };
        writes.push(cache(1));
        writes.push(cache(2));
        let kept = coalesce(writes);
        let gemini: Vec<u32> = kept
            .iter()
            .filter_map(|w| match w {
                Write::Call(s) if s.provider == ProviderId::Gemini => Some(s.latency_ms),
                _ => None,
            })
            .collect();
        assert_eq!(gemini.len(), RECENT_CALLS);
        assert_eq!(gemini.first(), Some(&50), "the oldest beyond the window go");
        assert!(
            kept.iter()
                .any(|w| matches!(w, Write::Call(s) if s.provider == ProviderId::OpenAi))
        );
        let states: Vec<u32> = kept
            .iter()
            .filter_map(|w| match w {
                Write::State(_, s) => Some(s.consecutive_failures),
                _ => None,
            })
            .collect();
        assert_eq!(states, [2]);
        let caches: Vec<&Value> = kept
            .iter()
            .filter_map(|w| match w {
                Write::Cache { answer, .. } => Some(&answer.output),
                _ => None,
            })
            .collect();
        assert_eq!(caches, [&serde_json::json!({ "score": 2 })]);
    }

    #[test]
    fn percentiles() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 95), Some(95));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }
}
