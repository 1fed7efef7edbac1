//! The importer through the core: an edited export updates what changed and only that, a
//! record deleted here stays deleted, and stable ids tie a re-import to the first one.

use salesdesk_core::data::{campaigns, clients, materials};
use salesdesk_core::import::{import_bytes, stable_id};
use salesdesk_core::{DataPaths, Salesdesk};
use salesdesk_testkit::isolated::IsolatedEnv;
use serde_json::{Value, json};

const FIXTURE: &str = include_str!("../fixtures/browser-export-v1.json");

fn counts(report: &salesdesk_core::import::ImportReport, name: &str) -> [u32; 4] {
    let s = report.sections.iter().find(|s| s.section == name).unwrap();
    [s.added, s.updated, s.unchanged, s.skipped]
}

#[tokio::test]
async fn an_edited_export_updates_only_what_changed_and_deleted_records_stay_deleted() {
    let env = IsolatedEnv::new();
    let core = Salesdesk::open(DataPaths::at(env.data_dir()))
        .await
        .unwrap();
    let store = core.store();
    import_bytes(store, FIXTURE.as_bytes()).await.unwrap();

    let acme_id = stable_id("clients", Some("c-1001"), &Value::Null);
    assert_eq!(
        clients::get(store, &acme_id).await.unwrap().name,
        "Acme Corp"
    );

    let mut edited: Value = serde_json::from_str(FIXTURE).unwrap();
    edited["clients"][0]["name"] = json!("Acme Corporation Ltd");
    edited["campaigns"][1]["budget"] = json!(950);
    let mut tx = store.begin_write().await.unwrap();
    let globex = stable_id("clients", Some("1002"), &Value::Null);
    clients::delete(&mut tx, &globex).await.unwrap();
    tx.commit().await.unwrap();

    let report = import_bytes(store, edited.to_string().as_bytes())
        .await
        .unwrap();
    assert_eq!(counts(&report, "clients"), [0, 1, 0, 3]);
    assert_eq!(counts(&report, "campaigns"), [0, 1, 1, 0]);
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.old_id.as_deref() == Some("1002") && s.reason.contains("left deleted"))
    );
    // Globex's signup now points at a deleted client: skipped, not resurrected.
    assert_eq!(counts(&report, "signups"), [0, 0, 1, 2]);
    assert_eq!(
        clients::get(store, &acme_id).await.unwrap().name,
        "Acme Corporation Ltd"
    );
    assert!(clients::get(store, &globex).await.is_err());
    let webinar = stable_id("campaigns", Some("k-2"), &Value::Null);
    let c = campaigns::get(store, &webinar).await.unwrap();
    assert_eq!(c.budget.as_deref(), Some("950.00"));
    assert_eq!(c.status, campaigns::CampaignStatus::Ended);

    // Entries without an id get an id from their content: the same entry, the same id.
    let no_id = json!({"version": 1, "clients": [{"name": "Walk-in"}]}).to_string();
    let first = import_bytes(store, no_id.as_bytes()).await.unwrap();
    let again = import_bytes(store, no_id.as_bytes()).await.unwrap();
    assert_eq!(counts(&first, "clients"), [1, 0, 0, 0]);
    assert_eq!(counts(&again, "clients"), [0, 0, 1, 0]);

    // Duplicate ids in one file: the first wins, the others are reported.
    let dup = json!({"version": 1, "clients": [
        {"id": "d-1", "name": "First"}, {"id": "d-1", "name": "Second"}
    ]})
    .to_string();
    let report = import_bytes(store, dup.as_bytes()).await.unwrap();
    assert_eq!(counts(&report, "clients"), [1, 0, 0, 1]);
    assert!(report.skipped[0].reason.contains("duplicate id"));
    let d1 = stable_id("clients", Some("d-1"), &Value::Null);
    assert_eq!(clients::get(store, &d1).await.unwrap().name, "First");
    core.close().await;
}

/// Training materials go through the library's own rules (`data::materials`): an edited entry
/// updates, one deleted here stays deleted, and bad entries are skipped with a reason.
#[tokio::test]
async fn training_materials_import_through_the_library_rules() {
    let env = IsolatedEnv::new();
    let core = Salesdesk::open(DataPaths::at(env.data_dir()))
        .await
        .unwrap();
    let store = core.store();
    let export = |materials: Value| json!({"version": 1, "trainingMaterials": materials});
    let first = export(json!([
        {"id": "m-1", "title": "Playbook", "tags": ["objections", ""], "fileSize": 10,
         "mimeType": "application/pdf", "createdAt": "2025-01-02T03:04:05Z"},
        {"id": "m-2", "title": "Pricing sheet", "mimeType": "text/csv"},
    ]));
    let report = import_bytes(store, first.to_string().as_bytes())
        .await
        .unwrap();
    assert_eq!(counts(&report, "training_materials"), [2, 0, 0, 0]);
    let m1 = stable_id("training_materials", Some("m-1"), &Value::Null);
    let got = materials::get(store, &m1).await.unwrap();
    assert_eq!(got.tags, vec!["objections"]);
    assert_eq!(got.file_size, Some(10));
    assert_eq!(got.kind, materials::MaterialKind::Pdf);
    assert_eq!(got.created_at, "2025-01-02T03:04:05.000Z");

    let m2 = stable_id("training_materials", Some("m-2"), &Value::Null);
    let mut tx = store.begin_write().await.unwrap();
    materials::soft_delete(&mut tx, &m2).await.unwrap();
    tx.commit().await.unwrap();

    let edited = export(json!([
        {"id": "m-1", "title": "Playbook v2", "tags": ["objections"], "fileSize": 10,
         "mimeType": "application/pdf", "createdAt": "2025-01-02T03:04:05Z"},
        {"id": "m-2", "title": "Pricing sheet (new)", "mimeType": "text/csv"},
        {"id": "m-3", "title": "Odd size", "fileSize": -4},
        {"id": "m-4", "title": "Many tags", "tags": (0..=materials::MAX_TAGS)
            .map(|i| format!("t{i}")).collect::<Vec<_>>()},
    ]));
    let report = import_bytes(store, edited.to_string().as_bytes())
        .await
        .unwrap();
    assert_eq!(counts(&report, "training_materials"), [0, 1, 0, 3]);
    let reasons: Vec<&str> = report.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert!(reasons[0].contains("left deleted"), "{reasons:?}");
    assert!(reasons[1].contains("whole number of bytes"), "{reasons:?}");
    assert!(reasons[2].contains("at most 20"), "{reasons:?}");
    assert_eq!(
        materials::get(store, &m1).await.unwrap().title,
        "Playbook v2"
    );
    assert!(materials::get(store, &m2).await.is_err());
    let m3 = stable_id("training_materials", Some("m-3"), &Value::Null);
    assert!(
        materials::get(store, &m3).await.is_err(),
        "skipped, not written"
    );
    core.close().await;
}
