//! The offline analyzer: a deterministic score and coaching items computed from the metrics
//! alone, against published benchmarks for B2B sales calls (Gong Labs' analyses of recorded
//! calls): talk ratio near 43:57 rep:customer, 11-14 rep questions, rep monologues under
//! about 2.5 minutes, customer stories of several minutes. Every item names its metric.

use super::metrics::{CallMetrics, ESTIMATED_WORDS_PER_MINUTE, Stretch, TalkBasis};
use super::report::{
    CallAnalysis, CoachingItem, ObjectionKind, ObjectionNote, SCHEMA_VERSION, ServedFrom,
};
use super::transcript::format_clock;

pub const PROVIDER: &str = "offline";
pub const MODEL: &str = "offline-v1";

/// The benchmark values the score is measured against (documented in `docs/metrics.md`).
pub mod benchmark {
    /// Ideal rep share of talk, percent.
    pub const TALK_IDEAL: f64 = 43.0;
    /// Within this many points of the ideal earns full marks.
    pub const TALK_TOLERANCE: f64 = 5.0;
    /// Above this rep share is a warning.
    pub const TALK_WARNING: f64 = 65.0;
    /// Rep questions, inclusive.
    pub const QUESTIONS_LOW: u32 = 11;
    pub const QUESTIONS_HIGH: u32 = 14;
    /// Longest rep monologue, seconds: full marks at or under, none at `MONOLOGUE_ZERO`.
    pub const MONOLOGUE_MAX: f64 = 150.0;
    pub const MONOLOGUE_ZERO: f64 = 300.0;
    /// Longest customer story, seconds, for full marks.
    pub const STORY_TARGET: f64 = 180.0;
    /// Speaker switches per minute for full interactivity marks (a Salesdesk heuristic).
    pub const INTERACTIVITY_TARGET: f64 = 2.0;
    /// Patience, seconds: a pause of at least this before answering earns full marks.
    pub const PATIENCE_TARGET: f64 = 0.6;
    /// Rep filler words per minute above which an improvement is suggested (heuristic).
    pub const FILLERS_HIGH: f64 = 4.0;
}

use benchmark as b;

/// Points per component; they add up to 100. A component that cannot be measured (patience
/// without end times) is left out and the rest is scaled to 100.
const W_TALK: f64 = 25.0;
const W_QUESTIONS: f64 = 20.0;
const W_MONOLOGUE: f64 = 20.0;
const W_STORY: f64 = 15.0;
const W_INTERACTIVITY: f64 = 10.0;
const W_PATIENCE: f64 = 5.0;
const W_NEXT_STEPS: f64 = 5.0;

/// Turns metrics into the offline [`CallAnalysis`]. `notes` are the ingestion and metric
/// notes so far (degraded input, the rep guess); they are kept in order.
pub fn analyze(m: &CallMetrics, notes: Vec<String>) -> CallAnalysis {
    let mut strengths = Vec::new();
    let mut improvements = Vec::new();
    let mut parts: Vec<(&str, f64, f64)> = Vec::new();
    let item = |title: String, detail: String, metric: &str| CoachingItem {
        title,
        detail,
        metric: Some(metric.to_owned()),
    };
    let basis = match m.talk_basis {
        TalkBasis::Seconds => "speaking time",
        TalkBasis::Words => "words",
    };

    // Talk ratio.
    let rep = m.rep_talk_share;
    let off = (rep - b::TALK_IDEAL).abs();
    let talk_points = if off <= b::TALK_TOLERANCE {
        W_TALK
    } else {
        // Zero at 30 points from the ideal (73 % or 13 %).
        W_TALK * (1.0 - (off - b::TALK_TOLERANCE) / 25.0).clamp(0.0, 1.0)
    };
    parts.push(("talk ratio", talk_points, W_TALK));
    let ratio = format!("{:.0}:{:.0}", rep, m.customer_talk_share);
    if rep > b::TALK_WARNING {
        improvements.push(item(
            "Let the customer talk more".into(),
            format!(
                "You talked {rep:.0}% of the call (by {basis}), rep:customer {ratio}. Above {:.0}% \
                 is a warning sign; top calls sit near {:.0}:{:.0}.",
                b::TALK_WARNING,
                b::TALK_IDEAL,
                100.0 - b::TALK_IDEAL
            ),
            "rep_talk_share",
        ));
    } else if off <= b::TALK_TOLERANCE {
        strengths.push(item(
            "Balanced talk ratio".into(),
            format!(
                "Rep:customer talk was {ratio} (by {basis}), close to the {:.0}:{:.0} benchmark.",
                b::TALK_IDEAL,
                100.0 - b::TALK_IDEAL
            ),
            "rep_talk_share",
        ));
    } else if rep > b::TALK_IDEAL {
        improvements.push(item(
            "Talk a little less".into(),
            format!(
                "Rep:customer talk was {ratio} (by {basis}); the benchmark is {:.0}:{:.0}.",
                b::TALK_IDEAL,
                100.0 - b::TALK_IDEAL
            ),
            "rep_talk_share",
        ));
    } else {
        improvements.push(item(
            "Lead the conversation more".into(),
            format!(
                "Rep:customer talk was {ratio} (by {basis}): the rep said little. The benchmark \
                 is {:.0}:{:.0}; guide the call with questions and a clear next step.",
                b::TALK_IDEAL,
                100.0 - b::TALK_IDEAL
            ),
            "rep_talk_share",
        ));
    }

    // Questions.
    let q = m.rep_questions;
    let q_points = if (b::QUESTIONS_LOW..=b::QUESTIONS_HIGH).contains(&q) {
        W_QUESTIONS
    } else if q < b::QUESTIONS_LOW {
        W_QUESTIONS * f64::from(q) / f64::from(b::QUESTIONS_LOW)
    } else {
        (W_QUESTIONS - 1.5 * f64::from(q - b::QUESTIONS_HIGH)).max(W_QUESTIONS * 0.4)
    };
    parts.push(("questions", q_points, W_QUESTIONS));
    let range = format!("{}-{}", b::QUESTIONS_LOW, b::QUESTIONS_HIGH);
    if (b::QUESTIONS_LOW..=b::QUESTIONS_HIGH).contains(&q) {
        strengths.push(item(
            "Good discovery questions".into(),
            format!("You asked {q} questions, in the {range} range of top-performing calls."),
            "rep_questions",
        ));
    } else if q < b::QUESTIONS_LOW {
        improvements.push(item(
            "Ask more questions".into(),
            format!(
                "You asked {q} question{}; top-performing calls have {range}. Ask open questions \
                 about the customer's situation and goals.",
                if q == 1 { "" } else { "s" }
            ),
            "rep_questions",
        ));
    } else {
        improvements.push(item(
            "Fewer, deeper questions".into(),
            format!(
                "You asked {q} questions; above {} a call starts to feel like an interrogation. \
                 Follow up on answers instead.",
                b::QUESTIONS_HIGH
            ),
            "rep_questions",
        ));
    }

    // Longest rep monologue (seconds, or words converted at the assumed rate).
    if let Some(mono) = &m.longest_rep_monologue {
        let secs = stretch_seconds(mono);
        let points = if secs <= b::MONOLOGUE_MAX {
            W_MONOLOGUE
        } else {
            W_MONOLOGUE
                * (1.0 - (secs - b::MONOLOGUE_MAX) / (b::MONOLOGUE_ZERO - b::MONOLOGUE_MAX))
                    .clamp(0.0, 1.0)
        };
        parts.push(("longest monologue", points, W_MONOLOGUE));
        let said = describe(mono);
        if secs <= b::MONOLOGUE_MAX {
            strengths.push(item(
                "Short monologues".into(),
                format!(
                    "Your longest monologue was {said}, under the {} benchmark.",
                    format_clock(b::MONOLOGUE_MAX)
                ),
                "longest_rep_monologue",
            ));
        } else {
            improvements.push(item(
                "Break up long monologues".into(),
                format!(
                    "Your longest monologue was {said} (from turn {}); keep them under about {} \
                     and check in with a question.",
                    mono.first_turn + 1,
                    format_clock(b::MONOLOGUE_MAX)
                ),
                "longest_rep_monologue",
            ));
        }
    }

    // Longest customer story.
    let story_secs = m
        .longest_customer_story
        .as_ref()
        .map_or(0.0, stretch_seconds);
    parts.push((
        "customer story",
        W_STORY * (story_secs / b::STORY_TARGET).min(1.0),
        W_STORY,
    ));
    if let Some(story) = &m.longest_customer_story {
        let said = describe(story);
        if story_secs >= b::STORY_TARGET {
            strengths.push(item(
                "The customer told their story".into(),
                format!(
                    "{} spoke for {said} at a stretch; long customer stories mark engaged buyers.",
                    story.speaker
                ),
                "longest_customer_story",
            ));
        } else {
            improvements.push(item(
                "Get the customer to tell their story".into(),
                format!(
                    "The longest customer stretch was {said}; on the best calls customers talk for \
                     several minutes at a time. Ask open questions and let silences run."
                ),
                "longest_customer_story",
            ));
        }
    }

    // Interactivity.
    let inter = m.interactivity_per_minute;
    parts.push((
        "interactivity",
        W_INTERACTIVITY * (inter / b::INTERACTIVITY_TARGET).min(1.0),
        W_INTERACTIVITY,
    ));
    if inter < b::INTERACTIVITY_TARGET / 2.0 {
        improvements.push(item(
            "Make it more of a conversation".into(),
            format!(
                "Speakers switched {inter:.1} times a minute; aim for at least {:.0}.",
                b::INTERACTIVITY_TARGET
            ),
            "interactivity_per_minute",
        ));
    }

    // Patience (only when measurable).
    if let Some(p) = m.patience_seconds {
        parts.push((
            "patience",
            W_PATIENCE * (p / b::PATIENCE_TARGET).min(1.0),
            W_PATIENCE,
        ));
        if p < b::PATIENCE_TARGET {
            improvements.push(item(
                "Pause before answering".into(),
                format!(
                    "You waited {p:.1} s on average before speaking after the customer; \
                     top reps pause about {:.1} s or more, so customers finish their thought.",
                    b::PATIENCE_TARGET
                ),
                "patience_seconds",
            ));
        } else {
            strengths.push(item(
                "Patient listening".into(),
                format!("You paused {p:.1} s on average before answering the customer."),
                "patience_seconds",
            ));
        }
    }

    // Next steps.
    let has_next = !m.trackers.next_steps.is_empty();
    parts.push((
        "next steps",
        if has_next { W_NEXT_STEPS } else { 0.0 },
        W_NEXT_STEPS,
    ));
    if has_next {
        strengths.push(item(
            "Next steps discussed".into(),
            format!(
                "Next steps came up {} time{}.",
                m.trackers.next_steps.len(),
                if m.trackers.next_steps.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ),
            "trackers.next_steps",
        ));
    } else {
        improvements.push(item(
            "Close with a next step".into(),
            "No next step was discussed (a meeting, a proposal, a trial). End every call with \
             an agreed next step."
                .into(),
            "trackers.next_steps",
        ));
    }

    if m.rep_fillers_per_minute > b::FILLERS_HIGH {
        improvements.push(item(
            "Fewer filler words".into(),
            format!(
                "You used {:.1} filler words a minute ({} in all); pausing silently sounds more \
                 confident.",
                m.rep_fillers_per_minute, m.rep_filler_words
            ),
            "rep_fillers_per_minute",
        ));
    }

    let earned: f64 = parts.iter().map(|p| p.1).sum();
    let available: f64 = parts.iter().map(|p| p.2).sum();
    let score = if available > 0.0 {
        (100.0 * earned / available).round().clamp(0.0, 100.0) as u8
    } else {
        0
    };
    let score_rationale = format!(
        "Offline score from the conversation metrics against sales-call benchmarks: {}{}.",
        parts
            .iter()
            .map(|(name, got, of)| format!("{name} {got:.0}/{of:.0}"))
            .collect::<Vec<_>>()
            .join(", "),
        if available < 100.0 {
            format!(" (scaled from {available:.0} points: patience not measurable)")
        } else {
            String::new()
        }
    );

    let objections = objection_notes(m);
    let next_steps = next_step_lines(m);
    let summary = summary(m, &objections, next_steps.len());

    CallAnalysis {
        schema_version: SCHEMA_VERSION,
        provider: PROVIDER.into(),
        model: MODEL.into(),
        served_from: ServedFrom::Offline,
        score,
        score_rationale,
        summary,
        strengths,
        improvements,
        objections,
        next_steps,
        metrics: serde_json::to_value(m).unwrap_or(serde_json::Value::Null),
        notes,
        attempts: Vec::new(),
        cached_at: None,
    }
}

fn stretch_seconds(s: &Stretch) -> f64 {
    s.seconds
        .unwrap_or_else(|| f64::from(s.words) / ESTIMATED_WORDS_PER_MINUTE * 60.0)
}

fn describe(s: &Stretch) -> String {
    match s.seconds {
        Some(secs) => format!("{} ({} words)", format_clock(secs), s.words),
        None => format!(
            "{} words (about {})",
            s.words,
            format_clock(stretch_seconds(s))
        ),
    }
}

/// One note per objection kind per turn, in call order.
fn objection_notes(m: &CallMetrics) -> Vec<ObjectionNote> {
    let mut out: Vec<ObjectionNote> = Vec::new();
    for hit in &m.trackers.objections {
        if out
            .iter()
            .any(|o| o.kind == hit.kind && o.turn_index == Some(hit.turn_index))
        {
            continue;
        }
        out.push(ObjectionNote {
            kind: hit.kind,
            said: hit.sentence.clone(),
            turn_index: Some(hit.turn_index),
            handling: None,
        });
    }
    out.sort_by_key(|o| o.turn_index);
    out
}

/// The sentences where next steps came up, with their speaker, without repeats (at most 10).
fn next_step_lines(m: &CallMetrics) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for hit in &m.trackers.next_steps {
        let line = format!("{}: {}", hit.speaker, hit.sentence);
        if !out.contains(&line) {
            out.push(line);
        }
        if out.len() == 10 {
            break;
        }
    }
    out
}

fn summary(m: &CallMetrics, objections: &[ObjectionNote], next_steps: usize) -> String {
    let others: Vec<&str> = m
        .speakers
        .iter()
        .filter(|s| !s.is_rep)
        .map(|s| s.name.as_str())
        .collect();
    let length = if m.duration_estimated {
        format!("about {} (estimated)", format_clock(m.duration_seconds))
    } else {
        format_clock(m.duration_seconds)
    };
    let mut kinds: Vec<&str> = Vec::new();
    for o in objections {
        let k = match o.kind {
            ObjectionKind::Price => "price",
            ObjectionKind::Timing => "timing",
            ObjectionKind::Authority => "authority",
            ObjectionKind::Need => "need",
            ObjectionKind::Competitor => "competitor",
            ObjectionKind::Other => "other",
        };
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    let objections = if objections.is_empty() {
        "no objections detected".to_owned()
    } else {
        format!(
            "{} objection{} ({})",
            objections.len(),
            if objections.len() == 1 { "" } else { "s" },
            kinds.join(", ")
        )
    };
    format!(
        "Offline analysis of a call of {length} between {} (rep) and {}. The rep had {:.0}% of \
         the talk and asked {} question{}; the customer asked {}. {}; {}.",
        m.rep,
        others.join(", "),
        m.rep_talk_share,
        m.rep_questions,
        if m.rep_questions == 1 { "" } else { "s" },
        m.customer_questions,
        capitalise(&objections),
        if next_steps > 0 {
            "next steps discussed"
        } else {
            "no next step discussed"
        }
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
