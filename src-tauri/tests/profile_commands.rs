//! The avatar commands over Tauri's mock runtime: the real IPC path with the app's own
//! capabilities, against a real store in a temporary data directory (local mode). Only images
//! the user dropped or picked are accepted; a granted PNG becomes the avatar and its preview;
//! a file that is not an image is refused and the avatar is kept; remove clears it.

use salesdesk_core::DataPaths;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

struct TestApp {
    _app: tauri::App<MockRuntime>,
    webview: tauri::WebviewWindow<MockRuntime>,
}

fn app_with(dir: &std::path::Path, granted: &[std::path::PathBuf]) -> TestApp {
    let state = salesdesk_desktop::DesktopState::open(DataPaths::at(dir));
    // What a drop on the window does before the page sees the paths.
    state.grants.grant(granted.iter().cloned());
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

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    b.extend([7u8; 64]);
    b
}

#[test]
fn avatars_are_set_from_granted_images_only_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let me = dir.path().join("me.png");
    std::fs::write(&me, png()).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let not_dropped = dir.path().join("other.png");
    std::fs::write(&not_dropped, png()).unwrap();
    let app = app_with(&data, &[me.clone(), text.clone()]);
    let set = |path: &std::path::Path| {
        invoke(
            &app,
            "set_avatar",
            json!({"path": path.display().to_string()}),
        )
    };

    assert_eq!(
        invoke(&app, "get_avatar_preview", json!({})).unwrap(),
        Value::Null
    );
    let err = set(&not_dropped).unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
    assert!(err["message"].as_str().unwrap().contains("drop"), "{err}");
    assert_eq!(
        invoke(&app, "get_avatar_preview", json!({})).unwrap(),
        Value::Null
    );

    let preview = set(&me).unwrap();
    assert_eq!(preview["mime"], "image/png");
    let path = std::path::PathBuf::from(preview["path"].as_str().unwrap());
    assert!(path.starts_with(&data), "{}", path.display());
    assert_eq!(std::fs::read(&path).unwrap(), png());
    assert_eq!(
        invoke(&app, "get_avatar_preview", json!({})).unwrap(),
        preview
    );

    let err = set(&text).unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("not an image"),
        "{err}"
    );
    assert_eq!(
        invoke(&app, "get_avatar_preview", json!({})).unwrap(),
        preview
    );

    assert_eq!(
        invoke(&app, "remove_avatar", json!({})).unwrap(),
        json!(true)
    );
    assert_eq!(
        invoke(&app, "get_avatar_preview", json!({})).unwrap(),
        Value::Null
    );
    assert_eq!(
        invoke(&app, "remove_avatar", json!({})).unwrap(),
        json!(false)
    );
}
