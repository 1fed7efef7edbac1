//! WebVTT: cues with `<v Speaker>` voice tags or `Speaker:` prefixes; NOTE, STYLE and REGION
//! blocks are skipped.

use super::cues::{CueTurns, for_each_block, push_block};
use crate::analysis::error::IngestError;
use crate::analysis::transcript::{Transcript, TranscriptFormat};

pub fn parse(text: &str) -> Result<Transcript, IngestError> {
    let mut lines = text.lines();
    // The header runs from `WEBVTT` to the first blank line (it may hold `Kind:` lines).
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
    }
    let mut cues = CueTurns::default();
    let mut stray = 0usize;
    for_each_block(lines, |block| {
        let first = block[0].trim_start();
        if ["NOTE", "STYLE", "REGION"]
            .iter()
            .any(|k| first.starts_with(k))
        {
            return;
        }
        if !push_block(&mut cues, block) {
            stray += 1;
        }
    });
    finish(cues, stray, TranscriptFormat::Webvtt)
}

pub(super) fn finish(
    cues: CueTurns,
    stray: usize,
    format: TranscriptFormat,
) -> Result<Transcript, IngestError> {
    let what = format.label();
    if cues.turns.is_empty() && !cues.any_speaker {
        if cues.unattributed == 0 {
            return Err(IngestError::Malformed {
                format: what,
                reason: "no cues with a readable `start --> end` timing line were found".into(),
            });
        }
        return Err(IngestError::NoSpeakers {
            format: what,
            hint: "label each cue with its speaker, as `<v Alice>text` or `Alice: text`".into(),
        });
    }
    let mut notes = cues.notes(what);
    if stray > 0 {
        notes.push(format!("ignored {stray} block(s) without a timing line"));
    }
    Transcript::finish(format, cues.turns, notes)
}
