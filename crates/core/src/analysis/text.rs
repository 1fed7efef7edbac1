//! Counting rules over turn text that a person can repeat by hand: words, questions, filler
//! words, and the sentence around a match.

/// A word is a whitespace-separated token with at least one letter or digit ("—" is not one).
pub fn word_count(text: &str) -> u32 {
    let n = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A question is a sentence ending in `?`: each run of `?` (with any `!` mixed in, "really?!")
/// that ends a sentence — followed by whitespace, a closing quote or bracket, or the end of the
/// turn — counts once. A `?` inside a token ("page?id=3") does not count.
pub fn question_count(text: &str) -> u32 {
    let mut count = 0u32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            continue;
        }
        while let Some(&next) = chars.peek() {
            if next == '?' || next == '!' {
                chars.next();
            } else {
                break;
            }
        }
        while let Some(&next) = chars.peek() {
            if matches!(next, '"' | '\'' | '”' | '’' | ')' | ']' | '»') {
                chars.next();
            } else {
                break;
            }
        }
        match chars.peek() {
            None => count += 1,
            Some(next) if next.is_whitespace() => count += 1,
            _ => {}
        }
    }
    count
}

/// The filler words counted, lowercase. Single words match whole words; the two-word fillers
/// match as a phrase. Kept short on purpose: words like "like" or "so" are fillers only
/// sometimes, and counting them would mostly count real speech.
pub const FILLER_WORDS: &[&str] = &[
    "um",
    "umm",
    "uh",
    "uhh",
    "uhm",
    "er",
    "erm",
    "ah",
    "ahh",
    "hmm",
    "basically",
    "literally",
    "you know",
    "i mean",
];

/// Counts [`FILLER_WORDS`] in `text`, case-insensitively, ignoring punctuation around words.
pub fn filler_count(text: &str) -> u32 {
    let mut count = 0u32;
    let mut prev = String::new();
    for raw in text.split_whitespace() {
        let word: String = raw
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if word.is_empty() {
            continue;
        }
        let single = matches!(
            word.as_str(),
            "um" | "umm"
                | "uh"
                | "uhh"
                | "uhm"
                | "er"
                | "erm"
                | "ah"
                | "ahh"
                | "hmm"
                | "basically"
                | "literally"
        );
        let pair = matches!(
            (prev.as_str(), word.as_str()),
            ("you", "know") | ("i", "mean")
        );
        if single || pair {
            count += 1;
        }
        // A sentence break ends a phrase: "you. Know" is not "you know".
        let breaks = raw.ends_with(['.', '!', '?', ',', ';', ':']);
        prev = if breaks { String::new() } else { word };
    }
    count
}

/// The sentence of `text` holding byte range `start..end`, trimmed to at most 240 characters.
pub fn sentence_around(text: &str, start: usize, end: usize) -> String {
    let is_break = |c: char| matches!(c, '.' | '!' | '?');
    let from = text[..start]
        .char_indices()
        .rev()
        .find(|&(i, c)| is_break(c) && text[i + c.len_utf8()..].starts_with(char::is_whitespace))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let to = text[end..]
        .char_indices()
        .find(|&(_, c)| is_break(c))
        .map(|(i, c)| end + i + c.len_utf8())
        .unwrap_or(text.len());
    let sentence = text[from..to].trim();
    if sentence.chars().count() <= 240 {
        sentence.to_owned()
    } else {
        let cut: String = sentence.chars().take(239).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(word_count("Hello, world — it's 9 a.m."), 5);
        assert_eq!(word_count(" — ... "), 0);
    }

    #[test]
    fn questions() {
        assert_eq!(question_count("What? Really?! And then?"), 3);
        assert_eq!(question_count("See page?id=3 ok"), 0);
        assert_eq!(question_count("He asked \"why?\" and left"), 1);
        assert_eq!(question_count("No questions here."), 0);
        assert_eq!(question_count("Right??"), 1);
    }

    #[test]
    fn fillers() {
        assert_eq!(
            filler_count("Um, so, uh, you know, it's basically done. I mean it."),
            5
        );
        assert_eq!(filler_count("Do you. Know what"), 0);
        assert_eq!(filler_count("The umbrella erred"), 0);
    }

    #[test]
    fn sentences() {
        let t = "Hi there. Our price is high! Next one.";
        let at = t.find("price").unwrap();
        assert_eq!(sentence_around(t, at, at + 5), "Our price is high!");
        assert_eq!(sentence_around("a price", 2, 7), "a price");
    }
}
