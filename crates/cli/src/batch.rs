//! `salesdesk analyze` on several files or folders: finds the transcripts, analyzes them one
//! after another in this process (so the AI chain's breakers and cache learn across files),
//! shows a progress bar on a terminal, prints one result line (or JSON entry) per file, and
//! goes on past a bad file. Exit code 1 when any file failed.
//!
//! A single file keeps the one-record output of `commands::analyze`.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use salesdesk_core::analysis::AnalyzeOptions;
use salesdesk_core::analysis::report::{Attempt, CallAnalysis, ServedFrom};
use salesdesk_core::data::analyses::CallAnalysisRecord;
use salesdesk_core::{AiSetup, CoreError, DataPaths, ErrorKind, Salesdesk};
use serde::Serialize;

use crate::output::{print_json, print_line};
use crate::{CliResult, Failure};

/// The transcript formats `analyze` reads (plain text, WebVTT, SRT, JSON segments), by the
/// extension a folder's files are picked by. Files named on the command line are read
/// whatever their extension.
pub const TRANSCRIPT_EXTENSIONS: [&str; 4] = ["txt", "vtt", "srt", "json"];

/// One transcript to analyze: where it is and the title it is saved under.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub path: PathBuf,
    pub title: String,
}

/// Expands the arguments: a file as given, a folder into its transcript files (recursively,
/// hidden entries skipped, sorted by path so runs are repeatable). A path given twice is
/// analyzed once.
pub fn expand(args: &[PathBuf]) -> Result<Vec<Item>, Failure> {
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for arg in args {
        if arg.is_dir() {
            let mut found = 0usize;
            let walk = walkdir::WalkDir::new(arg)
                .follow_links(false)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
            for entry in walk {
                let entry = entry.map_err(|e| {
                    Failure::user(format!("cannot read the folder {}: {e}", arg.display()))
                })?;
                if !entry.file_type().is_file() || !has_transcript_extension(entry.path()) {
                    continue;
                }
                found += 1;
                let path = entry.into_path();
                let title = path
                    .strip_prefix(arg)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                if seen.insert(path.clone()) {
                    items.push(Item { path, title });
                }
            }
            if found == 0 {
                return Err(Failure::user(format!(
                    "no transcript files (.{}) in the folder {}",
                    TRANSCRIPT_EXTENSIONS.join(", ."),
                    arg.display()
                )));
            }
        } else {
            if arg.as_os_str() == "-" {
                return Err(Failure::user(
                    "standard input (-) can only be analyzed alone".into(),
                ));
            }
            let title = arg
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| arg.display().to_string());
            if seen.insert(arg.clone()) {
                items.push(Item {
                    path: arg.clone(),
                    title,
                });
            }
        }
    }
    Ok(items)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn has_transcript_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TRANSCRIPT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// One file's outcome in `--json` output.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub file: String,
    pub ok: bool,
    /// The saved analysis (`salesdesk analyses show ID`); `null` when the file failed.
    pub id: Option<String>,
    pub title: String,
    pub score: Option<u8>,
    /// Who answered: `gemini`, `openai`, `anthropic` or `offline`.
    pub provider: Option<String>,
    pub model: Option<String>,
    pub served_from: Option<ServedFrom>,
    /// Every provider attempt and skip, in order (see docs/ai-chain.md).
    pub attempts: Vec<Attempt>,
    /// Why this file failed; `null` when it succeeded.
    pub error: Option<String>,
    /// `invalid_input`, `store`, ... (the core's error kind) when it failed.
    pub error_kind: Option<ErrorKind>,
}

impl Entry {
    fn ok(item: &Item, record: &CallAnalysisRecord) -> Self {
        let analysis: Option<CallAnalysis> = serde_json::from_value(record.analysis.clone()).ok();
        Entry {
            file: item.path.display().to_string(),
            ok: true,
            id: Some(record.id.clone()),
            title: record.title.clone(),
            score: analysis.as_ref().map(|a| a.score),
            provider: Some(record.provider.clone()),
            model: record.model.clone(),
            served_from: analysis.as_ref().map(|a| a.served_from),
            attempts: analysis.map(|a| a.attempts).unwrap_or_default(),
            error: None,
            error_kind: None,
        }
    }

    fn failed(item: &Item, error: &CoreError) -> Self {
        Entry {
            file: item.path.display().to_string(),
            ok: false,
            id: None,
            title: item.title.clone(),
            score: None,
            provider: None,
            model: None,
            served_from: None,
            attempts: Vec::new(),
            error: Some(error.to_string()),
            error_kind: Some(error.kind()),
        }
    }

    /// The one line printed per file without `--json`.
    fn line(&self) -> String {
        if let Some(error) = &self.error {
            return format!("FAILED  {}: {error}", self.file);
        }
        let score = self.score.map_or("-".to_owned(), |s| format!("{s}/100"));
        let served = match self.served_from {
            Some(ServedFrom::Live) | None => String::new(),
            Some(ServedFrom::Cache) => ", from cache".into(),
            Some(ServedFrom::Offline) => ", offline".into(),
        };
        format!(
            "ok      {}  score {score}  {} ({}{served})  id {}",
            self.file,
            self.provider.as_deref().unwrap_or("-"),
            self.model.as_deref().unwrap_or("-"),
            self.id.as_deref().unwrap_or("-"),
        )
    }
}

fn progress_bar(len: usize, json: bool) -> ProgressBar {
    // Only for a person watching: not in --json output and not when stderr is a file or pipe.
    let target = if json || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} {wide_msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// `salesdesk analyze`: a single file keeps the one-record output of `commands::analyze`;
/// several files or a folder go through [`run`].
pub async fn analyze(
    paths: DataPaths,
    files: &[PathBuf],
    options: AnalyzeOptions,
    json: bool,
) -> CliResult {
    // Judged by the AI chain when a provider key is set (GEMINI_API_KEY, ...); otherwise, or
    // when every provider fails, by the offline analyzer.
    if let [file] = files
        && !file.is_dir()
    {
        // Read and check the input before touching the store.
        let input = crate::commands::read_input(file)?;
        let core = Salesdesk::open(paths).await?.with_ai(AiSetup::cli());
        let result = crate::commands::analyze(&core, input, options, json).await;
        core.close().await;
        return result;
    }
    if options.title.is_some() {
        return Err(Failure::user(
            "--title names one analysis: with several files each is titled by its file name".into(),
        ));
    }
    let items = expand(files)?;
    let core = Salesdesk::open(paths).await?.with_ai(AiSetup::cli());
    let result = run(&core, items, options, json).await;
    core.close().await;
    result
}

/// Analyzes `items` in order with one core (one AI chain) and reports each.
pub async fn run(
    core: &Salesdesk,
    items: Vec<Item>,
    options: AnalyzeOptions,
    json: bool,
) -> CliResult {
    let bar = progress_bar(items.len(), json);
    let mut entries = Vec::with_capacity(items.len());
    for item in &items {
        bar.set_message(item.title.clone());
        let mut file_options = options.clone();
        file_options.title = Some(item.title.clone());
        let result = match salesdesk_core::analysis::input::read_file(&item.path) {
            Ok(bytes) => core.analyze_transcript(bytes, file_options).await,
            Err(e) => Err(e),
        };
        let entry = match &result {
            Ok(record) => Entry::ok(item, record),
            Err(e) => Entry::failed(item, e),
        };
        if !json {
            let line = entry.line();
            bar.suspend(|| print_line(&line))?;
        }
        entries.push(entry);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let failed = entries.iter().filter(|e| !e.ok).count();
    if json {
        print_json(&entries)?;
    } else {
        print_line(&format!(
            "{} analyzed, {failed} failed",
            entries.len() - failed
        ))?;
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_expand_recursively_in_a_stable_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for p in [
            "b.txt",
            "a/z.vtt",
            "a/m.SRT",
            "notes.md",
            ".hidden/x.txt",
            ".y.txt",
            "c.json",
        ] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "A: hi\nB: hello\n").unwrap();
        }
        let items = expand(&[root.to_owned(), root.join("b.txt")])
            .unwrap_or_else(|e| panic!("{}", e.message));
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["a/m.SRT", "a/z.vtt", "b.txt", "c.json"]);

        let empty = tempfile::tempdir().unwrap();
        let err = expand(&[empty.path().to_owned()]).unwrap_err();
        assert!(
            err.message.contains("no transcript files"),
            "{}",
            err.message
        );
        let err = expand(&[root.join("b.txt"), PathBuf::from("-")]).unwrap_err();
        assert!(err.message.contains("alone"), "{}", err.message);
    }
}
