//! Import of the old browser app's data (a JSON export of its localStorage; format in
//! docs/import.md) through the normal write path.
//!
//! - One SQLite transaction per file: the file's valid entries are committed together or not
//!   at all (a full disk or a crash mid-import leaves the store as it was).
//! - Malformed entries are reported with a reason and skipped before anything of theirs is
//!   written; they never stop the others.
//! - Idempotent: each record's id is derived from the old app's id (UUIDv8 over SHA-256), so
//!   importing the same file again finds every record unchanged and writes nothing.
//!
//! Deliberately left out: the training materials' files (not in a localStorage export) and
//! deleting records that a later export no longer has.

mod analysis;
pub mod format;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::analysis::report::CallAnalysis;
use crate::data::analyses::{self, NewAnalysis};
use crate::data::campaigns::{self, CampaignInput, CampaignStatus};
use crate::data::clients::{self, ClientInput};
use crate::data::fields::Put;
use crate::data::local::{LocalStore, WriteTx};
use crate::data::materials::{self, FileFacts, MaterialMeta};
use crate::data::signups::{self, SignupInput};
use crate::error::{CoreError, ErrorKind, Result};
use crate::time::now_rfc3339;
use format::{Export, OldAnalysis, OldCampaign, OldClient, OldMaterial, OldSignup};

/// Larger files are refused: a browser's localStorage holds about 5-10 MB.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// What an import did, per kind of record, and every entry it skipped with the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct ImportReport {
    pub format_version: u32,
    pub sections: Vec<SectionReport>,
    pub skipped: Vec<SkippedEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SectionReport {
    /// `clients`, `campaigns`, `signups`, `analyses`, `training_materials`.
    pub section: String,
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub skipped: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct SkippedEntry {
    pub section: String,
    /// The entry's position in its array, from 0.
    pub index: u32,
    /// The old app's id, when the entry had a readable one.
    pub old_id: Option<String>,
    pub reason: String,
}

impl ImportReport {
    pub fn total(&self, f: impl Fn(&SectionReport) -> u32) -> u32 {
        self.sections.iter().map(f).sum()
    }
}

/// Reads and imports an export file.
pub async fn import_file(store: &LocalStore, path: &Path) -> Result<ImportReport> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| CoreError::InvalidInput(format!("cannot read {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(CoreError::InvalidInput(format!("{shown} is not a file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(CoreError::InvalidInput(format!(
            "{shown} is {} MB, more than an export can be ({} MB); is it the right file?",
            meta.len() / 1_048_576,
            MAX_FILE_BYTES / 1_048_576
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| CoreError::InvalidInput(format!("cannot read {shown}: {e}")))?;
    import_bytes(store, &bytes).await
}

/// Imports an export held in memory. File-level problems (not JSON, not an export, an
/// unknown version) are errors and nothing is written.
pub async fn import_bytes(store: &LocalStore, bytes: &[u8]) -> Result<ImportReport> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        CoreError::InvalidInput(format!(
            "the file is not valid JSON (line {}, column {}: {e}); export it again from the \
             browser app",
            e.line(),
            e.column()
        ))
    })?;
    if !value.is_object() {
        return Err(not_an_export("the file holds JSON, but not an object"));
    }
    let export: Export = serde_json::from_value(value)
        .map_err(|e| not_an_export(&format!("its top level cannot be read ({e})")))?;
    let version = match &export.version {
        Some(Value::Number(n)) => n.as_u64(),
        Some(_) => return Err(not_an_export("\"version\" is not a number")),
        None => return Err(not_an_export("it has no \"version\" field")),
    };
    if version != Some(format::SUPPORTED_VERSION) {
        return Err(CoreError::InvalidInput(format!(
            "the export is version {}, and this Salesdesk reads version {}; update Salesdesk \
             or export again in version {}",
            export
                .version
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default(),
            format::SUPPORTED_VERSION,
            format::SUPPORTED_VERSION
        )));
    }
    let sections = [
        ("clients", &export.clients),
        ("campaigns", &export.campaigns),
        ("signups", &export.signups),
        ("analyses", &export.analyses),
        ("training_materials", &export.training_materials),
    ];
    let mut arrays = HashMap::new();
    for (name, v) in sections {
        match v {
            None | Some(Value::Null) => {
                arrays.insert(name, Vec::new());
            }
            Some(Value::Array(a)) => {
                arrays.insert(name, a.clone());
            }
            Some(_) => {
                return Err(not_an_export(&format!("\"{name}\" is not a list")));
            }
        }
    }

    // Parsing and measuring transcripts is the slow, CPU-bound part: done before the write
    // transaction (and off the async workers), so the store is locked only for the writes.
    let calls = arrays.get("analyses").cloned().unwrap_or_default();
    let prepared = tokio::task::spawn_blocking(move || {
        calls
            .iter()
            .map(|entry| {
                let a: OldAnalysis = serde_json::from_value(entry.clone()).ok()?;
                Some(analysis::build(&a.transcript, a.result.as_ref()))
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| CoreError::Internal(format!("the import task failed: {e}")))?;

    let mut run = Run {
        report: ImportReport {
            format_version: format::SUPPORTED_VERSION as u32,
            ..Default::default()
        },
        clients: HashSet::new(),
        campaigns: HashSet::new(),
        prepared,
    };
    let mut tx = store.begin_write().await?;
    for (name, _) in sections {
        let entries = arrays.remove(name).unwrap_or_default();
        run.section(&mut tx, name, &entries).await?;
    }
    tx.commit().await?;
    tracing::info!(
        added = run.report.total(|s| s.added),
        updated = run.report.total(|s| s.updated),
        unchanged = run.report.total(|s| s.unchanged),
        skipped = run.report.skipped.len(),
        "import finished"
    );
    Ok(run.report)
}

fn not_an_export(why: &str) -> CoreError {
    CoreError::InvalidInput(format!(
        "the file is not a Salesdesk browser export: {why}. Expected an object with \
         \"version\": 1 and lists such as \"clients\" and \"analyses\" (see docs/import.md)"
    ))
}

/// The stable id of an imported record: the same old id (or, without one, the same entry)
/// always gives the same id, so a second import finds the first one's rows.
pub fn stable_id(section: &str, old_id: Option<&str>, entry: &Value) -> String {
    let mut h = Sha256::new();
    h.update(b"salesdesk-browser-import-v1\0");
    h.update(section.as_bytes());
    h.update(b"\0");
    match old_id {
        Some(id) => {
            h.update(b"id\0");
            h.update(id.as_bytes());
        }
        None => {
            h.update(b"content\0");
            h.update(entry.to_string().as_bytes());
        }
    }
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Why one entry is skipped; anything else (a store failure) aborts the whole import.
type Skip = String;

struct Run {
    report: ImportReport,
    /// Old ids of the clients and campaigns present after this import (for references).
    clients: HashSet<String>,
    campaigns: HashSet<String>,
    /// Each analysis entry's transcript text and analysis, by position (`None`: unreadable).
    prepared: Vec<Option<std::result::Result<(String, CallAnalysis), String>>>,
}

impl Run {
    async fn section(&mut self, tx: &mut WriteTx, name: &str, entries: &[Value]) -> Result<()> {
        let mut counts = SectionReport {
            section: name.to_owned(),
            ..Default::default()
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            let old = format::old_id(entry.get("id")).ok().flatten();
            let outcome = match old.as_ref().and_then(|id| seen.get(id)) {
                Some(first) => Err(Ok(format!(
                    "duplicate id: entry {first} of {name} has the same id"
                ))),
                None => self.entry(tx, name, index, entry, old.as_deref()).await,
            };
            if let Some(id) = &old {
                seen.entry(id.clone()).or_insert(index);
            }
            let reason = match outcome {
                Ok(Put::Added) => {
                    counts.added += 1;
                    continue;
                }
                Ok(Put::Updated) => {
                    counts.updated += 1;
                    continue;
                }
                Ok(Put::Unchanged) => {
                    counts.unchanged += 1;
                    continue;
                }
                Ok(Put::Deleted) => {
                    "deleted on this device since an earlier import; left deleted".to_owned()
                }
                Err(Ok(reason)) => reason,
                Err(Err(e)) => return Err(e),
            };
            counts.skipped += 1;
            self.report.skipped.push(SkippedEntry {
                section: name.to_owned(),
                index: u32::try_from(index).unwrap_or(u32::MAX),
                old_id: old,
                reason,
            });
        }
        self.report.sections.push(counts);
        Ok(())
    }

    /// One entry. `Err(Ok(reason))`: skipped; `Err(Err(e))`: the import must stop.
    async fn entry(
        &mut self,
        tx: &mut WriteTx,
        section: &str,
        index: usize,
        entry: &Value,
        old: Option<&str>,
    ) -> std::result::Result<Put, std::result::Result<Skip, CoreError>> {
        if !entry.is_object() {
            return Err(Ok("not an object".into()));
        }
        format::old_id(entry.get("id")).map_err(Ok)?;
        let id = stable_id(section, old, entry);
        let put = match section {
            "clients" => self.client(tx, &id, entry).await,
            "campaigns" => self.campaign(tx, &id, entry).await,
            "signups" => self.signup(tx, &id, entry).await,
            "analyses" => self.analysis(tx, &id, index, entry).await,
            _ => material(tx, &id, entry).await,
        }?;
        if let Some(old) = old
            && put != Put::Deleted
        {
            match section {
                "clients" => {
                    self.clients.insert(old.to_owned());
                }
                "campaigns" => {
                    self.campaigns.insert(old.to_owned());
                }
                _ => {}
            }
        }
        Ok(put)
    }

    async fn client(&mut self, tx: &mut WriteTx, id: &str, entry: &Value) -> Outcome {
        let c: OldClient = parse(entry)?;
        let created = created_at(&c.created_at)?;
        let input = ClientInput {
            name: c.name,
            company: c.company,
            email: c.email,
            phone: c.phone,
            notes: c.notes,
            tags: c.tags,
        };
        skip_invalid(clients::put(tx, id, &input, &created).await)
    }

    async fn campaign(&mut self, tx: &mut WriteTx, id: &str, entry: &Value) -> Outcome {
        let c: OldCampaign = parse(entry)?;
        let created = created_at(&c.created_at)?;
        let status = match c.status.as_deref() {
            None => CampaignStatus::Draft,
            // The old app said "completed" where Salesdesk says "ended".
            Some(s) if s.eq_ignore_ascii_case("completed") => CampaignStatus::Ended,
            Some(s) => CampaignStatus::parse(s).map_err(|e| Ok(e.to_string()))?,
        };
        let input = CampaignInput {
            name: c.name,
            description: c.description,
            channel: c.channel,
            status,
            starts_on: c.start_date,
            ends_on: c.end_date,
            budget: format::amount(c.budget.as_ref()).map_err(Ok)?,
        };
        skip_invalid(campaigns::put(tx, id, &input, &created).await)
    }

    async fn signup(&mut self, tx: &mut WriteTx, id: &str, entry: &Value) -> Outcome {
        let s: OldSignup = parse(entry)?;
        let created = created_at(&s.created_at)?;
        let client = format::old_id(Some(&s.client_id))
            .map_err(Ok)?
            .ok_or_else(|| Ok("it has no client id".to_owned()))?;
        if !self.clients.contains(&client) {
            return Err(Ok(format!(
                "its client '{client}' is not in this export (or was skipped)"
            )));
        }
        let campaign = format::old_id(s.campaign_id.as_ref()).map_err(Ok)?;
        if let Some(c) = &campaign
            && !self.campaigns.contains(c)
        {
            return Err(Ok(format!(
                "its campaign '{c}' is not in this export (or was skipped)"
            )));
        }
        let input = SignupInput {
            client_id: stable_id("clients", Some(&client), &Value::Null),
            campaign_id: campaign.map(|c| stable_id("campaigns", Some(&c), &Value::Null)),
            signed_up_on: s.date,
            source: s.source,
            value: format::amount(s.value.as_ref()).map_err(Ok)?,
            notes: s.notes,
        };
        skip_invalid(signups::put(tx, id, &input, &created).await)
    }

    async fn analysis(
        &mut self,
        tx: &mut WriteTx,
        id: &str,
        index: usize,
        entry: &Value,
    ) -> Outcome {
        let a: OldAnalysis = parse(entry)?;
        let created = created_at(&a.created_at)?;
        let client = format::old_id(a.client_id.as_ref())
            .map_err(Ok)?
            .filter(|c| self.clients.contains(c))
            .map(|c| stable_id("clients", Some(&c), &Value::Null));
        let (text, judged) = self
            .prepared
            .get_mut(index)
            .and_then(Option::take)
            .ok_or_else(|| Err(CoreError::Internal("an analysis was not prepared".into())))?
            .map_err(Ok)?;
        let title = a
            .title
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "Imported call".to_owned());
        let new = NewAnalysis {
            title,
            transcript: text,
            provider: judged.provider.clone(),
            model: Some(judged.model.clone()),
            analysis: serde_json::to_value(&judged)
                .map_err(|e| Err(CoreError::Internal(format!("cannot encode: {e}"))))?,
        };
        skip_invalid(analyses::put(tx, id, &new, client.as_deref(), &created).await)
    }
}

type Outcome = std::result::Result<Put, std::result::Result<Skip, CoreError>>;

fn parse<T: serde::de::DeserializeOwned>(
    entry: &Value,
) -> std::result::Result<T, std::result::Result<Skip, CoreError>> {
    serde_json::from_value(entry.clone()).map_err(|e| Ok(e.to_string()))
}

fn created_at(
    v: &Option<Value>,
) -> std::result::Result<String, std::result::Result<Skip, CoreError>> {
    Ok(format::timestamp(v.as_ref())
        .map_err(Ok)?
        .unwrap_or_else(now_rfc3339))
}

/// Bad input skips the entry; a store failure stops the import.
fn skip_invalid(r: Result<Put>) -> Outcome {
    r.map_err(|e| match e.kind() {
        ErrorKind::InvalidInput | ErrorKind::NotFound => Ok(e.to_string()),
        _ => Err(e),
    })
}

/// A training material's metadata; the file itself is not in a localStorage export, so only
/// its size and type are kept.
async fn material(tx: &mut WriteTx, id: &str, entry: &Value) -> Outcome {
    let m: OldMaterial = parse(entry)?;
    let created = created_at(&m.created_at)?;
    let size = match &m.file_size {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| Ok(format!("the file size {v} is not a whole number of bytes")))?,
        ),
    };
    let meta = MaterialMeta {
        title: m.title,
        description: m.description,
        // The old app saved the empty tag a trailing comma left; the library refuses it.
        tags: m
            .tags
            .into_iter()
            .filter(|t| !t.trim().is_empty())
            .collect(),
    };
    let facts = FileFacts {
        size,
        mime: m.mime_type,
    };
    skip_invalid(materials::put(tx, id, &meta, &facts, &created).await)
}
