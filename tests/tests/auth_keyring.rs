//! The team session in a real Secret Service: gnome-keyring in a private D-Bus session
//! (`dbus-run-session`) with a throwaway HOME, as in `secrets_keyring.rs`. Sign in through the
//! Supabase Auth fake, "restart" (a new manager reading the keyring), use the saved session,
//! sign out, and the entry is gone. Skipped, saying why, when gnome-keyring is not installed.

use std::process::Command;
use std::sync::Arc;

use salesdesk_core::ai::SystemClock;
use salesdesk_core::auth::{
    AuthClient, KeyringVault, SessionManager, SessionStore, SessionVault, SignOutScope,
    VerifyToken, VerifyType,
};
use salesdesk_core::secrets::SecretString;
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;

const CHILD_ENV: &str = "SALESDESK_AUTH_KEYRING_CHILD";
const TEST_NAME: &str = "session_survives_a_restart_in_a_real_keyring";

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(bin).is_file()))
        .unwrap_or(false)
}

#[test]
fn session_survives_a_restart_in_a_real_keyring() {
    if std::env::var(CHILD_ENV).is_ok() {
        return child();
    }
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
         exec \"$0\" --exact {TEST_NAME} --nocapture --test-threads=1"
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .arg(exe)
        .env(CHILD_ENV, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .output()
        .expect("run the test binary again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("auth keyring child ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn child() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let fake = SupabaseAuthFake::start("anon", "keyring-test-secret-of-32-characters").await;
        let service = format!("salesdesk-auth-test-{}", std::process::id());
        let client = || {
            AuthClient::new(
                &fake.project_url(),
                SecretString::new("anon"),
                Arc::new(SystemClock::default()),
            )
            .expect("client")
        };
        let password = SecretString::new("keyring password");
        client()
            .sign_up("kr@example.com", &password)
            .await
            .expect("sign up");
        let mail = fake.last_email("kr@example.com", "signup").await.unwrap();
        let manager = SessionManager::new(
            client(),
            SessionStore::new(Arc::new(KeyringVault::with_service(&service))),
        );
        manager
            .verify(
                VerifyType::Signup,
                &VerifyToken::TokenHash(SecretString::new(mail.token_hash)),
            )
            .await
            .expect("verify and save");

        let vault = Arc::new(KeyringVault::with_service(&service));
        let restarted = SessionManager::new(client(), SessionStore::new(vault.clone()));
        let status = restarted.status().await.expect("status");
        assert!(status.signed_in);
        let token = restarted.access_token().await.expect("saved token");
        let me = client().get_user(&token).await.expect("token accepted");
        assert_eq!(me.email.as_deref(), Some("kr@example.com"));

        let report = restarted
            .sign_out(SignOutScope::Local)
            .await
            .expect("sign out");
        assert!(report.server_confirmed);
        assert!(vault.load().await.expect("load").is_none(), "entry removed");
        println!("auth keyring child ok");
    });
}
