//! The versioned `CallAnalysis` schema: what every analyzer (the offline one and every AI
//! provider) produces, what is saved in `call_analyses.analysis`, and what the UI shows.
//! Change it only by adding optional fields, or by bumping [`SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

/// A finished analysis of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct CallAnalysis {
    pub schema_version: u32,
    /// Who produced the judgement: `offline`, `gemini`, `openai`, `anthropic`.
    pub provider: String,
    /// The model id that served it (`offline-v1` for the offline analyzer).
    pub model: String,
    pub served_from: ServedFrom,
    /// 0-100.
    pub score: u8,
    pub score_rationale: String,
    pub summary: String,
    pub strengths: Vec<CoachingItem>,
    pub improvements: Vec<CoachingItem>,
    pub objections: Vec<ObjectionNote>,
    pub next_steps: Vec<String>,
    /// The exact, locally computed conversation metrics (never produced by a model).
    pub metrics: serde_json::Value,
    /// Plain statements about how the result was obtained and what it could not do, e.g.
    /// "no timestamps: durations estimated from word counts", "rep guessed: first speaker".
    pub notes: Vec<String>,
    /// The provider attempts made before this result (empty for a purely local analysis).
    pub attempts: Vec<Attempt>,
    /// For `served_from: cache`: when the cached answer was produced (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ServedFrom {
    /// A provider answered now.
    Live,
    /// A cached provider answer for the same input.
    Cache,
    /// The offline analyzer (no provider configured, or all failed).
    Offline,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct CoachingItem {
    pub title: String,
    pub detail: String,
    /// The metric this item rests on (a key of `metrics`, e.g. `rep_talk_share`), if any.
    pub metric: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ObjectionKind {
    Price,
    Timing,
    Authority,
    Need,
    Competitor,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct ObjectionNote {
    pub kind: ObjectionKind,
    /// What the customer said (a short quote or paraphrase).
    pub said: String,
    /// The turn it was raised in, when known.
    pub turn_index: Option<u32>,
    /// How the rep handled it, when judged (AI analyses).
    pub handling: Option<String>,
}

/// One call to one provider, as recorded by the AI chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Attempt {
    pub provider: String,
    pub model: String,
    /// `ok`, `retryable_error`, `fatal_error`, `skipped_breaker_open`, `timeout`, ...
    pub outcome: String,
    pub status: Option<u16>,
    pub latency_ms: u32,
    /// A short description of the failure, never containing a key or the transcript.
    pub error: Option<String>,
}
