//! One analysis as the desktop app runs it: read the transcript with progress, parse,
//! measure, save; cancellable up to the moment saving starts, so a cancelled run never leaves
//! half a result behind.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::decode::MAX_INPUT_BYTES;
use super::rep::{self, RepSource};
use super::text::word_count;
use super::transcript::{Timing, TranscriptFormat};
use crate::error::{CoreError, Result};

/// Where a transcript comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TranscriptSource {
    File { path: PathBuf },
    Text { text: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AnalyzeStage {
    Reading,
    Parsing,
    Analyzing,
    Saving,
    Done,
}

/// Progress of one run; byte counts refer to the transcript being read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct AnalyzeProgress {
    pub stage: AnalyzeStage,
    pub bytes_done: u32,
    pub bytes_total: u32,
}

/// What a transcript holds, shown before analyzing so the user can pick the rep.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct TranscriptPreview {
    pub format: TranscriptFormat,
    pub timing: Timing,
    pub turns: u32,
    pub words: u32,
    pub bytes: u32,
    pub speakers: Vec<SpeakerPreview>,
    pub suggested_rep: String,
    pub rep_source: RepSource,
    /// Statements about the input (encoding used, timestamps dropped, ...).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SpeakerPreview {
    pub name: String,
    pub turns: u32,
    pub words: u32,
}

/// Asks a running analysis to stop; shared between the runner and whoever may cancel it.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Resolves once the flag is set (polled: cancelling is rare and 50 ms is quick enough).
    pub async fn cancelled(&self) {
        while !self.is_cancelled() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(CoreError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Reads a source's bytes, reporting progress every chunk and stopping when cancelled.
/// Runs on a blocking thread (files can be tens of megabytes).
pub(crate) fn read_source(
    source: &TranscriptSource,
    progress: &(dyn Fn(AnalyzeProgress) + Send + Sync),
    cancel: &CancelFlag,
) -> Result<(Vec<u8>, Option<String>)> {
    let path = match source {
        TranscriptSource::Text { text } => {
            if text.len() > MAX_INPUT_BYTES {
                // Same limit and message as files.
                return super::input::read_stream(text.as_bytes(), "the pasted text")
                    .map(|b| (b, None));
            }
            return Ok((text.as_bytes().to_vec(), None));
        }
        TranscriptSource::File { path } => path,
    };
    // Size and type checks (folder, over the limit) with the same messages as the CLI.
    let meta = std::fs::metadata(path).map_err(|e| {
        CoreError::InvalidInput(format!(
            "cannot read the transcript {}: {e}",
            path.display()
        ))
    })?;
    if meta.is_dir() || meta.len() > MAX_INPUT_BYTES as u64 {
        return super::input::read_file(path).map(|b| (b, None));
    }
    let total = u32::try_from(meta.len()).unwrap_or(u32::MAX);
    let mut file = std::fs::File::open(path).map_err(|e| {
        CoreError::InvalidInput(format!(
            "cannot read the transcript {}: {e}",
            path.display()
        ))
    })?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        cancel.check()?;
        let n = file.read(&mut chunk).map_err(|e| {
            CoreError::InvalidInput(format!(
                "cannot read the transcript {}: {e}",
                path.display()
            ))
        })?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() > MAX_INPUT_BYTES {
            // The file grew while being read.
            return super::input::read_file(path).map(|b| (b, None));
        }
        progress(AnalyzeProgress {
            stage: AnalyzeStage::Reading,
            bytes_done: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            bytes_total: total.max(u32::try_from(bytes.len()).unwrap_or(u32::MAX)),
        });
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    Ok((bytes, name))
}

/// Parses a transcript and says what it holds, with the rep Salesdesk would guess.
pub(crate) fn preview(bytes: &[u8], signed_in_user: Option<&str>) -> Result<TranscriptPreview> {
    let (_, transcript) = super::ingest(bytes)?;
    let names = transcript.speakers();
    let mut speakers: Vec<SpeakerPreview> = names
        .iter()
        .map(|name| SpeakerPreview {
            name: (*name).to_owned(),
            turns: 0,
            words: 0,
        })
        .collect();
    for turn in &transcript.turns {
        if let Some(s) = speakers.iter_mut().find(|s| s.name == turn.speaker) {
            s.turns += 1;
            s.words += word_count(&turn.text);
        }
    }
    let guess = rep::choose(&names, None, signed_in_user)?;
    Ok(TranscriptPreview {
        format: transcript.format,
        timing: transcript.timing(),
        turns: u32::try_from(transcript.turns.len()).unwrap_or(u32::MAX),
        words: speakers.iter().map(|s| s.words).sum(),
        bytes: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        speakers,
        suggested_rep: guess.name,
        rep_source: guess.source,
        notes: transcript.notes.clone(),
    })
}
