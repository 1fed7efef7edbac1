//! Reading transcript bytes from a file or a stream, refusing more than
//! [`MAX_INPUT_BYTES`] before holding it all in memory.

use std::io::Read;
use std::path::Path;

use super::decode::MAX_INPUT_BYTES;
use super::error::{IngestError, human_size};
use crate::error::{CoreError, Result};

/// Reads a transcript file; one over the size limit is refused before it is read.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let cannot = |e: std::io::Error| {
        CoreError::InvalidInput(format!(
            "cannot read the transcript {}: {e}",
            path.display()
        ))
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if meta.is_dir() {
        return Err(CoreError::InvalidInput(format!(
            "{} is a folder, not a transcript file",
            path.display()
        )));
    }
    if meta.len() > MAX_INPUT_BYTES as u64 {
        return Err(too_large(usize::try_from(meta.len()).unwrap_or(usize::MAX)));
    }
    read_limited(file).map_err(|e| match e {
        Limited::Io(e) => cannot(e),
        Limited::TooLarge(n) => too_large(n),
    })
}

/// Reads a transcript from a stream (standard input, a pipe) within the size limit.
pub fn read_stream(reader: impl Read, what: &str) -> Result<Vec<u8>> {
    read_limited(reader).map_err(|e| match e {
        Limited::Io(e) => CoreError::InvalidInput(format!("cannot read {what}: {e}")),
        Limited::TooLarge(n) => too_large(n),
    })
}

fn too_large(size: usize) -> CoreError {
    CoreError::Transcript(IngestError::TooLarge {
        size: if size > MAX_INPUT_BYTES + 1 {
            human_size(size)
        } else {
            format!("over {}", human_size(MAX_INPUT_BYTES))
        },
        limit: human_size(MAX_INPUT_BYTES),
    })
}

enum Limited {
    Io(std::io::Error),
    TooLarge(usize),
}

fn read_limited(reader: impl Read) -> std::result::Result<Vec<u8>, Limited> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(Limited::Io)?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(Limited::TooLarge(bytes.len()));
    }
    Ok(bytes)
}
