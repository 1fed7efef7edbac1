//! Importing a large browser-app export: a generated file the size of a full localStorage
//! (browsers cap it at 5-10 MB), imported into a fresh store, then imported again (every record
//! unchanged). Not run by the test suite: `cargo bench -p salesdesk-testkit --bench import`
//! (`SALESDESK_BENCH_SCALE=4` for four times the records).

use std::time::Instant;

use salesdesk_core::import::import_bytes;
use salesdesk_core::{DataPaths, Salesdesk};
use serde_json::{Value, json};

fn export(scale: usize) -> Value {
    let clients: Vec<Value> = (0..1000 * scale)
        .map(|i| {
            json!({"id": format!("c-{i}"), "name": format!("Client {i}"), "company": format!("Company {}", i % 97),
                   "email": format!("buyer{i}@example.com"), "tags": ["imported", format!("t{}", i % 7)],
                   "createdAt": 1_767_225_600_000i64 + i as i64 * 60_000})
        })
        .collect();
    let campaigns: Vec<Value> = (0..50 * scale)
        .map(|i| {
            json!({"id": format!("k-{i}"), "name": format!("Campaign {i}"), "status": "active",
                         "startDate": "2026-03-01", "endDate": "2026-05-31", "budget": 1000 + i})
        })
        .collect();
    let signups: Vec<Value> = (0..1000 * scale)
        .map(|i| json!({"id": format!("s-{i}"), "clientId": format!("c-{i}"),
                         "campaignId": format!("k-{}", i % (50 * scale)), "date": "2026-04-01", "value": 99.5}))
        .collect();
    let transcript: String = (0..30)
        .map(|t| {
            if t % 2 == 0 {
                format!("Rep: Question number {t} about your team and goals this quarter?\n")
            } else {
                format!("Customer: Answer {t}, we lose time on reporting and the price matters.\n")
            }
        })
        .collect();
    let analyses: Vec<Value> = (0..300 * scale)
        .map(|i| json!({"id": format!("a-{i}"), "title": format!("Call {i}"), "clientId": format!("c-{i}"),
                         "transcript": transcript,
                         "result": {"score": 40 + i % 60, "summary": "Imported summary", "strengths": ["Questions"],
                                    "nextSteps": ["Follow up"]}}))
        .collect();
    json!({"version": 1, "clients": clients, "campaigns": campaigns, "signups": signups,
           "analyses": analyses, "trainingMaterials": []})
}

fn main() {
    let scale: usize = std::env::var("SALESDESK_BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let bytes = export(scale).to_string().into_bytes();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let core = Salesdesk::open(DataPaths::at(dir.path())).await.expect("open");
        let records = 1000 * scale + 50 * scale + 1000 * scale + 300 * scale;
        println!(
            "export: {:.1} MB, {records} records ({} analyses with a 30-turn transcript)",
            bytes.len() as f64 / 1e6,
            300 * scale
        );
        for run in ["first import", "re-import (unchanged)"] {
            let start = Instant::now();
            let report = import_bytes(core.store(), &bytes).await.expect("import");
            let took = start.elapsed();
            let added: u32 = report.sections.iter().map(|s| s.added).sum();
            let unchanged: u32 = report.sections.iter().map(|s| s.unchanged).sum();
            println!(
                "{run:<24} {:>7.2} s  {:>8.0} records/s  (added {added}, unchanged {unchanged}, skipped {})",
                took.as_secs_f64(),
                records as f64 / took.as_secs_f64(),
                report.skipped.len()
            );
        }
        core.close().await;
    });
}
