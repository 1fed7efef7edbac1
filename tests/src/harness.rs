//! A chain wired to the three fakes, over a store in a temporary directory, on a clock where
//! sleeping is instant: what the AI chain tests and benchmarks start from.

use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::ai::chain::{Chain, ChainParts, ChainRequest, Validator};
use salesdesk_core::ai::provider::StructuredRequest;
use salesdesk_core::ai::settings::AiSettings;
use salesdesk_core::ai::{Capability, ManualClock, ProviderId};
use salesdesk_core::analysis::report::{CallAnalysis, SCHEMA_VERSION, ServedFrom};
use salesdesk_core::data::local::LocalStore;
use salesdesk_core::secrets::{Keys, SecretString, StaticKeys};
use serde_json::Value;

use crate::fakes::{self, FakeServer};

pub const GEMINI_KEY: &str = "test-gemini-key-not-real-0123456789abc";
pub const OPENAI_KEY: &str = "sk-proj-FAKE-openai-SECRET-0123456789abc";
pub const ANTHROPIC_KEY: &str = "test-anthropic-key-not-real-0123456789";
pub const ALL_KEYS: [&str; 3] = [GEMINI_KEY, OPENAI_KEY, ANTHROPIC_KEY];

pub struct Harness {
    pub gemini: FakeServer,
    pub openai: FakeServer,
    pub anthropic: FakeServer,
    pub dir: tempfile::TempDir,
    pub store: LocalStore,
    pub clock: Arc<ManualClock>,
    pub keys: Arc<StaticKeys>,
    pub chain: Arc<Chain>,
    pub settings: AiSettings,
}

/// Settings for tests: the fakes' URLs, small timeouts, streaming off.
pub fn test_settings(g: &FakeServer, o: &FakeServer, a: &FakeServer) -> AiSettings {
    let mut s = AiSettings::default();
    s.gemini.base_url = Some(g.origin());
    s.openai.base_url = Some(format!("{}/v1", o.origin()));
    s.anthropic.base_url = Some(a.origin());
    s.anthropic.model = "claude-haiku-4-5".into();
    s.stream = false;
    s.timeouts.connect_ms = 1_000;
    s.timeouts.first_byte_ms = 400;
    s.timeouts.call_ms = 1_500;
    s.timeouts.deadline_ms = 60_000;
    s.retry.base_ms = 100;
    s.retry.cap_ms = 1_000;
    s.retry.max_wait_ms = 20_000;
    s
}

pub fn test_client() -> reqwest::Client {
    salesdesk_core::ai::http_client_builder(Duration::from_millis(1_000))
        .no_proxy()
        .build()
        .expect("client")
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(tweak: impl FnOnce(&mut AiSettings)) -> Self {
        let gemini = fakes::gemini::start(GEMINI_KEY).await;
        let openai = fakes::openai::start(OPENAI_KEY).await;
        let anthropic = fakes::anthropic::start(ANTHROPIC_KEY).await;
        let mut settings = test_settings(&gemini, &openai, &anthropic);
        tweak(&mut settings);
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalStore::open(&dir.path().join("salesdesk.sqlite3"))
            .await
            .expect("store");
        let clock = Arc::new(ManualClock::new());
        let keys = Arc::new(StaticKeys::new([
            (ProviderId::Gemini, SecretString::new(GEMINI_KEY)),
            (ProviderId::OpenAi, SecretString::new(OPENAI_KEY)),
            (ProviderId::Anthropic, SecretString::new(ANTHROPIC_KEY)),
        ]));
        let chain = build_chain(&settings, &store, &clock, &keys).await;
        Self {
            gemini,
            openai,
            anthropic,
            dir,
            store,
            clock,
            keys,
            chain,
            settings,
        }
    }

    /// A fresh chain over the same store, as a restarted app or a new CLI process would build.
    pub async fn restart(&mut self) {
        self.chain.flush().await;
        self.chain = build_chain(&self.settings, &self.store, &self.clock, &self.keys).await;
    }

    pub fn server(&self, p: ProviderId) -> &FakeServer {
        match p {
            ProviderId::Gemini => &self.gemini,
            ProviderId::OpenAi => &self.openai,
            ProviderId::Anthropic => &self.anthropic,
        }
    }
}

pub async fn build_chain(
    settings: &AiSettings,
    store: &LocalStore,
    clock: &Arc<ManualClock>,
    keys: &Arc<StaticKeys>,
) -> Arc<Chain> {
    let mut parts = ChainParts::new(settings.clone(), Keys::single(keys.clone()), store.clone());
    parts.clock = clock.clone();
    parts.http = Some(test_client());
    parts.jitter = Some(Arc::new(|| 1.0));
    Arc::new(Chain::build(parts).await.expect("chain"))
}

/// A structured request shaped like call analysis, with a validator that accepts the fakes'
/// sample judgement and rejects anything without a string `summary` and integer `score`.
pub fn request(input: &str, stream: bool) -> ChainRequest {
    let validate: Validator = Arc::new(|v: &Value| {
        let ok = v.get("summary").and_then(Value::as_str).is_some()
            && v.get("score").and_then(Value::as_i64).is_some();
        if ok {
            Ok(())
        } else {
            Err("summary or score missing or mistyped".into())
        }
    });
    ChainRequest {
        capability: Capability::CallAnalysis,
        request: StructuredRequest {
            system: "You are a test.".into(),
            user: input.into(),
            schema_name: "call_analysis".into(),
            schema: salesdesk_core::ai::call_analysis::shared_schema(),
            max_output_tokens: 1024,
            stream,
        },
        input_hash: format!("test-{input}"),
        prefer_cache: false,
        validate,
    }
}

/// An offline analyzer stand-in: a real (if simple) analysis from the transcript's length,
/// marked as offline.
pub fn offline(transcript: &str, metrics: &Value) -> salesdesk_core::Result<CallAnalysis> {
    Ok(CallAnalysis {
        schema_version: SCHEMA_VERSION,
        provider: "offline".into(),
        model: "offline-v1".into(),
        served_from: ServedFrom::Offline,
        score: 50,
        score_rationale: format!("{} lines", transcript.lines().count()),
        summary: "offline".into(),
        strengths: vec![],
        improvements: vec![],
        objections: vec![],
        next_steps: vec![],
        metrics: metrics.clone(),
        notes: vec![],
        attempts: vec![],
        cached_at: None,
    })
}
