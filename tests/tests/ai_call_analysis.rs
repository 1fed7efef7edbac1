//! AI call analysis end to end over the fakes: the judgement on top of the exact metrics, the
//! cache, the offline last resort, schema-invalid answers never shown, long transcripts.

use std::sync::Arc;

use salesdesk_core::ai::ProviderId;
use salesdesk_core::ai::call_analysis::{AnalysisInput, CallAnalyzer};
use salesdesk_core::analysis::report::ServedFrom;
use salesdesk_testkit::fakes::Fault;
use salesdesk_testkit::harness::{Harness, offline};
use serde_json::{Value, json};

fn metrics() -> Value {
    json!({"rep_talk_share": 0.62, "turns": 24, "duration_seconds": 1310})
}

fn input(transcript: &str) -> AnalysisInput {
    AnalysisInput {
        transcript: transcript.to_owned(),
        metrics: metrics(),
        refresh: false,
    }
}

const CALL: &str = "Rep: Thanks for taking the call.\nProspect: Sure. What does it cost?\nRep: 40 a seat.\nProspect: That's more than we pay now.\n";

#[tokio::test]
async fn the_ai_judges_on_top_of_the_exact_metrics() {
    let h = Harness::new().await;
    let analyzer = CallAnalyzer::new(h.chain.clone(), Arc::new(offline));
    let a = analyzer.analyze(&input(CALL)).await.expect("analysis");
    assert_eq!(a.served_from, ServedFrom::Live);
    assert_eq!(a.provider, "gemini");
    assert_eq!(a.metrics, metrics(), "metrics are ours, never the model's");
    assert_eq!(a.score, 74);
    assert_eq!(a.objections[0].turn_index, Some(7));
    assert_eq!(
        a.objections[0].handling.as_deref(),
        Some("Reframed on time saved; adequate.")
    );
    // A metric the metrics do not have is dropped; a real one is kept.
    assert_eq!(
        a.strengths[0].metric, None,
        "questions_asked is not a metric here"
    );
    assert_eq!(a.improvements[0].metric.as_deref(), Some("rep_talk_share"));
    assert_eq!(a.attempts.len(), 1);
    // The prompt carried the metrics and the transcript.
    let body = h.gemini.requests()[0].body.to_string();
    assert!(body.contains("rep_talk_share") && body.contains("more than we pay"));
    assert!(body.contains("Do not compute"));

    // The same call again: from the cache, marked, with when.
    h.chain.flush().await;
    let again = analyzer.analyze(&input(CALL)).await.expect("analysis");
    assert_eq!(again.served_from, ServedFrom::Cache);
    assert!(again.cached_at.is_some());
    assert!(
        again
            .notes
            .iter()
            .any(|n| n.contains("served from the cache"))
    );
    assert_eq!(h.gemini.generate_count(), 1);
}

#[tokio::test]
async fn schema_invalid_answers_are_never_shown() {
    let h = Harness::new().await;
    for p in ProviderId::ALL {
        h.server(p).set_policy(|_| Fault::SchemaInvalid);
    }
    let analyzer = CallAnalyzer::new(h.chain.clone(), Arc::new(offline));
    let a = analyzer
        .analyze(&input(CALL))
        .await
        .expect("offline analysis");
    assert_eq!(a.served_from, ServedFrom::Offline);
    assert_eq!(a.provider, "offline");
    assert_eq!(a.summary, "offline");
    assert_eq!(a.attempts.len(), 9, "three attempts on each provider");
    assert!(a.attempts.iter().all(|t| t.outcome == "schema_invalid"));
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("every AI provider failed"))
    );
}

#[tokio::test]
async fn out_of_range_score_is_schema_invalid() {
    let h =
        Harness::with(|s| s.routes.call_analysis = vec![ProviderId::OpenAi, ProviderId::Anthropic])
            .await;
    let mut bad = salesdesk_testkit::fakes::sample_judgement();
    bad["score"] = json!(140);
    h.openai.set_output(bad);
    let analyzer = CallAnalyzer::new(h.chain.clone(), Arc::new(offline));
    let a = analyzer.analyze(&input(CALL)).await.expect("analysis");
    assert_eq!(a.provider, "anthropic");
    assert_eq!(
        a.attempts
            .iter()
            .filter(|t| t.outcome == "schema_invalid")
            .count(),
        3
    );
}

#[tokio::test]
async fn no_provider_configured_is_offline_and_says_so() {
    let h = Harness::new().await;
    for p in ProviderId::ALL {
        h.keys.remove(p);
    }
    let analyzer = CallAnalyzer::new(h.chain.clone(), Arc::new(offline));
    let a = analyzer
        .analyze(&input(CALL))
        .await
        .expect("offline analysis");
    assert_eq!(a.served_from, ServedFrom::Offline);
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("no AI provider is set up"))
    );
    assert!(
        analyzer.analyze(&input("  \n")).await.is_err(),
        "empty transcript is refused"
    );
}

#[tokio::test]
async fn long_transcripts_are_split_and_merged() {
    let h = Harness::with(|s| s.max_input_chars = 1_000).await;
    let line = "Rep: here is a fairly ordinary sentence about the product and its price.\n";
    let transcript = line.repeat(35);
    assert!(transcript.len() > 2_000);
    let analyzer = CallAnalyzer::new(h.chain.clone(), Arc::new(offline));
    let a = analyzer
        .analyze(&input(&transcript))
        .await
        .expect("analysis");
    assert_eq!(h.gemini.generate_count(), 3);
    assert!(a.notes.iter().any(|n| n.contains("3 parts")));
    assert!(a.summary.starts_with("Part 1/3: "));
    assert_eq!(a.score, 74);
    assert_eq!(a.strengths.len(), 1, "duplicates merged");
    assert!(a.objections.iter().all(|o| o.turn_index.is_none()));
    for r in h.gemini.requests() {
        let text = r.body["contents"][0]["parts"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(text.contains("part "), "each part says which it is");
    }
}
