//! Saving the AI settings as the Settings page does: validation that rejects bad input and
//! loses nothing, a running chain that follows a save at once (no restart), and Azure
//! OpenAI's `api-key` header and `api-version` parameter, against the wire-faithful fakes.

use std::sync::Arc;

use salesdesk_core::ai::provider::AuthHeader;
use salesdesk_core::ai::settings::AiSettings;
use salesdesk_core::ai::{Capability, ProviderId};
use salesdesk_core::secrets::{Keys, SecretString, StaticKeys};
use salesdesk_core::{AiSetup, DataPaths, ErrorKind, Salesdesk};
use salesdesk_testkit::fakes;
use salesdesk_testkit::harness::{OPENAI_KEY, request};

/// Makes good settings bad in one way.
type Spoil = Box<dyn Fn(&mut AiSettings)>;

fn setup() -> AiSetup {
    AiSetup {
        keys: Keys::single(Arc::new(StaticKeys::new([(
            ProviderId::OpenAi,
            SecretString::new(OPENAI_KEY),
        )]))),
        env_overrides: false,
    }
}

fn openai_only(base_url: String) -> AiSettings {
    let mut s = AiSettings::default();
    for c in Capability::ALL {
        let route = match c {
            Capability::CallAnalysis => &mut s.routes.call_analysis,
            Capability::Roleplay => &mut s.routes.roleplay,
            Capability::MarketSearch => &mut s.routes.market_search,
        };
        *route = vec![ProviderId::OpenAi];
    }
    s.openai.base_url = Some(base_url);
    s.stream = false;
    s.timeouts.first_byte_ms = 2_000;
    s.timeouts.call_ms = 4_000;
    s.retry.max_attempts = 1;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_reaches_the_running_chain_and_azure_gets_its_header() {
    let openai = fakes::openai::start(OPENAI_KEY).await;
    let azure = fakes::openai::start_azure(OPENAI_KEY, Some("2024-10-21")).await;
    let dir = tempfile::tempdir().unwrap();
    let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
    let setup = setup();

    let view = core.ai_settings(&setup).await.unwrap();
    assert_eq!(view.settings, AiSettings::default(), "nothing saved yet");
    assert_eq!(view.defaults.openai.model, "gpt-5-mini");
    assert!(!view.env_applies);

    let first = openai_only(format!("{}/v1", openai.origin()));
    core.save_ai_settings(&setup, first.clone()).await.unwrap();
    let chain = core.ai_chain(setup.clone()).await.unwrap();
    let reply = chain.run(&request("one", false)).await.unwrap();
    assert_eq!(reply.provider, ProviderId::OpenAi);
    assert_eq!(openai.generate_count(), 1);

    // Azure with the default Bearer header: Azure refuses the key, the provider is marked
    // misconfigured and nothing else is tried.
    let mut bearer = first.clone();
    bearer.openai.base_url = Some(format!("{}/openai/v1", azure.origin()));
    bearer.openai.api_version = Some("2024-10-21".into());
    core.save_ai_settings(&setup, bearer.clone()).await.unwrap();
    let err = chain.run(&request("two", false)).await.unwrap_err();
    assert_eq!(err.attempts()[0].status, Some(401), "{err}");
    assert_eq!(openai.generate_count(), 1, "the old URL is not called");
    let sent = azure.requests();
    assert!(sent[0].header("authorization").is_some());
    assert!(sent[0].header("api-key").is_none());

    // The same key in the api-key header: the running chain forgets
    // the refusal (the endpoint changed) and Azure answers.
    let mut az = bearer.clone();
    az.openai.auth_header = AuthHeader::ApiKey;
    let view = core.save_ai_settings(&setup, az.clone()).await.unwrap();
    assert_eq!(view.settings, az);
    let reply = chain.run(&request("three", false)).await.unwrap();
    assert_eq!(reply.provider, ProviderId::OpenAi);
    let last = azure.requests().pop().unwrap();
    assert_eq!(last.header("api-key"), Some(OPENAI_KEY));
    assert!(last.header("authorization").is_none(), "no Bearer to Azure");
    assert_eq!(
        last.path_and_query,
        "/openai/v1/chat/completions?api-version=2024-10-21"
    );

    // The probe (models list) goes the same way.
    let health = chain.probe_providers(true).await;
    let probe = health
        .iter()
        .find(|p| p.provider == ProviderId::OpenAi)
        .and_then(|p| p.probe.clone())
        .unwrap();
    assert!(probe.ok, "{probe:?}");
    assert_eq!(
        azure.requests().pop().unwrap().path_and_query,
        "/openai/v1/models?api-version=2024-10-21"
    );

    // A wrong api-version is Azure's 404, not a success.
    let mut wrong = az.clone();
    wrong.openai.api_version = Some("2023-01-01".into());
    core.save_ai_settings(&setup, wrong).await.unwrap();
    let err = chain.run(&request("four", false)).await.unwrap_err();
    assert_eq!(err.attempts()[0].status, Some(404), "{err}");

    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_with_a_clear_error_and_lose_nothing() {
    let openai = fakes::openai::start(OPENAI_KEY).await;
    let dir = tempfile::tempdir().unwrap();
    let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
    let setup = setup();
    let good = openai_only(format!("{}/v1", openai.origin()));
    core.save_ai_settings(&setup, good.clone()).await.unwrap();
    let chain = core.ai_chain(setup.clone()).await.unwrap();

    let cases: Vec<(&str, Spoil)> = vec![
        (
            "is not a URL",
            Box::new(|s| s.openai.base_url = Some("api.openai.com/v1".into())),
        ),
        (
            "must start with http:// or https://",
            Box::new(|s| s.gemini.base_url = Some("ftp://example.com".into())),
        ),
        (
            "user name or password",
            Box::new(|s| s.openai.base_url = Some("https://me:pw@example.com/v1".into())),
        ),
        (
            "?query",
            Box::new(|s| s.openai.base_url = Some("https://x.example.com/v1?api-version=1".into())),
        ),
        (
            "the OpenAI model id is empty",
            Box::new(|s| s.openai.model = "   ".into()),
        ),
        (
            "contains spaces",
            Box::new(|s| s.anthropic.model = "claude haiku".into()),
        ),
        (
            "listed twice",
            Box::new(|s| s.routes.roleplay = vec![ProviderId::Gemini, ProviderId::Gemini]),
        ),
        (
            "OpenAI-compatible servers only",
            Box::new(|s| s.gemini.auth_header = AuthHeader::ApiKey),
        ),
        (
            "api-version",
            Box::new(|s| s.openai.api_version = Some("2024 10 21&x=1".into())),
        ),
    ];
    for (expected, spoil) in cases {
        let mut bad = good.clone();
        spoil(&mut bad);
        let err = core.save_ai_settings(&setup, bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(expected), "{expected}: {err}");
        // Nothing lost: the saved and the running settings are the last good ones.
        assert_eq!(core.ai_settings(&setup).await.unwrap().settings, good);
        assert_eq!(chain.settings(), good);
    }
    chain.run(&request("still works", false)).await.unwrap();
    core.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_saved_settings_show_the_defaults_and_a_save_repairs_them() {
    let dir = tempfile::tempdir().unwrap();
    let core = Salesdesk::open(DataPaths::at(dir.path())).await.unwrap();
    // What a newer Salesdesk might have saved: a provider this version does not know.
    sqlx::query("INSERT INTO ai_settings (id, settings, updated_at) VALUES (1, ?, ?)")
        .bind(r#"{"routes": {"call_analysis": ["mistral"]}}"#)
        .bind("2026-11-26T10:00:00.000Z")
        .execute(core.store().pool())
        .await
        .unwrap();
    let setup = setup();
    // Analyses keep working: the chain runs on the defaults until the row is repaired.
    let running = core.ai_chain(setup.clone()).await.unwrap();
    assert_eq!(running.settings(), AiSettings::default());

    let view = core.ai_settings(&setup).await.unwrap();
    assert!(view.problem.as_deref().unwrap().contains("unreadable"));
    assert_eq!(view.settings, AiSettings::default());

    let mut fixed = AiSettings::default();
    fixed.openai.model = "gpt-4.1-mini".into();
    let view = core.save_ai_settings(&setup, fixed.clone()).await.unwrap();
    assert_eq!(view.problem, None);
    assert_eq!(core.ai_settings(&setup).await.unwrap().settings, fixed);
    let chain = core.ai_chain(setup).await.unwrap();
    assert_eq!(chain.settings().openai.model, "gpt-4.1-mini");
    core.close().await;
}
