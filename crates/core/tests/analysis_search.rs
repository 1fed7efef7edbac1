//! Search of saved analyses: FTS5 over title and transcript, date and score filters, safe
//! handling of any user text, and the migration's backfill of rows saved before it.

use proptest::prelude::*;
use salesdesk_core::analysis::AnalyzeOptions;
use salesdesk_core::data::analyses::{self, NewAnalysis, SearchQuery, fts_query};
use salesdesk_core::{DataPaths, ErrorKind, Salesdesk};

async fn open(dir: &tempfile::TempDir) -> Salesdesk {
    Salesdesk::open(DataPaths::at(dir.path())).await.unwrap()
}

async fn save(core: &Salesdesk, title: &str, transcript: &str, score: Option<u8>) -> String {
    let analysis = match score {
        Some(s) => serde_json::json!({ "score": s }),
        None => serde_json::json!({ "summary": "no score" }),
    };
    core.save_analysis(NewAnalysis {
        title: title.into(),
        transcript: transcript.into(),
        analysis,
        provider: "offline".into(),
        model: None,
    })
    .await
    .unwrap()
    .id
}

fn text(t: &str) -> SearchQuery {
    SearchQuery {
        text: Some(t.into()),
        ..SearchQuery::default()
    }
}

async fn titles(core: &Salesdesk, q: SearchQuery) -> Vec<String> {
    let mut t: Vec<String> = core
        .search_analyses(q)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.title)
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn text_date_and_score_filters() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(&dir).await;
    save(
        &core,
        "Acme discovery",
        "Alice: What is your budget?",
        Some(80),
    )
    .await;
    save(
        &core,
        "Globex renewal",
        "Bob: We use Zendesk for tickets.",
        Some(45),
    )
    .await;
    let unscored = save(
        &core,
        "Initech demo",
        "Carol: The pricing is per seat.",
        None,
    )
    .await;

    assert_eq!(titles(&core, text("acme")).await, ["Acme discovery"]);
    assert_eq!(titles(&core, text("zendesk")).await, ["Globex renewal"]);
    // Every word must match, in any column; diacritics and case are ignored.
    assert_eq!(
        titles(&core, text("ZÉNDESK tickets")).await,
        ["Globex renewal"]
    );
    assert!(titles(&core, text("zendesk budget")).await.is_empty());
    // A trailing * is a prefix search.
    assert_eq!(titles(&core, text("pric*")).await, ["Initech demo"]);

    let scores = |min, max| SearchQuery {
        min_score: min,
        max_score: max,
        ..SearchQuery::default()
    };
    assert_eq!(
        titles(&core, scores(Some(50), None)).await,
        ["Acme discovery"]
    );
    assert_eq!(
        titles(&core, scores(None, Some(50))).await,
        ["Globex renewal"]
    );
    assert_eq!(titles(&core, scores(Some(45), Some(80))).await.len(), 2);
    let summary = core.search_analyses(text("initech")).await.unwrap();
    assert_eq!(summary[0].score, None);
    assert_eq!(summary[0].id, unscored);
    assert_eq!(
        core.search_analyses(text("acme")).await.unwrap()[0].score,
        Some(80)
    );

    let today = chrono::Utc::now().date_naive();
    let dates = |since: Option<String>, until: Option<String>| SearchQuery {
        since,
        until,
        ..SearchQuery::default()
    };
    let day = |d: chrono::NaiveDate| Some(d.format("%Y-%m-%d").to_string());
    assert_eq!(titles(&core, dates(day(today), day(today))).await.len(), 3);
    assert!(
        titles(&core, dates(day(today.succ_opt().unwrap()), None))
            .await
            .is_empty()
    );
    assert!(
        titles(&core, dates(None, day(today.pred_opt().unwrap())))
            .await
            .is_empty()
    );
    let rfc = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(titles(&core, dates(Some(rfc), None)).await.len(), 3);

    // Combined: text and score.
    let q = SearchQuery {
        text: Some("per seat".into()),
        min_score: Some(1),
        ..SearchQuery::default()
    };
    assert!(titles(&core, q).await.is_empty());
    core.close().await;
}

#[tokio::test]
async fn deleted_rows_leave_results_and_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(&dir).await;
    let id = save(&core, "Umbrella call", "Dana: We need approval.", Some(70)).await;
    core.delete_analysis(&id).await.unwrap();
    assert!(titles(&core, text("umbrella")).await.is_empty());
    core.restore_analysis(&id).await.unwrap();
    assert_eq!(titles(&core, text("umbrella")).await, ["Umbrella call"]);
    core.close().await;
}

#[tokio::test]
async fn index_follows_updates_and_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(&dir).await;
    let id = save(&core, "Old title", "Eve: hello", Some(10)).await;
    // A writer that changes the title and the analysis (the sync engine will): the trigger
    // re-indexes and the score column follows the JSON.
    sqlx::query(
        "UPDATE call_analyses SET title = 'Fresh name', analysis = '{\"score\": 99}' WHERE id = ?",
    )
    .bind(&id)
    .execute(core.store().pool())
    .await
    .unwrap();
    assert!(titles(&core, text("old")).await.is_empty());
    let found = core.search_analyses(text("fresh")).await.unwrap();
    assert_eq!(found[0].score, Some(99));
    let mut tx = core.store().begin_write().await.unwrap();
    analyses::rebuild_search_index(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(titles(&core, text("fresh")).await, ["Fresh name"]);
    core.close().await;
}

#[tokio::test]
async fn bad_filters_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(&dir).await;
    for (q, says) in [
        (
            SearchQuery {
                since: Some("last tuesday".into()),
                ..SearchQuery::default()
            },
            "is not a date",
        ),
        (
            SearchQuery {
                since: Some("2025-02-01".into()),
                until: Some("2025-01-01".into()),
                ..SearchQuery::default()
            },
            "date range is empty",
        ),
        (
            SearchQuery {
                min_score: Some(90),
                max_score: Some(10),
                ..SearchQuery::default()
            },
            "score range is empty",
        ),
        (
            SearchQuery {
                min_score: Some(101),
                ..SearchQuery::default()
            },
            "between 0 and 100",
        ),
    ] {
        let e = core.search_analyses(q).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains(says), "{e}");
    }
    core.close().await;
}

#[tokio::test]
async fn analyze_transcript_saves_a_searchable_scored_record() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(&dir).await;
    let fixture = format!("{}/tests/fixtures/renewal.vtt", env!("CARGO_MANIFEST_DIR"));
    let record = core
        .analyze_transcript_file(std::path::Path::new(&fixture), AnalyzeOptions::default())
        .await
        .unwrap();
    assert_eq!(record.title, "renewal.vtt");
    assert_eq!(record.provider, "offline");
    assert_eq!(record.model.as_deref(), Some("offline-v1"));
    assert!(record.transcript.contains("<v Dana>"));
    let score = record.analysis["score"].as_i64().unwrap();
    let found = core.search_analyses(text("renewals clunky")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, record.id);
    assert_eq!(found[0].score.map(i64::from), Some(score));
    core.close().await;
}

#[tokio::test]
async fn migration_backfills_rows_saved_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("salesdesk.db");
    // A store at schema version 1, written by the previous release.
    let only_first = dir.path().join("migrations");
    std::fs::create_dir(&only_first).unwrap();
    let src = format!("{}/../../migrations/local", env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        format!("{src}/0001_call_analyses.sql"),
        only_first.join("0001_call_analyses.sql"),
    )
    .unwrap();
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&db)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        sqlx::migrate::Migrator::new(only_first.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO call_analyses VALUES ('0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d', 'Legacy call', \
             '2024-05-01T10:00:00.000Z', '2024-05-01T10:00:00.000Z', NULL, 'Frank: old words', \
             '{\"score\": 64}', 'offline', NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let store = salesdesk_core::data::local::LocalStore::open(&db)
        .await
        .unwrap();
    assert!(store.schema_version().await.unwrap() >= 2);
    let found = analyses::search(&store, &text("legacy words"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].score, Some(64));
    let q = SearchQuery {
        since: Some("2024-05-01".into()),
        until: Some("2024-05-01".into()),
        ..SearchQuery::default()
    };
    assert_eq!(analyses::search(&store, &q).await.unwrap().len(), 1);
    store.close().await;
}

#[test]
fn fts_query_quotes_every_term() {
    assert_eq!(
        fts_query("price AND NOT \"x"),
        Some("\"price\" \"AND\" \"NOT\" \"x\"".into())
    );
    assert_eq!(fts_query("pric*"), Some("\"pric\"*".into()));
    assert_eq!(fts_query(" ( ) * : ^ "), None);
    // Words are cut like the index cuts them: no phrases (the index keeps no positions).
    assert_eq!(
        fts_query("follow-up e-mail"),
        Some("\"follow\" \"up\" \"e\" \"mail\"".into())
    );
}

#[tokio::test]
async fn a_word_the_index_cuts_differently_is_still_found() {
    // U+A7C0 is a letter to Rust's Unicode tables but newer than SQLite's tokenizer tables;
    // whichever way the index treats it, the search must not fail and must find the row.
    let dir = tempfile::tempdir().unwrap();
    let core = open(&dir).await;
    let word = "zq\u{A7C0}wx";
    core.save_analysis(NewAnalysis {
        title: "Odd letters".into(),
        transcript: format!("Rep: say {word} please\nCustomer: ok"),
        analysis: serde_json::json!({"score": 50}),
        provider: "offline".into(),
        model: None,
    })
    .await
    .unwrap();
    let q = SearchQuery {
        text: Some(word.into()),
        ..SearchQuery::default()
    };
    let found = core.search_analyses(q).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].title, "Odd letters");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// No user text can make a search fail.
    #[test]
    fn any_search_text_is_safe(query in any::<String>(), words in "[a-z\"*():^{}+\\-]{0,12}( [A-Z\"*]{0,5}){0,3}") {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let core = open(&dir).await;
            save(&core, "Title", "Alice: a transcript NEAR words AND more", Some(50)).await;
            for q in [&query, &words] {
                let r = core.search_analyses(text(q)).await;
                prop_assert!(r.is_ok(), "{q:?}: {:?}", r.err());
            }
            core.close().await;
            Ok(())
        })?;
    }
}
