//! The training-materials commands over Tauri's mock runtime: the real IPC path with the app's
//! own capabilities, against a real store in a temporary data directory.

use salesdesk_core::data::materials::MaterialMeta;
use salesdesk_core::files::Transfer;
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
    let app = salesdesk_desktop::app_builder(mock_builder(), state)
        .build(tauri::generate_context!("tauri.conf.json", test = true))
        .expect("build app");
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    TestApp { _app: app, webview }
}

fn invoke(app: &TestApp, cmd: &str, args: Value) -> Result<Value, Value> {
    let res = get_ipc_response(
        &app.webview,
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
fn a_file_not_dropped_or_picked_is_refused_and_nothing_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, "not for the webview").unwrap();
    let app = app_with(&dir.path().join("data"));
    let err = invoke(
        &app,
        "queue_material",
        json!({"path": file.display().to_string(), "meta": {"title": "x"}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
    assert!(err["message"].as_str().unwrap().contains("drop"), "{err}");
    let pending = invoke(&app, "pending_materials", json!({})).unwrap();
    assert_eq!(pending, json!([]));
}

#[test]
fn list_edit_delete_restore_go_through_to_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let src = dir.path().join("Pricing notes.txt");
    std::fs::write(&src, "Anchor on value.\n").unwrap();
    let id = tauri::async_runtime::block_on(async {
        let core = Salesdesk::open(DataPaths::at(&data)).await.unwrap();
        let m = core
            .add_material(
                &src,
                &MaterialMeta {
                    tags: vec!["pricing".into()],
                    ..Default::default()
                },
                &Transfer::default(),
            )
            .await
            .unwrap();
        core.close().await;
        m.id
    });
    let app = app_with(&data);
    let listed = invoke(
        &app,
        "list_materials",
        json!({"query": {"search": "PRICING"}}),
    )
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["material"]["title"], "Pricing notes");
    assert_eq!(listed[0]["file_state"], "stored");

    let err = invoke(
        &app,
        "update_material",
        json!({"id": id, "change": {"title": "   "}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    let updated = invoke(
        &app,
        "update_material",
        json!({"id": id, "change": {"tags": ["pricing", "Q3"]}}),
    )
    .unwrap();
    assert_eq!(updated["tags"], json!(["pricing", "Q3"]));

    invoke(&app, "delete_material", json!({"id": id})).unwrap();
    assert_eq!(
        invoke(&app, "list_materials", json!({"query": {}})).unwrap(),
        json!([])
    );
    invoke(&app, "restore_material", json!({"id": id})).unwrap();
    let listed = invoke(&app, "list_materials", json!({"query": {"tag": "q3"}})).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let err = invoke(&app, "delete_material", json!({"id": "nope"})).unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
}

#[test]
fn open_material_takes_an_id_never_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&dir.path().join("data"));
    // A path where the id goes is refused as an id; nothing is opened or created.
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "not a material").unwrap();
    let err = invoke(
        &app,
        "open_material",
        json!({"id": outside.display().to_string()}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
    assert!(!dir.path().join("data").join("cache").join("open").exists());
    // A well-formed id of no material: not found, with the same command allowed to the window.
    let err = invoke(
        &app,
        "open_material",
        json!({"id": "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "not_found", "{err}");
}
