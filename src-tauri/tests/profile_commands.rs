//! The avatar commands over Tauri's mock runtime: the real IPC path with the app's own
//! capabilities, against a real store in a temporary data directory (local mode). Only images
//! the user dropped or picked are accepted; a granted PNG becomes the avatar and its preview;
//! a file that is not an image is refused and the avatar is kept; remove clears it.

use serde_json::{Value, json};

mod common;
use common::{app_with, invoke};

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
