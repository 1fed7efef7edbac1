//! Turning the old app's analysis of a call into a [`CallAnalysis`]: the metrics are always
//! recomputed here from the transcript (exact and comparable with new analyses); the old
//! app's judgement (score, summary, strengths, ...) is kept when it has one, else the offline
//! analyzer scores the call and says so.

use serde_json::Value;

use crate::analysis::report::{
    CallAnalysis, CoachingItem, ObjectionKind, ObjectionNote, SCHEMA_VERSION, ServedFrom,
};
use crate::analysis::{self, AnalyzeOptions};

/// The provider name recorded for judgements made by the old browser app.
pub const IMPORTED_PROVIDER: &str = "browser-app";

/// The analysis to save, and the decoded transcript text; `Err` says why the entry is skipped.
pub fn build(transcript: &str, result: Option<&Value>) -> Result<(String, CallAnalysis), String> {
    let (text, parsed) = analysis::ingest(transcript.as_bytes())
        .map_err(|e| format!("the transcript cannot be used: {e}"))?;
    let (_, offline) = analysis::analyze_transcript(&parsed, &AnalyzeOptions::default())
        .map_err(|e| format!("the transcript cannot be analyzed: {e}"))?;
    // Already in Salesdesk's schema (an export of a newer browser build): keep it whole.
    if let Some(v) = result
        && v.get("schema_version").and_then(Value::as_u64) == Some(u64::from(SCHEMA_VERSION))
        && let Ok(a) = serde_json::from_value::<CallAnalysis>(v.clone())
    {
        return Ok((text, a));
    }
    let Some(old) = result.and_then(Value::as_object) else {
        let mut a = offline;
        a.notes.push(
            "Imported from the browser app without an analysis; scored by the offline analyzer."
                .into(),
        );
        return Ok((text, a));
    };
    let score = old
        .get("score")
        .and_then(Value::as_f64)
        .filter(|s| (0.0..=100.0).contains(s));
    let summary = old.get("summary").and_then(Value::as_str).map(str::trim);
    let (Some(score), Some(summary)) = (score, summary.filter(|s| !s.is_empty())) else {
        let mut a = offline;
        a.notes.push(
            "Imported from the browser app; its analysis had no usable score and summary, so the \
             offline analyzer scored the call."
                .into(),
        );
        return Ok((text, a));
    };
    let items = |key: &str, alt: &str| -> Vec<CoachingItem> {
        strings(old.get(key).or_else(|| old.get(alt)))
            .into_iter()
            .map(|s| CoachingItem {
                title: s,
                detail: String::new(),
                metric: None,
            })
            .collect()
    };
    let mut notes = vec![
        "Imported from the browser app: score and coaching as it judged the call; metrics \
         recomputed by Salesdesk from the transcript."
            .to_owned(),
    ];
    notes.extend(offline.notes);
    Ok((
        text,
        CallAnalysis {
            schema_version: SCHEMA_VERSION,
            provider: IMPORTED_PROVIDER.into(),
            model: old
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_owned(),
            served_from: ServedFrom::Live,
            score: score.round() as u8,
            score_rationale: old
                .get("scoreRationale")
                .or_else(|| old.get("score_rationale"))
                .and_then(Value::as_str)
                .unwrap_or("Score given by the browser app.")
                .to_owned(),
            summary: summary.to_owned(),
            strengths: items("strengths", "strengths"),
            improvements: items("improvements", "weaknesses"),
            objections: strings(old.get("objections"))
                .into_iter()
                .map(|said| ObjectionNote {
                    kind: ObjectionKind::Other,
                    said,
                    turn_index: None,
                    handling: None,
                })
                .collect(),
            next_steps: strings(old.get("nextSteps").or_else(|| old.get("next_steps"))),
            metrics: offline.metrics,
            notes,
            attempts: Vec::new(),
            cached_at: None,
        },
    ))
}

/// A list of strings, or of objects with a `title`/`text` (what the old app wrote).
fn strings(v: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| match i {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Object(o) => o
                .get("title")
                .or_else(|| o.get("text"))
                .and_then(Value::as_str)
                .map(|s| s.trim().to_owned()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .collect()
}
