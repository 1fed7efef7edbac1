//! `salesdesk materials`: add, list, fetch, delete and restore training materials.
//!
//! Local mode by default (files in the data directory). Team mode when SUPABASE_URL and
//! SUPABASE_ANON_KEY are set and a team session is saved (`salesdesk auth signin`): files then
//! go to the team's Storage bucket. Progress bars go to stderr, and only when it is a terminal,
//! so that scripts reading stdout (or `--json`) see results only.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use salesdesk_core::data::materials::{
    Material, MaterialKind, MaterialMeta, MaterialQuery, check_meta,
};
use salesdesk_core::files::Transfer;
use salesdesk_core::materials::{MaterialEntry, MaterialLibrary};
use salesdesk_core::team::TeamSetup;
use salesdesk_core::{DataPaths, Salesdesk};
use serde_json::json;

use crate::output::{print_json, print_line};
use crate::{CliResult, Failure};

#[derive(Debug, Subcommand)]
pub enum MaterialsCommand {
    /// Add one or more files (PDF, video, audio, slides, documents) to the library.
    Add {
        /// The files to add.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The title (one file only; default: the file name without its extension).
        #[arg(long, value_name = "T")]
        title: Option<String>,
        /// A description, applied to every file added.
        #[arg(long, value_name = "D")]
        description: Option<String>,
        /// A tag; repeat for several. Applied to every file added.
        #[arg(long = "tag", value_name = "X")]
        tags: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the library, newest first.
    List {
        /// Words to find in the title, description or tags (case-insensitive).
        #[arg(long, value_name = "Q")]
        search: Option<String>,
        /// Only materials with this tag.
        #[arg(long, value_name = "X")]
        tag: Option<String>,
        /// Only this type: pdf, video, audio, image, slides, document, spreadsheet, other.
        #[arg(long = "type", value_name = "TYPE")]
        kind: Option<String>,
        /// List deleted materials (to restore one) instead.
        #[arg(long)]
        deleted: bool,
        #[arg(long)]
        json: bool,
    },
    /// Save a material's file (verified against its checksum).
    Get {
        /// The material id (as printed by `materials list`).
        id: String,
        /// Where to write it (default: its file name in the current folder). An existing
        /// file is replaced only once the new one is complete and verified.
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        output: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a material (it can be brought back with `materials restore`).
    Delete { id: String },
    /// Bring back a deleted material.
    Restore { id: String },
    /// Show additions that have not finished (interrupted, failed) and resume the interrupted
    /// ones; `--retry` also retries the failed ones.
    Resume {
        #[arg(long)]
        retry: bool,
        #[arg(long)]
        json: bool,
    },
    /// Print a link anyone can download the material's file with, until it expires (team
    /// mode only: local files have no server to serve them).
    Share {
        id: String,
        /// How long the link works, in hours (1 to 720).
        #[arg(long, default_value_t = 24, value_name = "N")]
        hours: u64,
        #[arg(long)]
        json: bool,
    },
    /// Show the offline copies of team files (budget, space taken, pinned share); set the
    /// budget or drop the unpinned copies.
    Offline {
        /// The new budget in MiB (256 to 1048576); least recently used unpinned copies over
        /// it are dropped at once.
        #[arg(long, value_name = "MIB")]
        budget_mib: Option<u64>,
        /// Drop every unpinned copy (they download again when opened).
        #[arg(long)]
        clear: bool,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(paths: DataPaths, command: MaterialsCommand) -> CliResult {
    let core = open(paths).await?;
    let result = match command {
        MaterialsCommand::Add {
            files,
            title,
            description,
            tags,
            json,
        } => add(&core, files, title, description, tags, json).await,
        MaterialsCommand::List {
            search,
            tag,
            kind,
            deleted,
            json,
        } => list(&core, search, tag, kind, deleted, json).await,
        MaterialsCommand::Get { id, output, json } => get(&core, &id, output, json).await,
        MaterialsCommand::Delete { id } => {
            core.materials().await?.delete(&id).await?;
            print_line(&format!(
                "Deleted {id}. Undo with `salesdesk materials restore {id}`."
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        MaterialsCommand::Restore { id } => {
            core.materials().await?.restore(&id).await?;
            print_line(&format!("Restored {id}."))?;
            Ok(ExitCode::SUCCESS)
        }
        MaterialsCommand::Resume { retry, json } => resume(&core, retry, json).await,
        MaterialsCommand::Share { id, hours, json } => share(&core, &id, hours, json).await,
        MaterialsCommand::Offline {
            budget_mib,
            clear,
            json,
        } => offline(&core, budget_mib, clear, json).await,
    };
    core.close().await;
    result
}

/// The core with the CLI's team setup: team mode (the team's Storage, the keyring session's
/// tokens) when `SUPABASE_URL` and `SUPABASE_ANON_KEY` are set or saved, local otherwise. With
/// a project set up and nobody signed in, the library refuses with a "sign in" error rather
/// than silently using local files (the core decides, as for the desktop).
async fn open(paths: DataPaths) -> Result<Salesdesk, Failure> {
    Ok(Salesdesk::open(paths).await?.with_team(TeamSetup::cli()))
}

fn bars() -> MultiProgress {
    // indicatif draws nothing when stderr is not a terminal, which is what scripts want.
    MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10))
}

fn bar_for(multi: &MultiProgress, name: &str, size: u64) -> ProgressBar {
    let bar = multi.add(ProgressBar::new(size));
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(name.to_owned());
    bar
}

fn transfer_for(bar: &ProgressBar) -> Transfer {
    let bar = bar.clone();
    Transfer::with_progress(move |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    })
}

async fn add(
    core: &Salesdesk,
    files: Vec<PathBuf>,
    title: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
    json: bool,
) -> CliResult {
    if title.is_some() && files.len() > 1 {
        return Err(Failure::user(format!(
            "--title names one material but {} files were given: add them one at a time, or \
             leave out --title to title each from its file name",
            files.len()
        )));
    }
    // Check the shared metadata once, before any file is touched.
    let meta = MaterialMeta {
        title: title.unwrap_or_default(),
        description,
        tags,
    };
    check_meta(&MaterialMeta {
        title: if meta.title.is_empty() {
            "placeholder".into()
        } else {
            meta.title.clone()
        },
        ..meta.clone()
    })?;
    let library = core.materials().await?;
    resume_quietly(&library).await;

    // Queue every file first: refusals show at once, and a crash mid-way leaves the rest
    // queued for the next run.
    let mut outcomes: Vec<(PathBuf, Result<Material, String>)> = Vec::new();
    let mut queued = Vec::new();
    for file in files {
        match library.queue(&file, &meta).await {
            Ok(p) => queued.push((file, p)),
            Err(e) => outcomes.push((file, Err(e.to_string()))),
        }
    }
    let multi = bars();
    let total: u64 = queued.iter().map(|(_, p)| p.file_size).sum();
    let overall = (queued.len() > 1).then(|| {
        let bar = bar_for(&multi, "total", total);
        bar.set_position(0);
        bar
    });
    let mut finished = 0u64;
    for (file, pending) in queued {
        let bar = bar_for(&multi, &pending.file_name, pending.file_size);
        let transfer = match &overall {
            Some(overall) => {
                let (bar, overall) = (bar.clone(), overall.clone());
                let base = finished;
                Transfer::with_progress(move |p| {
                    bar.set_length(p.total);
                    bar.set_position(p.done);
                    overall.set_position(base + p.done);
                })
            }
            None => transfer_for(&bar),
        };
        let result = library.upload(&pending.id, &transfer).await;
        bar.finish_and_clear();
        finished += pending.file_size;
        outcomes.push((file, result.map_err(|e| e.to_string())));
    }
    if let Some(o) = overall {
        o.finish_and_clear();
    }
    report_additions(&outcomes, json)
}

fn report_additions(outcomes: &[(PathBuf, Result<Material, String>)], json: bool) -> CliResult {
    let failed = outcomes.iter().filter(|(_, r)| r.is_err()).count();
    if json {
        let items: Vec<_> = outcomes
            .iter()
            .map(|(file, r)| match r {
                Ok(m) => json!({"file": file.display().to_string(), "ok": true, "material": m}),
                Err(e) => json!({"file": file.display().to_string(), "ok": false, "error": e}),
            })
            .collect();
        print_json(&items)?;
    } else {
        for (file, r) in outcomes {
            match r {
                Ok(m) => print_line(&format!(
                    "added {}  {}  ({})",
                    m.id,
                    m.title,
                    human_size(m.file_size.unwrap_or(0))
                ))?,
                Err(e) => eprintln!("error: {}: {e}", file.display()),
            }
        }
    }
    if failed > 0 {
        if !json {
            eprintln!("{failed} of {} file(s) were not added", outcomes.len());
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Resumes additions an earlier run left unfinished; says so on stderr.
async fn resume_quietly(library: &MaterialLibrary) {
    match library.resume_pending(|_| Transfer::default()).await {
        Ok(done) => {
            for r in done {
                match r.result {
                    Ok(m) => eprintln!("resumed an interrupted addition: {} {}", m.id, m.title),
                    Err(e) => eprintln!("could not resume the addition {}: {e}", r.id),
                }
            }
        }
        Err(e) => eprintln!("could not check for interrupted additions: {e}"),
    }
}

async fn resume(core: &Salesdesk, retry: bool, json: bool) -> CliResult {
    let library = core.materials().await?;
    let multi = bars();
    let mut results = Vec::new();
    for p in library.pending().await? {
        let failed = p.state == salesdesk_core::materials::UploadState::Failed;
        if failed && !retry {
            results.push(json!({"id": p.id, "title": p.title, "ok": false,
                "error": p.error.unwrap_or_default(), "retried": false}));
            continue;
        }
        let bar = bar_for(&multi, &p.file_name, p.file_size);
        let r = library.upload(&p.id, &transfer_for(&bar)).await;
        bar.finish_and_clear();
        results.push(match r {
            Ok(m) => json!({"id": p.id, "title": m.title, "ok": true}),
            Err(e) => json!({"id": p.id, "title": p.title, "ok": false,
                "error": e.to_string(), "retried": true}),
        });
    }
    let all_ok = results.iter().all(|r| r["ok"] == true);
    if json {
        print_json(&results)?;
    } else if results.is_empty() {
        print_line("Nothing to resume.")?;
    } else {
        for r in &results {
            let status = if r["ok"] == true { "added" } else { "pending" };
            let mut line = format!(
                "{status} {}  {}",
                r["id"].as_str().unwrap_or(""),
                r["title"].as_str().unwrap_or("")
            );
            if let Some(e) = r["error"].as_str() {
                line.push_str(&format!("  ({e})"));
            }
            print_line(&line)?;
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn list(
    core: &Salesdesk,
    search: Option<String>,
    tag: Option<String>,
    kind: Option<String>,
    deleted: bool,
    json: bool,
) -> CliResult {
    let kind = kind.as_deref().map(MaterialKind::parse).transpose()?;
    let library = core.materials().await?;
    let entries = library
        .list(&MaterialQuery {
            search,
            tag,
            kind,
            deleted,
        })
        .await?;
    if json {
        print_json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        print_line(if deleted {
            "No deleted materials."
        } else {
            "No materials. Add one with `salesdesk materials add FILE`."
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    for MaterialEntry {
        material: m,
        file_state,
        pinned,
        ..
    } in &entries
    {
        let tags = if m.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", m.tags.join(", "))
        };
        let state = serde_json::to_value(file_state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        print_line(&format!(
            "{}  {}  {:>9}  {}{}{}",
            m.id,
            &m.created_at[..10.min(m.created_at.len())],
            human_size(m.file_size.unwrap_or(0)),
            m.title,
            tags,
            if *pinned {
                format!("  ({state}, pinned)")
            } else {
                format!("  ({state})")
            }
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn get(core: &Salesdesk, id: &str, output: Option<PathBuf>, json: bool) -> CliResult {
    let library = core.materials().await?;
    let entry = library.get(id).await?;
    let dest = output.unwrap_or_else(|| Path::new(".").join(&entry.file_name));
    let multi = bars();
    let bar = bar_for(
        &multi,
        &entry.file_name,
        entry.material.file_size.unwrap_or(0),
    );
    let size = library.get_file(id, &dest, &transfer_for(&bar)).await;
    bar.finish_and_clear();
    let size = size?;
    if json {
        print_json(
            &json!({"id": entry.material.id, "path": dest.display().to_string(),
            "size": size, "sha256": entry.material.file_sha256}),
        )?;
    } else {
        print_line(&format!("saved {} ({})", dest.display(), human_size(size)))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn human_size(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

async fn share(core: &Salesdesk, id: &str, hours: u64, json: bool) -> CliResult {
    let valid_for = std::time::Duration::from_secs(hours.saturating_mul(3600));
    let link = core.materials().await?.share_link(id, valid_for).await?;
    if json {
        print_json(&link)?;
    } else {
        print_line(&link.url)?;
        eprintln!("The link works until {}.", link.expires_at);
    }
    Ok(ExitCode::SUCCESS)
}

async fn offline(core: &Salesdesk, budget_mib: Option<u64>, clear: bool, json: bool) -> CliResult {
    if let Some(mib) = budget_mib {
        core.set_offline_budget(mib.saturating_mul(1024 * 1024))
            .await?;
    }
    let files = if clear {
        core.clear_offline_files().await?
    } else {
        core.offline_files().await?
    };
    if json {
        print_json(&files)?;
    } else {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        print_line(&format!(
            "Offline copies: {} files, {:.1} MiB of {:.0} MiB ({:.1} MiB pinned).",
            files.files,
            mib(files.used_bytes),
            mib(files.budget_bytes),
            mib(files.pinned_bytes)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
