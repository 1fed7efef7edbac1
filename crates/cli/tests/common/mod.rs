//! Helpers shared by the CLI's integration tests: the real `salesdesk` binary run
//! hermetically, its JSON output parsed, and the check that decides whether a keyring test
//! can run here.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// Settings a developer may have exported that would change what the binary does: the AI
/// providers, the team project and the log filter. Tests that want one set it afterwards.
const AMBIENT_ENV: &[&str] = &[
    "RUST_LOG",
    "GEMINI_API_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "SALESDESK_AI_PROVIDERS",
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
];

/// `salesdesk` with its data in `data` (through `SALESDESK_DATA_DIR`, so a test can still
/// pass `--data-dir` to check that the flag wins) and none of [`AMBIENT_ENV`].
pub fn salesdesk(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("salesdesk").unwrap();
    cmd.env("SALESDESK_DATA_DIR", data);
    for name in AMBIENT_ENV {
        cmd.env_remove(name);
    }
    cmd
}

/// Parses the binary's stdout, showing it when it is not JSON.
pub fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// Whether `bin` is on PATH (keyring tests need dbus-run-session and gnome-keyring-daemon).
pub fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(bin).is_file()))
        .unwrap_or(false)
}

/// Saves, in the keyring this process sees (a private one: run inside
/// `salesdesk_testkit::keyring::rerun_in_private_keyring`), the session `salesdesk auth signin`
/// would save for a new user, with an access token signed with `jwt_secret` for an hour.
/// Returns the user's id and the access token (to check it is never printed).
pub fn save_session(jwt_secret: &str, email: &str) -> (uuid::Uuid, String) {
    use salesdesk_core::auth::{Session, SessionStore, SessionUser};
    use salesdesk_core::secrets::SecretString;
    use salesdesk_testkit::supabase::{Claims, mint_token, unix_now};

    let user = uuid::Uuid::new_v4();
    let mut claims = Claims::for_session(user, uuid::Uuid::new_v4(), email);
    claims.exp = unix_now() + 3600;
    let token = mint_token(jwt_secret, &claims);
    let session = Session {
        access_token: SecretString::new(token.clone()),
        refresh_token: SecretString::new("test-refresh-token-not-real"),
        expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
        user: SessionUser {
            id: user.to_string(),
            email: Some(email.into()),
            role: Some("authenticated".into()),
            email_confirmed_at: None,
        },
    };
    // The keyring's D-Bus calls block: keep them off any async runtime's threads.
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(SessionStore::keyring().save(&session))
            .expect("save the session")
    })
    .join()
    .expect("keyring thread");
    (user, token)
}

/// `salesdesk ARGS` with its data in `data`, which must succeed; its stdout as JSON.
pub fn json_ok(data: &Path, args: &[&str]) -> Value {
    let out = salesdesk(data)
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out)
}
