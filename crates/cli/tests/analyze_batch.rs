//! `salesdesk analyze` on several files and folders: the real binary against the testkit's
//! OpenAI fake. Files are found recursively in path order, analyzed by one chain (its breaker
//! learns across files), each gets its own entry, a bad file does not stop the others, and
//! the exit code says whether any failed.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use salesdesk_testkit::fakes::{self, Fault, RetryHint};
use serde_json::Value;

mod common;

const KEY: &str = "test-openai-key-not-real-batch-0123";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures")
        .join(name)
}

/// A folder with two good transcripts (one in a subfolder), a bad one, a hidden one and a file
/// that is not a transcript.
fn folder(root: &Path) -> PathBuf {
    let calls = root.join("calls");
    std::fs::create_dir_all(calls.join("acme")).unwrap();
    std::fs::create_dir_all(calls.join(".trash")).unwrap();
    std::fs::copy(
        fixture("discovery_plain.txt"),
        calls.join("acme/discovery.txt"),
    )
    .unwrap();
    std::fs::copy(fixture("renewal.vtt"), calls.join("renewal.vtt")).unwrap();
    std::fs::write(calls.join("b_solo.txt"), "Alice: Hello?\nAlice: Anyone?\n").unwrap();
    std::fs::copy(fixture("renewal.vtt"), calls.join(".trash/old.vtt")).unwrap();
    std::fs::write(calls.join("notes.md"), "# not a transcript").unwrap();
    calls
}

fn salesdesk(data: &Path, base_url: &str) -> Command {
    let mut cmd = common::salesdesk(data);
    cmd.env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", base_url)
        .env("SALESDESK_AI_PROVIDERS", "openai");
    cmd
}

async fn run(cmd: Command) -> std::process::Output {
    let mut cmd = cmd;
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !stdout.contains(KEY) && !stderr.contains(KEY),
        "the key leaked"
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_is_analyzed_file_by_file_and_a_bad_file_does_not_stop_the_rest() {
    let openai = fakes::openai::start(KEY).await;
    let dir = tempfile::tempdir().unwrap();
    let calls = folder(dir.path());
    let data = dir.path().join("data");
    let mut cmd = salesdesk(&data, &format!("{}/v1", openai.origin()));
    cmd.arg("analyze").arg(&calls).arg("--json");
    let out = run(cmd).await;

    assert_eq!(out.status.code(), Some(1), "one file failed");
    // No progress bar when stderr is not a terminal (and never with --json).
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    let titles: Vec<&str> = entries
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["acme/discovery.txt", "b_solo.txt", "renewal.vtt"]);

    for good in [&entries[0], &entries[2]] {
        assert_eq!(good["ok"], true);
        assert_eq!(good["provider"], "openai");
        assert_eq!(good["served_from"], "live");
        assert_eq!(good["attempts"][0]["outcome"], "ok");
        assert_eq!(good["attempts"][0]["provider"], "openai");
        assert!(good["model"].is_string());
        assert!(good["id"].is_string());
        assert_eq!(good["error"], Value::Null);
    }
    let bad = &entries[1];
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["error_kind"], "invalid_input");
    assert!(
        bad["error"].as_str().unwrap().contains("only one speaker"),
        "{bad}"
    );
    assert_eq!(bad["id"], Value::Null);
    assert_eq!(
        openai.generate_count(),
        2,
        "the bad file never reached the provider"
    );

    // Both good ones were saved.
    let listed = common::salesdesk(&data)
        .args(["analyses", "list", "--json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_chain_serves_every_file_so_a_dead_provider_is_learned_once() {
    let openai = fakes::openai::start(KEY).await;
    openai.set_policy(|_| Fault::Status(503, RetryHint::None));
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.vtt");
    let c = dir.path().join("c.srt");
    std::fs::copy(fixture("discovery_plain.txt"), &a).unwrap();
    std::fs::copy(fixture("renewal.vtt"), &b).unwrap();
    std::fs::copy(fixture("hiring.srt"), &c).unwrap();
    let mut cmd = salesdesk(&dir.path().join("data"), &format!("{}/v1", openai.origin()));
    cmd.arg("analyze").args([&a, &b, &c, &a]).arg("--json");
    let out = run(cmd).await;

    // Every file still gets an analysis (offline), so the run succeeds.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 3, "a file named twice is analyzed once");
    assert!(entries.iter().all(|e| e["served_from"] == "offline"));
    let outcomes = |e: &Value| -> Vec<String> {
        e["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["outcome"].as_str().unwrap().to_owned())
            .collect()
    };
    // The first file pays for finding the provider dead; the breaker it opened spares the rest.
    assert!(
        outcomes(&entries[0]).len() >= 3,
        "{:?}",
        outcomes(&entries[0])
    );
    assert!(
        outcomes(&entries[0])
            .iter()
            .all(|o| !o.starts_with("skipped"))
    );
    for later in &entries[1..] {
        assert_eq!(outcomes(later), ["skipped_breaker_open"]);
    }
    assert_eq!(openai.generate_count(), outcomes(&entries[0]).len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_output_has_a_line_per_file_and_bad_arguments_are_refused() {
    let openai = fakes::openai::start(KEY).await;
    let dir = tempfile::tempdir().unwrap();
    let calls = folder(dir.path());
    let data = dir.path().join("data");
    let base = format!("{}/v1", openai.origin());
    let mut cmd = salesdesk(&data, &base);
    cmd.arg("analyze").arg(&calls);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].starts_with("ok ") && lines[0].contains("discovery.txt"),
        "{stdout}"
    );
    assert!(
        lines[0].contains("openai (") && lines[0].contains("score "),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("FAILED ") && lines[1].contains("only one speaker"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("ok ") && lines[2].contains("renewal.vtt"),
        "{stdout}"
    );
    assert_eq!(lines[3], "2 analyzed, 1 failed");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for (args, says) in [
        (vec![empty.clone()], "no transcript files"),
        (
            vec![calls.clone(), PathBuf::from("-")],
            "standard input (-) can only be analyzed alone",
        ),
    ] {
        let mut cmd = salesdesk(&data, &base);
        cmd.arg("analyze").args(&args);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains(says));
    }
    let mut cmd = salesdesk(&data, &base);
    cmd.arg("analyze")
        .arg(&calls)
        .args(["--title", "One title"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--title names one analysis"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_openai_from_the_environment() {
    let azure = fakes::openai::start_azure(KEY, Some("2024-10-21")).await;
    let dir = tempfile::tempdir().unwrap();
    let base = format!("{}/openai/v1", azure.origin());
    let mut cmd = salesdesk(&dir.path().join("data"), &base);
    cmd.arg("analyze")
        .arg(fixture("discovery_plain.txt"))
        .arg("--json")
        .env("OPENAI_API_VERSION", "2024-10-21")
        .env("SALESDESK_OPENAI_AUTH_HEADER", "api-key");
    let out = run(cmd).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["analysis"]["served_from"], "live");
    assert_eq!(record["provider"], "openai");
    let sent = azure.requests().pop().unwrap();
    assert_eq!(sent.header("api-key"), Some(KEY));
    assert!(sent.header("authorization").is_none());
    assert!(sent.path_and_query.ends_with("?api-version=2024-10-21"));

    // Without the header setting Azure refuses the key: the offline analyzer answers and says so.
    let mut cmd = salesdesk(&dir.path().join("data2"), &base);
    cmd.arg("analyze")
        .arg(fixture("discovery_plain.txt"))
        .arg("--json")
        .env("OPENAI_API_VERSION", "2024-10-21")
        .env_remove("SALESDESK_OPENAI_AUTH_HEADER");
    let out = run(cmd).await;
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["analysis"]["served_from"], "offline");
    assert_eq!(record["analysis"]["attempts"][0]["status"], 401);
}
