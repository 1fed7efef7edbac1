//! `salesdesk import FILE.json`: brings the old browser app's export in (docs/import.md) and
//! reports what it did. Re-running it on the same file changes nothing.

use std::path::Path;
use std::process::ExitCode;

use salesdesk_core::Salesdesk;
use salesdesk_core::import::ImportReport;

use crate::CliResult;
use crate::output::{print_json, print_line};

pub async fn run(core: &Salesdesk, file: &Path, json: bool) -> CliResult {
    let report = core.import_export(file).await?;
    if json {
        print_json(&report)?;
    } else {
        print_report(&report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &ImportReport) -> Result<(), crate::Failure> {
    print_line(&format!(
        "Imported (export format version {}):",
        report.format_version
    ))?;
    print_line(&format!(
        "  {:<20} {:>7} {:>7} {:>9} {:>7}",
        "", "added", "updated", "unchanged", "skipped"
    ))?;
    for s in &report.sections {
        print_line(&format!(
            "  {:<20} {:>7} {:>7} {:>9} {:>7}",
            s.section, s.added, s.updated, s.unchanged, s.skipped
        ))?;
    }
    if !report.skipped.is_empty() {
        print_line("Skipped entries (fix them in the file and import it again):")?;
        for s in &report.skipped {
            print_line(&format!(
                "  {} #{}{}: {}",
                s.section,
                s.index,
                s.old_id
                    .as_deref()
                    .map(|id| format!(" (id {id})"))
                    .unwrap_or_default(),
                s.reason
            ))?;
        }
    }
    Ok(())
}
