//! End to end: the built desktop app in a real WebKit window (under Xvfb in `make test`),
//! driven over WebDriver. A row saved beforehand through the core shows on the Analyses page,
//! and the Status page reports the store OK. Screenshots go to the artifacts folder.
//!
//! Needs a display, tauri-driver and WebKitWebDriver. `make test` provides all three and sets
//! `SALESDESK_E2E_REQUIRED=1`, so there the test can never skip silently.

use std::time::Duration;

use fantoccini::{Client, Locator};
use salesdesk_core::{DataPaths, Salesdesk};
use salesdesk_testkit::desktop::{TauriDriver, open_with_analysis};
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::webdriver::{WAIT, click, screenshot, session, should_skip, text_of};

/// One desktop session at a time: two WebKitWebDriver sessions starting together on a
/// two-core machine sometimes drop the first WebDriver request.
static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_shows_saved_analyses_and_a_healthy_store() {
    if should_skip("the desktop end-to-end test") {
        return;
    }
    let _window = ONE_WINDOW.lock().await;
    let env = IsolatedEnv::new();
    let (core, saved) = open_with_analysis(
        &env,
        "Renewal call with Northwind",
        "Rep: Shall we renew?\nCustomer: Yes.",
        80,
    )
    .await;
    core.close().await;

    let driver = TauriDriver::start(&env).expect("start tauri-driver");
    let client = session(&driver).await;

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

        // Analyze pasted text in the app: the numbers shown are the core's numbers.
        click(&client, "[data-testid=nav-analyze]").await;
        client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("[data-testid=paste-text]"))
            .await
            .unwrap();
        // As a paste does it: the whole text at once (typed keys lose the line breaks here).
        client
            .execute(
                "const t = document.querySelector('[data-testid=paste-text]'); \
                 t.value = arguments[0]; \
                 t.dispatchEvent(new Event('input', { bubbles: true }));",
                vec![serde_json::json!(TRANSCRIPT)],
            )
            .await
            .expect("paste the transcript");
        click(&client, "[data-testid=use-text]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        screenshot(&client, "e2e-analyze-preview.png").await;
        let picker = text_of(&client, "[data-testid=rep-picker]").await;
        assert!(
            picker.contains("Dana") && picker.contains("Lee"),
            "picker: {picker}"
        );
        click(&client, "[data-testid=analyze-button]").await;
        let score = text_of(&client, "[data-testid=score]").await;
        let questions = text_of(
            &client,
            "[data-testid=metric-card][data-metric=rep_questions] [data-testid=metric-value]",
        )
        .await;
        screenshot(&client, "e2e-analysis.png").await;
        (score, questions)
    }
    .await;
    let _ = client.close().await;
    drop(driver);
    let (score, questions) = result;

    // The same transcript through the core alone.
    let expected_dir = IsolatedEnv::new();
    let core = Salesdesk::open(DataPaths::at(expected_dir.data_dir()))
        .await
        .unwrap();
    let options = salesdesk_core::analysis::AnalyzeOptions {
        rep: Some("Dana".into()),
        ..Default::default()
    };
    let expected = core
        .analyze_transcript(TRANSCRIPT.as_bytes().to_vec(), options)
        .await
        .unwrap();
    core.close().await;
    assert_eq!(score.trim(), expected.analysis["score"].to_string());
    assert_eq!(
        questions.trim(),
        expected.analysis["metrics"]["rep_questions"].to_string()
    );
    assert_eq!(
        expected.analysis["metrics"]["rep_questions"], 3,
        "hand count"
    );
}

/// A valid 1×1 PNG.
const ONE_PIXEL_PNG: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0,
    0, 0, 144, 119, 83, 222, 0, 0, 0, 12, 73, 68, 65, 84, 120, 156, 99, 248, 207, 192, 0, 0, 3, 1,
    1, 0, 201, 254, 146, 239, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// Dana (the first speaker, so the suggested rep) asks three questions.
const TRANSCRIPT: &str = "[00:00] Dana: Hi Lee, thanks for joining. How is the quarter going?\n\
[00:06] Lee: Busy. We are evaluating tools for the sales team.\n\
[00:12] Dana: What does your team use today? And what is missing?\n\
[00:20] Lee: Spreadsheets mostly. Pricing matters to us, budget is tight this year.\n\
[00:31] Dana: Understood. Let's book a demo next Tuesday.\n\
[00:36] Lee: Sounds good.\n";

/// The Training library: files dropped on the window are uploaded with a progress bar each and
/// a total that reach 100 %, then listed, and stored in the local file store byte for byte.
///
/// WebDriver cannot drag a file from the desktop onto a window. Tauri turns an OS drop into
/// two things: the Rust side grants the paths (`WindowEvent::DragDrop`), and the page gets the
/// paths through its drag-drop listener. The test does both halves the closest way it can:
/// the debug build grants files under `SALESDESK_E2E_GRANT_DIR` (a hook compiled out of release
/// builds), and the page receives the same paths through the same handler, via the DOM event
/// `salesdesk-file-drop` (which grants nothing by itself). Everything after that (queueing,
/// checks, upload, progress channel, recording, listing) is the real path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_files_upload_with_progress_to_100_percent_and_join_the_library() {
    if should_skip("the desktop end-to-end test") {
        return;
    }
    let _window = ONE_WINDOW.lock().await;
    let env = IsolatedEnv::new();
    let drop_dir = env.root().join("dropped");
    std::fs::create_dir_all(&drop_dir).unwrap();
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..3 * 1024 * 1024u32).map(|i| (i % 253) as u8));
    let pdf_path = drop_dir.join("Pricing playbook.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    let notes_path = drop_dir.join("objection notes.txt");
    std::fs::write(&notes_path, "Price: anchor on value first.\n").unwrap();
    let empty_path = drop_dir.join("empty.pdf");
    std::fs::write(&empty_path, b"").unwrap();
    let png_path = drop_dir.join("org_chart.png");
    std::fs::write(&png_path, ONE_PIXEL_PNG).unwrap();
    let one_page_path = drop_dir.join("one_page.pdf");
    std::fs::write(&one_page_path, one_page_pdf()).unwrap();

    let driver = TauriDriver::start_with(&env, &[("SALESDESK_E2E_GRANT_DIR", &drop_dir)])
        .expect("start tauri-driver");
    let client = session(&driver).await;

    let result = async {
        click(&client, "[data-testid=nav-training]").await;
        text_of(&client, "[data-testid=material-drop-zone]").await;
        let paths: Vec<String> = [&pdf_path, &notes_path, &png_path, &one_page_path, &empty_path]
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        client
            .execute(
                "window.dispatchEvent(new CustomEvent('salesdesk-file-drop', \
                 { detail: { paths: arguments[0] } }));",
                vec![serde_json::json!(paths)],
            )
            .await
            .expect("deliver the drop");
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let total = text_of(&client, "[data-testid=upload-total-percent]").await;
            if total.trim() == "100%" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "total progress stuck at {total}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let rows = client
            .execute(
                "return [...document.querySelectorAll('[data-testid=upload-row]')].map(r => \
                 [r.dataset.state, String(r.querySelector('[data-testid=upload-progress]').value)]);",
                vec![],
            )
            .await
            .expect("read the progress bars");
        let values: Vec<(String, String)> = serde_json::from_value(rows).expect("pairs");
        screenshot(&client, "e2e-training-uploads.png").await;
        // Titles come from the file names.
        let deadline = std::time::Instant::now() + WAIT;
        let titles = loop {
            let mut titles = Vec::new();
            for el in client
                .find_all(Locator::Css("[data-testid=material-title]"))
                .await
                .unwrap()
            {
                titles.push(el.text().await.unwrap());
            }
            if titles.len() >= 4 || std::time::Instant::now() > deadline {
                break titles;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let refused = text_of(
            &client,
            "[data-testid=upload-row][data-state=refused] [data-testid=upload-error]",
        )
        .await;
        screenshot(&client, "e2e-training-library.png").await;
        // The image previews inside the app (asset protocol, CSP img-src).
        click_in_row(&client, "org chart", "preview-material").await;
        let deadline = std::time::Instant::now() + WAIT;
        let preview_width = loop {
            let width = client
                .execute(
                    "const i = document.querySelector('[data-testid=material-preview] img'); \
                     return i && i.complete ? i.naturalWidth : -1;",
                    vec![],
                )
                .await
                .expect("read the preview");
            if width != serde_json::json!(-1) || std::time::Instant::now() > deadline {
                break width;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        screenshot(&client, "e2e-training-preview.png").await;
        // The PDF renders inside the app: pdf.js fetches the preview copy through the asset
        // protocol (CSP connect-src) and parses it in its bundled worker (CSP worker-src).
        click(&client, "[data-testid=close-preview]").await;
        click_in_row(&client, "one page", "preview-material").await;
        let deadline = std::time::Instant::now() + WAIT;
        let pdf_state = loop {
            let state = client
                .execute(
                    "const p = document.querySelector('[data-testid=pdf-page]'); \
                     const c = document.querySelector('[data-testid=pdf-preview] canvas'); \
                     const a = document.querySelector('[data-testid=pdf-preview] [role=alert]'); \
                     if (a) return 'error: ' + a.textContent.trim(); \
                     if (!p || !c || c.width === 0) return ''; \
                     const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
                     let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && d[i] < 128) dark++; \
                     return p.textContent.trim() + (dark > 0 ? ' drawn' : '');",
                    vec![],
                )
                .await
                .expect("read the PDF preview");
            let state = state.as_str().unwrap_or_default().to_owned();
            if (state.starts_with("Page") && state.ends_with("drawn"))
                || state.starts_with("error")
                || std::time::Instant::now() > deadline
            {
                break state;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        screenshot(&client, "e2e-training-pdf-preview.png").await;
        (values, titles, refused, preview_width, pdf_state)
    }
    .await;
    let _ = client.close().await;
    drop(driver);
    let (values, mut titles, refused, preview_width, pdf_state) = result;
    assert_eq!(pdf_state, "Page 1 of 1 drawn", "the PDF preview rendered");

    assert_eq!(
        values,
        vec![
            ("done".to_string(), "100".to_string()),
            ("done".to_string(), "100".to_string()),
            ("done".to_string(), "100".to_string()),
            ("done".to_string(), "100".to_string()),
            ("refused".to_string(), "0".to_string()),
        ]
    );
    titles.sort();
    assert_eq!(
        titles,
        vec![
            "Pricing playbook",
            "objection notes",
            "one page",
            "org chart"
        ]
    );
    assert_eq!(
        preview_width,
        serde_json::json!(1),
        "the image preview loaded"
    );
    assert!(refused.contains("empty"), "refusal says why: {refused}");

    // What the page showed is what the core stored.
    let core = Salesdesk::open(DataPaths::at(env.data_dir()))
        .await
        .unwrap();
    let library = core.materials().await.unwrap();
    let listed = library
        .list(&salesdesk_core::data::materials::MaterialQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 4);
    let stored = listed
        .iter()
        .find(|e| e.material.title == "Pricing playbook")
        .unwrap();
    let back = env.root().join("back.pdf");
    library
        .get_file(
            &stored.material.id,
            &back,
            &salesdesk_core::files::Transfer::default(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), pdf);
    assert!(library.pending().await.unwrap().is_empty());
    core.close().await;
}

/// Clicks the button `testid` in the library row titled `title`.
async fn click_in_row(client: &Client, title: &str, testid: &str) {
    let clicked = client
        .execute(
            "const row = [...document.querySelectorAll('[data-testid=material-row]')].find(r => \
             r.querySelector('[data-testid=material-title]').textContent.trim() === arguments[0]); \
             const b = row && row.querySelector(`[data-testid=${arguments[1]}]`); \
             if (b) b.click(); return !!b;",
            vec![serde_json::json!(title), serde_json::json!(testid)],
        )
        .await
        .expect("click in a row");
    assert_eq!(
        clicked,
        serde_json::json!(true),
        "{testid} in the row {title}"
    );
}

/// A one-page PDF with a filled black square: small, valid, and visibly drawn when rendered.
fn one_page_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        "<< /Length 22 >>\nstream\n0 g 50 50 100 100 re f\nendstream",
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
