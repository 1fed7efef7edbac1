//! The local store on real SQLite files: migrations, the analyses round trip, two processes on
//! one file, and files that must be refused without being touched.

use salesdesk_core::data::analyses::NewAnalysis;
use salesdesk_core::data::local::{LocalStore, latest_known_version};
use salesdesk_core::{CoreError, DataPaths, ErrorKind, Salesdesk};
use serde_json::json;

fn new_analysis(title: &str) -> NewAnalysis {
    NewAnalysis {
        title: title.into(),
        transcript: format!("Rep: about {title}\nCustomer: ok"),
        analysis: json!({"score": 50, "title": title}),
        provider: "offline".into(),
        model: Some("offline-v1".into()),
    }
}

#[tokio::test]
async fn migrations_apply_to_an_empty_file_and_set_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("new.sqlite3"))
        .await
        .unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        latest_known_version()
    );
    assert!(latest_known_version() >= 1);

    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(busy >= 1000, "busy_timeout is {busy} ms");
    store.close().await;

    // Opening again is a no-op for the schema.
    let again = LocalStore::open(&dir.path().join("new.sqlite3"))
        .await
        .unwrap();
    assert_eq!(
        again.schema_version().await.unwrap(),
        latest_known_version()
    );
}

#[tokio::test]
async fn insert_list_get_delete_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
    assert!(core.list_analyses().await.unwrap().is_empty());

    let first = core
        .save_analysis(new_analysis("First call"))
        .await
        .unwrap();
    let second = core
        .save_analysis(new_analysis("Second call"))
        .await
        .unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(
        uuid::Uuid::parse_str(&first.id).unwrap().get_version_num(),
        7
    );

    let list = core.list_analyses().await.unwrap();
    let titles: Vec<_> = list.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["Second call", "First call"], "newest first");

    let got = core.get_analysis(&first.id).await.unwrap();
    assert_eq!(got, first);
    assert_eq!(got.analysis["title"], "First call");

    core.delete_analysis(&first.id).await.unwrap();
    assert_eq!(core.list_analyses().await.unwrap().len(), 1);
    let err = core.get_analysis(&first.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // Deleting twice says it is gone rather than pretending to succeed.
    assert!(matches!(
        core.delete_analysis(&first.id).await,
        Err(CoreError::AnalysisNotFound { .. })
    ));

    core.restore_analysis(&first.id).await.unwrap();
    assert_eq!(core.list_analyses().await.unwrap().len(), 2);
    assert_eq!(core.health().await.counts.call_analyses, 2);
}

#[tokio::test]
async fn bad_ids_and_titles_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
    let err = core.get_analysis("../../etc/passwd").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not a valid analysis id"));

    let err = core.save_analysis(new_analysis("   ")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(core.list_analyses().await.unwrap().is_empty());
}

#[tokio::test]
async fn two_handles_on_one_file_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let a = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
    let b = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
    let saved = a.save_analysis(new_analysis("From A")).await.unwrap();
    assert_eq!(b.get_analysis(&saved.id).await.unwrap().title, "From A");
    let from_b = b.save_analysis(new_analysis("From B")).await.unwrap();
    assert_eq!(a.get_analysis(&from_b.id).await.unwrap().title, "From B");
}

#[test]
fn a_second_process_opening_the_same_file_works() {
    // A real second process: the `salesdesk` CLI is not a dependency here, so re-run this test
    // binary in "child" mode, which opens the store and writes a row.
    if let Ok(dir) = std::env::var("SALESDESK_STORE_CHILD_DIR") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let core = Salesdesk::open(DataPaths::at(dir)).await.unwrap();
            core.save_analysis(new_analysis("From the child process"))
                .await
                .unwrap();
            core.close().await;
        });
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let core = rt
        .block_on(Salesdesk::open(DataPaths::at(dir.path())))
        .unwrap();
    rt.block_on(core.save_analysis(new_analysis("From the parent")))
        .unwrap();

    // While the parent still holds the file open.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_second_process_opening_the_same_file_works"])
        .env("SALESDESK_STORE_CHILD_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&child.stdout)
    );

    let titles: Vec<String> = rt
        .block_on(core.list_analyses())
        .unwrap()
        .into_iter()
        .map(|a| a.title)
        .collect();
    assert_eq!(titles, ["From the child process", "From the parent"]);
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let paths = DataPaths::at(dir.path());
    for content in [
        b"This is my shopping list, not a database.\n".repeat(200),
        vec![0u8; 4096],
        {
            // A SQLite header followed by garbage: a corrupt database.
            let mut bytes = b"SQLite format 3\0".to_vec();
            bytes.extend(std::iter::repeat_n(0xA5u8, 8192));
            bytes
        },
    ] {
        std::fs::write(paths.store_file(), &content).unwrap();
        let err = Salesdesk::open(paths.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Store, "{err}");
        assert!(
            matches!(err, CoreError::StoreNotADatabase { .. }),
            "unexpected error: {err}"
        );
        assert!(err.to_string().contains("left untouched"));
        assert_eq!(std::fs::read(paths.store_file()).unwrap(), content);
    }
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let paths = DataPaths::at(dir.path());
    let core = Salesdesk::open(paths.clone()).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99999, 'from the future', 1, x'00', 0)",
    )
    .execute(core.store().pool())
    .await
    .unwrap();
    core.close().await;

    let err = Salesdesk::open(paths).await.unwrap_err();
    assert!(
        matches!(err, CoreError::StoreTooNew { found: 99999, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn an_unwritable_data_directory_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    // A data directory "inside" a regular file cannot be created, even as root.
    let err = Salesdesk::open(DataPaths::at(file.join("data")))
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::DataDir { .. }), "{err}");
    assert!(err.to_string().contains("SALESDESK_DATA_DIR"));
}
