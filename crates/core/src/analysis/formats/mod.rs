//! Format detection and the pieces the parsers share: timecodes and speaker labels.
//! Each format module turns text into [`Turn`]s; [`Transcript::finish`] checks the result.

mod cues;
mod json;
mod plain;
mod srt;
mod vtt;

use super::decode::MAX_LINE_BYTES;
use super::error::{IngestError, human_size};
use super::transcript::{Transcript, TranscriptFormat};

/// Detects the format of decoded text and parses it.
pub fn parse(text: &str) -> Result<Transcript, IngestError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(IngestError::Empty);
    }
    let format = detect(text)?;
    if format != TranscriptFormat::Json {
        check_line_lengths(text)?;
    }
    match format {
        TranscriptFormat::Plain => plain::parse(text),
        TranscriptFormat::Webvtt => vtt::parse(text),
        TranscriptFormat::Srt => srt::parse(text),
        TranscriptFormat::Json => json::parse(text),
    }
}

/// Picks the format from the first meaningful line; plain text is the fallback and is
/// refused by its parser when no line has a speaker label.
pub fn detect(text: &str) -> Result<TranscriptFormat, IngestError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with("WEBVTT") {
        return Ok(TranscriptFormat::Webvtt);
    }
    if trimmed.starts_with('{') {
        return Ok(TranscriptFormat::Json);
    }
    if let Some(rest) = trimmed.strip_prefix('[') {
        // `[00:01] Alice: hi` is plain text; `[{"speaker": ...}]` and `[]` are JSON.
        let rest = rest.trim_start();
        // Plain text fails to parse as JSON within its first few bytes (`[00:...`).
        if rest.starts_with(['{', ']'])
            || rest.is_empty()
            || serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok()
        {
            return Ok(TranscriptFormat::Json);
        }
    }
    let mut lines = trimmed.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let second = lines.next().unwrap_or("");
    let is_timing = |l: &str| l.contains("-->");
    if (first.bytes().all(|b| b.is_ascii_digit()) && is_timing(second)) || is_timing(first) {
        let timing = if is_timing(first) { first } else { second };
        // SRT writes milliseconds after a comma, WebVTT after a dot.
        return Ok(if timing.contains(',') {
            TranscriptFormat::Srt
        } else {
            TranscriptFormat::Webvtt
        });
    }
    Ok(TranscriptFormat::Plain)
}

fn check_line_lengths(text: &str) -> Result<(), IngestError> {
    if text.len() <= MAX_LINE_BYTES {
        return Ok(());
    }
    for (i, line) in text.split('\n').enumerate() {
        if line.len() > MAX_LINE_BYTES {
            return Err(IngestError::LineTooLong {
                line: i + 1,
                size: human_size(line.len()),
                limit: human_size(MAX_LINE_BYTES),
            });
        }
    }
    Ok(())
}

/// Parses `h:mm:ss`, `mm:ss`, `m:ss` with an optional `.fff` or `,fff` fraction, to seconds.
/// A bare number is not a timecode (it would be confused with SRT indices and prices).
pub fn parse_timecode(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let (clock, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut values = Vec::with_capacity(3);
    for p in &parts {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        values.push(p.parse::<u32>().ok()?);
    }
    let (h, m, sec) = match values[..] {
        [m, s] => (0, m, s),
        [h, m, s] => {
            if m >= 60 {
                return None;
            }
            (h, m, s)
        }
        _ => return None,
    };
    if sec >= 60 {
        return None;
    }
    let mut total = f64::from(h) * 3600.0 + f64::from(m) * 60.0 + f64::from(sec);
    if let Some(frac) = frac {
        if frac.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        total += frac.parse::<f64>().ok()? / 10f64.powi(frac.len() as i32);
    }
    Some(total)
}

/// Words that end in a colon in headers ("Date: ...") but are never speakers.
const NOT_SPEAKERS: &[&str] = &[
    "date",
    "time",
    "title",
    "subject",
    "attendees",
    "participants",
    "duration",
    "location",
    "meeting",
    "recording",
    "transcript",
    "agenda",
    "http",
    "https",
    "mailto",
    "note",
    "notes",
    "kind",
    "language",
];

/// Whether `label` can be a speaker name: 1-40 characters, at most 5 words, starting with a
/// letter, made of letters, digits, spaces and `.'’-_&()#@`, and not a header word.
pub fn is_speaker_label(label: &str) -> bool {
    let label = label.trim();
    let chars = label.chars().count();
    if chars == 0 || chars > 40 || label.split_whitespace().count() > 5 {
        return false;
    }
    if !label.chars().next().is_some_and(char::is_alphabetic) {
        return false;
    }
    if !label.chars().all(|c| {
        c.is_alphanumeric()
            || c == ' '
            || matches!(
                c,
                '.' | '\'' | '’' | '-' | '_' | '&' | '(' | ')' | '#' | '@'
            )
    }) {
        return false;
    }
    !NOT_SPEAKERS.contains(&label.to_lowercase().as_str())
}

/// Splits `Speaker: text` (the colon outside brackets and not between digits). Returns the
/// label, a timestamp written inside the label (`Alice (00:12): hi`), and the text.
pub fn split_speaker(line: &str) -> Option<(&str, Option<f64>, &str)> {
    let bytes = line.as_bytes();
    let mut depth = 0i32;
    let mut colon = None;
    for (i, &b) in bytes.iter().enumerate().take(64) {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b':' if depth == 0 => {
                let digit_before = i > 0 && bytes[i - 1].is_ascii_digit();
                let digit_after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !(digit_before && digit_after) {
                    colon = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let colon = colon?;
    let (mut label, text) = (line[..colon].trim(), line[colon + 1..].trim());
    if text.starts_with("//") {
        return None;
    }
    let mut ts = None;
    if let Some(stripped) = label.strip_suffix([')', ']'])
        && let Some(open) = stripped.rfind(['(', '['])
        && let Some(t) = parse_timecode(&stripped[open + 1..])
    {
        ts = Some(t);
        label = stripped[..open].trim();
    }
    is_speaker_label(label).then_some((label, ts, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timecodes() {
        assert_eq!(parse_timecode("01:02"), Some(62.0));
        assert_eq!(parse_timecode("1:02:03"), Some(3723.0));
        assert_eq!(parse_timecode("00:00:01,500"), Some(1.5));
        assert_eq!(parse_timecode("00:01.250"), Some(1.25));
        assert_eq!(parse_timecode("75:00"), Some(4500.0));
        assert_eq!(parse_timecode("12"), None);
        assert_eq!(parse_timecode("1:60"), None);
        assert_eq!(parse_timecode("a:00"), None);
    }

    #[test]
    fn speaker_split() {
        assert_eq!(split_speaker("Alice: hi"), Some(("Alice", None, "hi")));
        assert_eq!(
            split_speaker("Alice (00:12): hi"),
            Some(("Alice", Some(12.0), "hi"))
        );
        assert_eq!(split_speaker("see https://x.y"), None);
        assert_eq!(split_speaker("Let's meet at 10:30 then"), None);
        assert_eq!(split_speaker("Date: 2024-01-01"), None);
        assert_eq!(split_speaker("Well, the thing is: yes"), None);
    }

    #[test]
    fn detection() {
        assert_eq!(detect("WEBVTT\n\n").unwrap(), TranscriptFormat::Webvtt);
        assert_eq!(
            detect("1\n00:00:01,000 --> 00:00:02,000\nA: hi").unwrap(),
            TranscriptFormat::Srt
        );
        assert_eq!(
            detect("[{\"speaker\":\"A\"}]").unwrap(),
            TranscriptFormat::Json
        );
        assert_eq!(detect("[00:01] A: hi").unwrap(), TranscriptFormat::Plain);
    }
}
