//! `salesdesk import` on the sample export in tests/fixtures: counts, skipped entries with
//! reasons, idempotent re-import, and malformed files refused with nothing written.

use predicates::prelude::*;
use serde_json::Value;

mod common;
use common::salesdesk;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/browser-export-v1.json"
);

fn import_json(data: &std::path::Path, file: &str) -> Value {
    let out = salesdesk(data)
        .args(["import", file, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn section<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section"] == name)
        .unwrap()
}

fn counts(report: &Value, name: &str) -> [u64; 4] {
    let s = section(report, name);
    ["added", "updated", "unchanged", "skipped"].map(|k| s[k].as_u64().unwrap())
}

#[test]
fn imports_the_sample_export_then_changes_nothing_on_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let first = import_json(dir.path(), FIXTURE);
    assert_eq!(first["format_version"], 1);
    assert_eq!(counts(&first, "clients"), [2, 0, 0, 2]);
    assert_eq!(counts(&first, "campaigns"), [2, 0, 0, 0]);
    assert_eq!(counts(&first, "signups"), [2, 0, 0, 1]);
    assert_eq!(counts(&first, "analyses"), [2, 0, 0, 1]);
    assert_eq!(counts(&first, "training_materials"), [1, 0, 0, 1]);
    let reasons: Vec<String> = first["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} {} {}", s["section"], s["index"], s["reason"]))
        .collect();
    let has = |section: &str, index: u32, text: &str| {
        reasons
            .iter()
            .any(|r| r.starts_with(&format!("\"{section}\" {index} ")) && r.contains(text))
    };
    assert!(has("clients", 2, "not an email address"), "{reasons:?}");
    assert!(has("clients", 3, "not an object"), "{reasons:?}");
    assert!(
        has("signups", 2, "'c-9999' is not in this export"),
        "{reasons:?}"
    );
    assert!(has("analyses", 2, "transcript"), "{reasons:?}");
    assert!(has("training_materials", 1, "needs a title"), "{reasons:?}");

    // The imported analysis keeps the old app's judgement, with metrics computed here.
    let list: Value = serde_json::from_slice(
        &salesdesk(dir.path())
            .args(["analyses", "list", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let acme = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Discovery call with Acme")
        .unwrap();
    assert_eq!(acme["score"], 78);
    assert_eq!(acme["provider"], "browser-app");
    let shown: Value = serde_json::from_slice(
        &salesdesk(dir.path())
            .args(["analyses", "show", acme["id"].as_str().unwrap(), "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(shown["analysis"]["schema_version"], 1);
    assert_eq!(
        shown["analysis"]["next_steps"][0],
        "Demo with the ops lead on Tuesday"
    );
    assert!(shown["analysis"]["metrics"]["rep_talk_share"].is_number());
    assert_eq!(shown["created_at"], "2026-03-02T10:15:00.000Z");

    let second = import_json(dir.path(), FIXTURE);
    for name in [
        "clients",
        "campaigns",
        "signups",
        "analyses",
        "training_materials",
    ] {
        let [added, updated, unchanged, _] = counts(&second, name);
        assert_eq!((added, updated), (0, 0), "{name} changed on re-import");
        assert_eq!(unchanged, counts(&first, name)[0], "{name}");
    }
    assert_eq!(second["skipped"], first["skipped"]);

    // A human-readable report too.
    salesdesk(dir.path())
        .args(["import", FIXTURE])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("clients").and(predicate::str::contains("Skipped entries")),
        );
}

#[test]
fn malformed_files_are_refused_with_a_clear_error_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    import_json(dir.path(), FIXTURE);
    let before = salesdesk(dir.path())
        .args(["analyses", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();

    let files = tempfile::tempdir().unwrap();
    let cases = [
        (
            "not-json.json",
            "{\"version\": 1, \"clients\": [",
            "not valid JSON",
        ),
        ("array.json", "[1, 2, 3]", "not a Salesdesk browser export"),
        (
            "no-version.json",
            "{\"clients\": []}",
            "no \"version\" field",
        ),
        (
            "future.json",
            "{\"version\": 2, \"clients\": []}",
            "version 2",
        ),
        (
            "bad-section.json",
            "{\"version\": 1, \"clients\": {}}",
            "\"clients\" is not a list",
        ),
    ];
    for (name, body, expect) in cases {
        let path = files.path().join(name);
        std::fs::write(&path, body).unwrap();
        salesdesk(dir.path())
            .args(["import", path.to_str().unwrap()])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(expect));
    }
    salesdesk(dir.path())
        .args([
            "import",
            files.path().join("missing.json").to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read"));

    let after = salesdesk(dir.path())
        .args(["analyses", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(before, after);
}
