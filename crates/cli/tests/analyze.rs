//! `salesdesk analyze` and `salesdesk analyses list` filters, run as the real binary against a
//! temporary data directory.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{json_of, json_ok, salesdesk};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures")
        .join(name)
}

fn analyze_json(dir: &Path, args: &[&str]) -> Value {
    let out = salesdesk(dir)
        .arg("analyze")
        .args(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out)
}

fn saved_count(dir: &Path) -> usize {
    json_ok(dir, &["analyses", "list", "--json"])
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn analyze_each_format_gives_hand_counted_metrics() {
    let dir = tempfile::tempdir().unwrap();
    // (file, rep talk share, rep questions, customer questions, longest rep monologue)
    let cases = [
        ("discovery_plain.txt", 40.3, 5, 1, Some(30.0)),
        ("renewal.vtt", 50.8, 4, 1, Some(48.0)),
        ("hiring.srt", 23.5, 3, 0, Some(18.0)),
        ("pricing_diarized.json", 52.1, 1, 1, Some(15.5)),
        ("cold_call_untimed.txt", 55.2, 2, 1, None),
    ];
    for (file, share, rep_q, cust_q, mono) in cases {
        let path = fixture(file);
        let record = analyze_json(dir.path(), &[path.to_str().unwrap()]);
        assert_eq!(record["title"], file);
        assert!(record["id"].as_str().unwrap().len() == 36);
        let a = &record["analysis"];
        assert_eq!(a["provider"], "offline");
        assert_eq!(a["model"], "offline-v1");
        assert_eq!(a["served_from"], "offline");
        let m = &a["metrics"];
        assert_eq!(m["rep_talk_share"].as_f64().unwrap(), share, "{file}");
        assert_eq!(m["rep_questions"], rep_q, "{file}");
        assert_eq!(m["customer_questions"], cust_q, "{file}");
        assert_eq!(
            m["longest_rep_monologue"]["seconds"].as_f64(),
            mono,
            "{file}"
        );
    }
    assert_eq!(saved_count(dir.path()), 5);
}

#[test]
fn options_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let vtt = std::fs::read(fixture("renewal.vtt")).unwrap();
    let out = salesdesk(dir.path())
        .args(["analyze", "-", "--title", "Dana renewal", "--rep", "dana"])
        .args([
            "--competitor",
            "Zendesk",
            "--competitor",
            "Freshdesk",
            "--json",
        ])
        .write_stdin(vtt)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let record = json_of(&out);
    assert_eq!(record["title"], "Dana renewal");
    let m = &record["analysis"]["metrics"];
    assert_eq!(m["rep"], "Dana");
    assert_eq!(m["rep_source"], "given");
    assert_eq!(m["rep_talk_share"].as_f64().unwrap(), 49.2);
    assert_eq!(
        m["trackers"]["competitor_names"],
        serde_json::json!(["Zendesk", "Freshdesk"])
    );
    assert_eq!(m["trackers"]["competitors"][0]["turn_index"], 7);

    // The human summary names the score, the ratio and the rep guess.
    salesdesk(dir.path())
        .args(["analyze", fixture("discovery_plain.txt").to_str().unwrap()])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Score ")
                .and(predicate::str::contains(
                    "rep 40.3% : customer 59.7% (by time",
                ))
                .and(predicate::str::contains(
                    "rep guessed: 'Alice' is the first speaker",
                )),
        );
}

/// Each bad input exits 1 with a clear message and saves nothing.
#[test]
fn bad_inputs_exit_1_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = files.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let mut ten_mb_line = b"Alice: hi\nBob: ".to_vec();
    ten_mb_line.extend(std::iter::repeat_n(b'y', 10 * 1024 * 1024));
    let empty_folder = dir.path().join("empty");
    std::fs::create_dir(&empty_folder).unwrap();
    let huge = files.join("huge.vtt");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (write("empty.txt", b""), "the transcript is empty"),
        (write("blank.txt", b"\n \n"), "the transcript is empty"),
        (
            write("audio.wav", b"RIFF\x10\0\0\0WAVEfmt \0\0"),
            "looks like a WAV audio file",
        ),
        (
            write(
                "noise.bin",
                &(0..4096u32)
                    .map(|i| (i * 37 % 256) as u8)
                    .collect::<Vec<_>>(),
            ),
            "not a text transcript",
        ),
        (
            write("prose.txt", b"Minutes of the meeting.\nAll agreed.\n"),
            "format was not recognised",
        ),
        (
            write("solo.txt", b"Alice: Hello?\nAlice: Anyone?\n"),
            "only one speaker (Alice)",
        ),
        (
            write(
                "whisper.json",
                br#"{"text":"hi","segments":[{"id":0,"start":0,"end":1,"text":"hi"}]}"#,
            ),
            "no speaker labels",
        ),
        (write("broken.json", b"[{\"speaker\": "), "invalid JSON"),
        (
            write("long_line.txt", &ten_mb_line),
            "line 2 is 10.0 MB long",
        ),
        (huge, "over the 32.0 MB limit"),
        (files.join("missing.txt"), "cannot read the transcript"),
        (empty_folder, "no transcript files"),
    ];
    for (path, says) in cases {
        salesdesk(&data)
            .arg("analyze")
            .arg(&path)
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::starts_with("error: ").and(predicate::str::contains(says)));
    }
    // An unknown rep names the speakers.
    salesdesk(&data)
        .args([
            "analyze",
            fixture("renewal.vtt").to_str().unwrap(),
            "--rep",
            "Zoe",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no speaker named 'Zoe' in this transcript; its speakers are: Sam Rep, Dana",
        ));
    // Empty standard input.
    salesdesk(&data)
        .args(["analyze", "-"])
        .write_stdin("")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("empty"));
    assert_eq!(saved_count(&data), 0);
}

#[test]
fn degraded_inputs_succeed_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backwards.txt");
    std::fs::write(&file, "[00:30] Ann: Hi?\n[00:10] Ben: Hello.\n").unwrap();
    let record = analyze_json(&dir.path().join("d"), &[file.to_str().unwrap()]);
    let notes = record["analysis"]["notes"].to_string();
    assert!(
        notes.contains("timestamps go backwards at turn 2"),
        "{notes}"
    );
    assert!(notes.contains("no timestamps: durations estimated from word counts"));
    let latin1 = dir.path().join("latin1.txt");
    std::fs::write(&latin1, b"Jos\xE9: \xBFQu\xE9 tal?\nAna: Bien.\n").unwrap();
    let record = analyze_json(&dir.path().join("d"), &[latin1.to_str().unwrap()]);
    assert_eq!(record["analysis"]["metrics"]["rep"], "José");
    assert!(
        record["analysis"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("windows-1252")
    );
}

#[test]
fn list_filters() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["renewal.vtt", "hiring.srt", "discovery_plain.txt"] {
        analyze_json(dir.path(), &[fixture(f).to_str().unwrap()]);
    }
    let list = |args: &[&str]| -> Vec<String> {
        let out = salesdesk(dir.path())
            .args(["analyses", "list", "--json"])
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let mut titles: Vec<String> = json_of(&out)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_owned())
            .collect();
        titles.sort();
        titles
    };
    assert_eq!(list(&["--search", "Zendesk"]), ["renewal.vtt"]);
    assert_eq!(list(&["--search", "hiring"]), ["hiring.srt"]);
    assert_eq!(
        list(&["--search", "\"unbalanced ( AND"]),
        Vec::<String>::new()
    );
    let out = salesdesk(dir.path())
        .args(["analyses", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows = json_of(&out);
    let scores: Vec<i64> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["score"].as_i64().unwrap())
        .collect();
    let (lo, hi) = (*scores.iter().min().unwrap(), *scores.iter().max().unwrap());
    assert_eq!(
        list(&["--min-score", &hi.to_string()]).len(),
        scores.iter().filter(|s| **s == hi).count()
    );
    assert_eq!(
        list(&["--max-score", &lo.to_string()]).len(),
        scores.iter().filter(|s| **s == lo).count()
    );
    let today = chrono_today();
    assert_eq!(list(&["--since", &today, "--until", &today]).len(), 3);
    assert!(list(&["--until", "2000-01-01"]).is_empty());
    salesdesk(dir.path())
        .args(["analyses", "list", "--since", "yesterday"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a date"));
    salesdesk(dir.path())
        .args(["analyses", "list", "--min-score", "101"])
        .assert()
        .code(1);
    salesdesk(dir.path())
        .args(["analyses", "list", "--search", "nothing-like-this"])
        .assert()
        .success()
        .stdout(predicate::str::contains("No analyses match."));
    salesdesk(dir.path())
        .args(["analyses", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("SCORE"));
}

fn chrono_today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}
