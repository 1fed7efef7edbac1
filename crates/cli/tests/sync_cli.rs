//! `salesdesk sync` end to end, as a user would run it: `salesdesk analyze` saves an analysis
//! (through the real write path, so it is queued in the outbox), `salesdesk auth signin` saves
//! the session in a real Secret Service (gnome-keyring in a private D-Bus session, throwaway
//! HOME), `salesdesk sync --json` pushes it to the test cluster, and `salesdesk health --json`
//! shows the sync section. Skipped, saying why, when gnome-keyring is not installed.

use std::process::Command;

use salesdesk_core::ai::SystemClock;
use salesdesk_core::auth::AuthClient;
use salesdesk_core::secrets::SecretString;
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
use salesdesk_testkit::supabase::TestDb;
use serde_json::Value;

mod common;
use common::on_path;

const ANON: &str = "cli-sync-anon-key";
const PASSWORD: &str = "a good long password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_pushes_an_analysis_saved_offline_and_health_shows_the_sync_state() {
    if !on_path("gnome-keyring-daemon") || !on_path("dbus-run-session") {
        println!(
            "SKIPPED: gnome-keyring-daemon or dbus-run-session is not installed (apt-get install gnome-keyring dbus-daemon)"
        );
        return;
    }
    let db = TestDb::new().await.unwrap();
    let fake = SupabaseAuthFake::with_db(ANON, db.jwt_secret(), db.admin.clone()).await;
    fake.set_confirm_email(false);
    let client = AuthClient::new(
        &fake.project_url(),
        SecretString::new(ANON),
        std::sync::Arc::new(SystemClock::default()),
    )
    .unwrap();
    client
        .sign_up("cli-sync@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();

    let home = tempfile::tempdir().unwrap();
    let transcript = home.path().join("call.txt");
    std::fs::write(
        &transcript,
        "Rep: Hi, thanks for taking the call.\nClient: Sure. What does it cost?\n\
         Rep: It depends on the team size. How many reps do you have?\nClient: Twelve.\n",
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("salesdesk");
    // One shell in a private D-Bus session: unlock a fresh keyring, then the four commands.
    let script = "echo -n salesdesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
         \"$0\" analyze \"$1\" --title 'Offline call' >/dev/null && \
         \"$0\" auth signin --email cli-sync@example.test >/dev/null && \
         echo SYNC && \"$0\" sync --json && echo HEALTH && \"$0\" health --json";
    let data = home.path().join("data");
    let out = tokio::task::spawn_blocking({
        let home = home.path().to_owned();
        let url = fake.project_url();
        let db_url = db.app_url();
        move || {
            Command::new("dbus-run-session")
                .args(["--", "sh", "-c", script])
                .arg(bin)
                .arg(&transcript)
                .env("HOME", &home)
                .env("XDG_DATA_HOME", home.join("share"))
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_CACHE_HOME", home.join("cache"))
                .env("SALESDESK_DATA_DIR", &data)
                .env("SUPABASE_URL", url)
                .env("SUPABASE_ANON_KEY", ANON)
                .env("SALESDESK_DATABASE_URL", db_url)
                .env("SALESDESK_PASSWORD", PASSWORD)
                .env_remove("GEMINI_API_KEY")
                .env_remove("OPENAI_API_KEY")
                .env_remove("ANTHROPIC_API_KEY")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));

    let sync_json = stdout
        .split("SYNC\n")
        .nth(1)
        .and_then(|s| s.split("HEALTH\n").next())
        .unwrap();
    let report: Value = serde_json::from_str(sync_json).unwrap();
    assert_eq!(report["pushed"], 1, "{report}");
    assert_eq!(report["status"]["queued"], 0);
    assert_eq!(report["status"]["state"], "idle");

    let health: Value = serde_json::from_str(stdout.split("HEALTH\n").nth(1).unwrap()).unwrap();
    assert_eq!(health["sync"]["state"], "idle", "{health}");
    assert_eq!(health["sync"]["queued"], 0);
    assert!(health["sync"]["last_push_at"].is_string());

    let titles: Vec<String> = sqlx::query_scalar("select title from app.call_analyses")
        .fetch_all(&db.admin)
        .await
        .unwrap();
    assert_eq!(titles, ["Offline call"]);
}

#[test]
fn sync_without_a_database_url_says_what_to_set() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("salesdesk"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["sync"])
        .env("SUPABASE_URL", "http://127.0.0.1:9")
        .env("SUPABASE_ANON_KEY", ANON)
        .env_remove("SALESDESK_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--database-url"));
}

#[test]
fn sync_with_a_malformed_database_url_fails_clearly_and_keeps_the_password_out() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("salesdesk"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["sync"])
        .env("SUPABASE_URL", "http://127.0.0.1:9")
        .env("SUPABASE_ANON_KEY", ANON)
        .env(
            "SALESDESK_DATABASE_URL",
            "mysql://app:hunter2secret@db.example.test/x",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("postgres://"), "{stderr}");
    assert!(!stderr.contains("hunter2secret"));
}
