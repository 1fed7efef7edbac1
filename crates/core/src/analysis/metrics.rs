//! Exact conversation metrics, defined so that a person counting by hand gets the same
//! numbers (the same definitions are in `docs/metrics.md`):
//!
//! - **Turn durations.** With start and end times (WebVTT, SRT, JSON) a turn lasts
//!   `end - start`. With start times only (timestamped plain text) a turn lasts until the next
//!   turn starts; the last turn's length is estimated from its words at the call's own
//!   speaking rate. Without timestamps nothing is timed: durations are estimated from words at
//!   [`ESTIMATED_WORDS_PER_MINUTE`] and the result says so.
//! - **Talk share** of a speaker: their speaking time over everyone's, in percent; by words
//!   when there are no timestamps. The rep's share against all other speakers ("customer")
//!   is the talk ratio.
//! - **Monologue / story**: consecutive turns by the same speaker merged into one stretch,
//!   lasting from its first turn's start to its last turn's end (with start times only: to
//!   the next speaker's start). The longest rep stretch is the longest monologue; the longest
//!   stretch of any other speaker is the longest customer story. Measured in seconds when
//!   timed, in words otherwise.
//! - **Speaker switches**: the number of stretches minus one. **Interactivity**: switches per
//!   minute of call.
//! - **Call duration**: first start to last end (timed), else estimated from all words.
//! - **Patience**: the average gap between the end of a customer stretch and the start of the
//!   rep stretch that follows it (overlaps count as 0); needs start and end times.
//! - **Questions**: sentences ending in `?` (see [`question_count`]); the rep's question rate
//!   is per minute of call.
//! - **Filler words**: [`FILLER_WORDS`](super::text::FILLER_WORDS) per minute of the
//!   speaker's own talk time (estimated from words when untimed).
//! - **Words per minute**: a speaker's words over their talk time; only when timed.

use serde::Serialize;

use super::error::IngestError;
use super::rep::{RepChoice, RepSource};
use super::text::{filler_count, question_count, word_count};
use super::trackers::{self, Trackers};
use super::transcript::{Timing, Transcript, TranscriptFormat};

/// The speaking rate assumed when a transcript has no timestamps (a common conversational
/// rate; published figures for speech range from about 130 to 160).
pub const ESTIMATED_WORDS_PER_MINUTE: f64 = 150.0;

pub const METRICS_VERSION: u32 = 1;

/// What talk shares and stretch lengths are measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TalkBasis {
    Seconds,
    Words,
}

/// The metrics of one call. Saved as JSON in `CallAnalysis::metrics`; its keys are stable
/// (add fields, never rename; bump [`METRICS_VERSION`] on a change of meaning).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct CallMetrics {
    pub metrics_version: u32,
    pub format: TranscriptFormat,
    pub timing: Timing,
    pub talk_basis: TalkBasis,
    /// The rep's speaker name and how it was chosen.
    pub rep: String,
    pub rep_source: RepSource,
    /// Seconds; estimated from words when `duration_estimated`.
    pub duration_seconds: f64,
    pub duration_estimated: bool,
    pub turn_count: u32,
    pub word_count: u32,
    pub speakers: Vec<SpeakerMetrics>,
    /// Percent of talk by the rep (0-100).
    pub rep_talk_share: f64,
    /// Percent of talk by everyone else.
    pub customer_talk_share: f64,
    pub longest_rep_monologue: Option<Stretch>,
    pub longest_customer_story: Option<Stretch>,
    pub speaker_switches: u32,
    pub interactivity_per_minute: f64,
    /// Average seconds before the rep speaks after a customer; `null` when not measurable.
    pub patience_seconds: Option<f64>,
    pub rep_questions: u32,
    pub rep_questions_per_minute: f64,
    pub customer_questions: u32,
    pub rep_filler_words: u32,
    pub rep_fillers_per_minute: f64,
    pub trackers: Trackers,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SpeakerMetrics {
    pub name: String,
    pub is_rep: bool,
    pub turns: u32,
    pub words: u32,
    /// Seconds spoken; `null` without timestamps.
    pub talk_seconds: Option<f64>,
    /// Percent of all talk (by time, else by words).
    pub talk_share: f64,
    pub words_per_minute: Option<f64>,
    pub questions: u32,
    pub filler_words: u32,
    pub fillers_per_minute: f64,
    pub longest_stretch: Stretch,
}

/// Consecutive turns by one speaker, merged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Stretch {
    pub speaker: String,
    /// 0-based indices of its first and last turn.
    pub first_turn: u32,
    pub last_turn: u32,
    pub start: Option<f64>,
    /// Length in seconds; `null` without timestamps.
    pub seconds: Option<f64>,
    pub words: u32,
}

pub struct MetricsInput<'a> {
    pub rep: &'a RepChoice,
    pub competitors: &'a [String],
}

/// Computes the metrics, and the notes that say what could not be measured exactly.
pub fn compute(
    transcript: &Transcript,
    input: &MetricsInput<'_>,
) -> Result<(CallMetrics, Vec<String>), IngestError> {
    let rep = input.rep.name.as_str();
    let turns = &transcript.turns;
    let mut notes = Vec::new();
    let words: Vec<u32> = turns.iter().map(|t| word_count(&t.text)).collect();
    let total_words: u32 = words.iter().sum();
    if total_words == 0 {
        return Err(IngestError::NoWords);
    }

    let mut timing = transcript.timing();
    let mut durations = turn_durations(transcript, timing, &words);
    if timing != Timing::None && durations.iter().sum::<f64>() <= 0.0 {
        notes.push("the timestamps span no time: timestamps ignored".to_owned());
        timing = Timing::None;
        durations = turn_durations(transcript, timing, &words);
    }
    let timed = timing != Timing::None;
    if !timed {
        notes.push(format!(
            "no timestamps: durations estimated from word counts at {ESTIMATED_WORDS_PER_MINUTE} \
             words per minute; talk ratio and monologues measured in words; patience not measured"
        ));
    } else if timing == Timing::StartsOnly {
        notes.push(
            "start times only: each turn lasts until the next one starts; patience not measured"
                .to_owned(),
        );
    }

    let duration_seconds = if timed {
        let first = turns[0].start.unwrap_or(0.0);
        let last = turns.len() - 1;
        let end = match timing {
            Timing::StartEnd => turns.iter().filter_map(|t| t.end).fold(0.0, f64::max),
            _ => turns[last].start.unwrap_or(0.0) + durations[last],
        };
        (end - first).max(0.0)
    } else {
        estimated_seconds(total_words)
    };
    let minutes = duration_seconds / 60.0;

    let stretches = stretches(transcript, timing, &words, &durations);

    let speakers: Vec<SpeakerMetrics> = transcript
        .speakers()
        .into_iter()
        .map(|name| {
            let mine = || {
                turns
                    .iter()
                    .enumerate()
                    .filter(move |(_, t)| t.speaker == name)
            };
            let turn_count = mine().count();
            let w: u32 = mine().map(|(i, _)| words[i]).sum();
            let secs: f64 = mine().map(|(i, _)| durations[i]).sum();
            let fillers: u32 = mine().map(|(_, t)| filler_count(&t.text)).sum();
            let talk_minutes = if timed {
                secs / 60.0
            } else {
                estimated_seconds(w) / 60.0
            };
            let longest = longest(stretches.iter().filter(|s| s.speaker == name), timed)
                .cloned()
                .unwrap_or_else(|| unreachable_stretch(name));
            SpeakerMetrics {
                name: name.to_owned(),
                is_rep: name == rep,
                turns: u32::try_from(turn_count).unwrap_or(u32::MAX),
                words: w,
                talk_seconds: timed.then(|| round1(secs)),
                talk_share: 0.0,
                words_per_minute: (timed && secs > 0.0)
                    .then(|| round1(f64::from(w) / (secs / 60.0))),
                questions: mine().map(|(_, t)| question_count(&t.text)).sum(),
                filler_words: fillers,
                fillers_per_minute: per_minute(fillers, talk_minutes),
                longest_stretch: longest,
            }
        })
        .collect();

    // Shares from unrounded sums, so the rep and customer shares add up to 100.
    let talk_of = |name: &str| -> f64 {
        turns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.speaker == name)
            .map(|(i, _)| {
                if timed {
                    durations[i]
                } else {
                    f64::from(words[i])
                }
            })
            .sum()
    };
    let total_talk: f64 = if timed {
        durations.iter().sum()
    } else {
        f64::from(total_words)
    };
    let share = |x: f64| {
        if total_talk > 0.0 {
            round1(100.0 * x / total_talk)
        } else {
            0.0
        }
    };
    let mut speakers = speakers;
    for s in &mut speakers {
        s.talk_share = share(talk_of(&s.name));
    }
    let rep_talk = talk_of(rep);
    let rep_share = share(rep_talk);
    let customer_share = share(total_talk - rep_talk);

    let rep_metrics = speakers.iter().find(|s| s.is_rep);
    let rep_questions = rep_metrics.map_or(0, |s| s.questions);
    let rep_fillers = rep_metrics.map_or(0, |s| s.filler_words);
    let rep_fillers_per_minute = rep_metrics.map_or(0.0, |s| s.fillers_per_minute);
    let customer_questions = speakers
        .iter()
        .filter(|s| !s.is_rep)
        .map(|s| s.questions)
        .sum();

    let patience_seconds = (timing == Timing::StartEnd)
        .then(|| patience(transcript, &stretches, rep))
        .flatten();

    let switches = u32::try_from(stretches.len().saturating_sub(1)).unwrap_or(u32::MAX);
    let metrics = CallMetrics {
        metrics_version: METRICS_VERSION,
        format: transcript.format,
        timing,
        talk_basis: if timed {
            TalkBasis::Seconds
        } else {
            TalkBasis::Words
        },
        rep: rep.to_owned(),
        rep_source: input.rep.source,
        duration_seconds: round1(duration_seconds),
        duration_estimated: !timed,
        turn_count: u32::try_from(turns.len()).unwrap_or(u32::MAX),
        word_count: total_words,
        rep_talk_share: rep_share,
        customer_talk_share: customer_share,
        longest_rep_monologue: longest(stretches.iter().filter(|s| s.speaker == rep), timed)
            .cloned(),
        longest_customer_story: longest(stretches.iter().filter(|s| s.speaker != rep), timed)
            .cloned(),
        speaker_switches: switches,
        interactivity_per_minute: per_minute(switches, minutes),
        patience_seconds,
        rep_questions,
        rep_questions_per_minute: per_minute(rep_questions, minutes),
        customer_questions,
        rep_filler_words: rep_fillers,
        rep_fillers_per_minute,
        speakers,
        trackers: trackers::track(transcript, rep, input.competitors),
    };
    Ok((metrics, notes))
}

fn estimated_seconds(words: u32) -> f64 {
    f64::from(words) / ESTIMATED_WORDS_PER_MINUTE * 60.0
}

fn per_minute(count: u32, minutes: f64) -> f64 {
    if minutes > 0.0 {
        round2(f64::from(count) / minutes)
    } else {
        0.0
    }
}

fn turn_durations(transcript: &Transcript, timing: Timing, words: &[u32]) -> Vec<f64> {
    let turns = &transcript.turns;
    match timing {
        Timing::StartEnd => turns
            .iter()
            .map(|t| (t.end.unwrap_or(0.0) - t.start.unwrap_or(0.0)).max(0.0))
            .collect(),
        Timing::StartsOnly => {
            let starts: Vec<f64> = turns.iter().map(|t| t.start.unwrap_or(0.0)).collect();
            let n = starts.len();
            let mut out: Vec<f64> = (0..n.saturating_sub(1))
                .map(|i| (starts[i + 1] - starts[i]).max(0.0))
                .collect();
            // The last turn has no successor: use the call's own rate (words per second over
            // the timed turns), else the assumed rate.
            let timed_words: u32 = words[..n - 1].iter().sum();
            let timed_secs = starts[n - 1] - starts[0];
            let last = if timed_words > 0 && timed_secs > 0.0 {
                f64::from(words[n - 1]) * timed_secs / f64::from(timed_words)
            } else {
                estimated_seconds(words[n - 1])
            };
            out.push(last);
            out
        }
        Timing::None => words.iter().map(|&w| estimated_seconds(w)).collect(),
    }
}

fn stretches(
    transcript: &Transcript,
    timing: Timing,
    words: &[u32],
    durations: &[f64],
) -> Vec<Stretch> {
    let turns = &transcript.turns;
    let mut out: Vec<Stretch> = Vec::new();
    for (i, turn) in turns.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let end = turn.start.map(|s| s + durations[i]);
        let end = match timing {
            Timing::StartEnd => turn.end,
            Timing::StartsOnly => end,
            Timing::None => None,
        };
        match out.last_mut() {
            Some(s) if s.speaker == turn.speaker => {
                s.last_turn = index;
                s.words += words[i];
                if let (Some(start), Some(end)) = (s.start, end) {
                    s.seconds = Some((end - start).max(0.0));
                }
            }
            _ => out.push(Stretch {
                speaker: turn.speaker.clone(),
                first_turn: index,
                last_turn: index,
                start: if timing == Timing::None {
                    None
                } else {
                    turn.start
                },
                seconds: if timing == Timing::None {
                    None
                } else {
                    Some(durations[i])
                },
                words: words[i],
            }),
        }
    }
    for s in &mut out {
        s.seconds = s.seconds.map(round1);
    }
    out
}

/// The longest stretch (by seconds when timed, else by words); the first one on a tie.
fn longest<'a>(stretches: impl Iterator<Item = &'a Stretch>, timed: bool) -> Option<&'a Stretch> {
    let mut best: Option<&Stretch> = None;
    for s in stretches {
        let better = match best {
            None => true,
            Some(b) if timed => s.seconds.unwrap_or(0.0) > b.seconds.unwrap_or(0.0),
            Some(b) => s.words > b.words,
        };
        if better {
            best = Some(s);
        }
    }
    best
}

fn patience(transcript: &Transcript, stretches: &[Stretch], rep: &str) -> Option<f64> {
    let turns = &transcript.turns;
    let gaps: Vec<f64> = stretches
        .windows(2)
        .filter(|w| w[0].speaker != rep && w[1].speaker == rep)
        .filter_map(|w| {
            let customer_end = turns[w[0].last_turn as usize].end?;
            let rep_start = turns[w[1].first_turn as usize].start?;
            Some((rep_start - customer_end).max(0.0))
        })
        .collect();
    (!gaps.is_empty()).then(|| round2(gaps.iter().sum::<f64>() / gaps.len() as f64))
}

fn unreachable_stretch(name: &str) -> Stretch {
    Stretch {
        speaker: name.to_owned(),
        first_turn: 0,
        last_turn: 0,
        start: None,
        seconds: None,
        words: 0,
    }
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
