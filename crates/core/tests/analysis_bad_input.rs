//! Bad input gets a clear error or a clearly stated degraded result, never a panic, and never
//! touches what is already saved.

use salesdesk_core::analysis::decode::{MAX_INPUT_BYTES, MAX_LINE_BYTES};
use salesdesk_core::analysis::transcript::Timing;
use salesdesk_core::analysis::{AnalyzeOptions, IngestError, OfflineRun, analyze_offline, input};
use salesdesk_core::{CoreError, DataPaths, ErrorKind, Salesdesk};

fn analyze(bytes: &[u8]) -> Result<OfflineRun, IngestError> {
    analyze_offline(bytes, &AnalyzeOptions::default())
}

fn err(bytes: &[u8]) -> IngestError {
    match analyze(bytes) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn empty_input() {
    assert_eq!(err(b""), IngestError::Empty);
    assert_eq!(err(b"\n\n   \r\n"), IngestError::Empty);
    assert_eq!(err(b"[]"), IngestError::Empty);
    assert!(err(b"").to_string().contains("empty"));
}

#[test]
fn binary_files() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let e = err(png);
    assert!(matches!(&e, IngestError::Binary { what } if what == "an image"));
    assert!(e.to_string().contains("not a text transcript"));
    let mp3 = b"ID3\x04\0\0\0\0\0\0";
    assert!(err(mp3).to_string().contains("MP3"));
    let noise: Vec<u8> = (0..10_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert!(matches!(err(&noise), IngestError::Binary { .. }));
}

#[test]
fn legacy_encodings_are_decoded_and_said() {
    // Windows-1252 (curly quotes 0x92, é 0xE9).
    let cp1252 = b"Ren\xE9e: Bonjour, we\x92re ready. Shall we start?\nMarc: Oui, caf\xE9 first.\n";
    let r = analyze(cp1252).unwrap();
    assert_eq!(r.transcript.turns[0].speaker, "Renée");
    assert!(r.transcript.turns[0].text.contains("we’re"));
    assert!(r.analysis.notes[0].contains("windows-1252"));
    // UTF-16 little-endian with a BOM.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "Zoë: Hello?\r\nLiam: Hi.\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let r = analyze(&utf16).unwrap();
    assert_eq!(r.transcript.turns[0].speaker, "Zoë");
    assert_eq!(r.metrics.rep_questions, 1);
}

#[test]
fn undetectable_format() {
    let prose = b"Dear team,\nplease find the notes attached.\nBest regards\n";
    let e = err(prose);
    assert!(matches!(e, IngestError::UnknownFormat { .. }));
    assert!(e.to_string().contains("Salesdesk reads"));
}

#[test]
fn single_speaker() {
    let e = err(b"Alice: Hello?\nAlice: Anyone there?\n");
    assert_eq!(
        e,
        IngestError::SingleSpeaker {
            name: "Alice".into()
        }
    );
    assert!(
        e.to_string()
            .contains("needs the rep and at least one customer")
    );
}

#[test]
fn missing_speakers_in_cue_and_json_formats() {
    let vtt =
        b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n\n00:00:03.000 --> 00:00:04.000\nthere\n";
    assert!(matches!(
        err(vtt),
        IngestError::NoSpeakers {
            format: "WebVTT",
            ..
        }
    ));
    let verbose = br#"{"task":"transcribe","language":"english","duration":3.0,"text":"Hi there",
        "segments":[{"id":0,"seek":0,"start":0.0,"end":3.0,"text":" Hi there","tokens":[1,2]}]}"#;
    let e = err(verbose);
    assert!(matches!(e, IngestError::NoSpeakers { format: "JSON", .. }));
    assert!(e.to_string().contains("diarized_json"));
}

#[test]
fn malformed_json() {
    let e = err(b"[{\"speaker\": \"A\", \"text\": \"hi\"");
    assert!(matches!(e, IngestError::Malformed { format: "JSON", .. }));
    assert!(e.to_string().contains("line 1"));
    assert!(matches!(
        err(b"{\"foo\": 1}"),
        IngestError::Malformed { .. }
    ));
    assert!(matches!(err(b"[1, 2]"), IngestError::Malformed { .. }));
    let bad_time = br#"[{"speaker":"A","start":true,"text":"x"},{"speaker":"B","text":"y"}]"#;
    assert!(err(bad_time).to_string().contains("segment 1"));
}

#[test]
fn backwards_timestamps_are_dropped_and_said() {
    let text = b"[00:10] Alice: First.\n[00:05] Bob: Second.\n[00:20] Alice: Third?\n";
    let r = analyze(text).unwrap();
    assert_eq!(r.metrics.timing, Timing::None);
    let note = r
        .analysis
        .notes
        .iter()
        .find(|n| n.contains("go backwards"))
        .expect("a note about the timestamps");
    assert!(note.contains("turn 2 (0:05 after 0:10)"), "{note}");
    assert!(
        r.analysis
            .notes
            .iter()
            .any(|n| n.starts_with("no timestamps"))
    );
    // Measured in words instead: Alice 1 + 1, Bob 1.
    assert!((r.metrics.rep_talk_share - 66.7).abs() < 0.05);
}

#[test]
fn partial_and_inverted_timestamps_are_dropped_and_said() {
    let partial = b"[00:10] Alice: First.\nBob: Second.\n[00:20] Alice: Third.\n";
    let r = analyze(partial).unwrap();
    assert_eq!(r.metrics.timing, Timing::None);
    assert!(
        r.analysis
            .notes
            .iter()
            .any(|n| n.contains("only 2 of 3 turns have timestamps"))
    );
    let inverted = b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\n<v A>one\n\n00:00:06.000 --> 00:00:07.000\n<v B>two\n";
    let r = analyze(inverted).unwrap();
    assert_eq!(r.metrics.timing, Timing::None);
    assert!(
        r.analysis
            .notes
            .iter()
            .any(|n| n.contains("ends (0:01) before it starts (0:05)"))
    );
}

#[test]
fn labels_without_words() {
    assert_eq!(err(b"Alice: ...\nBob: --\n"), IngestError::NoWords);
}

#[test]
fn unknown_rep_lists_the_speakers() {
    let options = AnalyzeOptions {
        rep: Some("Carol".into()),
        ..AnalyzeOptions::default()
    };
    let e = analyze_offline(b"Alice: Hi.\nBob: Hello.\n", &options).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no speaker named 'Carol' in this transcript; its speakers are: Alice, Bob"
    );
}

#[test]
fn oversized_input_is_refused() {
    let big = vec![b'a'; MAX_INPUT_BYTES + 1];
    assert!(matches!(err(&big), IngestError::TooLarge { .. }));
    // A 100 MB file is refused from its size, before it is read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.txt");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(100 * 1024 * 1024).unwrap();
    let e = input::read_file(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("100.0 MB, over the 32.0 MB limit"),
        "{e}"
    );
    // A stream is cut at the limit.
    let stream = std::io::repeat(b'a');
    let e = input::read_stream(stream, "standard input").unwrap_err();
    assert!(e.to_string().contains("over the 32.0 MB limit"), "{e}");
}

#[test]
fn a_ten_megabyte_line_is_refused() {
    let mut text = b"Alice: Hi.\nBob: ".to_vec();
    text.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    let e = err(&text);
    assert!(
        matches!(&e, IngestError::LineTooLong { line: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("10.0 MB long"));
    // Just under the limit is fine: a (very) long turn.
    let mut ok = b"Alice: Hi.\nBob: ".to_vec();
    ok.extend(std::iter::repeat_n(b"word ".as_slice(), (MAX_LINE_BYTES - 100) / 5).flatten());
    assert!(analyze(&ok).is_ok());
}

#[tokio::test]
async fn bad_input_saves_nothing_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
    let good = core
        .analyze_transcript(
            b"Alice: Hi there?\nBob: Hello.\n".to_vec(),
            AnalyzeOptions::default(),
        )
        .await
        .unwrap();
    let before = core.get_analysis(&good.id).await.unwrap();
    for bad in [
        b"".as_slice(),
        b"\x89PNG\r\n\x1a\n",
        b"just some prose\nwith no speakers",
        b"Alice: alone",
    ] {
        let e = core
            .analyze_transcript(bad.to_vec(), AnalyzeOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(e, CoreError::Transcript(_)), "{e}");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
    assert_eq!(core.list_analyses().await.unwrap().len(), 1);
    assert_eq!(core.get_analysis(&good.id).await.unwrap(), before);
    core.close().await;
}
