//! Does a file's content match its extension? Uploads are sniffed with `infer` (magic numbers
//! in the first bytes) so that, say, an executable renamed `deck.pdf` is refused before it is
//! shared with the team. Text formats have no magic number, so a text extension is accepted as
//! long as the content is not a recognised binary format; an extension whose format does have
//! a magic number must show it. Unknown extensions pass with the detected type, if any.

use std::path::Path;

use super::FileError;

/// Extensions of formats that start with a magic number `infer` knows, with the extensions
/// `infer` may report for the same content (containers share signatures).
const BINARY: &[(&str, &[&str])] = &[
    ("pdf", &["pdf"]),
    ("png", &["png"]),
    ("jpg", &["jpg"]),
    ("jpeg", &["jpg"]),
    ("gif", &["gif"]),
    ("webp", &["webp"]),
    ("mp3", &["mp3"]),
    ("wav", &["wav"]),
    ("ogg", &["ogg", "oga", "opus"]),
    ("flac", &["flac"]),
    ("m4a", &["m4a", "mp4"]),
    ("mp4", &["mp4", "m4v", "m4a"]),
    ("mov", &["mov"]),
    ("webm", &["webm", "mkv"]),
    ("zip", &["zip"]),
    ("docx", &["docx", "zip"]),
    ("xlsx", &["xlsx", "zip"]),
    ("pptx", &["pptx", "zip"]),
];

/// Extensions whose content is text (no signature to check).
const TEXT: &[&str] = &[
    "txt", "csv", "md", "json", "vtt", "srt", "html", "xml", "log",
];

/// What sniffing concluded: the MIME type to store the file under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub mime: String,
}

/// Sniffs `head` (the first bytes of the file named `name`) against the name's extension.
pub fn check_content(name: &str, head: &[u8]) -> Result<Sniffed, FileError> {
    let ext = super::names::extension(name);
    let detected = infer::get(head);
    let mismatch = |ext: &str, detected: String| FileError::ContentMismatch {
        name: name.to_owned(),
        extension: ext.to_owned(),
        detected,
    };
    match (ext.as_deref(), detected) {
        (Some(e), Some(t)) => {
            if let Some((_, accepted)) = BINARY.iter().find(|(b, _)| *b == e) {
                if accepted.contains(&t.extension()) {
                    return Ok(Sniffed {
                        mime: mime_for_extension(e).unwrap_or(t.mime_type()).to_owned(),
                    });
                }
                return Err(mismatch(e, describe(t)));
            }
            if TEXT.contains(&e) {
                return Err(mismatch(e, describe(t)));
            }
            Ok(Sniffed {
                mime: t.mime_type().to_owned(),
            })
        }
        (Some(e), None) => {
            if BINARY.iter().any(|(b, _)| *b == e) {
                let what = if looks_like_text(head) {
                    "plain text".to_owned()
                } else {
                    "not a recognised format".to_owned()
                };
                return Err(mismatch(e, what));
            }
            Ok(Sniffed {
                mime: mime_for_extension(e)
                    .unwrap_or(if looks_like_text(head) {
                        "text/plain"
                    } else {
                        "application/octet-stream"
                    })
                    .to_owned(),
            })
        }
        (None, Some(t)) => Ok(Sniffed {
            mime: t.mime_type().to_owned(),
        }),
        (None, None) => Ok(Sniffed {
            mime: if looks_like_text(head) {
                "text/plain"
            } else {
                "application/octet-stream"
            }
            .to_owned(),
        }),
    }
}

/// Reads the first bytes of `path` and sniffs them.
pub fn check_file(path: &Path, name: &str) -> Result<Sniffed, FileError> {
    use std::io::Read;
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .map_err(|e| super::source_error(path, e))?;
    check_content(name, &head)
}

fn describe(t: infer::Type) -> String {
    format!("{} ({})", t.extension(), t.mime_type())
}

fn looks_like_text(head: &[u8]) -> bool {
    std::str::from_utf8(head).is_ok() || head.iter().all(|b| *b != 0)
}

pub fn mime_for_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "m4a" => "audio/mp4",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "zip" => "application/zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "json" => "application/json",
        "vtt" => "text/vtt",
        "srt" => "application/x-subrip",
        "html" => "text/html",
        "xml" => "application/xml",
        _ => return None,
    })
}

/// The usual extension for a MIME type (the first of [`mime_for_extension`]'s that maps to it).
pub fn extension_for_mime(mime: &str) -> Option<&'static str> {
    let mime = mime.split(';').next().unwrap_or("").trim();
    const KNOWN: &[&str] = &[
        "pdf", "png", "jpg", "gif", "webp", "mp3", "wav", "ogg", "flac", "m4a", "mp4", "mov",
        "webm", "zip", "docx", "xlsx", "pptx", "txt", "csv", "md", "json", "vtt", "srt", "html",
        "xml",
    ];
    KNOWN
        .iter()
        .copied()
        .find(|ext| mime_for_extension(ext) == Some(mime))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

    #[test]
    fn matching_content_passes() {
        assert_eq!(check_content("a.png", PNG).unwrap().mime, "image/png");
        assert_eq!(
            check_content("notes.txt", b"hello").unwrap().mime,
            "text/plain"
        );
        assert_eq!(
            check_content("x.pdf", b"%PDF-1.7\n").unwrap().mime,
            "application/pdf"
        );
    }

    #[test]
    fn mismatches_are_refused_with_what_was_found() {
        let e = check_content("deck.pdf", PNG).unwrap_err();
        assert!(e.to_string().contains("png"), "{e}");
        let e = check_content("photo.jpg", b"just text").unwrap_err();
        assert!(e.to_string().contains("plain text"), "{e}");
        assert!(check_content("notes.txt", PNG).is_err());
    }
}
