//! No key ever appears in a log line (any level, any target), in an attempt log, in an error
//! message or in the health JSON, whatever the providers answer, including OpenAI's 401 that
//! echoes a masked form of the key it was given.

use std::time::Duration;

use salesdesk_core::ai::ProviderId;
use salesdesk_testkit::fakes::{Fault, RetryHint};
use salesdesk_testkit::harness::{ALL_KEYS, Harness, request};
use salesdesk_testkit::logs::CapturedLogs;

fn assert_clean(what: &str, text: &str) {
    for key in ALL_KEYS {
        assert!(!text.contains(key), "{what} contains a key");
        // Any fragment long enough to identify the key, and OpenAI's masked echo.
        assert!(!text.contains(&key[..12]), "{what} contains a key prefix");
        assert!(
            !text.contains(&key[key.len() - 10..]),
            "{what} contains a key suffix"
        );
    }
    assert!(!text.contains("SECRET"), "{what} contains part of a key");
    assert!(!text.contains("sk-p*"), "{what} contains a masked key echo");
}

#[tokio::test]
async fn keys_never_reach_logs_errors_or_health() {
    let logs = CapturedLogs::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());

    let h = Harness::new().await;
    let mut shown = String::new();

    // Successful calls, streamed and not.
    for stream in [false, true] {
        let reply = h.chain.run(&request("ok", stream)).await.expect("answer");
        shown.push_str(&serde_json::to_string(&reply.attempts).expect("json"));
    }
    // Every kind of failure.
    h.gemini.script([
        Fault::Status(429, RetryHint::RetryInfo(Duration::from_millis(10))),
        Fault::StreamErrorFrame,
        Fault::TruncatedBody,
    ]);
    h.openai.script([
        Fault::Status(503, RetryHint::Millis(5)),
        Fault::InvalidJson,
        Fault::SchemaInvalid,
    ]);
    h.anthropic
        .script([Fault::Status(529, RetryHint::Seconds(0)), Fault::Reset]);
    for i in 0..3 {
        match h
            .chain
            .run(&request(&format!("faults {i}"), i % 2 == 1))
            .await
        {
            Ok(reply) => shown.push_str(&serde_json::to_string(&reply.attempts).expect("json")),
            Err(e) => {
                shown.push_str(&e.to_string());
                shown.push_str(&serde_json::to_string(e.attempts()).expect("json"));
            }
        }
    }
    // Every provider refuses the key: OpenAI echoes a masked copy of it.
    for p in ProviderId::ALL {
        h.server(p).set_key("the-server-wants-another-key");
    }
    let err = h
        .chain
        .run(&request("refused", false))
        .await
        .expect_err("all refused");
    let core_error: salesdesk_core::CoreError = err.into();
    shown.push_str(&core_error.to_string());
    shown.push_str(&format!("{core_error:?}"));
    let err = h
        .chain
        .run(&request("refused again", false))
        .await
        .expect_err("misconfigured");
    shown.push_str(&serde_json::to_string(err.attempts()).expect("json"));
    let report = h.chain.probe_providers(true).await;
    shown.push_str(&serde_json::to_string(&report).expect("json"));
    h.chain.flush().await;

    // The fakes did receive the keys (the test would prove nothing otherwise)...
    assert!(h.openai.requests().iter().any(|r| {
        r.header("authorization")
            .is_some_and(|a| a.contains(ALL_KEYS[1]))
    }));
    // ...and the 401 text the user sees came from a body that held the masked key.
    assert!(shown.contains("misconfigured"));

    let captured = logs.text();
    assert!(
        captured.contains("AI attempt failed"),
        "the logs were captured"
    );
    assert_clean("the logs", &captured);
    assert_clean("what the UI is shown", &shown);

    // Nothing saved in the local store (the database file and its WAL) holds a key either.
    let mut saved = String::new();
    for entry in std::fs::read_dir(h.dir.path()).expect("data dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).unwrap_or_default();
        saved.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(saved.contains("ai_provider_state"), "the store was read");
    assert_clean("the local store", &saved);
}
