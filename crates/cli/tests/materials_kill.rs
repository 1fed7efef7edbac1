//! `salesdesk materials add` killed with SIGKILL in the middle of a resumable upload, then
//! `salesdesk materials resume`: the upload goes on from the server's offset (no new upload,
//! bytes the server kept not sent again), the object is whole, and the material is recorded
//! once.
//! Runs in a private D-Bus session with gnome-keyring, where the saved session lives.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{json_of, salesdesk, save_session};
use salesdesk_testkit::fakes::supabase_storage::{On, StorageFake, StorageFault};
use salesdesk_testkit::keyring::rerun_in_private_keyring;
use sha2::Digest as _;

const CHILD_ENV: &str = "SALESDESK_MATERIALS_KILL_CHILD";
const TEST: &str = "an_add_killed_mid_upload_resumes_from_the_servers_offset";
const SECRET: &str = "materials-kill-storage-jwt-secret-32-chars";
const CHUNK: u64 = 6 * 1024 * 1024;

#[test]
fn an_add_killed_mid_upload_resumes_from_the_servers_offset() {
    if std::env::var(CHILD_ENV).is_ok() {
        return child();
    }
    rerun_in_private_keyring(TEST, CHILD_ENV, "materials kill child ok");
}

fn team_cli(data: &Path, fake: &StorageFake) -> assert_cmd::Command {
    let mut cmd = salesdesk(data);
    cmd.env("SUPABASE_URL", fake.origin())
        .env("SUPABASE_ANON_KEY", "test-anon-key-not-real")
        .env("NO_PROXY", "127.0.0.1");
    cmd
}

fn child() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // The fake serves from the runtime's threads while this thread drives the processes.
    let fake = runtime.block_on(StorageFake::start(SECRET));
    let (admin, _) = save_session(SECRET, "admin@example.com");
    fake.add_admin(&admin.to_string());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let src = dir.path().join("Onboarding deck.pdf");
    let size = 3 * CHUNK + 2 * 1024 * 1024;
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((bytes.len() as u64..size).map(|i| (i % 251) as u8));
    std::fs::write(&src, &bytes).unwrap();

    // The first chunk goes at full speed, the second crawls: the kill lands inside it.
    fake.fault(On::Patch, StorageFault::Latency(Duration::ZERO));
    fake.fault(On::Patch, StorageFault::Slow(Duration::from_millis(40)));
    let mut add = std::process::Command::new(assert_cmd::cargo::cargo_bin("salesdesk"));
    add.env("SALESDESK_DATA_DIR", &data)
        .env("SUPABASE_URL", fake.origin())
        .env("SUPABASE_ANON_KEY", "test-anon-key-not-real")
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("RUST_LOG")
        .args(["materials", "add", "--json", "--title", "Onboarding"])
        .arg(&src)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut process = add.spawn().expect("start salesdesk");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !fake.uploads().iter().any(|(_, offset, _)| *offset >= CHUNK) {
        assert!(Instant::now() < deadline, "the first chunk never arrived");
        assert!(
            process.try_wait().unwrap().is_none(),
            "salesdesk ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Into the slow chunk, then SIGKILL: no chance to save or clean anything.
    std::thread::sleep(Duration::from_millis(500));
    process.kill().expect("kill -9");
    process.wait().unwrap();
    // The fake notices the dropped connection on its own threads: wait until its offset holds.
    let mut uploads = fake.uploads();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = fake.uploads();
        if now == uploads {
            break;
        }
        uploads = now;
    }
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    // The first chunk, and (as the real server does) whatever of the second arrived before
    // the connection dropped.
    let kept = uploads[0].1;
    assert!((CHUNK..2 * CHUNK).contains(&kept), "{uploads:?}");
    let sent_before = fake.requests().len();

    // Nothing was recorded as a material yet: the row waits for the file.
    let out = team_cli(&data, &fake)
        .args(["materials", "list", "--json"])
        .output()
        .unwrap();
    assert!(json_of(&out.stdout).as_array().unwrap().is_empty());

    let out = team_cli(&data, &fake)
        .args(["materials", "resume", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let resumed = json_of(&out.stdout);
    assert_eq!(resumed.as_array().unwrap().len(), 1, "{resumed}");
    assert_eq!(resumed[0]["ok"], true, "{resumed}");
    let out = team_cli(&data, &fake)
        .args(["materials", "list", "--json"])
        .output()
        .unwrap();
    let listed = json_of(&out.stdout);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["material"]["title"], "Onboarding", "{listed}");
    assert_eq!(listed[0]["material"]["id"], resumed[0]["id"], "{listed}");
    let key = listed[0]["material"]["file_path"]
        .as_str()
        .unwrap_or_else(|| panic!("{listed}"))
        .to_owned();

    let (stored, digest) = fake
        .object_digest("training-materials", &key)
        .expect("object stored");
    assert_eq!(stored, size);
    let want: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, want);
    let after = &fake.requests()[sent_before..];
    assert!(
        !after.iter().any(|r| r.method == "POST"),
        "no new upload was created"
    );
    let resent: u64 = after
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.body_len)
        .sum();
    assert_eq!(
        resent,
        size - kept,
        "bytes the server kept are not sent again"
    );

    println!("materials kill child ok");
}
