//! `salesdesk materials` as a user runs it: local mode in a temporary data directory (several
//! files in one run, search, get, delete/restore, and every refusal with nothing recorded),
//! and team mode against the Supabase Storage fake with a session saved in a real keyring
//! (gnome-keyring in a private D-Bus session, as in auth_keyring.rs; skipped, saying why, when
//! it is not installed).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{json_of, json_ok, salesdesk, save_session};
use salesdesk_testkit::keyring::rerun_in_private_keyring;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn list(data: &Path, args: &[&str]) -> Vec<Value> {
    let args = [&["materials", "list", "--json"], args].concat();
    json_ok(data, &args).as_array().unwrap().clone()
}

#[test]
fn local_add_several_list_search_get_delete_restore() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let deck = write(dir.path(), "Objection handling.pdf", b"%PDF-1.7\nslides\n");
    let notes = write(
        dir.path(),
        "call notes.txt",
        b"Ask about the budget first.\n",
    );
    let out = salesdesk(&data)
        .args(["materials", "add", "--tag", "Onboarding", "--tag", "Q3"])
        .args(["--description", "Read before your first call", "--json"])
        .arg(&deck)
        .arg(&notes)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let added = json_of(&out);
    assert_eq!(added.as_array().unwrap().len(), 2);
    assert!(added.as_array().unwrap().iter().all(|a| a["ok"] == true));
    assert_eq!(added[0]["material"]["title"], "Objection handling");
    assert_eq!(added[0]["material"]["mime_type"], "application/pdf");

    let all = list(&data, &[]);
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|e| e["file_state"] == "stored"));
    let found = list(&data, &["--search", "OBJECTION"]);
    assert_eq!(found.len(), 1);
    assert_eq!(list(&data, &["--tag", "q3"]).len(), 2);
    assert_eq!(list(&data, &["--type", "document"]).len(), 1);
    let id = found[0]["material"]["id"].as_str().unwrap().to_owned();

    let dest = dir.path().join("copy.pdf");
    salesdesk(&data)
        .args(["materials", "get", &id, "-o"])
        .arg(&dest)
        .assert()
        .success();
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&deck).unwrap());
    // Without -o: its file name, in the current folder.
    salesdesk(&data)
        .current_dir(dir.path())
        .args(["materials", "get", &id])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(dir.path().join("Objection_handling.pdf")).unwrap(),
        std::fs::read(&deck).unwrap()
    );

    salesdesk(&data)
        .args(["materials", "delete", &id])
        .assert()
        .success();
    assert_eq!(list(&data, &[]).len(), 1);
    assert_eq!(list(&data, &["--deleted"]).len(), 1);
    salesdesk(&data)
        .args(["materials", "restore", &id])
        .assert()
        .success();
    assert_eq!(list(&data, &[]).len(), 2);
}

#[test]
fn local_refusals_say_why_and_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    let cases: Vec<(PathBuf, &str)> = vec![
        (write(dir.path(), "empty.pdf", b""), "is empty"),
        (
            write(dir.path(), "deck.pdf", &png),
            "does not contain what its extension says",
        ),
        (write(dir.path(), "CON.txt", b"x"), "cannot be used"),
        (write(dir.path(), "bell\u{7}.txt", b"x"), "cannot be used"),
        (write(dir.path(), "trailing.", b"x"), "cannot be used"),
        (write(dir.path(), "..pdf", b"%PDF-1.7"), "cannot be used"),
        (dir.path().join("missing.pdf"), "missing.pdf"),
    ];
    for (file, expected) in &cases {
        let out = salesdesk(&data)
            .args(["materials", "add"])
            .arg(file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file:?}: {stderr}");
        assert!(stderr.contains(expected), "{file:?}: {stderr}");
    }
    // Bad metadata is refused before any file is looked at.
    let ok = write(dir.path(), "ok.txt", b"fine");
    for (args, expected) in [
        (vec!["--title", "   "], "needs a title"),
        (vec!["--tag", ""], "tag cannot be empty"),
        (vec!["--title", &"t".repeat(501)], "keep it to 500"),
    ] {
        let out = salesdesk(&data)
            .args(["materials", "add"])
            .args(&args)
            .arg(&ok)
            .assert()
            .code(1)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let out = salesdesk(&data)
        .args(["materials", "add", "--title", "One"])
        .arg(&ok)
        .arg(&ok)
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("one at a time"));
    assert!(list(&data, &[]).is_empty());
    salesdesk(&data)
        .args(["materials", "resume", "--json"])
        .assert()
        .success()
        .stdout(predicates::str::contains("[]"));
    // A mixed batch: the good file is added, the bad one reported, exit 1.
    let out = salesdesk(&data)
        .args(["materials", "add"])
        .arg(&ok)
        .arg(&cases[0].0)
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stdout).contains("added"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2"));
    assert_eq!(list(&data, &[]).len(), 1);
    salesdesk(&data)
        .args(["materials", "get", "not-an-id"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not a valid material id"));
    salesdesk(&data)
        .args(["materials", "get", "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no training material"));
}

const CHILD_ENV: &str = "SALESDESK_MATERIALS_CLI_CHILD";
const TEAM_TEST: &str = "team_mode_uploads_to_storage_with_the_saved_session";
const SECRET: &str = "materials-cli-storage-jwt-secret-32-chars";

#[test]
fn team_mode_uploads_to_storage_with_the_saved_session() {
    if std::env::var(CHILD_ENV).is_ok() {
        return team_child();
    }
    rerun_in_private_keyring(TEAM_TEST, CHILD_ENV, "materials cli team child ok");
}

fn team_child() {
    use salesdesk_testkit::fakes::supabase_storage::StorageFake;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let fake = StorageFake::start(SECRET).await;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let deck = write(dir.path(), "Team deck.pdf", &{
            let mut b = b"%PDF-1.7\n".to_vec();
            b.extend((0..7 * 1024 * 1024u32).map(|i| (i % 251) as u8));
            b
        });
        let run = |args: Vec<String>| {
            let data = data.clone();
            let origin = fake.origin();
            tokio::task::spawn_blocking(move || {
                Command::cargo_bin("salesdesk")
                    .unwrap()
                    .env("SALESDESK_DATA_DIR", &data)
                    .env("SUPABASE_URL", origin)
                    .env("SUPABASE_ANON_KEY", "test-anon-key-not-real")
                    .env("NO_PROXY", "127.0.0.1")
                    .args(args)
                    .output()
                    .unwrap()
            })
        };
        let add = || {
            vec![
                "materials".to_string(),
                "add".into(),
                "--json".into(),
                deck.display().to_string(),
            ]
        };

        // Not signed in: a clear error, nothing recorded.
        let out = run(add()).await.unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("salesdesk auth signin"));

        // A session as `salesdesk auth signin` saves it, for a user the fake treats as admin.
        let (user, token) = save_session(SECRET, "admin@example.com");

        // A rep (not admin in the bucket's policy) is refused; nothing recorded.
        let out = run(add()).await.unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let result = json_of(&out.stdout);
        assert_eq!(result[0]["ok"], false);
        assert!(
            result[0]["error"]
                .as_str()
                .unwrap()
                .contains("role does not allow"),
            "{result}"
        );

        fake.add_admin(&user.to_string());
        let out = run(add()).await.unwrap();
        assert!(out.status.success(), "{out:?}");
        let result = json_of(&out.stdout);
        let m = &result[0]["material"];
        let key = m["file_path"].as_str().unwrap();
        assert!(key.starts_with(m["id"].as_str().unwrap()));
        assert!(key.ends_with("/Team_deck.pdf"));
        let (size, _) = fake
            .object_digest("training-materials", key)
            .expect("object stored");
        assert_eq!(size, std::fs::metadata(&deck).unwrap().len());
        // Over 6 MB: the resumable path.
        assert!(fake.count("PATCH", "/upload/resumable") >= 2);
        // Nothing secret on the terminal.
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(&token));

        let id = m["id"].as_str().unwrap().to_owned();
        let dest = dir.path().join("back.pdf");
        let out = run(vec![
            "materials".into(),
            "get".into(),
            id,
            "-o".into(),
            dest.display().to_string(),
        ])
        .await
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&deck).unwrap());

        let out = run(vec!["materials".into(), "list".into(), "--json".into()])
            .await
            .unwrap();
        let listed = json_of(&out.stdout);
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(listed[0]["file_state"], "cached");
        println!("materials cli team child ok");
    });
}

#[test]
fn local_pins_show_in_the_list_and_sync_files_has_nothing_to_move() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let deck = write(dir.path(), "Discovery.pdf", b"%PDF-1.7\nquestions\n");
    salesdesk(&data)
        .args(["materials", "add"])
        .arg(&deck)
        .assert()
        .success();
    let id = list(&data, &[])[0]["material"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = salesdesk(&data)
        .args(["materials", "pin", &id])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8_lossy(&out).contains("(stored)"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let out = salesdesk(&data)
        .args(["materials", "list"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8_lossy(&out).contains("(stored, pinned)"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let report = salesdesk(&data)
        .args(["materials", "sync-files", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&report);
    assert_eq!(report["done"], serde_json::json!([]));
    assert_eq!(report["failed"], serde_json::json!([]));
    salesdesk(&data)
        .args(["materials", "unpin", &id])
        .assert()
        .success();
    assert_eq!(list(&data, &[])[0]["pinned"], false);
    // A malformed id is refused with the reason.
    salesdesk(&data)
        .args(["materials", "pin", "../../etc"])
        .assert()
        .failure();
}
