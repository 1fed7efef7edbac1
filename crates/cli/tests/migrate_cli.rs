//! `salesdesk migrate` end to end: a fresh throwaway cluster dressed as a Supabase project,
//! the binary run twice, secrets passed by environment variable name.

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use salesdesk_testkit::pg::PgCluster;
use salesdesk_testkit::supabase::{OWNER_ROLE, bootstrap_supabase};

#[tokio::test]
async fn migrate_applies_then_reports_up_to_date() {
    let cluster = PgCluster::start().unwrap();
    bootstrap_supabase(&cluster, "postgres", "owner-password-for-cli")
        .await
        .unwrap();
    let url = cluster.url(OWNER_ROLE, "owner-password-for-cli", "postgres");
    let data = tempfile::tempdir().unwrap();

    let run = |args: &[&str]| {
        let mut cmd = Command::cargo_bin("salesdesk").unwrap();
        cmd.arg("--data-dir")
            .arg(data.path())
            .arg("migrate")
            .args(args)
            .env("SALESDESK_DATABASE_URL", &url)
            .env(
                "TEST_JWT_SECRET",
                "cli-test-jwt-secret-with-at-least-32-characters",
            )
            .env("TEST_APP_PASSWORD", "cli-test-app-password-123");
        cmd
    };

    // Counted, not written down: every new migration would otherwise break this test.
    let known = salesdesk_core::data::remote::migrate::MIGRATOR
        .iter()
        .count();
    run(&[])
        .assert()
        .success()
        .stdout(contains(format!("Applied {known} of {known} migrations")))
        .stdout(contains("no JWT secret is installed"));
    let out = run(&[
        "--jwt-secret-env",
        "TEST_JWT_SECRET",
        "--app-password-env",
        "TEST_APP_PASSWORD",
        "--json",
    ])
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["applied"], serde_json::json!([]));
    assert_eq!(report["jwt_secrets"], 1);
    assert_eq!(report["app_login_enabled"], true);
    run(&[])
        .assert()
        .success()
        .stdout(contains(format!("Schema up to date ({known} migrations).")));

    // Secrets never come from the command line itself, and a missing variable is a clear error.
    run(&["--jwt-secret-env", "NOT_SET_ANYWHERE"])
        .assert()
        .code(1)
        .stderr(contains("NOT_SET_ANYWHERE"));
    // The password in the URL never shows in an error.
    let mut cmd = Command::cargo_bin("salesdesk").unwrap();
    cmd.arg("--data-dir")
        .arg(data.path())
        .args([
            "migrate",
            "--database-url",
            "postgres://postgres:very-secret-pw@127.0.0.1:1/postgres",
        ])
        .assert()
        .code(1)
        .stderr(contains("cannot reach the team database"))
        .stderr(predicates::str::contains("very-secret-pw").not());
}
