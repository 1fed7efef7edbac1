//! Topic trackers: every occurrence of pricing talk, competitor names, customer objections
//! (price, timing, authority, need, competitor) and next steps, with its turn and time.
//!
//! A term matches case-insensitively as whole words ("price" does not match "priceless");
//! `'` in a term also matches `’`. Objections count only in customer turns; the others in
//! every turn.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::report::ObjectionKind;
use super::text::sentence_around;
use super::transcript::Transcript;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct TrackerHit {
    /// 0-based index of the turn in the transcript.
    pub turn_index: u32,
    pub speaker: String,
    /// Seconds from the start, when the transcript has timestamps.
    pub start: Option<f64>,
    /// The matched term, lowercase.
    pub term: String,
    /// The sentence it was said in (at most 240 characters).
    pub sentence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct ObjectionHit {
    pub kind: ObjectionKind,
    pub turn_index: u32,
    pub speaker: String,
    pub start: Option<f64>,
    pub term: String,
    pub sentence: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Trackers {
    pub pricing: Vec<TrackerHit>,
    /// The competitor names searched for (user-configured).
    pub competitor_names: Vec<String>,
    pub competitors: Vec<TrackerHit>,
    pub objections: Vec<ObjectionHit>,
    pub next_steps: Vec<TrackerHit>,
}

pub const PRICING_TERMS: &[&str] = &[
    "price",
    "prices",
    "pricing",
    "priced",
    "cost",
    "costs",
    "costly",
    "budget",
    "budgets",
    "discount",
    "discounts",
    "quote",
    "quoted",
    "invoice",
    "per seat",
    "per user",
    "per license",
    "per month",
    "per year",
    "subscription",
    "license fee",
    "fee",
    "fees",
    "dollars",
    "euros",
    "expensive",
    "cheaper",
    "afford",
    "roi",
    "payment terms",
    "list price",
];
/// Amounts of money such as `$40` or `€ 1,200`, also counted as pricing.
const PRICING_PATTERNS: &[&str] = &[r"[$€£]\s?\d[\d,.]*"];

pub const NEXT_STEP_TERMS: &[&str] = &[
    "next step",
    "next steps",
    "follow up",
    "follow-up",
    "following up",
    "send over",
    "send you",
    "send it over",
    "i'll send",
    "we'll send",
    "calendar invite",
    "send an invite",
    "schedule",
    "set up a",
    "book a",
    "next meeting",
    "next call",
    "next week",
    "trial",
    "pilot",
    "proposal",
    "circle back",
    "touch base",
    "get back to you",
    "action items",
];

pub const OBJECTION_TERMS: &[(ObjectionKind, &[&str])] = &[
    (
        ObjectionKind::Price,
        &[
            "too expensive",
            "expensive",
            "pricey",
            "too costly",
            "costs too much",
            "too much money",
            "can't afford",
            "cannot afford",
            "out of our budget",
            "over our budget",
            "over budget",
            "no budget",
            "don't have the budget",
            "don't have budget",
            "not in the budget",
            "not in our budget",
            "price is too high",
            "pricing is too high",
            "cheaper option",
            "cheaper elsewhere",
        ],
    ),
    (
        ObjectionKind::Timing,
        &[
            "not the right time",
            "not a good time",
            "bad timing",
            "not right now",
            "not now",
            "next quarter",
            "next year",
            "later this year",
            "too busy",
            "maybe later",
            "in a few months",
            "not a priority",
            "revisit this",
            "hold off",
            "on hold",
            "wait until",
        ],
    ),
    (
        ObjectionKind::Authority,
        &[
            "check with my",
            "check with our",
            "run it by",
            "run this by",
            "my boss",
            "my manager",
            "not my decision",
            "not up to me",
            "the board",
            "sign off",
            "sign-off",
            "decision maker",
            "get approval",
            "need approval",
            "final say",
            "procurement",
            "legal team",
        ],
    ),
    (
        ObjectionKind::Need,
        &[
            "don't need",
            "do not need",
            "no need",
            "not interested",
            "don't see the need",
            "don't see the value",
            "not sure we need",
            "happy with what we have",
            "works fine for us",
            "not a fit",
            "doesn't fit",
            "not a problem for us",
            "not relevant",
            "no use for",
        ],
    ),
    (
        ObjectionKind::Competitor,
        &[
            "another vendor",
            "other vendors",
            "a competitor",
            "your competitors",
            "already using",
            "already use",
            "already work with",
            "going with",
            "other options",
            "other solutions",
            "looking at other",
            "alternatives",
        ],
    ),
];

/// A case-insensitive, whole-word matcher over a list of terms.
pub struct Matcher {
    regex: Regex,
}

impl Matcher {
    fn new(terms: &[&str], patterns: &[&str]) -> Option<Self> {
        let mut terms: Vec<String> = terms
            .iter()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        // Longest first, so "next steps" wins over "next step".
        terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
        terms.dedup();
        let mut alternatives: Vec<String> = terms
            .iter()
            .map(|t| regex::escape(t).replace('\'', "['’]"))
            .collect();
        alternatives.extend(patterns.iter().map(|p| (*p).to_owned()));
        if alternatives.is_empty() {
            return None;
        }
        let regex = Regex::new(&format!("(?i){}", alternatives.join("|"))).ok()?;
        Some(Self { regex })
    }

    /// Byte ranges of whole-word matches in `text`.
    fn find<'t>(&'t self, text: &'t str) -> impl Iterator<Item = (usize, usize)> + 't {
        self.regex.find_iter(text).filter_map(move |m| {
            let (s, e) = (m.start(), m.end());
            let word_edge_before = m.as_str().starts_with(char::is_alphanumeric)
                && text[..s]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric);
            let word_edge_after = m.as_str().ends_with(char::is_alphanumeric)
                && text[e..].chars().next().is_some_and(char::is_alphanumeric);
            (!word_edge_before && !word_edge_after).then_some((s, e))
        })
    }
}

static PRICING: LazyLock<Option<Matcher>> =
    LazyLock::new(|| Matcher::new(PRICING_TERMS, PRICING_PATTERNS));
static NEXT_STEPS: LazyLock<Option<Matcher>> = LazyLock::new(|| Matcher::new(NEXT_STEP_TERMS, &[]));
static OBJECTIONS: LazyLock<Vec<(ObjectionKind, Matcher)>> = LazyLock::new(|| {
    OBJECTION_TERMS
        .iter()
        .filter_map(|(kind, terms)| Matcher::new(terms, &[]).map(|m| (*kind, m)))
        .collect()
});

/// Runs every tracker over the transcript. `rep` names the rep (objections are customers').
pub fn track(transcript: &Transcript, rep: &str, competitors: &[String]) -> Trackers {
    let names: Vec<String> = competitors
        .iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let competitor = Matcher::new(&name_refs, &[]);
    let mut out = Trackers {
        competitor_names: names.clone(),
        ..Trackers::default()
    };
    for (i, turn) in transcript.turns.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let hit = |(s, e): (usize, usize)| TrackerHit {
            turn_index: index,
            speaker: turn.speaker.clone(),
            start: turn.start,
            term: turn.text[s..e].to_lowercase().replace('’', "'"),
            sentence: sentence_around(&turn.text, s, e),
        };
        if let Some(m) = PRICING.as_ref() {
            out.pricing.extend(m.find(&turn.text).map(hit));
        }
        if let Some(m) = NEXT_STEPS.as_ref() {
            out.next_steps.extend(m.find(&turn.text).map(hit));
        }
        let competitor_hits: Vec<TrackerHit> = competitor
            .as_ref()
            .map(|m| m.find(&turn.text).map(hit).collect())
            .unwrap_or_default();
        if turn.speaker != rep {
            let objection = |kind, h: TrackerHit| ObjectionHit {
                kind,
                turn_index: h.turn_index,
                speaker: h.speaker,
                start: h.start,
                term: h.term,
                sentence: h.sentence,
            };
            for (kind, m) in OBJECTIONS.iter() {
                out.objections
                    .extend(m.find(&turn.text).map(|r| objection(*kind, hit(r))));
            }
            // A customer naming a competitor is a competitor objection.
            out.objections.extend(
                competitor_hits
                    .iter()
                    .cloned()
                    .map(|h| objection(ObjectionKind::Competitor, h)),
            );
        }
        out.competitors.extend(competitor_hits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::transcript::{TranscriptFormat, Turn};

    fn transcript(turns: &[(&str, &str)]) -> Transcript {
        Transcript {
            format: TranscriptFormat::Plain,
            turns: turns
                .iter()
                .map(|(s, t)| Turn {
                    speaker: (*s).into(),
                    start: None,
                    end: None,
                    text: (*t).into(),
                })
                .collect(),
            notes: vec![],
        }
    }

    #[test]
    fn whole_words_and_every_occurrence() {
        let t = transcript(&[
            ("Rep", "Our price is $40 per user. Priceless!"),
            (
                "Cust",
                "That’s too expensive and I don't need it. We use Acme.",
            ),
        ]);
        let out = track(&t, "Rep", &["Acme".into()]);
        let terms: Vec<&str> = out.pricing.iter().map(|h| h.term.as_str()).collect();
        assert_eq!(terms, ["price", "$40", "per user", "expensive"]);
        let kinds: Vec<ObjectionKind> = out.objections.iter().map(|o| o.kind).collect();
        assert_eq!(
            kinds,
            [
                ObjectionKind::Price,
                ObjectionKind::Need,
                ObjectionKind::Competitor
            ]
        );
        assert_eq!(out.objections[1].term, "don't need");
        assert_eq!(out.competitors.len(), 1);
        assert_eq!(out.competitors[0].turn_index, 1);
        assert_eq!(out.competitors[0].sentence, "We use Acme.");
    }

    #[test]
    fn every_term_list_compiles() {
        assert_eq!(OBJECTIONS.len(), OBJECTION_TERMS.len());
        assert!(PRICING.is_some() && NEXT_STEPS.is_some());
    }

    #[test]
    fn rep_turns_raise_no_objections() {
        let t = transcript(&[("Rep", "Is it too expensive?"), ("Cust", "Fine.")]);
        assert!(track(&t, "Rep", &[]).objections.is_empty());
    }
}
