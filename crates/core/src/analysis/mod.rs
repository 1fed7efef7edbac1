//! Call analysis: transcripts in, a [`report::CallAnalysis`] out.
//!
//! The path is `decode` (bytes to text) → `formats` (detect and parse into a
//! [`transcript::Transcript`]) → `rep` (who is the rep) → `metrics` (exact numbers, with
//! `trackers` for topics) → `offline` (score and coaching). Everything here is pure and
//! synchronous; saving is the [`crate::Salesdesk`] handle's job.

pub mod decode;
pub mod error;
pub mod formats;
pub mod input;
pub mod job;
pub mod metrics;
pub mod offline;
pub mod rep;
pub mod report;
pub mod text;
pub mod trackers;
pub mod transcript;

use serde::{Deserialize, Serialize};

pub use error::IngestError;
pub use metrics::CallMetrics;
pub use report::CallAnalysis;
pub use transcript::Transcript;

/// What the caller says about an analysis besides the transcript itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct AnalyzeOptions {
    /// The saved analysis's title; defaults to the file name, else "Call analysis".
    pub title: Option<String>,
    /// The rep's speaker name as written in the transcript (case-insensitive; a first name
    /// is enough when it is unique). When absent the rep is guessed and the guess is stated.
    pub rep: Option<String>,
    /// Competitor names to track.
    pub competitors: Vec<String>,
    /// The signed-in user's name or email, used to guess the rep.
    pub signed_in_user: Option<String>,
}

/// The result of a local analysis, before saving.
#[derive(Debug, Clone)]
pub struct OfflineRun {
    /// The decoded transcript text (what is saved and searched).
    pub text: String,
    pub transcript: Transcript,
    pub metrics: CallMetrics,
    pub analysis: CallAnalysis,
}

/// Decodes and parses a transcript in any supported format.
pub fn ingest(bytes: &[u8]) -> Result<(String, Transcript), IngestError> {
    let decoded = decode::decode(bytes)?;
    let mut transcript = formats::parse(&decoded.text)?;
    if let Some(note) = decoded.note {
        transcript.notes.insert(0, note);
    }
    Ok((decoded.text, transcript))
}

/// Ingests, measures and scores a transcript with the offline analyzer.
pub fn analyze_offline(bytes: &[u8], options: &AnalyzeOptions) -> Result<OfflineRun, IngestError> {
    let (text, transcript) = ingest(bytes)?;
    let run = analyze_transcript(&transcript, options)?;
    Ok(OfflineRun {
        text,
        transcript,
        metrics: run.0,
        analysis: run.1,
    })
}

/// Measures and scores an already parsed transcript.
pub fn analyze_transcript(
    transcript: &Transcript,
    options: &AnalyzeOptions,
) -> Result<(CallMetrics, CallAnalysis), IngestError> {
    let speakers = transcript.speakers();
    let rep = rep::choose(
        &speakers,
        options.rep.as_deref(),
        options.signed_in_user.as_deref(),
    )?;
    let (metrics, metric_notes) = metrics::compute(
        transcript,
        &metrics::MetricsInput {
            rep: &rep,
            competitors: &options.competitors,
        },
    )?;
    let mut notes = transcript.notes.clone();
    notes.extend(rep.note.clone());
    notes.extend(metric_notes);
    let analysis = offline::analyze(&metrics, notes);
    Ok((metrics, analysis))
}
