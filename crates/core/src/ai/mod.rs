//! The AI provider chain: Salesdesk's calls to Gemini, OpenAI (and OpenAI-compatible servers)
//! and Anthropic, made so that one provider's outage, rate limit or garbage answer is invisible
//! to the user and costs almost nothing when everything works.
//!
//! - [`provider`]: the trait each provider implements, and the wire-level request/reply.
//! - [`gemini`], [`openai`], [`anthropic`]: each speaks its official REST API with reqwest.
//! - [`failure`]: what went wrong and what the chain should do about it.
//! - [`retry`], [`breaker`]: backoff with full jitter, circuit breakers per provider.
//! - [`state`]: breaker state, provider health and the response cache in the local store.
//! - [`chain`]: the mechanism every capability goes through.
//! - [`call_analysis`]: the first capability, with its prompt, schema and merge.
//! - [`models`], [`health`]: retired-model checks and the providers' health report.
//!
//! Why not a multi-provider crate such as `genai`: the chain needs the same classification for
//! every provider down to an error frame inside a 200 stream, its own first-token timeout, and
//! the TLS stack chosen here (rustls + ring); `genai` surfaces HTTP failures with status and
//! headers, but takes those choices itself and normalises the three APIs' structured-output
//! features in ways we would have to work around. The three APIs are small; speaking them
//! directly keeps every byte on the wire visible to the tests against the fakes.

pub mod anthropic;
pub mod breaker;
pub mod call_analysis;
pub mod chain;
pub mod clock;
pub mod failure;
pub mod gemini;
pub mod health;
pub mod models;
pub mod openai;
pub mod provider;
pub mod retry;
pub mod settings;
pub mod settings_edit;
pub mod sse;
pub mod state;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use call_analysis::{AnalysisInput, CallAnalyzer, OfflineFallback};
pub use chain::{Chain, ChainError, ChainReply, ChainRequest};
pub use clock::{Clock, ManualClock, SystemClock};
pub use settings::AiSettings;

/// A provider the chain can call. OpenAI-compatible servers (Azure OpenAI, Ollama, vLLM,
/// OpenRouter) are `OpenAi` with another base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ProviderId {
    Gemini,
    #[serde(rename = "openai")]
    OpenAi,
    Anthropic,
}

impl ProviderId {
    pub const ALL: [ProviderId; 3] = [
        ProviderId::Gemini,
        ProviderId::OpenAi,
        ProviderId::Anthropic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderId::Gemini => "gemini",
            ProviderId::OpenAi => "openai",
            ProviderId::Anthropic => "anthropic",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gemini" | "google" => Some(ProviderId::Gemini),
            "openai" => Some(ProviderId::OpenAi),
            "anthropic" | "claude" => Some(ProviderId::Anthropic),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the chain is asked to do. Each has its own ordered provider list and its own cache
/// namespace; the breakers are shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    CallAnalysis,
    Roleplay,
    MarketSearch,
}

impl Capability {
    pub const ALL: [Capability; 3] = [
        Capability::CallAnalysis,
        Capability::Roleplay,
        Capability::MarketSearch,
    ];

    /// For messages to the user.
    pub fn label(self) -> &'static str {
        match self {
            Capability::CallAnalysis => "call analysis",
            Capability::Roleplay => "roleplay",
            Capability::MarketSearch => "market search",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::CallAnalysis => "call_analysis",
            Capability::Roleplay => "roleplay",
            Capability::MarketSearch => "market_search",
        }
    }
}

/// Builds the HTTP client the providers share: rustls with the `ring` provider (no aws-lc),
/// the platform's certificate verifier, and the connect timeout from the settings.
pub fn http_client(
    connect_timeout: std::time::Duration,
) -> Result<reqwest::Client, crate::CoreError> {
    http_client_builder(connect_timeout).build().map_err(|e| {
        crate::CoreError::Internal(format!("cannot build the HTTP client: {}", e.without_url()))
    })
}

/// The builder behind [`http_client`], for callers that adjust it (tests turn proxies off).
pub fn http_client_builder(connect_timeout: std::time::Duration) -> reqwest::ClientBuilder {
    // Several crates in one process may install a provider; the first one wins and that is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .user_agent(concat!("salesdesk/", env!("CARGO_PKG_VERSION")))
}

/// Removes anything that looks like an API key from text that came from a provider (OpenAI
/// echoes a masked key in its 401 message) before it goes into an error, a log or the UI.
pub fn scrub(text: &str, keys: &[&str]) -> String {
    let mut out = text.to_owned();
    for key in keys {
        if key.len() >= 4 {
            out = out.replace(key, "[redacted]");
        }
    }
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    let mut at_boundary = true;
    const PREFIXES: [&str; 3] = ["sk-", "AIza", "key="];
    'outer: while !rest.is_empty() {
        for prefix in PREFIXES {
            // Only at the start of a word: "task-list" is not a key.
            if at_boundary && rest.starts_with(prefix) {
                let end = rest
                    .char_indices()
                    .find(|(i, c)| {
                        *i >= prefix.len()
                            && !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*'))
                    })
                    .map(|(i, _)| i)
                    .unwrap_or(rest.len());
                result.push_str("[redacted]");
                rest = &rest[end..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        at_boundary = !c.is_ascii_alphanumeric();
        result.push(c);
        rest = &rest[c.len_utf8()..];
    }
    const MAX: usize = 400;
    if result.len() > MAX {
        let mut cut = MAX;
        while !result.is_char_boundary(cut) {
            cut -= 1;
        }
        result.truncate(cut);
        result.push('…');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_keys_and_key_shapes() {
        let s = scrub(
            "Incorrect API key provided: sk-proj-abc***xyz. key=AIzaSyD-123 and mine-secret-1",
            &["mine-secret-1"],
        );
        assert!(!s.contains("sk-proj"), "{s}");
        assert!(!s.contains("AIza"), "{s}");
        assert!(!s.contains("mine-secret-1"), "{s}");
        assert!(
            s.starts_with("Incorrect API key provided: [redacted]. "),
            "{s}"
        );
        assert_eq!(
            scrub("a task-list and a monkey=1", &[]),
            "a task-list and a monkey=1"
        );
    }

    #[test]
    fn provider_ids_round_trip() {
        for p in ProviderId::ALL {
            assert_eq!(ProviderId::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
    }
}
