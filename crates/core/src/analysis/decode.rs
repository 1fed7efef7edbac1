//! Bytes to text: enforces the size limit, refuses binary files, and decodes UTF-8, UTF-16
//! (with a BOM, or detected without one) and legacy single- and multi-byte encodings.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};

use super::error::{IngestError, human_size};

/// The largest transcript accepted. A two-hour call is about 150 KB of text and under 2 MB as
/// word-level JSON; anything far larger is almost surely the wrong file, and refusing it early
/// keeps memory bounded.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// The longest line a text transcript (plain, WebVTT, SRT) may have. One line of 1 MiB is
/// roughly 20 hours of speech; JSON is exempt since it is often written on one line.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Decoded text and how it was decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub text: String,
    /// The encoding used (`UTF-8`, `UTF-16LE`, `windows-1252`, ...).
    pub encoding: &'static str,
    /// Set when the input was not UTF-8, for the result's notes.
    pub note: Option<String>,
}

pub fn decode(bytes: &[u8]) -> Result<Decoded, IngestError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(IngestError::TooLarge {
            size: human_size(bytes.len()),
            limit: human_size(MAX_INPUT_BYTES),
        });
    }
    if let Some(what) = sniff_magic(bytes) {
        return Err(IngestError::Binary { what: what.into() });
    }
    let (text, encoding) = if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        (decode_strict(enc, &bytes[bom_len..])?, enc.name())
    } else if let Some(enc) = utf16_without_bom(bytes) {
        (decode_strict(enc, bytes)?, enc.name())
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        (text.to_owned(), "UTF-8")
    } else {
        if bytes.contains(&0) {
            return Err(IngestError::Binary {
                what: "binary data".into(),
            });
        }
        let mut detector = chardetng::EncodingDetector::new();
        detector.feed(bytes, true);
        let enc = detector.guess(None, true);
        (decode_strict(enc, bytes)?, enc.name())
    };
    if looks_binary(&text) {
        return Err(IngestError::Binary {
            what: "binary data".into(),
        });
    }
    if text.trim().is_empty() {
        return Err(IngestError::Empty);
    }
    let note =
        (encoding != "UTF-8").then(|| format!("the file was not UTF-8: decoded as {encoding}"));
    Ok(Decoded {
        text,
        encoding,
        note,
    })
}

fn decode_strict(enc: &'static Encoding, bytes: &[u8]) -> Result<String, IngestError> {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(IngestError::Undecodable {
            tried: format!("{}, windows-1252, Shift_JIS", enc.name()),
        });
    }
    Ok(text.into_owned())
}

/// UTF-16 saved without a BOM shows as a NUL in every other byte of ASCII text.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(4096)];
    let pairs = sample.len() / 2;
    let even_nul = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    // Mostly-ASCII UTF-16: one byte of each pair is NUL, the other almost never.
    if odd_nul * 10 >= pairs * 7 && even_nul * 20 <= pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 7 && odd_nul * 20 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Names common non-text files by their first bytes, so the message can say what was given.
fn sniff_magic(bytes: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WAVE") {
        Some("a WAV audio file")
    } else if starts(b"ID3") || starts(&[0xFF, 0xFB]) || starts(&[0xFF, 0xF3]) {
        Some("an MP3 audio file")
    } else if starts(b"fLaC") {
        Some("a FLAC audio file")
    } else if starts(b"OggS") {
        Some("an Ogg audio file")
    } else if bytes.get(4..8) == Some(b"ftyp") {
        Some("an MP4/M4A media file")
    } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("a WebM/Matroska media file")
    } else if starts(b"%PDF") {
        Some("a PDF document")
    } else if starts(b"PK\x03\x04") {
        Some("a ZIP archive or an Office document (.docx)")
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Some("an old Office document (.doc)")
    } else if starts(b"\x89PNG") || starts(&[0xFF, 0xD8, 0xFF]) || starts(b"GIF8") {
        Some("an image")
    } else if starts(b"SQLite format 3\0") {
        Some("a SQLite database")
    } else {
        None
    }
}

/// Text decoded from a binary file is full of control characters; real transcripts have none
/// beyond tabs, line breaks and form feeds.
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars().take(64 * 1024) {
        total += 1;
        if c == '\0' {
            return true;
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c') {
            control += 1;
        }
    }
    control * 100 > total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_passes_through() {
        let d = decode("Alice: héllo".as_bytes()).unwrap();
        assert_eq!(d.text, "Alice: héllo");
        assert_eq!(d.encoding, "UTF-8");
        assert!(d.note.is_none());
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let d = decode(b"\xEF\xBB\xBFAlice: hi").unwrap();
        assert_eq!(d.text, "Alice: hi");
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let mut le = vec![0xFF, 0xFE];
        for u in "Alice: hé".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&le).unwrap().text, "Alice: hé");
        let be: Vec<u8> = "Bob: hello there"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        let d = decode(&be).unwrap();
        assert_eq!(d.text, "Bob: hello there");
        assert_eq!(d.encoding, "UTF-16BE");
    }

    #[test]
    fn windows_1252_is_detected() {
        // "Café résumé – naïve" in windows-1252 (0x96 is an en dash there).
        let bytes = b"Alice: Caf\xE9 r\xE9sum\xE9 \x96 na\xEFve, tr\xE8s bien\nBob: d\xE9j\xE0 vu";
        let d = decode(bytes).unwrap();
        assert!(d.text.contains("Café résumé – naïve"), "{}", d.text);
        assert!(d.note.unwrap().contains("windows-1252"));
    }

    #[test]
    fn binary_and_media_are_refused() {
        assert!(matches!(
            decode(b"RIFF\0\0\0\0WAVEfmt "),
            Err(IngestError::Binary { what }) if what.contains("WAV")
        ));
        let noise: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 256) as u8).collect();
        assert!(matches!(decode(&noise), Err(IngestError::Binary { .. })));
    }

    #[test]
    fn empty_and_blank_are_refused() {
        assert_eq!(decode(b""), Err(IngestError::Empty));
        assert_eq!(decode(b" \n\t\r\n"), Err(IngestError::Empty));
    }

    #[test]
    fn oversized_is_refused() {
        let big = vec![b'a'; MAX_INPUT_BYTES + 1];
        assert!(matches!(decode(&big), Err(IngestError::TooLarge { .. })));
    }
}
