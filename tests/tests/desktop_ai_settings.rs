//! End to end: the AI chain settings on the desktop Settings page, in a real WebKit window
//! driven over WebDriver (under Xvfb in `make test`). A changed model is saved through the real
//! IPC and capability into the store; a bad base URL is refused with the core's message, the
//! typed value stays on screen and the store keeps the last good settings.
//!
//! Skips without a display unless `SALESDESK_E2E_REQUIRED` is set (as `make test` does).

use salesdesk_core::ai::settings::AiSettings;
use salesdesk_core::{DataPaths, Salesdesk};
use salesdesk_testkit::desktop::{TauriDriver, artifacts_dir};
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::webdriver::{element, session, should_skip};

const OPENAI: &str = "[data-testid=provider-settings][data-provider=openai]";

async fn saved_settings(env: &IsolatedEnv) -> AiSettings {
    let core = Salesdesk::open(DataPaths::at(env.data_dir()))
        .await
        .unwrap();
    let settings = AiSettings::load(core.store()).await.unwrap();
    core.close().await;
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_page_saves_the_ai_chain_and_refuses_a_bad_url() {
    if should_skip("the desktop AI settings test") {
        return;
    }
    let env = IsolatedEnv::new();
    let driver = TauriDriver::start(&env).expect("start tauri-driver");
    let client = session(&driver).await;

    async {
        element(&client, "[data-testid=nav-settings]")
            .await
            .click()
            .await
            .unwrap();
        let model = element(&client, &format!("{OPENAI} [data-testid=provider-model]")).await;
        assert_eq!(
            model.prop("value").await.unwrap().as_deref(),
            Some("gpt-5-mini")
        );
        model.clear().await.unwrap();
        model.send_keys("gpt-4.1-mini").await.unwrap();
        element(&client, "[data-testid=chain-save]")
            .await
            .click()
            .await
            .unwrap();
        let saved = element(&client, "[data-testid=chain-saved]").await;
        assert!(saved.text().await.unwrap().contains("Saved"));
        client
            .screenshot()
            .await
            .map(|png| std::fs::write(artifacts_dir().join("e2e-settings-ai.png"), png))
            .expect("screenshot")
            .expect("save screenshot");

        let url = element(&client, &format!("{OPENAI} [data-testid=provider-url]")).await;
        url.send_keys("api.example.com/v1").await.unwrap();
        element(&client, "[data-testid=chain-save]")
            .await
            .click()
            .await
            .unwrap();
        let error = element(&client, "[data-testid=error-message]").await;
        let message = error.text().await.unwrap();
        assert!(message.contains("OpenAI base URL"), "{message}");
        assert_eq!(
            url.prop("value").await.unwrap().as_deref(),
            Some("api.example.com/v1"),
            "the typed value stays"
        );
    }
    .await;
    let _ = client.close().await;
    drop(driver);

    let stored = saved_settings(&env).await;
    assert_eq!(stored.openai.model, "gpt-4.1-mini");
    assert_eq!(stored.openai.base_url, None, "the bad URL was not saved");
}
