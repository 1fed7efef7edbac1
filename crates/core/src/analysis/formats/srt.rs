//! SRT subtitles: numbered cues, `00:00:01,000 --> 00:00:04,000` timings, speakers as
//! `Speaker:` prefixes (or `[Speaker]`, or WebVTT-style `<v Speaker>` tags some tools emit).

use super::cues::{CueTurns, for_each_block, push_block};
use crate::analysis::error::IngestError;
use crate::analysis::transcript::{Transcript, TranscriptFormat};

pub fn parse(text: &str) -> Result<Transcript, IngestError> {
    let mut cues = CueTurns::default();
    let mut stray = 0usize;
    for_each_block(text.lines(), |block| {
        if !push_block(&mut cues, block) {
            stray += 1;
        }
    });
    super::vtt::finish(cues, stray, TranscriptFormat::Srt)
}
