//! `salesdesk analyze` through the AI chain: the real binary against the testkit's
//! wire-faithful OpenAI fake. A live answer is saved with its provider and attempts; a dead
//! provider falls back to the offline analyzer; the key never reaches the output.

use std::path::{Path, PathBuf};

use salesdesk_testkit::fakes::{self, Fault, RetryHint};
use serde_json::Value;

mod common;

const KEY: &str = "sk-test-cli-0123456789abcdefghijklmnop";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/discovery_plain.txt")
}

fn analyze(data: &Path, base_url: &str) -> std::process::Output {
    common::salesdesk(data)
        .args(["analyze", "--json"])
        .arg(fixture())
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", base_url)
        .env("SALESDESK_AI_PROVIDERS", "openai")
        .output()
        .unwrap()
}

async fn run(data: PathBuf, base_url: String) -> (Value, String) {
    let out = tokio::task::spawn_blocking(move || analyze(&data, &base_url))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(
        !stdout.contains(KEY) && !stderr.contains(KEY),
        "the key leaked"
    );
    (serde_json::from_str(&stdout).unwrap(), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_provider_answer_is_saved_with_its_provider_and_attempts() {
    let openai = fakes::openai::start(KEY).await;
    openai.set_output(fakes::sample_judgement());
    let data = tempfile::tempdir().unwrap();
    let (record, _) = run(data.path().to_owned(), format!("{}/v1", openai.origin())).await;

    assert_eq!(record["provider"], "openai");
    let analysis = &record["analysis"];
    assert_eq!(analysis["served_from"], "live");
    assert_eq!(analysis["provider"], "openai");
    assert_eq!(analysis["score"], 74);
    assert_eq!(analysis["attempts"][0]["outcome"], "ok");
    // The exact metrics are ours, not the model's.
    assert!(analysis["metrics"]["rep_questions"].is_number());
    assert_eq!(openai.generate_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_provider_falls_back_to_the_offline_analyzer() {
    let openai = fakes::openai::start(KEY).await;
    openai.set_policy(|_| Fault::Status(503, RetryHint::None));
    let data = tempfile::tempdir().unwrap();
    let (record, _) = run(data.path().to_owned(), format!("{}/v1", openai.origin())).await;

    let analysis = &record["analysis"];
    assert_eq!(record["provider"], "offline");
    assert_eq!(analysis["served_from"], "offline");
    let attempts = analysis["attempts"].as_array().unwrap();
    assert!(!attempts.is_empty());
    assert!(
        attempts
            .iter()
            .all(|a| a["provider"] == "openai" && a["status"] == 503)
    );
    let notes = analysis["notes"].to_string();
    assert!(notes.contains("every AI provider failed"), "{notes}");
}
