//! The AI chain against the wire-faithful fakes: every failure class, every retry hint,
//! breaker transitions and their persistence, deadlines, the cache, misconfigured keys,
//! retired models, and that no key ever reaches a log line or an error.

use std::time::Duration;

use salesdesk_core::ai::ProviderId;
use salesdesk_core::ai::breaker::BreakerState;
use salesdesk_core::ai::chain::ChainError;
use salesdesk_core::analysis::report::{Attempt, ServedFrom};
use salesdesk_core::secrets::SecretString;
use salesdesk_testkit::fakes::{FakeModel, Fault, RetryHint};
use salesdesk_testkit::harness::{ANTHROPIC_KEY, GEMINI_KEY, Harness, OPENAI_KEY, request};
use serde_json::Value;

fn outcomes(attempts: &[Attempt]) -> Vec<String> {
    attempts
        .iter()
        .map(|a| format!("{}:{}", a.provider, a.outcome))
        .collect()
}

fn only(p: ProviderId) -> impl FnOnce(&mut salesdesk_core::ai::AiSettings) {
    move |s| s.routes.call_analysis = vec![p]
}

#[tokio::test]
async fn each_provider_alone_answers_with_its_wire_format() {
    for stream in [false, true] {
        for p in ProviderId::ALL {
            let h = Harness::with(only(p)).await;
            let reply = h
                .chain
                .run(&request("hello", stream))
                .await
                .expect("answer");
            assert_eq!(reply.provider, p);
            assert_eq!(reply.served_from, ServedFrom::Live);
            assert_eq!(reply.output["score"], 74, "{p} stream={stream}");
            assert_eq!(
                outcomes(&reply.attempts),
                vec![format!("{}:ok", p.as_str())]
            );
            let reqs = h.server(p).requests();
            assert_eq!(reqs.len(), 1, "{p}");
            let r = &reqs[0];
            match p {
                ProviderId::Gemini => {
                    let path = if stream {
                        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
                    } else {
                        "/v1beta/models/gemini-2.5-flash:generateContent"
                    };
                    assert_eq!(r.path_and_query, path);
                    assert_eq!(r.header("x-goog-api-key"), Some(GEMINI_KEY));
                    assert!(
                        !r.path_and_query.contains("key="),
                        "key must not be in the URL"
                    );
                    assert_eq!(
                        r.body["generationConfig"]["responseMimeType"],
                        "application/json"
                    );
                    assert!(r.body["generationConfig"]["responseJsonSchema"].is_object());
                }
                ProviderId::OpenAi => {
                    assert_eq!(r.path_and_query, "/v1/chat/completions");
                    assert_eq!(
                        r.header("authorization"),
                        Some(format!("Bearer {OPENAI_KEY}").as_str())
                    );
                    assert_eq!(r.body["response_format"]["type"], "json_schema");
                    assert_eq!(r.body["response_format"]["json_schema"]["strict"], true);
                    assert_eq!(r.body.get("stream") == Some(&Value::Bool(true)), stream);
                }
                ProviderId::Anthropic => {
                    assert_eq!(r.path_and_query, "/v1/messages");
                    assert_eq!(r.header("x-api-key"), Some(ANTHROPIC_KEY));
                    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
                    assert_eq!(r.body["tool_choice"]["name"], "call_analysis");
                    assert_eq!(r.body.get("stream") == Some(&Value::Bool(true)), stream);
                }
            }
        }
    }
}

#[tokio::test]
async fn falls_over_in_order() {
    let h = Harness::new().await;
    h.gemini.set_policy(|_| Fault::Status(503, RetryHint::None));
    h.openai.set_policy(|_| Fault::Status(500, RetryHint::None));
    let reply = h
        .chain
        .run(&request("x", false))
        .await
        .expect("anthropic answers");
    assert_eq!(reply.provider, ProviderId::Anthropic);
    assert_eq!(
        outcomes(&reply.attempts),
        vec![
            "gemini:retryable_error",
            "gemini:retryable_error",
            "gemini:retryable_error",
            "openai:retryable_error",
            "openai:retryable_error",
            "openai:retryable_error",
            "anthropic:ok"
        ]
    );
    assert_eq!(reply.attempts[0].status, Some(503));
    // Backoff with full jitter (drawn as 1.0 here): base 100 ms, doubling.
    assert_eq!(
        h.clock.sleeps(),
        vec![
            Duration::from_millis(100),
            Duration::from_millis(200),
            Duration::from_millis(100),
            Duration::from_millis(200)
        ]
    );
}

/// Each retryable fault fails the first attempt; the retry on the same provider succeeds.
#[tokio::test]
async fn retryable_faults_are_retried_on_the_same_provider() {
    let cases: Vec<(ProviderId, bool, Fault, &str)> = vec![
        (
            ProviderId::Gemini,
            false,
            Fault::Status(500, RetryHint::None),
            "retryable_error",
        ),
        (
            ProviderId::Gemini,
            false,
            Fault::Status(503, RetryHint::None),
            "retryable_error",
        ),
        (
            ProviderId::OpenAi,
            false,
            Fault::Status(502, RetryHint::None),
            "retryable_error",
        ),
        (
            ProviderId::OpenAi,
            false,
            Fault::Status(504, RetryHint::None),
            "retryable_error",
        ),
        (
            ProviderId::OpenAi,
            false,
            Fault::Status(408, RetryHint::None),
            "retryable_error",
        ),
        (
            ProviderId::Anthropic,
            false,
            Fault::Status(409, RetryHint::None),
            "retryable_error",
        ),
        (
            ProviderId::Anthropic,
            false,
            Fault::Status(429, RetryHint::None),
            "retryable_error",
        ),
        (
            ProviderId::Anthropic,
            false,
            Fault::Status(529, RetryHint::None),
            "retryable_error",
        ),
        (ProviderId::Gemini, false, Fault::Reset, "retryable_error"),
        (ProviderId::OpenAi, false, Fault::Reset, "retryable_error"),
        (
            ProviderId::Gemini,
            false,
            Fault::TruncatedBody,
            "malformed_response",
        ),
        (
            ProviderId::Anthropic,
            false,
            Fault::TruncatedBody,
            "malformed_response",
        ),
        (
            ProviderId::OpenAi,
            false,
            Fault::InvalidJson,
            "malformed_response",
        ),
        (
            ProviderId::Gemini,
            false,
            Fault::SchemaInvalid,
            "schema_invalid",
        ),
        (
            ProviderId::OpenAi,
            false,
            Fault::SchemaInvalid,
            "schema_invalid",
        ),
        (
            ProviderId::Anthropic,
            false,
            Fault::SchemaInvalid,
            "schema_invalid",
        ),
        (
            ProviderId::Gemini,
            false,
            Fault::NotJsonOutput,
            "schema_invalid",
        ),
        (
            ProviderId::OpenAi,
            false,
            Fault::NotJsonOutput,
            "schema_invalid",
        ),
        (
            ProviderId::Anthropic,
            false,
            Fault::NotJsonOutput,
            "schema_invalid",
        ),
        (ProviderId::Gemini, true, Fault::StreamCut, "stream_error"),
        (ProviderId::OpenAi, true, Fault::StreamCut, "stream_error"),
        (
            ProviderId::Anthropic,
            true,
            Fault::StreamCut,
            "stream_error",
        ),
        (
            ProviderId::Gemini,
            true,
            Fault::StreamErrorFrame,
            "stream_error",
        ),
        (
            ProviderId::OpenAi,
            true,
            Fault::StreamErrorFrame,
            "stream_error",
        ),
        (
            ProviderId::Anthropic,
            true,
            Fault::StreamErrorFrame,
            "stream_error",
        ),
        (
            ProviderId::Gemini,
            true,
            Fault::TruncatedBody,
            "stream_error",
        ),
        (
            ProviderId::OpenAi,
            true,
            Fault::InvalidJson,
            "malformed_response",
        ),
        (ProviderId::Anthropic, true, Fault::Hang, "timeout"),
        (ProviderId::Gemini, false, Fault::Hang, "timeout"),
    ];
    for (p, stream, fault, outcome) in cases {
        let h = Harness::with(only(p)).await;
        h.server(p).script([fault.clone()]);
        let reply = h
            .chain
            .run(&request("x", stream))
            .await
            .unwrap_or_else(|e| panic!("{p} {fault:?}: {e}"));
        assert_eq!(reply.provider, p);
        assert_eq!(
            outcomes(&reply.attempts),
            vec![
                format!("{}:{outcome}", p.as_str()),
                format!("{}:ok", p.as_str())
            ],
            "{p} stream={stream} {fault:?}"
        );
        assert_eq!(h.server(p).generate_count(), 2);
    }
}

/// Not retryable on that provider: the next provider gets the request at once.
#[tokio::test]
async fn non_retryable_failures_move_to_the_next_provider() {
    for (fault, outcome) in [
        (Fault::Status(400, RetryHint::None), "fatal_error"),
        (Fault::Status(401, RetryHint::None), "misconfigured"),
        (Fault::Status(403, RetryHint::None), "misconfigured"),
        (Fault::Status(404, RetryHint::None), "model_not_found"),
        (Fault::QuotaExhausted, "quota_exhausted"),
    ] {
        for first in ProviderId::ALL {
            let second = if first == ProviderId::Gemini {
                ProviderId::OpenAi
            } else {
                ProviderId::Gemini
            };
            let h = Harness::with(|s| s.routes.call_analysis = vec![first, second]).await;
            h.server(first).script([fault.clone()]);
            let reply = h
                .chain
                .run(&request("x", false))
                .await
                .expect("second answers");
            assert_eq!(reply.provider, second, "{first} {fault:?}");
            assert_eq!(
                outcomes(&reply.attempts),
                vec![
                    format!("{}:{outcome}", first.as_str()),
                    format!("{}:ok", second.as_str())
                ],
                "{first} {fault:?}"
            );
            assert_eq!(h.server(first).generate_count(), 1);
            assert!(h.clock.sleeps().is_empty(), "no backoff before moving on");
        }
    }
}

#[tokio::test]
async fn every_retry_hint_form_is_honoured() {
    let cases = [
        (ProviderId::OpenAi, RetryHint::Seconds(2), 2_000),
        (ProviderId::Anthropic, RetryHint::Millis(1_500), 1_500),
        (
            ProviderId::Gemini,
            RetryHint::RetryInfo(Duration::from_millis(4_250)),
            4_250,
        ),
    ];
    for (p, hint, ms) in cases {
        let h = Harness::with(only(p)).await;
        h.server(p).script([Fault::Status(429, hint.clone())]);
        let reply = h.chain.run(&request("x", false)).await.expect("answer");
        assert_eq!(reply.provider, p);
        assert_eq!(
            h.clock.sleeps(),
            vec![Duration::from_millis(ms)],
            "{p} {hint:?}"
        );
    }
    // An HTTP date: the wait is the time until then (whole seconds; the fake adds one).
    let h = Harness::with(only(ProviderId::OpenAi)).await;
    h.openai.script([Fault::Status(
        503,
        RetryHint::HttpDate(Duration::from_secs(3)),
    )]);
    h.chain.run(&request("x", false)).await.expect("answer");
    let slept = h.clock.sleeps();
    assert_eq!(slept.len(), 1);
    assert!(
        slept[0] >= Duration::from_secs(2) && slept[0] <= Duration::from_secs(5),
        "{slept:?}"
    );
}

#[tokio::test]
async fn hints_are_recomputed_from_each_new_error() {
    let h = Harness::with(only(ProviderId::OpenAi)).await;
    h.openai.script([
        Fault::Status(429, RetryHint::Seconds(3)),
        Fault::Status(503, RetryHint::Millis(700)),
    ]);
    h.chain.run(&request("x", false)).await.expect("answer");
    assert_eq!(
        h.clock.sleeps(),
        vec![Duration::from_secs(3), Duration::from_millis(700)]
    );
}

#[tokio::test]
async fn a_hint_longer_than_the_chain_waits_moves_on_and_opens_the_breaker() {
    let h = Harness::new().await;
    h.gemini
        .script([Fault::Status(429, RetryHint::Seconds(120))]);
    let reply = h
        .chain
        .run(&request("x", false))
        .await
        .expect("openai answers");
    assert_eq!(reply.provider, ProviderId::OpenAi);
    assert!(h.clock.sleeps().is_empty());
    // No other call tries Gemini before the time it asked for.
    let reply = h.chain.run(&request("y", false)).await.expect("answer");
    assert_eq!(outcomes(&reply.attempts)[0], "gemini:skipped_breaker_open");
    assert_eq!(h.gemini.generate_count(), 1);
    h.clock.advance(Duration::from_secs(121));
    let reply = h.chain.run(&request("z", false)).await.expect("answer");
    assert_eq!(reply.provider, ProviderId::Gemini, "probe after the hint");
}

#[tokio::test]
async fn a_hint_longer_than_the_remaining_deadline_moves_on() {
    let h = Harness::with(|s| s.timeouts.deadline_ms = 5_000).await;
    h.gemini.script([
        Fault::Status(503, RetryHint::Seconds(3)),
        Fault::Status(503, RetryHint::Seconds(3)),
    ]);
    let reply = h
        .chain
        .run(&request("x", false))
        .await
        .expect("openai answers");
    assert_eq!(reply.provider, ProviderId::OpenAi);
    assert_eq!(
        h.clock.sleeps(),
        vec![Duration::from_secs(3)],
        "second 3 s hint exceeds the 2 s left"
    );
}

#[tokio::test]
async fn deadline_exhaustion_stops_the_chain() {
    let h = Harness::with(|s| {
        s.timeouts.deadline_ms = 900;
        s.timeouts.call_ms = 600;
        s.timeouts.first_byte_ms = 600;
    })
    .await;
    for p in ProviderId::ALL {
        h.server(p).set_policy(|_| Fault::Hang);
    }
    let started = std::time::Instant::now();
    let err = h
        .chain
        .run(&request("x", false))
        .await
        .expect_err("nothing answers");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the deadline"
    );
    let attempts = err.attempts();
    assert_eq!(
        attempts.first().map(|a| a.outcome.as_str()),
        Some("timeout")
    );
    assert!(
        attempts.iter().any(|a| a.outcome == "skipped_deadline"),
        "{:?}",
        outcomes(attempts)
    );
    assert_eq!(
        h.anthropic.generate_count(),
        0,
        "no time left for the last provider"
    );
}

#[tokio::test]
async fn breaker_opens_probes_and_closes_and_survives_a_restart() {
    let mut h = Harness::with(|s| s.retry.max_attempts = 1).await;
    h.gemini.set_policy(|_| Fault::Status(503, RetryHint::None));
    for i in 0..3 {
        let reply = h
            .chain
            .run(&request(&format!("a{i}"), false))
            .await
            .expect("openai answers");
        assert_eq!(reply.provider, ProviderId::OpenAi);
    }
    assert_eq!(h.gemini.generate_count(), 3);
    let health = h.chain.providers_health().await;
    assert_eq!(health[0].breaker, BreakerState::Open);

    // Open: no traffic, no latency; and the next process knows it too.
    h.restart().await;
    let reply = h.chain.run(&request("b", false)).await.expect("answer");
    assert_eq!(outcomes(&reply.attempts)[0], "gemini:skipped_breaker_open");
    assert_eq!(reply.attempts[0].latency_ms, 0);
    assert_eq!(h.gemini.generate_count(), 3);

    // After the cool-down (30 s) one probe goes through; it fails: open for twice as long.
    h.clock.advance(Duration::from_secs(31));
    h.chain.run(&request("c", false)).await.expect("answer");
    assert_eq!(h.gemini.generate_count(), 4);
    h.clock.advance(Duration::from_secs(31));
    h.chain.run(&request("d", false)).await.expect("answer");
    assert_eq!(h.gemini.generate_count(), 4, "cool-down doubled to 60 s");

    // Gemini recovers: the next probe closes the breaker.
    h.gemini.set_policy(|_| Fault::Ok);
    h.clock.advance(Duration::from_secs(30));
    let reply = h.chain.run(&request("e", false)).await.expect("answer");
    assert_eq!(reply.provider, ProviderId::Gemini);
    assert_eq!(
        h.chain.providers_health().await[0].breaker,
        BreakerState::Closed
    );
    h.restart().await;
    assert_eq!(
        h.chain.providers_health().await[0].breaker,
        BreakerState::Closed
    );
}

#[tokio::test]
async fn quota_exhaustion_opens_the_breaker_until_reset() {
    for p in ProviderId::ALL {
        let mut h = Harness::with(|s| {
            s.routes.call_analysis = vec![
                p,
                if p == ProviderId::OpenAi {
                    ProviderId::Gemini
                } else {
                    ProviderId::OpenAi
                },
            ]
        })
        .await;
        h.server(p).script([Fault::QuotaExhausted]);
        h.chain.run(&request("a", false)).await.expect("answer");
        h.restart().await;
        h.clock.advance(Duration::from_secs(600));
        let reply = h.chain.run(&request("b", false)).await.expect("answer");
        assert_eq!(reply.attempts[0].outcome, "skipped_breaker_open", "{p}");
        assert_eq!(
            h.server(p).generate_count(),
            1,
            "{p}: no retry into a spent quota"
        );
    }
}

#[tokio::test]
async fn refused_key_marks_the_provider_misconfigured_until_the_key_changes() {
    let mut h = Harness::with(only(ProviderId::OpenAi)).await;
    h.openai.set_key("sk-proj-the-real-one-0000000000000");
    let err = h
        .chain
        .run(&request("a", false))
        .await
        .expect_err("refused");
    assert_eq!(outcomes(err.attempts()), vec!["openai:misconfigured"]);
    h.restart().await;
    let err = h
        .chain
        .run(&request("b", false))
        .await
        .expect_err("still refused");
    assert_eq!(
        outcomes(err.attempts()),
        vec!["openai:skipped_misconfigured"]
    );
    let posts = h
        .openai
        .requests()
        .iter()
        .filter(|r| r.path_and_query == "/v1/chat/completions")
        .count();
    assert_eq!(posts, 1, "a refused key is not tried again");
    let health = h.chain.providers_health().await;
    assert!(health[1].misconfigured.is_some());

    h.chain
        .set_key(
            ProviderId::OpenAi,
            SecretString::new("sk-proj-the-real-one-0000000000000"),
        )
        .await
        .expect("set key");
    let reply = h
        .chain
        .run(&request("c", false))
        .await
        .expect("new key works");
    assert_eq!(reply.provider, ProviderId::OpenAi);
    assert!(h.chain.providers_health().await[1].misconfigured.is_none());
}

#[tokio::test]
async fn missing_model_moves_to_the_replacement_then_the_next_provider() {
    let h = Harness::with(|s| {
        s.gemini.model = "gemini-1.0-pro".into();
        s.gemini.fallback_model = Some("gemini-2.5-flash-lite".into());
        s.openai.model = "gpt-3.5-gone".into();
        s.routes.call_analysis = vec![
            ProviderId::Gemini,
            ProviderId::OpenAi,
            ProviderId::Anthropic,
        ];
    })
    .await;
    let reply = h.chain.run(&request("a", false)).await.expect("answer");
    assert_eq!(
        outcomes(&reply.attempts),
        vec!["gemini:model_not_found", "gemini:ok"]
    );
    assert_eq!(reply.model, "gemini-2.5-flash-lite");
    // Next time the replacement is used straight away.
    let reply = h.chain.run(&request("b", false)).await.expect("answer");
    assert_eq!(outcomes(&reply.attempts), vec!["gemini:ok"]);
    assert!(
        h.gemini
            .requests()
            .last()
            .expect("request")
            .path_and_query
            .contains("gemini-2.5-flash-lite")
    );

    h.gemini.set_policy(|_| Fault::Status(400, RetryHint::None));
    let reply = h.chain.run(&request("c", false)).await.expect("answer");
    assert_eq!(
        outcomes(&reply.attempts),
        vec![
            "gemini:fatal_error",
            "openai:model_not_found",
            "anthropic:ok"
        ]
    );
}

#[tokio::test]
async fn cache_serves_repeats_instantly_and_is_the_fallback_when_all_fail() {
    let h = Harness::new().await;
    let mut req = request("same input", false);
    req.prefer_cache = true;
    let first = h.chain.run(&req).await.expect("live");
    assert_eq!(first.served_from, ServedFrom::Live);
    h.chain.flush().await;
    let second = h.chain.run(&req).await.expect("cached");
    assert_eq!(second.served_from, ServedFrom::Cache);
    assert!(second.cached_at.is_some());
    assert!(second.attempts.is_empty());
    assert_eq!(second.output, first.output);
    assert_eq!(
        h.gemini.generate_count(),
        1,
        "no provider call for a repeat"
    );

    // Every provider down and a refresh asked for: the cached answer, marked, with the log.
    for p in ProviderId::ALL {
        h.server(p).stop();
    }
    h.clock.advance(Duration::from_secs(3_600));
    req.prefer_cache = false;
    let third = h.chain.run(&req).await.expect("cache fallback");
    assert_eq!(third.served_from, ServedFrom::Cache);
    assert_eq!(third.provider, ProviderId::Gemini);
    assert!(!third.attempts.is_empty());
    assert!(third.attempts.iter().all(|a| a.outcome != "ok"));

    // A different input has nothing cached: the chain fails and says why.
    let err = h
        .chain
        .run(&request("other input", false))
        .await
        .expect_err("no cache");
    assert!(matches!(err, ChainError::AllFailed { .. }));
    assert!(
        err.attempts()
            .iter()
            .any(|a| a.outcome == "connect_error" || a.outcome == "skipped_breaker_open")
    );
}

#[tokio::test]
async fn no_key_means_nothing_configured() {
    let h = Harness::new().await;
    for p in ProviderId::ALL {
        h.keys.remove(p);
    }
    let err = h
        .chain
        .run(&request("a", false))
        .await
        .expect_err("no keys");
    assert!(matches!(err, ChainError::NothingConfigured { .. }));
    assert_eq!(
        outcomes(err.attempts()),
        vec![
            "gemini:skipped_no_key",
            "openai:skipped_no_key",
            "anthropic:skipped_no_key"
        ]
    );
}

#[tokio::test]
async fn health_reports_latency_and_the_probe_checks_models() {
    let h = Harness::with(|s| s.openai.model = "gpt-4.1-mini".into()).await;
    for i in 0..5 {
        h.chain
            .run(&request(&format!("h{i}"), false))
            .await
            .expect("answer");
    }
    let health = h.chain.providers_health().await;
    let g = &health[0];
    assert_eq!(g.recent_attempts, 5);
    assert!(g.latency_p50_ms.is_some() && g.latency_p95_ms >= g.latency_p50_ms);
    assert!(g.key_set);
    assert_eq!(g.key_source.as_deref(), Some("memory"));

    let soon = (chrono::Utc::now() + chrono::Duration::days(30)).timestamp();
    h.openai.set_models(vec![
        FakeModel::new("gpt-5-mini"),
        FakeModel {
            id: "gpt-4.1-mini".into(),
            shutdown_date: Some(soon),
        },
    ]);
    h.anthropic
        .set_models(vec![FakeModel::new("claude-sonnet-4-5-20250929")]);
    h.gemini.set_models_status(Some(503));
    let report = h.chain.probe_providers(true).await;
    let (g, o, a) = (&report[0], &report[1], &report[2]);
    assert!(!g.probe.as_ref().expect("probed").ok);
    assert_eq!(g.probe.as_ref().and_then(|p| p.status), Some(503));
    let o_status = o.model_status.as_ref().expect("model checked");
    assert!(o_status.retiring_soon && !o_status.retired);
    assert!(o_status.shutdown_date.is_some());
    assert!(
        a.model_status.as_ref().expect("model checked").retired,
        "haiku not listed"
    );
    assert!(!o.probe.as_ref().expect("probe").cached);
    // A second probe within 5 minutes is served from the last one.
    let again = h.chain.probe_providers(false).await;
    assert!(again[1].probe.as_ref().expect("probe").cached);
    assert_eq!(
        h.openai
            .requests()
            .iter()
            .filter(|r| r.path_and_query == "/v1/models")
            .count(),
        1
    );
}

#[tokio::test]
async fn probe_with_a_refused_key_marks_misconfigured() {
    let h = Harness::new().await;
    h.anthropic.set_key("another-key");
    let report = h.chain.probe_providers(true).await;
    assert!(report[2].misconfigured.is_some());
    assert_eq!(report[2].probe.as_ref().and_then(|p| p.status), Some(401));
}
