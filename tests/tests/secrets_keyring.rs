//! The keyring store against a real Secret Service: gnome-keyring in a private D-Bus session
//! (`dbus-run-session`), with a throwaway HOME so the user's keyring is never touched.
//!
//! The test re-runs this test binary inside the private session (the keyring crate binds to
//! the session bus once per process). It is skipped, saying why, only when the
//! `gnome-keyring-daemon` binary is missing.

use std::process::Command;

use salesdesk_core::ai::ProviderId;
use salesdesk_core::secrets::{KeySource, KeyringKeys, Keys, SecretString, SecretsError};

const CHILD_ENV: &str = "SALESDESK_KEYRING_CHILD";
const TEST_NAME: &str = "keyring_round_trip_with_a_real_secret_service";

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(bin).is_file()))
        .unwrap_or(false)
}

fn rerun_self(mode: &str, shell_prefix: &str, extra_env: &[(&str, &str)]) -> std::process::Output {
    let home = tempfile::tempdir().expect("temp home");
    let exe = std::env::current_exe().expect("test binary");
    let script =
        format!("{shell_prefix}exec \"$0\" --exact {TEST_NAME} --nocapture --test-threads=1");
    let mut cmd = if mode == "keyring" {
        let mut c = Command::new("dbus-run-session");
        c.arg("--").arg("sh");
        c
    } else {
        Command::new("sh")
    };
    cmd.arg("-c")
        .arg(script)
        .arg(exe)
        .env(CHILD_ENV, mode)
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"));
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the test binary again")
}

#[test]
fn keyring_round_trip_with_a_real_secret_service() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("keyring") => return child_round_trip(),
        Ok("nobus") => return child_no_bus(),
        _ => {}
    }
    // Without a session bus the error says so, whatever is installed.
    let out = rerun_self(
        "nobus",
        "",
        &[(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/salesdesk-bus",
        )],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("nobus child ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    if !on_path("gnome-keyring-daemon") {
        println!(
            "SKIPPED the Secret Service round trip: the gnome-keyring-daemon binary is not installed (apt-get install gnome-keyring dbus-daemon)"
        );
        return;
    }
    assert!(
        on_path("dbus-run-session"),
        "gnome-keyring is installed but dbus-run-session is not: install dbus-daemon"
    );
    let out = rerun_self(
        "keyring",
        "echo -n salesdesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && ",
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("keyring child ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn child_round_trip() {
    runtime().block_on(async {
        let store = KeyringKeys::with_service(format!("salesdesk-test-{}", std::process::id()));
        let p = ProviderId::Anthropic;
        assert!(store.get(p).await.expect("get").is_none());
        store
            .set(p, SecretString::new("sk-ant-first"))
            .await
            .expect("set");
        assert_eq!(
            store.get(p).await.expect("get").expect("set").expose(),
            "sk-ant-first"
        );
        store
            .set(p, SecretString::new("sk-ant-second"))
            .await
            .expect("replace");
        assert_eq!(
            store.get(p).await.expect("get").expect("set").expose(),
            "sk-ant-second"
        );
        assert!(
            store.get(ProviderId::Gemini).await.expect("get").is_none(),
            "entries are per provider"
        );

        let keys = Keys::single(std::sync::Arc::new(store.clone()));
        let status = keys.status(p).await.expect("status");
        assert!(status.set);
        assert_eq!(status.source.as_deref(), Some("keyring"));
        let json = serde_json::to_string(&status).expect("json");
        assert!(!json.contains("sk-ant"), "status never carries the key");

        store.delete(p).await.expect("delete");
        assert!(store.get(p).await.expect("get").is_none());
        store
            .delete(p)
            .await
            .expect("deleting a missing key is fine");
    });
    println!("keyring child ok");
}

fn child_no_bus() {
    runtime().block_on(async {
        let err = KeyringKeys::with_service("salesdesk-test-nobus")
            .get(ProviderId::OpenAi)
            .await
            .expect_err("no session bus");
        assert!(matches!(err, SecretsError::NoDefaultStore), "{err:?}");
        assert!(
            err.to_string().contains("environment variable"),
            "the message says what to do"
        );
    });
    println!("nobus child ok");
}
