//! End to end: a call recording played in the built desktop app, in a real WebKit window
//! (under Xvfb in `make test`) driven over WebDriver. A recording stored with an analysis
//! through the core shows on the analysis detail; Play gives an `<audio>` player whose source
//! the asset protocol serves (through the app's CSP) byte for byte, and WebKit decodes it (its
//! one-second duration is known). WebKitGTK does not stream media from custom URI schemes, so
//! on Linux the page plays an in-memory copy (see `ui/src/lib/recordings.ts`).
//!
//! Needs a display, tauri-driver and WebKitWebDriver: `make test` provides all three and sets
//! `SALESDESK_E2E_REQUIRED=1`, so there the test can never skip silently.

use std::time::Duration;

use salesdesk_core::files::Transfer;
use salesdesk_testkit::desktop::{TauriDriver, open_with_analysis};
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::storage::wav_8khz_mono;
use salesdesk_testkit::webdriver::{WAIT, click, screenshot, session, should_skip, text_of};

/// One second of 8 kHz 8-bit mono WAV (a rising tone, so the bytes are not all alike).
fn wav() -> Vec<u8> {
    wav_8khz_mono((0..8000u32).map(|i| ((i * 7) % 256) as u8).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_recording_plays_on_the_analysis_page() {
    if should_skip("the desktop recording test") {
        return;
    }
    let env = IsolatedEnv::new();
    let (core, saved) = open_with_analysis(
        &env,
        "Demo call with Contoso",
        "Rep: Shall we start?\nCustomer: Yes.",
        70,
    )
    .await;
    let src = env.root().join("Demo call.wav");
    std::fs::write(&src, wav()).unwrap();
    core.attach_recording(&saved.id, &src, &Transfer::default())
        .await
        .unwrap();
    core.close().await;

    let driver = TauriDriver::start(&env).expect("start tauri-driver");
    let client = session(&driver).await;

    let result = async {
        click(&client, "[data-testid=nav-analyses]").await;
        click(&client, "[data-testid=analysis-row] a").await;
        let item = text_of(&client, "[data-testid=recording]").await;
        click(&client, "[data-testid=play-recording]").await;
        // The player's source, fetched by the page itself: what the asset protocol serves
        // under the app's CSP (media-src / connect-src).
        let deadline = std::time::Instant::now() + WAIT;
        let served = loop {
            let got = client
                .execute_async(
                    "const done = arguments[arguments.length - 1]; \
                     const p = document.querySelector('[data-testid=recording-player]'); \
                     const a = document.querySelector('[data-testid=recording-problem]'); \
                     if (a) { done('error: ' + a.textContent.trim()); return; } \
                     if (!p) { done(''); return; } \
                     fetch(p.src).then(r => r.arrayBuffer()).then(b => { \
                       const v = new Uint8Array(b); let sum = 0; \
                       for (const x of v) sum = (sum + x) % 1000003; \
                       done(p.tagName + ' ' + v.length + ' ' + sum); \
                     }).catch(e => done('error: ' + e));",
                    vec![],
                )
                .await
                .expect("read the player");
            let got = got.as_str().unwrap_or_default().to_owned();
            if !got.is_empty() || std::time::Instant::now() > deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // WebKit decoded it: the metadata (a one-second duration) is known, from the asset
        // URL where the engine streams custom schemes, else from the page's in-memory copy.
        let deadline = std::time::Instant::now() + WAIT;
        let media = loop {
            let state = client
                .execute(
                    "const p = document.querySelector('[data-testid=recording-player]'); \
                     const a = document.querySelector('[data-testid=recording-problem]'); \
                     if (a) return 'problem: ' + a.textContent.trim(); \
                     if (!p || p.error || p.readyState < 1) return ''; \
                     return p.dataset.source + ' ' + p.duration.toFixed(1);",
                    vec![],
                )
                .await
                .expect("read the media state");
            let state = state.as_str().unwrap_or_default().to_owned();
            if !state.is_empty() || std::time::Instant::now() > deadline {
                break state;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        screenshot(&client, "e2e-recording-player.png").await;
        (item, served, media)
    }
    .await;
    let _ = client.close().await;
    drop(driver);
    let (item, served, media) = result;
    assert!(
        media == "asset 1.0" || media == "memory 1.0",
        "the player loaded the recording: {media:?}"
    );
    assert!(item.contains("Demo call.wav"), "the list shows {item}");
    assert!(item.contains("On this device"), "the list shows {item}");
    let bytes = wav();
    let sum = bytes
        .iter()
        .fold(0u64, |s, &x| (s + u64::from(x)) % 1_000_003);
    assert_eq!(served, format!("AUDIO {} {sum}", bytes.len()));
}
