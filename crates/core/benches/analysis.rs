//! Speed of the analysis path: parsing and analyzing a generated two-hour, 20,000-word
//! two-speaker call in every format (target: under 20 ms each in release builds), and FTS
//! search over 10,000 saved analyses (target: under 20 ms).
//!
//! Run with `cargo bench -p salesdesk-core --bench analysis`.

#[path = "../tests/support/render.rs"]
mod render;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use salesdesk_core::analysis::{AnalyzeOptions, analyze_offline};
use salesdesk_core::data::analyses::{self, NewAnalysis, SearchQuery};
use salesdesk_core::{DataPaths, Salesdesk};

fn analyze(c: &mut Criterion) {
    let turns = render::generated_call(20_000, 2 * 3600);
    let options = AnalyzeOptions {
        competitors: vec!["Globex".into(), "Initech".into()],
        ..AnalyzeOptions::default()
    };
    let mut group = c.benchmark_group("analyze_2h_20k_words");
    for (name, text) in [
        ("plain", render::plain(&turns)),
        ("webvtt", render::vtt(&turns)),
        ("srt", render::srt(&turns)),
        ("json", render::json(&turns)),
        ("diarized_json", render::diarized_json(&turns)),
    ] {
        let run = analyze_offline(text.as_bytes(), &options).unwrap();
        assert_eq!(run.metrics.word_count, 20_000, "{name}");
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| analyze_offline(black_box(text.as_bytes()), &options).unwrap())
        });
    }
    group.finish();
}

const SAVED: u64 = 10_000;

fn search(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = rt.block_on(async {
        let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
        let mut tx = core.store().begin_write().await.unwrap();
        for i in 0..SAVED {
            // About 300 words a call; one call in a hundred mentions a rare competitor.
            let mut transcript = render::plain(&render::generated_call_seeded(300, 120, i));
            if i % 100 == 0 {
                transcript.push_str("Bob Buyer: We also talk to Zyxcorp.\n");
            }
            analyses::insert(
                &mut tx,
                NewAnalysis {
                    title: format!("Call {i} with customer {}", i % 797),
                    transcript,
                    analysis: serde_json::json!({ "score": i % 101 }),
                    provider: "offline".into(),
                    model: Some("offline-v1".into()),
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        core
    });
    let query =
        |text: Option<&str>, min: Option<u32>, max: Option<u32>, limit: Option<u32>| SearchQuery {
            text: text.map(str::to_owned),
            min_score: min,
            max_score: max,
            limit,
            ..SearchQuery::default()
        };
    let cases = [
        ("rare_word", query(Some("zyxcorp"), None, None, None)),
        ("title_words", query(Some("customer 42"), None, None, None)),
        (
            "two_common_words_limit_50",
            query(Some("renewal budget"), None, None, Some(50)),
        ),
        (
            "common_word_all_rows",
            query(Some("renewal"), None, None, None),
        ),
        // What the app's Analyses page asks for: the newest 500 matches.
        (
            "common_word_limit_500",
            query(Some("renewal"), None, None, Some(500)),
        ),
        (
            "prefix_and_score",
            query(Some("integ*"), Some(90), None, Some(50)),
        ),
        ("score_range_only", query(None, Some(40), Some(45), None)),
    ];
    let mut group = c.benchmark_group("search_10k_analyses");
    for (name, q) in cases {
        let n = rt.block_on(core.search_analyses(q.clone())).unwrap().len();
        println!("{name}: {n} results");
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(core.search_analyses(black_box(q.clone())))
                    .unwrap()
            })
        });
    }
    group.finish();
    rt.block_on(core.close());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = analyze, search
}
criterion_main!(benches);
