//! End to end: the built desktop app in a real WebKit window (under Xvfb in `make test`),
//! driven over WebDriver. A row saved beforehand through the core shows on the Analyses page,
//! and the Status page reports the store OK. Screenshots go to the artifacts folder.
//!
//! Needs a display, tauri-driver and WebKitWebDriver. `make test` provides all three and sets
//! `SALESDESK_E2E_REQUIRED=1`, so there the test can never skip silently.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use salesdesk_core::data::analyses::NewAnalysis;
use salesdesk_core::{DataPaths, Salesdesk};
use salesdesk_testkit::desktop::{TauriDriver, artifacts_dir, desktop_binary};
use salesdesk_testkit::isolated::IsolatedEnv;

const WAIT: Duration = Duration::from_secs(20);

fn should_skip() -> bool {
    let required = std::env::var_os("SALESDESK_E2E_REQUIRED").is_some();
    let has_display = std::env::var_os("DISPLAY").is_some();
    if !has_display && !required {
        eprintln!(
            "skipping the desktop end-to-end test: no DISPLAY (run `make test`, which starts Xvfb)"
        );
        return true;
    }
    false
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"))
        .text()
        .await
        .unwrap()
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(artifacts_dir().join(name), png).expect("save screenshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_shows_saved_analyses_and_a_healthy_store() {
    if should_skip() {
        return;
    }
    let env = IsolatedEnv::new();
    let core = Salesdesk::open(DataPaths::at(env.data_dir()))
        .await
        .unwrap();
    let saved = core
        .save_analysis(NewAnalysis {
            title: "Renewal call with Northwind".into(),
            transcript: "Rep: Shall we renew?\nCustomer: Yes.".into(),
            analysis: serde_json::json!({"score": 80}),
            provider: "offline".into(),
            model: Some("offline-v1".into()),
        })
        .await
        .unwrap();
    core.close().await;

    let driver = TauriDriver::start(&env).expect("start tauri-driver");
    let bin = desktop_binary().expect("desktop binary");
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(TauriDriver::capabilities(&bin))
        .connect(&driver.url())
        .await
        .expect("open a WebDriver session on the desktop app");

    let result = async {
        // The layout: the sidebar with every section.
        let sidebar = text_of(&client, "[data-testid=sidebar]").await;
        for section in [
            "Dashboard",
            "Analyze",
            "Analyses",
            "Roleplay",
            "Market",
            "Images",
            "Clients",
            "Campaigns",
            "Training",
            "Status",
            "Settings",
        ] {
            assert!(
                sidebar.contains(section),
                "sidebar lacks {section}: {sidebar}"
            );
        }
        screenshot(&client, "e2e-dashboard.png").await;

        // The Analyses page lists the row saved through the core.
        client
            .find(Locator::Css("[data-testid=nav-analyses]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let row = text_of(&client, "[data-testid=analysis-row]").await;
        assert!(row.contains(&saved.title), "row shows {row}");
        screenshot(&client, "e2e-analyses.png").await;

        // Opening it shows the saved analysis.
        client
            .find(Locator::Css("[data-testid=analysis-row] a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let title = text_of(&client, "[data-testid=analysis-title]").await;
        assert_eq!(title.trim(), saved.title);

        // The Status page reports the store OK.
        client
            .find(Locator::Css("[data-testid=nav-status]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let store = text_of(&client, "[data-testid=status-store]").await;
        assert!(store.contains("OK"), "status shows {store}");
        screenshot(&client, "e2e-status.png").await;
    }
    .await;
    let _ = client.close().await;
    drop(driver);
    result
}
