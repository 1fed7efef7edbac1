//! Properties of the parsers and metrics: no input makes them panic, and a transcript written
//! in any format reads back as the same turns.

mod support;

use proptest::prelude::*;
use salesdesk_core::analysis::{AnalyzeOptions, analyze_offline, ingest};
use support::render::{self, GenTurn};

fn analyze_any(bytes: &[u8]) {
    // Either outcome is fine; a panic fails the property.
    if let Ok(run) = analyze_offline(bytes, &AnalyzeOptions::default()) {
        let m = &run.metrics;
        assert!((m.rep_talk_share + m.customer_talk_share - 100.0).abs() < 0.11);
        assert!(run.analysis.score <= 100);
        assert!(m.duration_seconds.is_finite() && m.duration_seconds >= 0.0);
    }
}

/// Text shaped like each format, with garbage mixed in, reaches deeper parser paths than
/// random bytes do.
fn format_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("WEBVTT\n\n".to_owned()),
        Just("00:00:01.000 --> 00:00:02.500\n".to_owned()),
        Just("00:00:09,000 --> 00:00:03,000 align:start\n".to_owned()),
        Just("1\n".to_owned()),
        Just("<v Alice>".to_owned()),
        Just("</v>".to_owned()),
        Just("[00:12] ".to_owned()),
        Just("01:02:03 ".to_owned()),
        Just("Bob: ".to_owned()),
        Just("Alice (00:05): ".to_owned()),
        Just("Zed  0:02\n".to_owned()),
        Just("NOTE x\n".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("[{\"speaker\":\"A\",\"start\":1,\"end\":0.5,\"text\":\"x?\"},".to_owned()),
        Just("{\"segments\":[".to_owned()),
        Just("]}".to_owned()),
        Just("&amp;<i>".to_owned()),
        "[ -~]{0,20}",
        "\\PC{0,10}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn turns() -> impl Strategy<Value = Vec<GenTurn>> {
    let turn = (
        prop::sample::select(vec!["Alice", "Bob Smith", "Carol O'Neil"]),
        0u32..30,
        1u32..20_000,
        prop::collection::vec("[a-z]{1,8}", 1..12),
        prop::sample::select(vec![".", "?", "!", ""]),
    );
    prop::collection::vec(turn, 2..25).prop_map(|raw| {
        let mut start = 0;
        raw.into_iter()
            .enumerate()
            .map(|(i, (speaker, gap, length_ms, words, end))| {
                start += gap;
                // The first two turns name two different speakers.
                let speaker = match i {
                    0 => "Alice",
                    1 => "Bob Smith",
                    _ => speaker,
                };
                let t = GenTurn {
                    speaker: speaker.into(),
                    start,
                    length_ms,
                    text: format!("{}{end}", words.join(" ")),
                };
                start += length_ms / 1000 + 1;
                t
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        analyze_any(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        analyze_any(text.as_bytes());
    }

    #[test]
    fn format_shaped_text_never_panics(text in format_like()) {
        analyze_any(text.as_bytes());
    }

    #[test]
    fn every_format_round_trips(turns in turns()) {
        for (name, text) in [
            ("vtt", render::vtt(&turns)),
            ("srt", render::srt(&turns)),
            ("json", render::json(&turns)),
            ("diarized", render::diarized_json(&turns)),
            ("plain", render::plain(&turns)),
        ] {
            let (_, t) = ingest(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            prop_assert_eq!(t.turns.len(), turns.len(), "{}", name);
            for (got, want) in t.turns.iter().zip(&turns) {
                prop_assert_eq!(&got.speaker, &want.speaker, "{}", name);
                prop_assert_eq!(&got.text, &want.text, "{}", name);
                prop_assert_eq!(got.start, Some(f64::from(want.start)), "{}", name);
                if name != "plain" {
                    let end = got.end.unwrap();
                    prop_assert!((end - want.end()).abs() < 0.0015, "{}: {} vs {}", name, end, want.end());
                }
            }
        }
    }

    /// The same turns give the same talk shares whatever the cue format.
    #[test]
    fn metrics_agree_across_cue_formats(turns in turns()) {
        let share = |text: String| {
            analyze_offline(text.as_bytes(), &AnalyzeOptions::default()).unwrap().metrics.rep_talk_share
        };
        let vtt = share(render::vtt(&turns));
        prop_assert_eq!(vtt, share(render::srt(&turns)));
        prop_assert_eq!(vtt, share(render::json(&turns)));
    }
}
