//! Running a test inside a private Secret Service: gnome-keyring unlocked in its own D-Bus
//! session with a throwaway HOME, so the user's keyring is never touched.
//!
//! The test binary re-runs itself (one test) inside `dbus-run-session`, because the keyring
//! crate binds to the session bus once per process.

use std::process::Command;

/// Whether `bin` is on PATH.
pub fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(bin).is_file()))
        .unwrap_or(false)
}

/// Re-runs the test `test_name` of this test binary with `child_env=1` inside a private,
/// unlocked gnome-keyring, and asserts that it succeeded and printed `ok_marker`. Prints why
/// and returns when gnome-keyring or dbus-run-session is not installed.
pub fn rerun_in_private_keyring(test_name: &str, child_env: &str, ok_marker: &str) {
    if !on_path("gnome-keyring-daemon") || !on_path("dbus-run-session") {
        println!(
            "SKIPPED: gnome-keyring-daemon or dbus-run-session is not installed (apt-get install gnome-keyring dbus-daemon)"
        );
        return;
    }
    let home = tempfile::tempdir().expect("temp home");
    let exe = std::env::current_exe().expect("test binary");
    let script = format!(
        "echo -n salesdesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
         exec \"$0\" --exact {test_name} --nocapture --test-threads=1"
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .arg(exe)
        .env(child_env, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .output()
        .expect("run the test binary again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(ok_marker),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
