//! `salesdesk auth` against the Supabase Auth fake, for the paths that do not need a keyring:
//! sign-up with email confirmation, and sign-in refusals (the message names the error code and
//! never echoes the password).

use assert_cmd::Command;
use predicates::prelude::*;
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;

mod common;
use common::on_path;

const ANON: &str = "cli-anon-key";
const SECRET: &str = "cli-fake-auth-jwt-secret-32-characters-long";

async fn run(
    url: String,
    args: &'static [&'static str],
    stdin: &'static str,
) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let data = tempfile::tempdir().unwrap();
        Command::cargo_bin("salesdesk")
            .unwrap()
            .arg("--data-dir")
            .arg(data.path())
            .arg("auth")
            .args(args)
            .env("SUPABASE_URL", url)
            .env("SUPABASE_ANON_KEY", ANON)
            .env_remove("SALESDESK_PASSWORD")
            .write_stdin(stdin)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_then_signin_before_confirming() {
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    let out = run(
        fake.project_url(),
        &["signup", "--email", "cli@example.com", "--password-stdin"],
        "a good long password\n",
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("confirmation email"));
    let sent = fake.last_email("cli@example.com", "signup").await;
    assert!(sent.is_some());

    let out = run(
        fake.project_url(),
        &["signin", "--email", "cli@example.com", "--password-stdin"],
        "a good long password\n",
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("email_not_confirmed"), "{stderr}");

    let out = run(
        fake.project_url(),
        &["signin", "--email", "cli@example.com", "--password-stdin"],
        "wrong-password-xyz\n",
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid_credentials"), "{stderr}");
    assert!(!stderr.contains("wrong-password-xyz"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signin_without_a_password_says_how_to_give_one() {
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    let out = run(
        fake.project_url(),
        &["signin", "--email", "x@example.com"],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        predicate::str::contains("--password-stdin").eval(&String::from_utf8_lossy(&out.stderr))
    );
    assert!(
        fake.requests().is_empty(),
        "nothing sent without a password"
    );
}

/// Runs `salesdesk auth ARGS` inside a private D-Bus session with gnome-keyring unlocked, the
/// keyring's files in `home` (so the session outlives one run, as on a desktop).
async fn run_with_keyring(
    home: std::path::PathBuf,
    url: String,
    args: &[&str],
) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let bin = assert_cmd::cargo::cargo_bin("salesdesk");
        let script = "echo -n salesdesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec \"$@\"";
        std::process::Command::new("dbus-run-session")
            .args(["--", "sh", "-c", script, "sh"])
            .arg(bin)
            .arg("--data-dir")
            .arg(home.join("salesdesk"))
            .arg("auth")
            .args(&args)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("SUPABASE_URL", url)
            .env("SUPABASE_ANON_KEY", ANON)
            .env("SALESDESK_PASSWORD", "a good long password")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signin_status_signout_with_a_real_keyring() {
    if !on_path("gnome-keyring-daemon") || !on_path("dbus-run-session") {
        println!("SKIPPED: gnome-keyring-daemon or dbus-run-session is not installed");
        return;
    }
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    fake.set_confirm_email(false);
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let url = fake.project_url();

    let out = run_with_keyring(
        h.clone(),
        url.clone(),
        &["signup", "--email", "kc@example.com", "--json"],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["signed_in"], true);

    let out = run_with_keyring(h.clone(), url.clone(), &["status", "--json"]).await;
    assert!(out.status.success(), "{out:?}");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["signed_in"], true);
    assert_eq!(status["user"]["email"], "kc@example.com");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("access_token") && !text.contains("refresh_token"));

    let out = run_with_keyring(h.clone(), url.clone(), &["signout", "--json"]).await;
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["server_confirmed"], true);
    assert_eq!(fake.session_count("kc@example.com").await, 0);
    let logout = fake
        .requests()
        .into_iter()
        .rfind(|r| r.path_and_query.starts_with("/auth/v1/logout"))
        .unwrap();
    assert_eq!(logout.path_and_query, "/auth/v1/logout?scope=local");

    let out = run_with_keyring(h, url, &["status"]).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Not signed in"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_flags_the_team_saved_in_the_app_is_used() {
    use std::sync::Arc;

    use salesdesk_core::auth::MemoryVault;
    use salesdesk_core::team::{TeamSettingsInput, TeamSetup};
    use salesdesk_core::{DataPaths, Salesdesk};

    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    let data = tempfile::tempdir().unwrap();
    let signup = |data: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || {
            Command::cargo_bin("salesdesk")
                .unwrap()
                .arg("--data-dir")
                .arg(data)
                .args([
                    "auth",
                    "signup",
                    "--email",
                    "saved@example.com",
                    "--password-stdin",
                ])
                .env_remove("SUPABASE_URL")
                .env_remove("SUPABASE_ANON_KEY")
                .env_remove("SALESDESK_PASSWORD")
                .write_stdin("a good long password\n")
                .output()
                .unwrap()
        })
    };

    let out = signup(data.path().to_owned()).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no team is set up"),
        "{out:?}"
    );

    let vaults = TeamSetup::with_vaults(
        Arc::new(MemoryVault::default()),
        Arc::new(MemoryVault::default()),
    );
    let core = Salesdesk::open(DataPaths::at(data.path()))
        .await
        .unwrap()
        .with_team(vaults);
    core.save_team_settings(TeamSettingsInput {
        supabase_url: Some(fake.project_url()),
        anon_key: Some(ANON.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    core.close().await;

    let out = signup(data.path().to_owned()).await.unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("confirmation email"));
    assert!(
        fake.last_email("saved@example.com", "signup")
            .await
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_reset_refuse_bad_input_before_any_request_and_say_why() {
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    let url = fake.project_url();
    let cases: [(&'static [&'static str], &'static str, &str); 5] = [
        (
            &["verify", "123456"],
            "",
            "enter the email address the code",
        ),
        (&["verify"], "\n", "paste the link from the email"),
        (
            &["verify", "https://example.com/verify?type=recovery"],
            "",
            "has no token in it",
        ),
        (&["reset", "not-an-email"], "", "not an email address"),
        (&["verify", "--kind", "nonsense", "x"], "", "nonsense"),
    ];
    for (args, stdin, says) in cases {
        let out = run(url.clone(), args, stdin).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(fake.requests().is_empty(), "nothing sent for bad input");

    // A wrong code reaches the server, which refuses it; the code is not echoed.
    let out = run(
        url.clone(),
        &[
            "verify",
            "--email",
            "nobody@example.com",
            "--kind",
            "recovery",
        ],
        "654321\n",
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("otp_expired"), "{stderr}");
    assert!(!stderr.contains("654321"), "{stderr}");

    // An unknown address gets the same answer as a known one, and no email.
    let out = run(url, &["reset", "nobody@example.com", "--json"], "").await;
    assert!(out.status.success(), "{out:?}");
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["requested"], true);
    assert!(
        fake.last_email("nobody@example.com", "recovery")
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_with_the_emailed_code_and_reset_with_the_emailed_link_sign_in() {
    if !on_path("dbus-run-session") || !on_path("gnome-keyring-daemon") {
        eprintln!("skipped: needs dbus-run-session and gnome-keyring-daemon");
        return;
    }
    let fake = SupabaseAuthFake::start(ANON, SECRET).await;
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let url = fake.project_url();
    let email = "verify@example.com";

    let out = run_with_keyring(h.clone(), url.clone(), &["signup", "--email", email]).await;
    assert!(out.status.success(), "{out:?}");
    let code = fake.last_email(email, "signup").await.unwrap().otp;
    let out = run_with_keyring(
        h.clone(),
        url.clone(),
        &["verify", "--email", email, &code, "--json"],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["signed_in"], true);
    assert_eq!(status["verified"], true);
    assert_eq!(status["email"], email);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("access_token") && !text.contains("refresh_token"));

    // The code is single-use.
    let out = run_with_keyring(h.clone(), url.clone(), &["verify", "--email", email, &code]).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    let out = run_with_keyring(h.clone(), url.clone(), &["signout"]).await;
    assert!(out.status.success(), "{out:?}");
    let out = run_with_keyring(h.clone(), url.clone(), &["reset", email]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("password-reset email"),
        "{out:?}"
    );
    let sent = fake.last_email(email, "recovery").await.unwrap();
    let link = format!(
        "{url}/auth/v1/verify?token={}&type=recovery&redirect_to=http://localhost",
        sent.token_hash
    );
    let out = run_with_keyring(h.clone(), url.clone(), &["verify", &link]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("signed in as {email}")),
        "{out:?}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&sent.token_hash));
    let out = run_with_keyring(h, url, &["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["signed_in"], true);
    assert_eq!(fake.session_count(email).await, 1);
}
