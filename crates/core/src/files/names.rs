//! File and object names from the outside world (a dialog, a drag and drop, a server listing)
//! made safe: a name is one path component that cannot escape its folder on any platform and
//! that Supabase Storage accepts as a key. Hostile or unusable names are refused with a reason
//! rather than silently rewritten, so the user knows which file was the problem; only the
//! remote key is derived (an ASCII slug), since the display name is kept by the caller.

use super::FileError;

/// Longest name accepted, in bytes: the common file-system limit for one component.
pub const MAX_NAME_BYTES: usize = 255;

/// Names Windows reserves for devices, with or without an extension.
const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Checks that `name` is a usable single file name; returns it trimmed of surrounding spaces.
pub fn check_file_name(name: &str) -> Result<String, FileError> {
    let bad = |reason| FileError::InvalidName {
        name: name.chars().take(80).collect(),
        reason,
    };
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(bad("it contains control characters"));
    }
    if trimmed.contains('/') || trimmed.contains('\\') {
        return Err(bad("it contains a path separator (/ or \\)"));
    }
    if trimmed == "." || trimmed == ".." || trimmed.contains("..") {
        return Err(bad("it contains \"..\""));
    }
    if trimmed.len() > MAX_NAME_BYTES {
        return Err(bad("it is longer than 255 bytes"));
    }
    if trimmed
        .chars()
        .any(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
    {
        return Err(bad(
            "it contains a character Windows does not allow (< > : \" | ? *)",
        ));
    }
    if trimmed.ends_with('.') {
        return Err(bad("it ends with a dot, which Windows drops"));
    }
    let stem = trimmed.split('.').next().unwrap_or("").trim_end();
    if WINDOWS_RESERVED
        .iter()
        .any(|r| r.eq_ignore_ascii_case(stem))
    {
        return Err(bad("it is a device name reserved by Windows"));
    }
    Ok(trimmed.to_owned())
}

/// The lower-case extension of a checked name, if it has one.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// An ASCII slug of a checked name for use in a storage key: Supabase Storage refuses keys
/// outside a small ASCII set, so anything else becomes `_`.
pub fn key_slug(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let slug = slug.trim_start_matches('.').to_owned();
    if slug.is_empty() {
        "file".to_owned()
    } else {
        slug
    }
}

/// Checks an object path given to the storage client (`folder/sub/name.ext`): every segment
/// must be a usable name, no leading or doubled slash.
pub fn check_object_path(path: &str) -> Result<(), FileError> {
    if path.is_empty() || path.starts_with('/') || path.ends_with('/') || path.contains("//") {
        return Err(FileError::InvalidName {
            name: path.chars().take(80).collect(),
            reason: "an object path must be segments joined by single slashes",
        });
    }
    for segment in path.split('/') {
        check_file_name(segment)?;
        if segment != key_slug(segment) {
            return Err(FileError::InvalidName {
                name: segment.chars().take(80).collect(),
                reason: "storage keys may only use ASCII letters, digits and - _ . ( )",
            });
        }
    }
    Ok(())
}

/// Percent-encodes an object path for a URL, keeping the slashes between segments.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused() {
        for n in [
            "../etc/passwd",
            "a/b.txt",
            "a\\b.txt",
            "..",
            "x\u{0}y.txt",
            "bell\u{7}.txt",
            "CON",
            "con.txt",
            "LPT1.pdf",
            "trailing.",
            "",
            "   ",
            "what?.txt",
        ] {
            assert!(check_file_name(n).is_err(), "{n:?} accepted");
        }
        assert!(check_file_name(&"a".repeat(300)).is_err());
    }

    #[test]
    fn ordinary_names_pass() {
        assert_eq!(check_file_name(" Q3 pitch.pdf ").unwrap(), "Q3 pitch.pdf");
        assert_eq!(
            check_file_name("Präsentation.pptx").unwrap(),
            "Präsentation.pptx"
        );
        assert_eq!(check_file_name("console.log").unwrap(), "console.log");
        assert_eq!(extension("a.B.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension(".bashrc"), None);
    }

    #[test]
    fn slugs_and_paths() {
        assert_eq!(key_slug("Präsentation Q3.pptx"), "Pr_sentation_Q3.pptx");
        assert!(check_object_path("u1/abc/file.pdf").is_ok());
        assert!(check_object_path("u1/../x").is_err());
        assert!(check_object_path("/abs").is_err());
        assert_eq!(encode_path("a b/c.txt"), "a%20b/c.txt");
    }
}
