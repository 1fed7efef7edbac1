//! The desktop commands over Tauri's mock runtime: the real IPC path (JSON in, JSON out, the
//! app's own capabilities) against a real store in a temporary data directory.

use salesdesk_core::data::analyses::NewAnalysis;
use salesdesk_core::{DataPaths, Salesdesk};
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

struct TestApp {
    _app: tauri::App<MockRuntime>,
    webview: tauri::WebviewWindow<MockRuntime>,
}

fn app_with(dir: &std::path::Path) -> TestApp {
    let state = salesdesk_desktop::DesktopState::open(DataPaths::at(dir));
    // The real config, so the real capabilities apply to these calls.
    let app = salesdesk_desktop::app_builder(mock_builder(), state)
        .build(tauri::generate_context!("tauri.conf.json", test = true))
        .expect("build app");
    // Labelled "main", so the "main-window" capability is the one checked.
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    TestApp { _app: app, webview }
}

fn invoke(app: &TestApp, cmd: &str, args: Value) -> Result<Value, Value> {
    let webview = &app.webview;
    let res = get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    );
    res.map(|body| body.deserialize::<Value>().unwrap())
}

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

    let app = app_with(dir.path());
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
    let app = app_with(dir.path());
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
    let app = app_with(dir.path());

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
    let app = app_with(dir.path());
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

#[test]
fn ai_settings_round_trip_and_bad_input_is_refused_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(dir.path());
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
