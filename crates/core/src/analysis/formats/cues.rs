//! What WebVTT and SRT share: a cue payload split into speaker segments (`<v Name>` voice
//! tags or `Name:` prefixes, other markup removed), and cues turned into turns, with a cue
//! that names no speaker continuing the previous speaker.

use super::split_speaker;
use crate::analysis::text::word_count;
use crate::analysis::transcript::Turn;

/// Collects cues into turns.
#[derive(Default)]
pub struct CueTurns {
    pub turns: Vec<Turn>,
    last_speaker: Option<String>,
    /// Cues before any speaker was named (dropped: nobody to attribute them to).
    pub unattributed: usize,
    /// Cues whose timing line could not be read (dropped).
    pub bad_timing: usize,
    /// Whether any cue named a speaker.
    pub any_speaker: bool,
}

impl CueTurns {
    pub fn push_cue(&mut self, start: f64, end: f64, payload: &[&str]) {
        let segments = segments(payload);
        let total_words: u32 = segments.iter().map(|(_, t)| word_count(t)).sum();
        let span = (end - start).max(0.0);
        let mut at = start;
        let count = segments.len();
        for (i, (speaker, text)) in segments.into_iter().enumerate() {
            let speaker = match speaker {
                Some(s) => {
                    self.any_speaker = true;
                    self.last_speaker = Some(s.clone());
                    s
                }
                None => match &self.last_speaker {
                    Some(s) => s.clone(),
                    None => {
                        self.unattributed += 1;
                        continue;
                    }
                },
            };
            // Several voices in one cue share its time in proportion to their words.
            let share = if total_words == 0 {
                1.0 / count as f64
            } else {
                f64::from(word_count(&text)) / f64::from(total_words)
            };
            let seg_end = if i + 1 == count {
                end
            } else {
                at + span * share
            };
            self.turns.push(Turn {
                speaker,
                start: Some(at),
                end: Some(seg_end),
                text,
            });
            at = seg_end;
        }
    }

    pub fn notes(&self, what: &str) -> Vec<String> {
        let mut notes = Vec::new();
        if self.bad_timing > 0 {
            notes.push(format!(
                "skipped {} {what} cue(s) whose timing line could not be read",
                self.bad_timing
            ));
        }
        if self.unattributed > 0 {
            notes.push(format!(
                "ignored {} {what} cue(s) before the first named speaker",
                self.unattributed
            ));
        }
        notes
    }
}

/// Parses `start --> end [settings]` into seconds.
pub fn timing(line: &str) -> Option<(f64, f64)> {
    let (a, b) = line.split_once("-->")?;
    let start = super::parse_timecode(a.trim())?;
    let end = super::parse_timecode(b.split_whitespace().next()?)?;
    Some((start, end))
}

/// Splits a cue payload into (speaker, text) segments; a segment without a speaker continues
/// the previous one.
fn segments(payload: &[&str]) -> Vec<(Option<String>, String)> {
    let mut out: Vec<(Option<String>, String)> = Vec::new();
    for line in payload {
        let (voice, rest) = voice_tag(line);
        let clean = strip_markup(rest);
        let clean = clean.trim();
        let (speaker, text) = match voice {
            Some(v) => (Some(v), clean.to_owned()),
            None => match split_speaker(clean) {
                Some((name, _, text)) => (Some(name.to_owned()), text.to_owned()),
                None => match bracket_speaker(clean) {
                    Some((name, text)) => (Some(name), text),
                    None => (None, clean.to_owned()),
                },
            },
        };
        if text.is_empty() && speaker.is_none() {
            continue;
        }
        match (speaker, out.last_mut()) {
            (None, Some(last)) => {
                if !text.is_empty() {
                    last.1.push(' ');
                    last.1.push_str(&text);
                }
            }
            (speaker, _) => out.push((speaker, text)),
        }
    }
    out
}

/// `<v Alice>` or `<v.loud Alice Smith>` at the start of a line.
fn voice_tag(line: &str) -> (Option<String>, &str) {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<v")
        && rest.starts_with([' ', '.', '\t'])
        && let Some(close) = rest.find('>')
    {
        let inside = &rest[..close];
        let name = inside
            .split_once(char::is_whitespace)
            .map(|(_, n)| n.trim())
            .unwrap_or("");
        if !name.is_empty() {
            return (Some(name.to_owned()), &rest[close + 1..]);
        }
    }
    (None, line)
}

/// `[Alice] text` (some caption tools) when the bracket holds a plausible name.
fn bracket_speaker(line: &str) -> Option<(String, String)> {
    let inner = line.strip_prefix('[')?;
    let close = inner.find(']')?;
    let name = inner[..close].trim();
    let text = inner[close + 1..].trim();
    (!text.is_empty() && super::is_speaker_label(name)).then(|| (name.to_owned(), text.to_owned()))
}

/// Removes `<...>` tags (styling, inline timestamps) and decodes the common entities.
fn strip_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        match rest[open..].find('>') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    if !out.contains('&') {
        return out;
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&lrm;", "")
        .replace("&rlm;", "")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Calls `f` with each run of non-blank lines.
pub fn for_each_block<'a>(lines: impl Iterator<Item = &'a str>, mut f: impl FnMut(&[&'a str])) {
    let mut block: Vec<&str> = Vec::new();
    for line in lines {
        if line.trim().is_empty() {
            if !block.is_empty() {
                f(&block);
                block.clear();
            }
        } else {
            block.push(line);
        }
    }
    if !block.is_empty() {
        f(&block);
    }
}

/// Handles one cue block: finds its timing line among the first two lines (an identifier or
/// SRT index may come first) and pushes the payload after it. Returns false when the block
/// has no timing line at all.
pub fn push_block(cues: &mut CueTurns, block: &[&str]) -> bool {
    let Some(at) = block.iter().take(2).position(|l| l.contains("-->")) else {
        return false;
    };
    match timing(block[at]) {
        Some((start, end)) => cues.push_cue(start, end, &block[at + 1..]),
        None => cues.bad_timing += 1,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_segments() {
        assert_eq!(
            segments(&[
                "<v Alice Smith>Hello <i>there</i></v>",
                "<v Bob>Hi &amp; bye"
            ]),
            vec![
                (Some("Alice Smith".into()), "Hello there".into()),
                (Some("Bob".into()), "Hi & bye".into())
            ]
        );
        assert_eq!(
            segments(&["Alice: one", "two"]),
            vec![(Some("Alice".into()), "one two".into())]
        );
        assert_eq!(segments(&["no speaker"]), vec![(None, "no speaker".into())]);
    }

    #[test]
    fn cue_time_is_shared_by_words() {
        let mut c = CueTurns::default();
        c.push_cue(0.0, 4.0, &["<v A>one two three", "<v B>four"]);
        assert_eq!(c.turns.len(), 2);
        assert_eq!(c.turns[0].end, Some(3.0));
        assert_eq!(c.turns[1].start, Some(3.0));
        c.push_cue(4.0, 5.0, &["more"]);
        assert_eq!(c.turns[2].speaker, "B");
    }
}
