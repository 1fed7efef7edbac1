//! The desktop app over Tauri's mock runtime, shared by the IPC tests: the real config (so the
//! real capabilities apply; the window is labelled "main", so "main-window" is the one checked),
//! a real store in the test's own data directory, and one call through the IPC path, JSON in
//! and JSON out.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use salesdesk_core::DataPaths;
use salesdesk_desktop::DesktopState;
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

pub struct TestApp {
    _app: tauri::App<MockRuntime>,
    webview: tauri::WebviewWindow<MockRuntime>,
}

/// The app over a state the test prepared (a team set-up, dialogs, grants).
pub fn app(state: DesktopState) -> TestApp {
    let app = salesdesk_desktop::app_builder(mock_builder(), state)
        .build(tauri::generate_context!("tauri.conf.json", test = true))
        .expect("build app");
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    TestApp { _app: app, webview }
}

/// The app with its data in `dir`, in local mode.
pub fn app_at(dir: &Path) -> TestApp {
    app(DesktopState::open(DataPaths::at(dir)))
}

/// [`app_at`], with `granted` as if the user had dropped those files on the window.
pub fn app_with(dir: &Path, granted: &[PathBuf]) -> TestApp {
    let state = DesktopState::open(DataPaths::at(dir));
    state.grants.grant(granted.iter().cloned());
    app(state)
}

/// Calls `cmd` as the page does: the reply's JSON, or the error's.
pub fn invoke(app: &TestApp, cmd: &str, args: Value) -> Result<Value, Value> {
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

impl TestApp {
    /// The app's state, as commands see it (to grant a file as a drop would, mid-test).
    pub fn state(&self) -> tauri::State<'_, DesktopState> {
        use tauri::Manager;
        self._app.state::<DesktopState>()
    }
}
