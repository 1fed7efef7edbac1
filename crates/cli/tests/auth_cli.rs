//! `salesdesk auth` against the Supabase Auth fake, for the paths that do not need a keyring:
//! sign-up with email confirmation, and sign-in refusals (the message names the error code and
//! never echoes the password).

use assert_cmd::Command;
use predicates::prelude::*;
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;

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
