//! Team settings and the team session in a real Secret Service (gnome-keyring in a private
//! D-Bus session, as in `auth_keyring.rs`): the database password lands in the keyring and
//! nowhere in the data directory, survives a restart, and is removed on request; a sign-in
//! through the handle survives a restart. Skipped, saying why, without gnome-keyring.

use std::sync::Arc;

use salesdesk_core::auth::{KeyringVault, SessionVault};
use salesdesk_core::secrets::SecretString;
use salesdesk_core::team::setup::{DATABASE_PASSWORD_ENTRY, KeyringSlot};
use salesdesk_core::team::{TeamSettingsInput, TeamSetup};
use salesdesk_core::{DataPaths, Salesdesk};
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
use salesdesk_testkit::keyring::rerun_in_private_keyring;

const CHILD_ENV: &str = "SALESDESK_TEAM_KEYRING_CHILD";
const TEST_NAME: &str = "team_settings_and_session_live_in_a_real_keyring";
const DB_PASSWORD: &str = "test-db-password-not-real";

#[test]
fn team_settings_and_session_live_in_a_real_keyring() {
    if std::env::var(CHILD_ENV).is_ok() {
        return child();
    }
    rerun_in_private_keyring(TEST_NAME, CHILD_ENV, "team keyring child ok");
}

fn contains(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        e.path().is_file()
            && std::fs::read(e.path())
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
    })
}

fn child() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let fake = SupabaseAuthFake::start(
            "test-anon-key-not-real",
            "keyring-test-secret-of-32-characters",
        )
        .await;
        fake.set_confirm_email(false);
        let service = format!("salesdesk-team-test-{}", std::process::id());
        let slot = Arc::new(KeyringSlot::new(&service, DATABASE_PASSWORD_ENTRY));
        let setup =
            || TeamSetup::with_vaults(Arc::new(KeyringVault::with_service(&service)), slot.clone());
        let data = tempfile::tempdir().expect("data dir");
        let open = || async {
            Salesdesk::open(DataPaths::at(data.path()))
                .await
                .expect("open")
                .with_team(setup())
        };

        let core = open().await;
        let view = core
            .save_team_settings(TeamSettingsInput {
                supabase_url: Some(fake.project_url()),
                anon_key: Some("test-anon-key-not-real".into()),
                database_url: Some("postgres://salesdesk_app@db.example.test:6543/postgres".into()),
                database_password: Some(DB_PASSWORD.into()),
            })
            .await
            .expect("save");
        assert!(view.database_password_set);
        assert_eq!(
            slot.load().await.expect("keyring").expect("entry").expose(),
            DB_PASSWORD
        );
        core.sign_up(
            "kr-team@example.com",
            &SecretString::new("a long keyring password"),
        )
        .await
        .expect("sign up");
        core.close().await;
        assert!(
            !contains(data.path(), DB_PASSWORD),
            "password in the data directory"
        );

        // Restart: settings, password and session come back from the store and the keyring.
        let core = open().await;
        assert!(
            core.team_settings()
                .await
                .expect("view")
                .database_password_set
        );
        let url = core.team_database_url().await.expect("url").expect("set");
        assert!(url.expose().contains(DB_PASSWORD));
        let status = core.account_status().await.expect("status");
        assert!(status.signed_in, "{status:?}");
        assert_eq!(status.email.as_deref(), Some("kr-team@example.com"));
        core.access_token().await.expect("token");

        core.sign_out(false).await.expect("sign out");
        core.save_team_settings(TeamSettingsInput {
            supabase_url: Some(fake.project_url()),
            anon_key: Some("test-anon-key-not-real".into()),
            database_url: Some("postgres://salesdesk_app@db.example.test:6543/postgres".into()),
            database_password: Some(String::new()),
        })
        .await
        .expect("remove password");
        assert!(slot.load().await.expect("keyring").is_none());
        assert!(!core.account_status().await.expect("status").signed_in);
        core.close().await;
        println!("team keyring child ok");
    });
}
