//! Plain-text transcripts: one turn per line as `Speaker: text`, optionally led by a
//! `[mm:ss]`, `[hh:mm:ss]` or bare `00:01:02` timestamp. Lines without a speaker label
//! continue the previous turn. Also read: a speaker line with the text on the following
//! lines (`Alice:` alone, or `Alice Smith  0:02` as meeting tools export it).

use super::{is_speaker_label, parse_timecode, split_speaker};
use crate::analysis::error::IngestError;
use crate::analysis::transcript::{Transcript, TranscriptFormat, Turn};

#[derive(Debug, PartialEq)]
enum Line<'a> {
    Blank,
    /// A timestamp alone: it belongs to the next turn.
    Timestamp(f64),
    Turn {
        ts: Option<f64>,
        speaker: &'a str,
        text: &'a str,
    },
    Text(&'a str),
}

pub fn parse(text: &str) -> Result<Transcript, IngestError> {
    let mut turns: Vec<Turn> = Vec::new();
    let mut pending_ts = None;
    let mut preamble = 0usize;
    for line in text.lines() {
        match classify(line) {
            Line::Blank => {}
            Line::Timestamp(ts) => pending_ts = Some(ts),
            Line::Turn { ts, speaker, text } => {
                turns.push(Turn {
                    speaker: speaker.to_owned(),
                    start: ts.or(pending_ts.take()),
                    end: None,
                    text: text.to_owned(),
                });
            }
            Line::Text(t) => match turns.last_mut() {
                Some(turn) => {
                    turn.text.push(' ');
                    turn.text.push_str(t);
                }
                None => preamble += 1,
            },
        }
    }
    let labelled = turns.len();
    if labelled < 2 {
        return Err(IngestError::UnknownFormat {
            reason: format!(
                "read as plain text, but {labelled} line(s) start with a speaker label \
                 (`Name: text`)"
            ),
        });
    }
    let mut notes = Vec::new();
    if preamble > 0 {
        notes.push(format!(
            "ignored {preamble} line(s) before the first speaker turn"
        ));
    }
    Transcript::finish(TranscriptFormat::Plain, turns, notes)
}

fn classify(line: &str) -> Line<'_> {
    let line = line.trim();
    if line.is_empty() {
        return Line::Blank;
    }
    let (ts, rest) = leading_timestamp(line);
    if rest.is_empty() {
        return match ts {
            Some(ts) => Line::Timestamp(ts),
            None => Line::Text(line),
        };
    }
    if let Some((speaker, inner_ts, text)) = split_speaker(rest) {
        return Line::Turn {
            ts: ts.or(inner_ts),
            speaker,
            text,
        };
    }
    if ts.is_none()
        && let Some((speaker, ts)) = speaker_header(rest)
    {
        return Line::Turn {
            ts: Some(ts),
            speaker,
            text: "",
        };
    }
    Line::Text(line)
}

/// `[00:01]`, `(00:01)` or `00:01:02` at the start of a line, and the rest after separators.
fn leading_timestamp(line: &str) -> (Option<f64>, &str) {
    let (ts, rest) = if let Some(inner) = line.strip_prefix(['[', '(']) {
        match inner.find([']', ')']) {
            Some(close) => match parse_timecode(&inner[..close]) {
                Some(ts) => (ts, &inner[close + 1..]),
                None => return (None, line),
            },
            None => return (None, line),
        }
    } else if line.starts_with(|c: char| c.is_ascii_digit()) {
        let end = line.find(char::is_whitespace).unwrap_or(line.len());
        match parse_timecode(&line[..end]) {
            Some(ts) => (ts, &line[end..]),
            None => return (None, line),
        }
    } else {
        return (None, line);
    };
    let rest =
        rest.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '–' | '—' | '|'));
    (Some(ts), rest)
}

/// `Alice Smith  0:02`, `Alice Smith (00:01:02)`, `Alice Smith 00:01:02`: a speaker heading
/// whose text follows on the next lines. A plain sentence ending in a time ("see you at
/// 10:30") is not one: the name must be capitalised and the time set off by two spaces, a tab,
/// brackets, or written as h:mm:ss.
fn speaker_header(line: &str) -> Option<(&str, f64)> {
    let (name, ts, strong) = if let Some(stripped) = line.strip_suffix([')', ']']) {
        let open = stripped.rfind(['(', '['])?;
        (
            &stripped[..open],
            parse_timecode(&stripped[open + 1..])?,
            true,
        )
    } else {
        let (split, space) = line.char_indices().rev().find(|(_, c)| c.is_whitespace())?;
        let token = &line[split + space.len_utf8()..];
        let ts = parse_timecode(token)?;
        let name = &line[..split];
        let spaced = name.ends_with(char::is_whitespace) || space == '\t';
        (name, ts, spaced || token.matches(':').count() == 2)
    };
    let name = name.trim();
    let capitalised = name.chars().next().is_some_and(char::is_uppercase);
    (strong && capitalised && is_speaker_label(name)).then_some((name, ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_kinds() {
        assert_eq!(
            classify("[00:12] Alice: Hello there"),
            Line::Turn {
                ts: Some(12.0),
                speaker: "Alice",
                text: "Hello there"
            }
        );
        assert_eq!(
            classify("01:02:03 - Bob Jones: Yes"),
            Line::Turn {
                ts: Some(3723.0),
                speaker: "Bob Jones",
                text: "Yes"
            }
        );
        assert_eq!(
            classify("Alice Smith  0:02"),
            Line::Turn {
                ts: Some(2.0),
                speaker: "Alice Smith",
                text: ""
            }
        );
        assert_eq!(classify("see you at 10:30"), Line::Text("see you at 10:30"));
        assert_eq!(
            classify("10:30 works for me"),
            Line::Text("10:30 works for me")
        );
        assert_eq!(classify("[00:05]"), Line::Timestamp(5.0));
    }

    #[test]
    fn multibyte_whitespace_before_a_time() {
        // Found by proptest: a no-break space before the time once split a character.
        assert_eq!(
            classify("Alice Smith\u{a0}\u{a0}0:02"),
            Line::Turn {
                ts: Some(2.0),
                speaker: "Alice Smith",
                text: ""
            }
        );
        assert_eq!(classify("x,\u{a0}0:02 #"), Line::Text("x,\u{a0}0:02 #"));
    }

    #[test]
    fn continuation_and_preamble() {
        let t = parse("Call notes\nAlice: Hi\nthere.\n\nBob: Hello\n").unwrap();
        assert_eq!(t.turns.len(), 2);
        assert_eq!(t.turns[0].text, "Hi there.");
        assert!(t.notes[0].contains("ignored 1 line"));
    }
}
