//! The desktop commands over Tauri's mock runtime: the real IPC path (JSON in, JSON out, the
//! app's own capabilities) against a real store in a temporary data directory.

use salesdesk_core::data::analyses::NewAnalysis;
use salesdesk_core::{DataPaths, Salesdesk};
use serde_json::json;

mod common;
use common::{TestApp, app, app_at, invoke};

#[test]
fn list_get_and_health_go_through_to_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let saved = tauri::async_runtime::block_on(async {
        let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
        let saved = core
            .save_analysis(NewAnalysis {
                title: "Discovery call with Acme".into(),
                transcript: "Rep: Hi\nCustomer: Hello".into(),
                analysis: json!({"score": 71}),
                provider: "offline".into(),
                model: Some("offline-v1".into()),
            })
            .await
            .unwrap();
        core.close().await;
        saved
    });

    let app = app_at(dir.path());
    let list = invoke(&app, "list_analyses", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["title"], "Discovery call with Acme");
    assert_eq!(list[0]["id"], saved.id.as_str());

    let one = invoke(&app, "get_analysis", json!({"id": saved.id})).unwrap();
    assert_eq!(one["analysis"]["score"], 71);
    assert_eq!(one["transcript"], "Rep: Hi\nCustomer: Hello");

    let health = invoke(&app, "health", json!({})).unwrap();
    assert_eq!(health["store"]["ok"], true);
    assert_eq!(health["counts"]["call_analyses"], 1);
}

#[test]
fn errors_reach_the_ui_as_kind_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_at(dir.path());
    let err = invoke(
        &app,
        "get_analysis",
        json!({"id": "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "not_found");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("no analysis with id")
    );

    let err = invoke(&app, "get_analysis", json!({"id": "not-a-uuid"})).unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
}

#[test]
fn a_corrupt_store_still_opens_the_app_and_health_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let store = DataPaths::at(dir.path()).store_file();
    std::fs::write(&store, vec![0x42u8; 8192]).unwrap();
    let app = app_at(dir.path());

    let health = invoke(&app, "health", json!({})).unwrap();
    assert_eq!(health["store"]["ok"], false);
    assert!(
        health["store"]["message"]
            .as_str()
            .unwrap()
            .contains("not a Salesdesk database")
    );
    let err = invoke(&app, "list_analyses", json!({})).unwrap_err();
    assert_eq!(err["kind"], "store");
    assert_eq!(std::fs::read(&store).unwrap(), vec![0x42u8; 8192]);
}

#[test]
fn the_window_may_call_nothing_beyond_salesdesks_commands() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_at(dir.path());
    // Core plugins (events, paths, windows) are not granted to the main window.
    for cmd in [
        "plugin:event|listen",
        "plugin:path|resolve_directory",
        "plugin:window|close",
    ] {
        let denied = invoke(&app, cmd, json!({}));
        assert!(denied.is_err(), "{cmd} should be denied, got {denied:?}");
    }
}

// ---- Team account commands, against the Supabase Auth fake ----

mod account {
    use std::sync::Arc;

    use salesdesk_core::DataPaths;
    use salesdesk_core::auth::{MemoryVault, SessionVault};
    use salesdesk_core::team::TeamSetup;
    use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
    use serde_json::{Value, json};

    use super::{TestApp, app, invoke};

    const ANON: &str = "test-anon-key-not-real";
    const SECRET: &str = "fake-auth-jwt-secret-at-least-32-characters";
    const PASSWORD: &str = "correct horse battery";
    const DB_PASSWORD: &str = "test-db-password-not-real";

    struct Env {
        rt: tokio::runtime::Runtime,
        fake: SupabaseAuthFake,
        session: Arc<MemoryVault>,
        app: TestApp,
        _dir: tempfile::TempDir,
    }

    impl Env {
        fn new() -> Self {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let fake = rt.block_on(SupabaseAuthFake::start(ANON, SECRET));
            let dir = tempfile::tempdir().unwrap();
            let session = Arc::new(MemoryVault::default());
            let setup = TeamSetup::with_vaults(session.clone(), Arc::new(MemoryVault::default()));
            let state =
                salesdesk_desktop::DesktopState::open_with_team(DataPaths::at(dir.path()), setup);
            Self {
                rt,
                fake,
                session,
                app: app(state),
                _dir: dir,
            }
        }

        /// The tokens of the saved session (to prove no reply carries them).
        fn tokens(&self) -> Vec<String> {
            let blob = self.rt.block_on(self.session.load()).unwrap().unwrap();
            let stored: Value = serde_json::from_str(blob.expose()).unwrap();
            ["access_token", "refresh_token"]
                .iter()
                .map(|k| stored[k].as_str().unwrap().to_owned())
                .collect()
        }
    }

    fn call(env: &Env, cmd: &str, args: Value, seen: &mut Vec<String>) -> Result<Value, Value> {
        let reply = invoke(&env.app, cmd, args);
        let text = match &reply {
            Ok(v) | Err(v) => v.to_string(),
        };
        seen.push(text);
        reply
    }

    #[test]
    fn accounts_flow_through_the_commands_and_no_reply_carries_a_token_or_password() {
        let env = Env::new();
        let mut seen = Vec::new();

        let local = call(&env, "account_status", json!({}), &mut seen).unwrap();
        assert_eq!(local["configured"], false);
        let err = call(
            &env,
            "sign_in",
            json!({"email": "ana@example.com", "password": PASSWORD}),
            &mut seen,
        )
        .unwrap_err();
        assert_eq!(err["kind"], "unavailable");

        let saved = call(
            &env,
            "save_team_settings",
            json!({"settings": {
                "supabase_url": env.fake.project_url(),
                "anon_key": ANON,
                "database_url": format!("postgres://salesdesk_app:{DB_PASSWORD}@db.example.test:6543/postgres"),
            }}),
            &mut seen,
        )
        .unwrap();
        assert_eq!(saved["configured"], true);
        assert_eq!(saved["database_password_set"], true);
        let read = call(&env, "get_team_settings", json!({}), &mut seen).unwrap();
        assert_eq!(read, saved);
        let bad = call(
            &env,
            "save_team_settings",
            json!({"settings": {"supabase_url": "not a url", "anon_key": ANON}}),
            &mut seen,
        )
        .unwrap_err();
        assert_eq!(bad["kind"], "invalid_input");
        assert!(bad["message"].as_str().unwrap().contains("project URL"));

        let up = call(
            &env,
            "sign_up",
            json!({"email": "ana@example.com", "password": PASSWORD}),
            &mut seen,
        )
        .unwrap();
        assert_eq!(up["confirmation_sent"], true);
        let unconfirmed = call(
            &env,
            "sign_in",
            json!({"email": "ana@example.com", "password": PASSWORD}),
            &mut seen,
        )
        .unwrap_err();
        assert_eq!(unconfirmed["kind"], "invalid_input");
        assert!(
            unconfirmed["message"]
                .as_str()
                .unwrap()
                .contains("not confirmed")
        );

        let mail = env
            .rt
            .block_on(env.fake.last_email("ana@example.com", "signup"))
            .unwrap();
        let status = call(
            &env,
            "verify_email",
            json!({"input": {"kind": "signup", "email": null, "token": mail.token_hash}}),
            &mut seen,
        )
        .unwrap();
        assert_eq!(status["signed_in"], true);
        assert_eq!(status["verified"], true);
        assert_eq!(status["email"], "ana@example.com");
        assert_eq!(status["summary"], "Signed in as ana@example.com");
        let tokens = env.tokens();

        call(
            &env,
            "update_password",
            json!({"newPassword": "a new longer passphrase"}),
            &mut seen,
        )
        .unwrap();
        call(
            &env,
            "request_password_reset",
            json!({"email": "ana@example.com"}),
            &mut seen,
        )
        .unwrap();
        let wrong = call(
            &env,
            "sign_in",
            json!({"email": "ana@example.com", "password": PASSWORD}),
            &mut seen,
        )
        .unwrap_err();
        assert!(
            wrong["message"]
                .as_str()
                .unwrap()
                .contains("wrong email or password")
        );
        let status = call(
            &env,
            "sign_in",
            json!({"email": "ana@example.com", "password": "a new longer passphrase"}),
            &mut seen,
        )
        .unwrap();
        assert_eq!(status["signed_in"], true);
        let mut all_tokens = tokens;
        all_tokens.extend(env.tokens());
        call(&env, "account_status", json!({}), &mut seen).unwrap();

        let out = call(&env, "sign_out", json!({"everywhere": false}), &mut seen).unwrap();
        assert_eq!(out["server_confirmed"], true);
        let after = call(&env, "account_status", json!({}), &mut seen).unwrap();
        assert_eq!(after["signed_in"], false);
        assert!(env.rt.block_on(env.session.load()).unwrap().is_none());

        for reply in &seen {
            for token in &all_tokens {
                assert!(
                    !reply.contains(token.as_str()),
                    "a token reached the webview: {reply}"
                );
            }
            assert!(
                !reply.contains("eyJ"),
                "something JWT-like reached the webview: {reply}"
            );
            assert!(
                !reply.contains(DB_PASSWORD),
                "the database password came back: {reply}"
            );
            assert!(!reply.contains(PASSWORD), "a password came back: {reply}");
        }
    }
}

#[test]
fn import_reads_only_a_granted_export_and_reports_counts() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_at(dir.path());
    let export = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/browser-export-v1.json"
    );
    let err = invoke(&app, "import_browser_export", json!({"path": export})).unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("Choose file"));
    let list = invoke(&app, "list_analyses", json!({})).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        0,
        "nothing may be read before a grant"
    );

    // As if the user had chosen it in the dialog (or dropped it on the window).
    app.state().grants.grant([std::path::PathBuf::from(export)]);
    let report = invoke(&app, "import_browser_export", json!({"path": export})).unwrap();
    let clients = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section"] == "clients")
        .unwrap();
    assert_eq!(clients["added"], 2);
    assert!(!report["skipped"].as_array().unwrap().is_empty());
    let list = invoke(&app, "list_analyses", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let again = invoke(&app, "import_browser_export", json!({"path": export})).unwrap();
    assert!(
        again["sections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["added"] == 0 && s["updated"] == 0)
    );
}

#[test]
fn sync_status_shows_queued_local_work_and_discard_refuses_unknown_tables() {
    let dir = tempfile::tempdir().unwrap();
    tauri::async_runtime::block_on(async {
        let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
        core.save_analysis(NewAnalysis {
            title: "Queued for the team".into(),
            transcript: "Rep: Hi\nCustomer: Hello".into(),
            analysis: json!({"score": 50}),
            provider: "offline".into(),
            model: None,
        })
        .await
        .unwrap();
        core.close().await;
    });
    let app = app_at(dir.path());
    let status = invoke(&app, "sync_status", json!({})).unwrap();
    assert_eq!(status["queued"], 1, "{status}");
    assert_eq!(status["state"], "signed_out");
    assert_eq!(status["rejected"], json!([]));

    let none = invoke(
        &app,
        "discard_rejected_change",
        json!({"table": "call_analyses", "rowId": "0190a0a0-0000-7000-8000-000000000000"}),
    )
    .unwrap();
    assert_eq!(none, json!(false));
    let err = invoke(
        &app,
        "discard_rejected_change",
        json!({"table": "sqlite_master", "rowId": "x"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");

    // Local mode: "Sync now" says what to set up, and the Status page's health carries the
    // same sync section.
    let err = invoke(&app, "sync_now", json!({})).unwrap_err();
    assert_eq!(err["kind"], "unavailable", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("Settings > Team"),
        "{err}"
    );
    let health = invoke(&app, "health", json!({})).unwrap();
    assert_eq!(health["sync"]["queued"], 1, "{health}");
    assert_eq!(health["sync"]["state"], "signed_out", "{health}");
}

// ---- Team sync commands, against a real PostgreSQL and the Auth fake writing to it ----

mod team_sync {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use salesdesk_core::DataPaths;
    use salesdesk_core::auth::MemoryVault;
    use salesdesk_core::team::TeamSetup;
    use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
    use salesdesk_testkit::supabase::TestDb;
    use serde_json::{Value, json};

    use super::{app, invoke};

    const ANON: &str = "test-anon-key-not-real";
    const PASSWORD: &str = "correct horse battery";

    #[test]
    fn sync_now_and_status_follow_sign_in_and_sign_out_and_never_show_the_database_password() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let db = rt.block_on(TestDb::new()).expect("test database");
        let fake = rt.block_on(SupabaseAuthFake::with_db(
            ANON,
            db.jwt_secret(),
            db.admin.clone(),
        ));
        fake.set_confirm_email(false);
        let dir = tempfile::tempdir().unwrap();
        let setup = TeamSetup::with_vaults(
            Arc::new(MemoryVault::default()),
            Arc::new(MemoryVault::default()),
        );
        let state =
            salesdesk_desktop::DesktopState::open_with_team(DataPaths::at(dir.path()), setup);
        let app = app(state);
        let url = db.app_url();
        let db_password = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .and_then(|(creds, _)| creds.split_once(':'))
            .map(|(_, p)| p.to_owned())
            .unwrap();
        let mut seen: Vec<String> = Vec::new();
        let mut call = |cmd: &str, args: Value| {
            let reply = invoke(&app, cmd, args);
            seen.push(match &reply {
                Ok(v) | Err(v) => v.to_string(),
            });
            reply
        };

        call(
            "save_team_settings",
            json!({"settings": {"supabase_url": fake.project_url(), "anon_key": ANON,
                                "database_url": url}}),
        )
        .unwrap();
        // Configured, not signed in yet.
        let err = call("sync_now", json!({})).unwrap_err();
        assert_eq!(err["kind"], "signed_out", "{err}");

        call(
            "sign_up",
            json!({"email": "noor@example.test", "password": PASSWORD}),
        )
        .unwrap();
        let report = call("sync_now", json!({})).unwrap();
        assert_eq!(report["status"]["state"], "idle", "{report}");
        assert_eq!(report["status"]["queued"], 0, "{report}");
        assert!(report["status"]["last_pull_at"].is_string(), "{report}");
        // The profile the sign-up made on the server came down with the pull.
        let status = call("sync_status", json!({})).unwrap();
        assert_eq!(status["last_error"], Value::Null, "{status}");
        let health = call("health", json!({})).unwrap();
        assert!(health["sync"]["last_push_at"].is_string(), "{health}");

        call("sign_out", json!({"everywhere": false})).unwrap();
        let start = Instant::now();
        loop {
            let status = call("sync_status", json!({})).unwrap();
            if status["state"] == "signed_out" {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "{status}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let err = call("sync_now", json!({})).unwrap_err();
        assert_eq!(err["kind"], "signed_out", "{err}");

        assert!(
            seen.iter().all(|reply| !reply.contains(&db_password)),
            "a reply carried the database password"
        );
        drop(app);
        drop(fake);
        drop(rt);
    }
}

#[test]
fn ai_settings_round_trip_and_bad_input_is_refused_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_at(dir.path());
    let view = invoke(&app, "get_ai_settings", json!({})).unwrap();
    assert_eq!(view["settings"], view["defaults"], "nothing saved yet");
    assert_eq!(view["defaults"]["openai"]["model"], "gpt-5-mini");
    assert_eq!(view["defaults"]["openai"]["auth_header"], "bearer");
    assert_eq!(view["env_applies"], false);

    let mut settings = view["settings"].clone();
    settings["routes"]["call_analysis"] = json!(["anthropic", "openai"]);
    settings["openai"]["base_url"] = json!("https://example-resource.openai.azure.com/openai/v1");
    settings["openai"]["auth_header"] = json!("api_key");
    settings["gemini"]["enabled"] = json!(false);
    let saved = invoke(&app, "save_ai_settings", json!({ "settings": settings })).unwrap();
    assert_eq!(saved["settings"], settings);
    let again = invoke(&app, "get_ai_settings", json!({})).unwrap();
    assert_eq!(again["settings"], settings, "saved in the store");

    let mut bad = settings.clone();
    bad["openai"]["base_url"] = json!("not a url");
    let err = invoke(&app, "save_ai_settings", json!({ "settings": bad })).unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    assert!(
        err["message"].as_str().unwrap().contains("OpenAI base URL"),
        "{err}"
    );
    let mut bad = settings.clone();
    bad["anthropic"]["model"] = json!("");
    let err = invoke(&app, "save_ai_settings", json!({ "settings": bad })).unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("Anthropic model id is empty"),
        "{err}"
    );
    // An unknown provider in a route is refused by the IPC layer before the core sees it.
    let mut bad = settings.clone();
    bad["routes"]["roleplay"] = json!(["mistral"]);
    assert!(invoke(&app, "save_ai_settings", json!({ "settings": bad })).is_err());

    let after = invoke(&app, "get_ai_settings", json!({})).unwrap();
    assert_eq!(after["settings"], settings, "nothing lost");
}
