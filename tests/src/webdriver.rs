//! The WebDriver steps the desktop end-to-end tests share: skip or insist on a display, open a
//! session on the app under tauri-driver, and wait for an element before using it.

use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

use crate::desktop::{TauriDriver, artifacts_dir, desktop_binary};

/// How long a step waits for its element.
pub const WAIT: Duration = Duration::from_secs(20);

/// True (after saying so) when there is no display and `SALESDESK_E2E_REQUIRED` is not set;
/// `make test` sets it, so there a desktop test can never skip silently.
pub fn should_skip(test: &str) -> bool {
    let required = std::env::var_os("SALESDESK_E2E_REQUIRED").is_some();
    if std::env::var_os("DISPLAY").is_none() && !required {
        eprintln!("skipping {test}: no DISPLAY (run `make test`, which starts Xvfb)");
        return true;
    }
    false
}

/// A WebDriver session on the desktop binary, through the running `driver`.
pub async fn session(driver: &TauriDriver) -> Client {
    let bin = desktop_binary().expect("desktop binary");
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(TauriDriver::capabilities(&bin))
        .connect(&driver.url())
        .await
        .expect("open a WebDriver session on the desktop app")
}

/// The element `css` names, once it appears (panics after [`WAIT`]).
pub async fn element(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"))
}

/// Clicks the element `css` names, once it appears.
pub async fn click(client: &Client, css: &str) {
    element(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// The text of the element `css` names, once it appears.
pub async fn text_of(client: &Client, css: &str) -> String {
    element(client, css).await.text().await.unwrap()
}

/// Saves a screenshot of the window to the artifacts folder as `name`.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(artifacts_dir().join(name), png).expect("save screenshot");
}
