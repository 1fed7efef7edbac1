//! The real `salesdesk` binary against temporary data directories: output formats and exit
//! codes (0 ok, 1 user error with a message on stderr, 2 internal).

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::{json_of, salesdesk};

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    salesdesk(dir.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("health").and(predicate::str::contains("analyses")));
}

#[test]
fn health_json_on_a_new_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = salesdesk(dir.path())
        .args(["health", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let health = json_of(&out);
    assert_eq!(health["store"]["ok"], true);
    assert_eq!(health["store"]["message"], Value::Null);
    assert_eq!(health["counts"]["call_analyses"], 0);
    assert!(health["schema_version"].as_i64().unwrap() >= 1);
    assert_eq!(
        health["data_dir"].as_str().unwrap(),
        dir.path().to_str().unwrap()
    );
    assert!(
        health["store_path"]
            .as_str()
            .unwrap()
            .ends_with("salesdesk.sqlite3")
    );
    assert!(dir.path().join("salesdesk.sqlite3").exists());
}

#[test]
fn health_text_says_ok() {
    let dir = tempfile::tempdir().unwrap();
    salesdesk(dir.path())
        .arg("health")
        .assert()
        .success()
        .stdout(predicate::str::contains("store status    OK"));
}

#[test]
fn analyses_list_json_is_an_empty_array_on_a_new_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = salesdesk(dir.path())
        .args(["analyses", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out), Value::Array(vec![]));
    salesdesk(dir.path())
        .args(["analyses", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("No analyses yet."));
}

#[test]
fn data_dir_flag_overrides_the_environment() {
    let env_dir = tempfile::tempdir().unwrap();
    let flag_dir = tempfile::tempdir().unwrap();
    salesdesk(env_dir.path())
        .args([
            "--data-dir",
            flag_dir.path().to_str().unwrap(),
            "health",
            "--json",
        ])
        .assert()
        .success();
    assert!(flag_dir.path().join("salesdesk.sqlite3").exists());
    assert!(!env_dir.path().join("salesdesk.sqlite3").exists());
}

#[test]
fn bad_arguments_exit_1_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--no-such-flag"],
        vec!["frobnicate"],
        vec!["analyses", "show"],
        vec!["analyses", "list", "--json", "extra"],
    ] {
        salesdesk(dir.path())
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("error:"));
    }
}

#[test]
fn unknown_and_malformed_ids_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    salesdesk(dir.path())
        .args(["analyses", "show", "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("no analysis with id"));
    salesdesk(dir.path())
        .args(["analyses", "show", "not-an-id", "--json"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("not a valid analysis id"));
    salesdesk(dir.path())
        .args(["analyses", "delete", "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d"])
        .assert()
        .code(1);
}

#[test]
fn saved_analyses_are_listed_shown_deleted_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let saved = rt.block_on(async {
        let core = salesdesk_core::Salesdesk::open(salesdesk_core::DataPaths::at(dir.path()))
            .await
            .unwrap();
        let saved = core
            .save_analysis(salesdesk_core::data::analyses::NewAnalysis {
                title: "Pricing call".into(),
                transcript: "Rep: What budget?\nCustomer: Small.".into(),
                analysis: serde_json::json!({"score": 64}),
                provider: "offline".into(),
                model: None,
            })
            .await
            .unwrap();
        core.close().await;
        saved
    });

    let out = salesdesk(dir.path())
        .args(["analyses", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let list = json_of(&out);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], saved.id.as_str());
    assert_eq!(list[0]["title"], "Pricing call");
    assert_eq!(list[0]["provider"], "offline");
    assert_eq!(list[0]["model"], Value::Null);

    let out = salesdesk(dir.path())
        .args(["analyses", "show", &saved.id, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let one = json_of(&out);
    assert_eq!(one["analysis"]["score"], 64);
    assert_eq!(one["transcript"], "Rep: What budget?\nCustomer: Small.");

    salesdesk(dir.path())
        .args(["analyses", "show", &saved.id])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Pricing call").and(predicate::str::contains("Transcript:")),
        );

    salesdesk(dir.path())
        .args(["analyses", "delete", &saved.id])
        .assert()
        .success()
        .stdout(predicate::str::contains("salesdesk analyses restore"));
    salesdesk(dir.path())
        .args(["analyses", "list", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::diff("[]\n"));
    salesdesk(dir.path())
        .args(["analyses", "restore", &saved.id])
        .assert()
        .success();
    salesdesk(dir.path())
        .args(["analyses", "show", &saved.id])
        .assert()
        .success();
}

#[test]
fn a_corrupt_store_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("salesdesk.sqlite3");
    let junk = b"not a database at all ".repeat(500);
    std::fs::write(&store, &junk).unwrap();

    let out = salesdesk(dir.path())
        .args(["health", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let health = json_of(&out);
    assert_eq!(health["store"]["ok"], false);
    assert!(
        health["store"]["message"]
            .as_str()
            .unwrap()
            .contains("not a Salesdesk database")
    );

    salesdesk(dir.path())
        .args(["analyses", "list"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("left untouched"));
    assert_eq!(std::fs::read(&store).unwrap(), junk);
}

#[test]
fn logs_go_to_a_json_lines_file_in_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    salesdesk(dir.path())
        .args(["analyses", "list"])
        .env("RUST_LOG", "debug")
        .assert()
        .success();
    let logs: Vec<_> = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let text = std::fs::read_to_string(&logs[0]).unwrap_or_default();
    // The file may be empty (nothing at info level happened), but every line is JSON.
    for line in text.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}
