//! The training-materials commands over Tauri's mock runtime: the real IPC path with the app's
//! own capabilities, against a real store in a temporary data directory.

use std::sync::Arc;

use salesdesk_core::auth::MemoryVault;
use salesdesk_core::data::materials::{MaterialFile, MaterialMeta};
use salesdesk_core::files::{FileStore, LocalFileStore, Transfer};
use salesdesk_core::team::{TeamSettingsInput, TeamSetup};
use salesdesk_core::{DataPaths, Salesdesk};
use serde_json::{Value, json};

mod common;
use common::{app, app_at, invoke};

#[test]
fn a_file_not_dropped_or_picked_is_refused_and_nothing_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, "not for the webview").unwrap();
    let app = app_at(&dir.path().join("data"));
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
    let app = app_at(&data);
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
    let app = app_at(&dir.path().join("data"));
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

/// Signed out in team mode: the library lists the rows, opens what is cached, records a pin
/// (which says "sign in" until someone does), and refuses what needs the server with "sign in
/// to …". No request leaves the machine: the project URL points at a closed port.
#[test]
fn signed_out_in_team_mode_the_library_lists_and_opens_what_is_cached() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let vaults = || {
        TeamSetup::with_vaults(
            Arc::new(MemoryVault::default()),
            Arc::new(MemoryVault::default()),
        )
    };
    let cached_bytes = b"%PDF-1.7\ncached deck\n".to_vec();
    let (cached_id, other_id) = tauri::async_runtime::block_on(async {
        let core = Salesdesk::open(DataPaths::at(&data))
            .await
            .unwrap()
            .with_team(vaults());
        core.save_team_settings(TeamSettingsInput {
            supabase_url: Some("http://127.0.0.1:9".into()),
            anon_key: Some("test-anon-key-not-real".into()),
            database_url: None,
            database_password: None,
        })
        .await
        .unwrap();
        // Two team materials as a sync would have pulled them; one of them is in the cache.
        let src = dir.path().join("deck.pdf");
        std::fs::write(&src, &cached_bytes).unwrap();
        let cache = LocalFileStore::new(data.join("cache").join("files"));
        let stored = cache
            .put(&src, "deck.pdf", None, &Transfer::default())
            .await
            .unwrap();
        let mut ids = Vec::new();
        for (title, sha) in [
            ("Cached deck", stored.sha256.clone()),
            ("Other deck", "ab".repeat(32)),
        ] {
            let mut tx = core.store().begin_write().await.unwrap();
            // Any bucket key naming the content will do: `{prefix}/{sha256}/{name}`.
            let m = salesdesk_core::data::materials::insert(
                &mut tx,
                &MaterialMeta {
                    title: title.into(),
                    ..Default::default()
                },
                Some(&MaterialFile {
                    path: format!("pulled/{sha}/deck.pdf"),
                    size: stored.size,
                    sha256: sha,
                    mime: "application/pdf".into(),
                }),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            ids.push(m.id);
        }
        core.close().await;
        (ids[0].clone(), ids[1].clone())
    });
    let state = salesdesk_desktop::DesktopState::open_with_team(DataPaths::at(&data), vaults());
    let app = app(state);

    let listed = invoke(&app, "list_materials", json!({"query": {}})).unwrap();
    let state_of = |listed: &Value, id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["material"]["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(state_of(&listed, &cached_id)["file_state"], "cached");
    assert_eq!(state_of(&listed, &other_id)["file_state"], "synced");

    // The cached one previews (a verified copy); the other says to sign in.
    let preview = invoke(&app, "preview_material", json!({"id": cached_id})).unwrap();
    assert_eq!(
        std::fs::read(preview["path"].as_str().unwrap()).unwrap(),
        cached_bytes
    );
    let err = invoke(&app, "preview_material", json!({"id": other_id})).unwrap_err();
    assert_eq!(err["kind"], "signed_out", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("sign in to download"),
        "{err}"
    );

    // A pin is recorded; until sign-in the file shows why it is not here.
    invoke(&app, "pin_material", json!({"id": other_id})).unwrap();
    let listed = invoke(&app, "list_materials", json!({"query": {}})).unwrap();
    let entry = state_of(&listed, &other_id);
    assert_eq!(entry["pinned"], true);
    assert_eq!(entry["file_state"], "failed");
    assert_eq!(entry["file_problem"]["reason"], "signed_out");
    assert!(
        entry["file_problem"]["message"]
            .as_str()
            .unwrap()
            .starts_with("sign in to"),
        "{entry}"
    );
    // The background work has nothing to do signed out; nothing is moving.
    let report = invoke(&app, "retry_material_files", json!({})).unwrap();
    assert_eq!(report["done"], json!([]));
    assert_eq!(report["failed"], json!([]));
    assert_eq!(
        invoke(&app, "material_file_transfers", json!({})).unwrap(),
        json!([])
    );
}

#[test]
fn offline_files_settings_and_share_links_over_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_at(&dir.path().join("data"));
    let mib: u64 = 1024 * 1024;

    let files = invoke(&app, "get_offline_files", json!({})).unwrap();
    assert_eq!(files["budget_bytes"], 2048 * mib, "{files}");
    assert_eq!(files["used_bytes"], 0, "{files}");
    let set = invoke(&app, "set_offline_budget", json!({"mib": 512})).unwrap();
    assert_eq!(set["budget_bytes"], 512 * mib, "{set}");
    // Refused, and the saved budget stays.
    let err = invoke(&app, "set_offline_budget", json!({"mib": 10})).unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("256 MiB"),
        "{err}"
    );
    let files = invoke(&app, "get_offline_files", json!({})).unwrap();
    assert_eq!(files["budget_bytes"], 512 * mib, "{files}");
    let cleared = invoke(&app, "clear_offline_files", json!({})).unwrap();
    assert_eq!(cleared["files"], 0, "{cleared}");

    // Local mode: nothing to link to, and the reason says what to do instead.
    let err = invoke(
        &app,
        "share_material",
        json!({"id": "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d", "hours": 24}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "not_found", "{err}");
    let err = invoke(&app, "share_material", json!({"id": "x", "hours": 0})).unwrap_err();
    assert_eq!(err["kind"], "invalid_input", "{err}");
}
