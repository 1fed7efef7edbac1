//! Why a transcript could not be read or analyzed, in words the user can act on.
//! Messages never quote transcript text (they may name a speaker, which the user needs to fix
//! a `--rep` choice).

/// A transcript that cannot be turned into an analysis. Nothing is saved when this is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    #[error("the transcript is empty: give a file with speaker turns such as `Alice: Hello`")]
    Empty,

    #[error(
        "the transcript is {size}, over the {limit} limit for a transcript (a two-hour call is \
         usually under 1 MB); check that this is the right file, or split it"
    )]
    TooLarge { size: String, limit: String },

    #[error(
        "this looks like {what}, not a text transcript: export the transcript as text, WebVTT \
         (.vtt), SRT (.srt) or JSON from your recording or transcription tool"
    )]
    Binary { what: String },

    #[error(
        "the text encoding could not be recognised (tried UTF-8, UTF-16 and common legacy \
         encodings such as {tried}): save the transcript as UTF-8 and try again"
    )]
    Undecodable { tried: String },

    #[error(
        "line {line} is {size} long, over the {limit} limit for one line of a text transcript: \
         this does not look like a transcript"
    )]
    LineTooLong {
        line: usize,
        size: String,
        limit: String,
    },

    #[error(
        "the transcript format was not recognised ({reason}). Salesdesk reads: plain text with \
         one `Speaker: text` turn per line (optionally starting with a [mm:ss] timestamp), \
         WebVTT (.vtt), SRT (.srt), and JSON segments ([{{\"speaker\", \"start\", \"end\", \
         \"text\"}}] or OpenAI verbose_json/diarized_json with speakers)"
    )]
    UnknownFormat { reason: String },

    #[error("the {format} transcript cannot be read: {reason}")]
    Malformed {
        format: &'static str,
        reason: String,
    },

    #[error("the {format} transcript has no speaker labels: {hint}")]
    NoSpeakers { format: &'static str, hint: String },

    #[error(
        "only one speaker ({name}) was found: a call analysis needs the rep and at least one \
         customer, each turn labelled with its speaker (e.g. `Alice: ...` / `Bob: ...`)"
    )]
    SingleSpeaker { name: String },

    #[error("no speaker named '{given}' in this transcript; its speakers are: {found}")]
    UnknownRep { given: String, found: String },

    #[error("the transcript has no words to analyze (speaker labels but no text)")]
    NoWords,
}

/// "1.5 MB" style sizes for messages.
pub(crate) fn human_size(bytes: usize) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let b = bytes as f64;
    if b >= MIB {
        format!("{:.1} MB", b / MIB)
    } else if b >= 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}
