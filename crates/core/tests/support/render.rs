//! Writes turns out in each supported format: for round-trip properties and the benchmark.
#![allow(dead_code)]

#[derive(Debug, Clone, PartialEq)]
pub struct GenTurn {
    pub speaker: String,
    /// Whole seconds, so that every format (plain text has no fractions) can hold it.
    pub start: u32,
    /// Milliseconds after `start`.
    pub length_ms: u32,
    pub text: String,
}

impl GenTurn {
    pub fn end(&self) -> f64 {
        f64::from(self.start) + f64::from(self.length_ms) / 1000.0
    }
}

fn clock(seconds: f64, sep: char) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}{sep}{f:03}")
}

pub fn plain(turns: &[GenTurn]) -> String {
    let mut out = String::from("Call transcript\n\n");
    for t in turns {
        let s = t.start;
        out.push_str(&format!(
            "[{:02}:{:02}:{:02}] {}: {}\n",
            s / 3600,
            s / 60 % 60,
            s % 60,
            t.speaker,
            t.text
        ));
    }
    out
}

pub fn vtt(turns: &[GenTurn]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for (i, t) in turns.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n<v {}>{}</v>\n\n",
            i + 1,
            clock(f64::from(t.start), '.'),
            clock(t.end(), '.'),
            t.speaker,
            t.text
        ));
    }
    out
}

pub fn srt(turns: &[GenTurn]) -> String {
    let mut out = String::new();
    for (i, t) in turns.iter().enumerate() {
        out.push_str(&format!(
            "{}\r\n{} --> {}\r\n{}: {}\r\n\r\n",
            i + 1,
            clock(f64::from(t.start), ','),
            clock(t.end(), ','),
            t.speaker,
            t.text
        ));
    }
    out
}

/// A plain `[{speaker, start, end, text}]` array.
pub fn json(turns: &[GenTurn]) -> String {
    let items: Vec<serde_json::Value> = turns
        .iter()
        .map(|t| {
            serde_json::json!({
                "speaker": t.speaker, "start": f64::from(t.start), "end": t.end(), "text": t.text
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// OpenAI-style `diarized_json`: an object with `segments` carrying a `speaker`.
pub fn diarized_json(turns: &[GenTurn]) -> String {
    let segments: Vec<serde_json::Value> = turns
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({
                "type": "transcript.text.segment", "id": format!("seg_{i}"),
                "start": f64::from(t.start), "end": t.end(), "text": format!(" {}", t.text),
                "speaker": t.speaker
            })
        })
        .collect();
    serde_json::json!({ "task": "transcribe", "text": "", "segments": segments }).to_string()
}

/// A deterministic two-speaker call: `words` words over `seconds`, turns of 3-80 words.
pub fn generated_call(words: u32, seconds: u32) -> Vec<GenTurn> {
    generated_call_seeded(words, seconds, 0x5eed_cafe)
}

/// [`generated_call`] with a chosen seed, for many different calls.
pub fn generated_call_seeded(words: u32, seconds: u32, seed: u64) -> Vec<GenTurn> {
    const VOCAB: &[&str] = &[
        "we",
        "the",
        "team",
        "pipeline",
        "quarter",
        "deal",
        "renewal",
        "customer",
        "process",
        "today",
        "really",
        "price",
        "budget",
        "timeline",
        "integration",
        "onboarding",
        "data",
        "report",
        "manager",
        "approval",
        "next",
        "week",
        "follow",
        "up",
        "competitor",
        "demo",
        "question",
        "value",
        "risk",
        "goal",
        "um",
        "you",
        "know",
        "and",
        "so",
        "that",
        "is",
        "it",
        "our",
        "your",
        "with",
        "for",
        "to",
        "of",
        "a",
        "in",
        "on",
    ];
    let mut seed = seed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let per_word = f64::from(seconds) / f64::from(words);
    let mut turns = Vec::new();
    let mut said = 0u32;
    let mut t = 0.0f64;
    let mut i = 0;
    while said < words {
        let n = (3 + next(78) as u32).min(words - said);
        let mut text = String::new();
        for w in 0..n {
            if w > 0 {
                text.push(' ');
            }
            text.push_str(VOCAB[next(VOCAB.len() as u64) as usize]);
            if w + 1 < n && next(12) == 0 {
                text.push(if next(3) == 0 { '?' } else { '.' });
            }
        }
        text.push(if next(4) == 0 { '?' } else { '.' });
        let speaker = if i % 2 == 0 { "Alice Rep" } else { "Bob Buyer" };
        let start = t.floor() as u32;
        let length_ms = (f64::from(n) * per_word * 900.0) as u32;
        turns.push(GenTurn {
            speaker: speaker.into(),
            start,
            length_ms,
            text,
        });
        t = f64::from(start) + f64::from(n) * per_word;
        said += n;
        i += 1;
    }
    turns
}
