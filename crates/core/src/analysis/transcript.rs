//! The parsed transcript every format turns into: speaker turns in file order, each with
//! optional start/end times in seconds, plus what ingestion had to say about the input.

use serde::Serialize;

use super::error::IngestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TranscriptFormat {
    Plain,
    Webvtt,
    Srt,
    Json,
}

impl TranscriptFormat {
    pub fn label(self) -> &'static str {
        match self {
            TranscriptFormat::Plain => "plain-text",
            TranscriptFormat::Webvtt => "WebVTT",
            TranscriptFormat::Srt => "SRT",
            TranscriptFormat::Json => "JSON",
        }
    }
}

/// One speaker turn as written in the file (a line, a cue, a segment). Consecutive turns by
/// the same speaker stay separate here; metrics merge them into monologues.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub speaker: String,
    /// Seconds from the start of the recording.
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub text: String,
}

/// What the timestamps of a transcript allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// Every turn has a start and an end (WebVTT, SRT, JSON segments).
    StartEnd,
    /// Every turn has a start only (timestamped plain text): a turn lasts until the next.
    StartsOnly,
    /// No usable timestamps: durations are estimated from word counts.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub format: TranscriptFormat,
    pub turns: Vec<Turn>,
    /// Plain statements about degraded input (ignored lines, dropped timestamps, encoding).
    pub notes: Vec<String>,
}

impl Transcript {
    /// Checks and normalises what a format parser produced: drops empty turns, requires two
    /// speakers, and drops timestamps that cannot be trusted (saying so in `notes`).
    pub(crate) fn finish(
        format: TranscriptFormat,
        mut turns: Vec<Turn>,
        mut notes: Vec<String>,
    ) -> Result<Self, IngestError> {
        for turn in &mut turns {
            turn.text = collapse_whitespace(&turn.text);
            turn.speaker = collapse_whitespace(&turn.speaker);
        }
        turns.retain(|t| !t.text.is_empty() && !t.speaker.is_empty());
        if turns.is_empty() {
            return Err(IngestError::NoWords);
        }
        if turns.iter().all(|t| super::text::word_count(&t.text) == 0) {
            return Err(IngestError::NoWords);
        }
        let mut transcript = Transcript {
            format,
            turns,
            notes: Vec::new(),
        };
        let speakers = transcript.speakers();
        if speakers.len() < 2 {
            return Err(IngestError::SingleSpeaker {
                name: speakers[0].to_owned(),
            });
        }
        transcript.check_timestamps(&mut notes);
        transcript.notes = notes;
        Ok(transcript)
    }

    /// Speakers in order of first appearance.
    pub fn speakers(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for turn in &self.turns {
            if !seen.contains(&turn.speaker.as_str()) {
                seen.push(&turn.speaker);
            }
        }
        seen
    }

    pub fn timing(&self) -> Timing {
        if self
            .turns
            .iter()
            .all(|t| t.start.is_some() && t.end.is_some())
        {
            Timing::StartEnd
        } else if self.turns.iter().all(|t| t.start.is_some()) {
            Timing::StartsOnly
        } else {
            Timing::None
        }
    }

    fn drop_timestamps(&mut self) {
        for turn in &mut self.turns {
            turn.start = None;
            turn.end = None;
        }
    }

    fn check_timestamps(&mut self, notes: &mut Vec<String>) {
        let n = self.turns.len();
        let with_start = self.turns.iter().filter(|t| t.start.is_some()).count();
        if with_start == 0 {
            self.drop_timestamps();
            return;
        }
        if with_start < n {
            notes.push(format!(
                "only {with_start} of {n} turns have timestamps: timestamps ignored"
            ));
            self.drop_timestamps();
            return;
        }
        let bad = self.turns.iter().enumerate().find_map(|(i, t)| {
            let start = t.start.unwrap_or(0.0);
            if !start.is_finite() || start < 0.0 {
                return Some(format!("turn {} has an invalid start time", i + 1));
            }
            if let Some(end) = t.end
                && (!end.is_finite() || end < start)
            {
                return Some(format!(
                    "turn {} ends ({}) before it starts ({})",
                    i + 1,
                    format_clock(end.max(0.0)),
                    format_clock(start)
                ));
            }
            let prev = i.checked_sub(1).and_then(|p| self.turns[p].start)?;
            (start < prev).then(|| {
                format!(
                    "timestamps go backwards at turn {} ({} after {})",
                    i + 1,
                    format_clock(start),
                    format_clock(prev)
                )
            })
        });
        if let Some(problem) = bad {
            notes.push(format!("{problem}: timestamps ignored"));
            self.drop_timestamps();
            return;
        }
        let with_end = self.turns.iter().filter(|t| t.end.is_some()).count();
        if with_end > 0 && with_end < n {
            notes.push(format!(
                "only {with_end} of {n} turns have end times: end times ignored, each turn \
                 lasts until the next one starts"
            ));
            for turn in &mut self.turns {
                turn.end = None;
            }
        }
    }
}

/// `h:mm:ss` or `m:ss` for messages and summaries.
pub fn format_clock(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}
