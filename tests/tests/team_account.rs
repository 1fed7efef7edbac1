//! Team mode through the `Salesdesk` handle, against the Supabase Auth fake: team settings
//! (the database password only in the vault, bad input refused without losing anything),
//! sign-up to sign-out, and an offline start with a saved session that the keeper refreshes
//! once the network is back.

use std::time::Duration;

use salesdesk_core::ErrorKind;
use salesdesk_core::data::analyses::NewAnalysis;
use salesdesk_core::secrets::SecretString;
use salesdesk_core::team::{TeamSettingsInput, VerifyInput, VerifyKind};
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::team::{ClockedDevice, Patience};

const ANON: &str = "test-anon-key-not-real";
const SECRET: &str = "fake-auth-jwt-secret-at-least-32-characters";
const PASSWORD: &str = "correct horse battery";
const DB_PASSWORD: &str = "test-db-password-not-real";

fn settings_for(fake: &SupabaseAuthFake) -> TeamSettingsInput {
    TeamSettingsInput {
        supabase_url: Some(fake.project_url()),
        anon_key: Some(ANON.into()),
        database_url: None,
        database_password: None,
    }
}

fn files_contain(dir: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        e.path().is_file()
            && std::fs::read(e.path())
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
    })
}

#[tokio::test]
async fn settings_keep_the_database_password_out_of_the_store_and_refuse_bad_input() {
    let env = IsolatedEnv::new();
    let device = ClockedDevice::new();
    let core = device.open(&env).await;

    let fresh = core.team_settings().await.unwrap();
    assert!(!fresh.configured && fresh.supabase_url.is_none());
    assert!(!core.account_status().await.unwrap().configured);

    let saved = core
        .save_team_settings(TeamSettingsInput {
            supabase_url: Some(" https://project-ref.supabase.co/ ".into()),
            anon_key: Some(ANON.into()),
            database_url: Some(format!(
                "postgres://salesdesk_app:{DB_PASSWORD}@db.example.test:6543/postgres"
            )),
            database_password: None,
        })
        .await
        .unwrap();
    assert!(saved.configured && saved.database_password_set);
    assert_eq!(
        saved.supabase_url.as_deref(),
        Some("https://project-ref.supabase.co")
    );
    assert_eq!(
        saved.database_url.as_deref(),
        Some("postgres://salesdesk_app@db.example.test:6543/postgres")
    );
    assert!(!format!("{saved:?}").contains(DB_PASSWORD));
    assert!(!device.password.is_empty());
    let full = core.team_database_url().await.unwrap().unwrap();
    assert!(full.expose().contains(DB_PASSWORD));
    core.close().await;
    assert!(
        !files_contain(&env.data_dir(), DB_PASSWORD),
        "the database password reached the data directory"
    );

    // Bad input: a clear error and the saved settings untouched.
    let core = device.open(&env).await;
    for (input, expect) in [
        (
            TeamSettingsInput {
                supabase_url: Some("ftp://project-ref.supabase.co".into()),
                anon_key: Some(ANON.into()),
                ..Default::default()
            },
            "https://",
        ),
        (
            TeamSettingsInput {
                supabase_url: Some("https://other.supabase.co".into()),
                anon_key: None,
                ..Default::default()
            },
            "both",
        ),
        (
            TeamSettingsInput {
                supabase_url: Some("https://other.supabase.co".into()),
                anon_key: Some(ANON.into()),
                database_url: Some("mysql://u@h/db".into()),
                database_password: Some("replacement-not-real".into()),
            },
            "postgres://",
        ),
    ] {
        let err = core.save_team_settings(input).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains(expect), "{err}");
    }
    let after = core.team_settings().await.unwrap();
    assert_eq!(after, saved);
    assert!(
        core.team_database_url()
            .await
            .unwrap()
            .unwrap()
            .expose()
            .contains(DB_PASSWORD)
    );

    // Replacing the URL keeps the password unless told; "" removes it; clearing all = local.
    let kept = core
        .save_team_settings(TeamSettingsInput {
            database_url: Some("postgres://salesdesk_app@db2.example.test:5432/postgres".into()),
            ..settings_for_url("https://project-ref.supabase.co")
        })
        .await
        .unwrap();
    assert!(kept.database_password_set);
    let removed = core
        .save_team_settings(TeamSettingsInput {
            database_url: Some("postgres://salesdesk_app@db2.example.test:5432/postgres".into()),
            database_password: Some(String::new()),
            ..settings_for_url("https://project-ref.supabase.co")
        })
        .await
        .unwrap();
    assert!(!removed.database_password_set && device.password.is_empty());
    let local = core
        .save_team_settings(TeamSettingsInput::default())
        .await
        .unwrap();
    assert!(!local.configured);
    let err = core
        .sign_in("ana@example.com", &SecretString::new(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.to_string().contains("Settings"));
    core.close().await;
}

fn settings_for_url(url: &str) -> TeamSettingsInput {
    TeamSettingsInput {
        supabase_url: Some(url.into()),
        anon_key: Some(ANON.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn sign_up_verify_status_and_sign_out_through_the_handle() {
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    let env = IsolatedEnv::new();
    let device = ClockedDevice::new();
    let core = device.open(&env).await;
    core.save_team_settings(settings_for(&fake)).await.unwrap();

    let before = core.account_status().await.unwrap();
    assert!(before.configured && !before.signed_in);
    assert_eq!(before.summary, "Local mode — sign in");

    let bad = core
        .sign_up("not-an-email", &SecretString::new(PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
    assert!(
        fake.requests().is_empty(),
        "bad input must not reach the server"
    );

    let up = core
        .sign_up("ana@example.com", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    assert!(up.confirmation_sent && !up.status.signed_in);
    let wrong = core
        .sign_in("ana@example.com", &SecretString::new(PASSWORD))
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("email_not_confirmed"), "{wrong}");

    let mail = fake.last_email("ana@example.com", "signup").await.unwrap();
    let link = format!(
        "{}/auth/v1/verify?token_hash={}&type=signup",
        fake.project_url(),
        mail.token_hash
    );
    let status = core
        .verify_email(VerifyInput {
            kind: VerifyKind::Signup,
            email: None,
            token: link,
        })
        .await
        .unwrap();
    assert!(status.signed_in && status.verified);
    assert_eq!(status.email.as_deref(), Some("ana@example.com"));
    assert_eq!(status.online, Some(true));
    assert_eq!(status.summary, "Signed in as ana@example.com");
    assert!(!device.session.is_empty());

    core.update_password(&SecretString::new("a new longer passphrase"))
        .await
        .unwrap();
    let report = core.sign_out(true).await.unwrap();
    assert!(report.server_confirmed);
    assert!(device.session.is_empty());
    assert_eq!(fake.session_count("ana@example.com").await, 0);
    assert!(!core.account_status().await.unwrap().signed_in);

    let err = core
        .sign_in("ana@example.com", &SecretString::new(PASSWORD))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid_credentials"), "{err}");
    core.sign_in(
        "ana@example.com",
        &SecretString::new("a new longer passphrase"),
    )
    .await
    .unwrap();
    core.request_password_reset("ana@example.com")
        .await
        .unwrap();
    assert!(
        fake.last_email("ana@example.com", "recovery")
            .await
            .is_some()
    );
    core.close().await;
}

#[tokio::test]
async fn offline_start_keeps_the_session_and_the_keeper_refreshes_when_the_network_returns() {
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    fake.set_confirm_email(false);
    let env = IsolatedEnv::new();
    let device = ClockedDevice::new();
    {
        let core = device.open(&env).await;
        core.save_team_settings(settings_for(&fake)).await.unwrap();
        core.sign_up("kim@example.com", &SecretString::new(PASSWORD))
            .await
            .unwrap();
        core.save_analysis(NewAnalysis {
            title: "Cached call".into(),
            transcript: "Rep: Hi\nCustomer: Hello".into(),
            analysis: serde_json::json!({"score": 60}),
            provider: "offline".into(),
            model: None,
        })
        .await
        .unwrap();
        core.close().await;
    }

    // Next morning the app starts with no network, the access token long expired.
    device.clock.advance(Duration::from_secs(12 * 3600));
    fake.set_offline(true);
    let core = device.open(&env).await;
    let start = core.account_status().await.unwrap();
    assert!(start.signed_in && start.expired);
    assert_eq!(start.online, None);
    let err = core.access_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Remote);
    let status = core.account_status().await.unwrap();
    assert!(
        status.signed_in,
        "a network failure must not sign the user out"
    );
    assert_eq!(status.online, Some(false));
    assert_eq!(status.summary, "Offline, signed in as kim@example.com");
    assert!(status.last_error.unwrap().contains("cannot reach"));
    // Cached data is readable and local writes go on.
    assert_eq!(core.list_analyses().await.unwrap().len(), 1);
    core.save_analysis(NewAnalysis {
        title: "Written offline".into(),
        transcript: "Rep: Hi".into(),
        analysis: serde_json::json!({}),
        provider: "offline".into(),
        model: None,
    })
    .await
    .unwrap();

    core.start_session_keeper();
    let manager = core.team().session(core.store()).await.unwrap().unwrap();
    let tries = manager.refresh_count();
    WAIT.until("the keeper to retry while offline", || async {
        manager.refresh_count() >= tries + 2
    })
    .await;
    let retrying = core.account_status().await.unwrap();
    assert!(retrying.signed_in && retrying.next_retry_at.is_some());
    assert!(!device.session.is_empty());

    fake.set_offline(false);
    WAIT.until("the keeper to refresh once online", || async {
        core.account_status().await.unwrap().online == Some(true)
    })
    .await;
    let back = core.account_status().await.unwrap();
    assert!(back.signed_in);
    assert_eq!(back.summary, "Signed in as kim@example.com");
    assert!(core.access_token().await.is_ok());
    assert_eq!(core.list_analyses().await.unwrap().len(), 2);
    core.close().await;
}

/// Background effects: polled every 20 ms, failing after 15 s.
const WAIT: Patience = Patience {
    within: Duration::from_secs(15),
    poll: Duration::from_millis(20),
};

#[tokio::test]
async fn a_refresh_that_fails_while_the_token_is_still_valid_backs_off_and_shows_offline() {
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    fake.set_confirm_email(false);
    let env = IsolatedEnv::new();
    let device = ClockedDevice::new();
    let core = device.open(&env).await;
    core.save_team_settings(settings_for(&fake)).await.unwrap();
    core.sign_up("lee@example.com", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    // Inside the refresh margin (a minute left), and the network is gone.
    device.clock.advance(Duration::from_secs(3600 - 60));
    fake.set_offline(true);
    core.start_session_keeper();
    WAIT.until("the keeper to notice it cannot refresh", || async {
        core.account_status().await.unwrap().online == Some(false)
    })
    .await;
    let status = core.account_status().await.unwrap();
    assert!(status.signed_in && !status.expired);
    assert!(status.next_retry_at.is_some());
    assert_eq!(status.summary, "Offline, signed in as lee@example.com");

    fake.set_offline(false);
    WAIT.until("the refresh once online", || async {
        let s = core.account_status().await.unwrap();
        s.online == Some(true) && s.next_retry_at.is_none()
    })
    .await;
    core.close().await;
}

#[tokio::test]
async fn the_handle_is_the_sync_engines_token_source() {
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    fake.set_confirm_email(false);
    let env = IsolatedEnv::new();
    let device = ClockedDevice::new();
    let core = device.open(&env).await;
    let tokens = core.team_tokens();
    // Local mode: nothing to sync as.
    assert!(matches!(
        tokens.user_id().await.unwrap_err(),
        salesdesk_core::auth::AuthError::NotSignedIn
    ));
    core.save_team_settings(settings_for(&fake)).await.unwrap();
    core.sign_up("sam@example.com", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    let status = core.account_status().await.unwrap();
    assert_eq!(tokens.user_id().await.unwrap(), status.user_id.unwrap());
    let token = tokens.access_token().await.unwrap();
    // A token the database refused is refreshed (once, whoever asks).
    let manager = core.team().session(core.store()).await.unwrap().unwrap();
    let before = manager.refresh_count();
    tokens.refresh(token.clone()).await.unwrap();
    assert_eq!(manager.refresh_count(), before + 1);
    assert_eq!(core.account_status().await.unwrap().online, Some(true));
    core.close().await;
}
