//! The team session in a real Secret Service: gnome-keyring in a private D-Bus session
//! (`dbus-run-session`) with a throwaway HOME, as in `secrets_keyring.rs`. Sign in through the
//! Supabase Auth fake, "restart" (a new manager reading the keyring), use the saved session,
//! sign out, and the entry is gone. Skipped, saying why, when gnome-keyring is not installed.

use std::sync::Arc;

use salesdesk_core::ai::SystemClock;
use salesdesk_core::auth::{
    AuthClient, KeyringVault, SessionManager, SessionStore, SessionVault, SignOutScope,
    VerifyToken, VerifyType,
};
use salesdesk_core::secrets::SecretString;
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
use salesdesk_testkit::keyring::rerun_in_private_keyring;

const CHILD_ENV: &str = "SALESDESK_AUTH_KEYRING_CHILD";
const TEST_NAME: &str = "session_survives_a_restart_in_a_real_keyring";

#[test]
fn session_survives_a_restart_in_a_real_keyring() {
    if std::env::var(CHILD_ENV).is_ok() {
        return child();
    }
    rerun_in_private_keyring(TEST_NAME, CHILD_ENV, "auth keyring child ok");
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
