//! The call-recording commands over Tauri's mock runtime: the real IPC path with the app's own
//! capabilities, against a real store in a temporary data directory. Only files the user
//! dropped or picked are accepted; a recording is stored and listed with its analysis; a file
//! that is not audio or video is refused and nothing is recorded; a stored one is copied into
//! the previews folder for the player, saved where the "save" dialog says (nothing when it is
//! cancelled), and a missing file or a bad id is a clear error.

use salesdesk_core::data::analyses::NewAnalysis;
use salesdesk_core::{DataPaths, Salesdesk};
use serde_json::{Value, json};

mod common;
use common::{TestApp, app, invoke};

/// The app with `granted` as if dropped on the window, and a "save" dialog the user cancels.
fn app_with(dir: &std::path::Path, granted: &[std::path::PathBuf]) -> TestApp {
    app_saving_to(dir, granted, None)
}

/// The app with a "save" dialog that answers `save_to` (None: the user cancels it).
fn app_saving_to(
    dir: &std::path::Path,
    granted: &[std::path::PathBuf],
    save_to: Option<std::path::PathBuf>,
) -> TestApp {
    let state = salesdesk_desktop::DesktopState::open(DataPaths::at(dir));
    // What a drop on the window does before the page sees the paths.
    state.grants.grant(granted.iter().cloned());
    state.set_save_picker(Box::new(move |name| {
        assert!(!name.is_empty(), "the dialog suggests the file's name");
        save_to.clone()
    }));
    app(state)
}

/// An analysis saved in the data directory `data`, as the Analyze page leaves it; its id.
fn saved_analysis(data: &std::path::Path, title: &str) -> String {
    tauri::async_runtime::block_on(async {
        let core = Salesdesk::open(DataPaths::at(data)).await.unwrap();
        let record = core
            .save_analysis(NewAnalysis {
                title: title.into(),
                transcript: "Rep: hello\nClient: hi".into(),
                analysis: json!({}),
                provider: "offline".into(),
                model: None,
            })
            .await
            .unwrap();
        core.close().await;
        record.id
    })
}

fn wav() -> Vec<u8> {
    salesdesk_testkit::storage::wav_8khz_mono(vec![128u8; 4000])
}

#[test]
fn recordings_are_stored_with_their_analysis_from_granted_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = saved_analysis(&data, "Discovery call");
    let call = dir.path().join("call.wav");
    std::fs::write(&call, wav()).unwrap();
    let transcript = dir.path().join("call.txt");
    std::fs::write(&transcript, "Rep: hello\n").unwrap();
    let not_dropped = dir.path().join("other.wav");
    std::fs::write(&not_dropped, wav()).unwrap();
    let app = app_with(&data, &[call.clone(), transcript.clone()]);
    let attach = |path: &std::path::Path| {
        invoke(
            &app,
            "attach_recording",
            json!({"analysisId": id, "path": path.display().to_string(), "onProgress": "__CHANNEL__:7"}),
        )
    };

    let err = attach(&not_dropped).unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
    assert!(err["message"].as_str().unwrap().contains("drop"), "{err}");
    let err = attach(&transcript).unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("transcript"),
        "{err}"
    );
    assert_eq!(
        invoke(&app, "list_recordings", json!({"analysisId": id})).unwrap(),
        json!([])
    );

    let stored = attach(&call).unwrap();
    assert_eq!(stored["analysis_id"], id);
    assert_eq!(stored["store"], "local");
    assert_eq!(stored["file_name"], "call.wav");
    let listed = invoke(&app, "list_recordings", json!({"analysisId": id})).unwrap();
    assert_eq!(listed, json!([stored]));
    let err = invoke(&app, "list_recordings", json!({"analysisId": "nope"})).unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
}

#[test]
fn a_recording_plays_from_the_previews_folder_and_saves_where_the_user_says() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = saved_analysis(&data, "Demo call");
    let call = dir.path().join("Demo call.wav");
    std::fs::write(&call, wav()).unwrap();
    let saved = dir.path().join("chosen").join("kept.wav");
    std::fs::create_dir_all(saved.parent().unwrap()).unwrap();
    let app = app_saving_to(&data, std::slice::from_ref(&call), Some(saved.clone()));
    let stored = invoke(
        &app,
        "attach_recording",
        json!({"analysisId": id, "path": call.display().to_string(), "onProgress": "__CHANNEL__:7"}),
    )
    .unwrap();
    let rec = stored["id"].as_str().unwrap().to_owned();
    assert_eq!(stored["file_state"], "stored");
    assert_eq!(
        invoke(&app, "pending_recordings", json!({"analysisId": id})).unwrap(),
        json!([])
    );

    let preview = invoke(&app, "preview_recording", json!({"id": rec})).unwrap();
    assert_eq!(preview["kind"], "audio");
    let path = std::path::PathBuf::from(preview["path"].as_str().unwrap());
    assert!(
        path.starts_with(data.join("cache").join("previews")),
        "only the previews folder is served: {}",
        path.display()
    );
    assert_eq!(std::fs::read(&path).unwrap(), wav());

    let out = invoke(&app, "save_recording", json!({"id": rec})).unwrap();
    assert_eq!(out, json!(saved.display().to_string()));
    assert_eq!(std::fs::read(&saved).unwrap(), wav());

    // Bad ids: clear errors, nothing written.
    let err = invoke(&app, "preview_recording", json!({"id": "../../etc/passwd"})).unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
    let err = invoke(
        &app,
        "save_recording",
        json!({"id": "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "not_found", "{err}");
    let err = invoke(&app, "discard_recording", json!({"id": rec})).unwrap_err();
    assert_eq!(
        err["kind"], "not_found",
        "a stored recording is not pending: {err}"
    );

    // The file gone from this device's store: the list says so and playing says why.
    std::fs::remove_dir_all(data.join("files")).unwrap();
    std::fs::remove_file(&path).unwrap();
    let listed = invoke(&app, "list_recordings", json!({"analysisId": id})).unwrap();
    assert_eq!(listed[0]["file_state"], "missing");
    let err = invoke(&app, "preview_recording", json!({"id": rec})).unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("missing"),
        "{err}"
    );
    assert!(
        !err["message"]
            .as_str()
            .unwrap()
            .contains(&*data.to_string_lossy()),
        "no machine path reaches the page: {err}"
    );
}

#[test]
fn a_cancelled_save_dialog_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = tauri::async_runtime::block_on(async {
        let core = Salesdesk::open(DataPaths::at(&data)).await.unwrap();
        let id = core
            .save_analysis(NewAnalysis {
                title: "Call".into(),
                transcript: "Rep: hi".into(),
                analysis: json!({}),
                provider: "offline".into(),
                model: None,
            })
            .await
            .unwrap()
            .id;
        core.close().await;
        id
    });
    let call = dir.path().join("call.wav");
    std::fs::write(&call, wav()).unwrap();
    let app = app_saving_to(&data, std::slice::from_ref(&call), None);
    let stored = invoke(
        &app,
        "attach_recording",
        json!({"analysisId": id, "path": call.display().to_string(), "onProgress": "__CHANNEL__:7"}),
    )
    .unwrap();
    let out = invoke(&app, "save_recording", json!({"id": stored["id"]})).unwrap();
    assert_eq!(out, Value::Null);
}
