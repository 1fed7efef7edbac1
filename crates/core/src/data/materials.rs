//! Training materials' metadata (title, description, tags and the stored file's facts) in the
//! local `training_materials` table, written only through [`WriteTx`] so each change is synced.
//! The file itself is not handled here: see `crate::materials`, which stores it first and
//! only then writes the row. Deleting is soft (a tombstone) so it can be undone and synced.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fields::Put;
use super::local::{LocalStore, RowOp, WriteTx};
use crate::error::{CoreError, Result};
use crate::time::now_rfc3339;

pub const TABLE: &str = "training_materials";

/// Longest title, in characters (the table's CHECK says the same: SQLite's length() counts
/// characters of text).
pub const MAX_TITLE_CHARS: usize = 500;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;

/// What kind of file a material is, from its MIME type; the library filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    Pdf,
    Video,
    Audio,
    Image,
    Slides,
    Document,
    Spreadsheet,
    Other,
}

impl MaterialKind {
    pub fn of_mime(mime: Option<&str>) -> Self {
        let Some(mime) = mime else {
            return Self::Other;
        };
        let mime = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "application/pdf" => Self::Pdf,
            m if m.starts_with("video/") => Self::Video,
            m if m.starts_with("audio/") => Self::Audio,
            m if m.starts_with("image/") => Self::Image,
            m if m.contains("presentation") || m.contains("powerpoint") => Self::Slides,
            m if m.contains("spreadsheet") || m.contains("excel") || m == "text/csv" => {
                Self::Spreadsheet
            }
            m if m.contains("wordprocessing")
                || m == "application/msword"
                || m.starts_with("text/")
                || m == "application/rtf"
                || m.contains("opendocument.text") =>
            {
                Self::Document
            }
            _ => Self::Other,
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        let kind = match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Self::Pdf,
            "video" => Self::Video,
            "audio" => Self::Audio,
            "image" => Self::Image,
            "slides" => Self::Slides,
            "document" => Self::Document,
            "spreadsheet" => Self::Spreadsheet,
            "other" => Self::Other,
            _ => {
                return Err(CoreError::InvalidInput(format!(
                    "'{s}' is not a material type: use pdf, video, audio, image, slides, \
                     document, spreadsheet or other"
                )));
            }
        };
        Ok(kind)
    }
}

/// A training material as the library shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Material {
    pub id: String,
    /// The uploading user in team mode; `None` in local mode and before the first sync.
    pub owner_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The file's key in its store (local: the SHA-256; team: the bucket object path).
    pub file_path: Option<String>,
    pub file_size: Option<u64>,
    pub file_sha256: Option<String>,
    pub mime_type: Option<String>,
    pub kind: MaterialKind,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    /// Set when the material is deleted (it can be restored).
    pub deleted_at: Option<String>,
}

/// The stored file a material points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub mime: String,
}

/// What a caller gives to add a material; the id and timestamps are made here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct MaterialMeta {
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

/// A change to a material's metadata; `None` fields stay as they are. An empty description
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct MaterialUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// A search of the library. All given filters must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
#[serde(default)]
pub struct MaterialQuery {
    /// Words that must all appear (case-insensitive) in the title, description or tags.
    pub search: Option<String>,
    /// Only materials with this tag (case-insensitive).
    pub tag: Option<String>,
    pub kind: Option<MaterialKind>,
    /// List the deleted materials instead of the live ones (to restore one).
    pub deleted: bool,
}

/// Checked metadata, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedMeta {
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')))
}

pub fn check_title(title: &str) -> Result<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(CoreError::InvalidInput(
            "a training material needs a title".into(),
        ));
    }
    let chars = title.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Err(CoreError::InvalidInput(format!(
            "the title is {chars} characters long; keep it to {MAX_TITLE_CHARS}"
        )));
    }
    if has_control(title, false) {
        return Err(CoreError::InvalidInput(
            "the title contains control characters (line breaks, tabs or invisible codes); \
             type it on one line"
                .into(),
        ));
    }
    Ok(title.to_owned())
}

pub fn check_description(description: Option<&str>) -> Result<Option<String>> {
    let Some(d) = description.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let chars = d.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(CoreError::InvalidInput(format!(
            "the description is {chars} characters long; keep it to {MAX_DESCRIPTION_CHARS}"
        )));
    }
    if has_control(d, true) {
        return Err(CoreError::InvalidInput(
            "the description contains invisible control characters; remove them".into(),
        ));
    }
    Ok(Some(d.to_owned()))
}

/// Trims tags, drops exact repeats (case-insensitive, the first spelling wins) and refuses
/// empty, overlong or control-character tags and more than [`MAX_TAGS`].
pub fn check_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for tag in tags {
        let t = tag.trim();
        if t.is_empty() {
            return Err(CoreError::InvalidInput("a tag cannot be empty".into()));
        }
        let chars = t.chars().count();
        if chars > MAX_TAG_CHARS {
            return Err(CoreError::InvalidInput(format!(
                "the tag '{}…' is {chars} characters long; keep tags to {MAX_TAG_CHARS}",
                t.chars().take(20).collect::<String>()
            )));
        }
        if has_control(t, false) {
            return Err(CoreError::InvalidInput(
                "a tag contains control characters (line breaks, tabs or invisible codes)".into(),
            ));
        }
        if seen.insert(t.to_lowercase()) {
            out.push(t.to_owned());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(CoreError::InvalidInput(format!(
            "{} tags given; a material takes at most {MAX_TAGS}",
            out.len()
        )));
    }
    Ok(out)
}

pub fn check_meta(meta: &MaterialMeta) -> Result<CheckedMeta> {
    Ok(CheckedMeta {
        title: check_title(&meta.title)?,
        description: check_description(meta.description.as_deref())?,
        tags: check_tags(&meta.tags)?,
    })
}

/// Parses a user-supplied id, so a typo gets "not a valid id" rather than "not found".
pub fn parse_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id.trim()).map_err(|_| {
        CoreError::InvalidInput(format!(
            "'{id}' is not a valid material id (expected a UUID such as \
             0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d)"
        ))
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    owner_id: Option<String>,
    title: String,
    description: Option<String>,
    tags: String,
    file_path: Option<String>,
    file_size: Option<i64>,
    file_sha256: Option<String>,
    mime_type: Option<String>,
    created_at: String,
    updated_at: String,
    deleted_at: Option<String>,
}

/// `SELECT <every column> FROM training_materials <rest>` as one literal (sqlx takes only
/// static SQL).
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, owner_id, title, description, tags, file_path, file_size, file_sha256, \
             mime_type, created_at, updated_at, deleted_at FROM training_materials ",
            $rest
        )
    };
}

impl Row {
    fn into_material(self) -> Result<Material> {
        let tags: Vec<String> = serde_json::from_str(&self.tags).map_err(|e| {
            CoreError::Store(format!("material {} holds invalid tags: {e}", self.id))
        })?;
        Ok(Material {
            kind: MaterialKind::of_mime(self.mime_type.as_deref()),
            id: self.id,
            owner_id: self.owner_id,
            title: self.title,
            description: self.description,
            tags,
            file_path: self.file_path,
            file_size: self.file_size.and_then(|s| u64::try_from(s).ok()),
            file_sha256: self.file_sha256,
            mime_type: self.mime_type,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        })
    }
}

fn tags_json(tags: &[String]) -> String {
    serde_json::Value::from(tags.to_vec()).to_string()
}

/// Adds a material with a new UUIDv7 id.
pub async fn insert(
    tx: &mut WriteTx,
    meta: &MaterialMeta,
    file: Option<&MaterialFile>,
) -> Result<Material> {
    insert_with_id(tx, Uuid::now_v7(), meta, file).await
}

/// Adds a material under an id made beforehand (the file's storage path is derived from it,
/// so the id exists before the row does).
pub async fn insert_with_id(
    tx: &mut WriteTx,
    id: Uuid,
    meta: &MaterialMeta,
    file: Option<&MaterialFile>,
) -> Result<Material> {
    let meta = check_meta(meta)?;
    let now = now_rfc3339();
    let id = id.to_string();
    let size = file
        .map(|f| i64::try_from(f.size))
        .transpose()
        .map_err(|_| CoreError::InvalidInput("the file is too large to record".into()))?;
    sqlx::query(
        "INSERT INTO training_materials (id, owner_id, title, description, tags, file_path, \
         file_size, file_sha256, mime_type, created_at, updated_at, deleted_at) \
         VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
    )
    .bind(&id)
    .bind(&meta.title)
    .bind(&meta.description)
    .bind(tags_json(&meta.tags))
    .bind(file.map(|f| f.path.as_str()))
    .bind(size)
    .bind(file.map(|f| f.sha256.as_str()))
    .bind(file.map(|f| f.mime.as_str()))
    .bind(&now)
    .bind(&now)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.record(TABLE, id.clone(), RowOp::Upsert);
    get_in(tx, &id).await
}

async fn get_in(tx: &mut WriteTx, id: &str) -> Result<Material> {
    let row = sqlx::query_as::<_, Row>(select!("WHERE id = ?"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await
        .map_err(|e| tx.err(e))?;
    row.ok_or_else(|| CoreError::MaterialNotFound { id: id.to_owned() })?
        .into_material()
}

/// What is known of a material's file without the file itself (a browser export lists only
/// these facts; the file stays on the old machine).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    pub size: Option<u64>,
    pub mime: Option<String>,
}

/// Longest MIME type kept; real ones are well under it.
pub const MAX_MIME_CHARS: usize = 200;

fn check_mime(mime: Option<&str>) -> Result<Option<String>> {
    let Some(m) = mime.map(str::trim).filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    if m.chars().count() > MAX_MIME_CHARS || has_control(m, false) {
        return Err(CoreError::InvalidInput(format!(
            "the file type '{}…' is not a MIME type (like application/pdf)",
            m.chars().take(20).collect::<String>()
        )));
    }
    Ok(Some(m.to_owned()))
}

/// Writes a material under an id chosen elsewhere (the importer's stable ids), creating it
/// with `created_at` or updating it; a deleted material is left deleted, and a material that
/// already holds the same metadata is not written at all (so a re-import syncs nothing).
pub async fn put(
    tx: &mut WriteTx,
    id: &str,
    meta: &MaterialMeta,
    facts: &FileFacts,
    created_at: &str,
) -> Result<Put> {
    let uuid = parse_id(id)?.to_string();
    let meta = check_meta(meta)?;
    let mime = check_mime(facts.mime.as_deref())?;
    let size = facts
        .size
        .map(i64::try_from)
        .transpose()
        .map_err(|_| CoreError::InvalidInput("the file is too large to record".into()))?;
    let current = match get_in(tx, &uuid).await {
        Ok(m) => Some(m),
        Err(CoreError::MaterialNotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let now = now_rfc3339();
    let put = match current {
        Some(m) if m.deleted_at.is_some() => return Ok(Put::Deleted),
        Some(m)
            if m.title == meta.title
                && m.description == meta.description
                && m.tags == meta.tags
                && m.file_size == facts.size
                && m.mime_type == mime =>
        {
            return Ok(Put::Unchanged);
        }
        Some(_) => {
            sqlx::query(
                "UPDATE training_materials SET title = ?, description = ?, tags = ?, \
                 file_size = ?, mime_type = ?, updated_at = ? WHERE id = ?",
            )
            .bind(&meta.title)
            .bind(&meta.description)
            .bind(tags_json(&meta.tags))
            .bind(size)
            .bind(&mime)
            .bind(&now)
            .bind(&uuid)
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
            Put::Updated
        }
        None => {
            sqlx::query(
                "INSERT INTO training_materials (id, owner_id, title, description, tags, \
                 file_path, file_size, file_sha256, mime_type, created_at, updated_at, \
                 deleted_at) VALUES (?, NULL, ?, ?, ?, NULL, ?, NULL, ?, ?, ?, NULL)",
            )
            .bind(&uuid)
            .bind(&meta.title)
            .bind(&meta.description)
            .bind(tags_json(&meta.tags))
            .bind(size)
            .bind(&mime)
            .bind(created_at)
            .bind(&now)
            .execute(tx.conn())
            .await
            .map_err(|e| tx.err(e))?;
            Put::Added
        }
    };
    tx.record(TABLE, uuid, RowOp::Upsert);
    Ok(put)
}

/// Changes title, description and/or tags of a live material.
pub async fn update(tx: &mut WriteTx, id: &str, change: &MaterialUpdate) -> Result<Material> {
    let uuid = parse_id(id)?.to_string();
    let current = get_in(tx, &uuid).await;
    let current = match current {
        Ok(m) if m.deleted_at.is_none() => m,
        Ok(_) | Err(CoreError::MaterialNotFound { .. }) => {
            return Err(CoreError::MaterialNotFound { id: id.to_owned() });
        }
        Err(e) => return Err(e),
    };
    let title = match &change.title {
        Some(t) => check_title(t)?,
        None => current.title,
    };
    let description = match &change.description {
        Some(d) => check_description(Some(d))?,
        None => current.description,
    };
    let tags = match &change.tags {
        Some(t) => check_tags(t)?,
        None => current.tags,
    };
    sqlx::query(
        "UPDATE training_materials SET title = ?, description = ?, tags = ?, updated_at = ? \
         WHERE id = ?",
    )
    .bind(&title)
    .bind(&description)
    .bind(tags_json(&tags))
    .bind(now_rfc3339())
    .bind(&uuid)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?;
    tx.record(TABLE, uuid.clone(), RowOp::Upsert);
    get_in(tx, &uuid).await
}

/// Points a material at the same file under a new key (its local-mode file now in the team's
/// bucket), only while it still has the key `from`: an edit from another device that changed
/// the file meanwhile wins. Returns whether the row was changed. Size, digest and type stay, as
/// the content is the same.
pub async fn move_file_key(tx: &mut WriteTx, id: &str, from: &str, to: &str) -> Result<bool> {
    let uuid = parse_id(id)?.to_string();
    let done = sqlx::query(
        "UPDATE training_materials SET file_path = ?, updated_at = ? WHERE id = ? AND file_path = ?",
    )
    .bind(to)
    .bind(now_rfc3339())
    .bind(&uuid)
    .bind(from)
    .execute(tx.conn())
    .await
    .map_err(|e| tx.err(e))?
    .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    tx.record(TABLE, uuid, RowOp::Upsert);
    Ok(true)
}

/// Marks a material deleted (its file is kept so that a restore brings it back whole).
pub async fn soft_delete(tx: &mut WriteTx, id: &str) -> Result<()> {
    let key = parse_id(id)?.to_string();
    if !tx.soft_delete(TABLE, &key).await? {
        return Err(CoreError::MaterialNotFound { id: id.to_owned() });
    }
    Ok(())
}

/// Brings back a deleted material.
pub async fn restore(tx: &mut WriteTx, id: &str) -> Result<()> {
    let key = parse_id(id)?.to_string();
    if !tx.restore(TABLE, &key).await? {
        return Err(CoreError::MaterialNotFound { id: id.to_owned() });
    }
    Ok(())
}

/// A live material.
pub async fn get(store: &LocalStore, id: &str) -> Result<Material> {
    fetch(store, id, select!("WHERE id = ? AND deleted_at IS NULL")).await
}

/// A material, deleted or not (work on its file must not wait for a restore).
pub async fn get_any(store: &LocalStore, id: &str) -> Result<Material> {
    fetch(store, id, select!("WHERE id = ?")).await
}

/// The material `sql` (a `select!` with one `?` for the id) finds.
async fn fetch(store: &LocalStore, id: &str, sql: &'static str) -> Result<Material> {
    let uuid = parse_id(id)?.to_string();
    let row = sqlx::query_as::<_, Row>(sql)
        .bind(&uuid)
        .fetch_optional(store.pool())
        .await
        .map_err(|e| store.err(e))?;
    row.ok_or_else(|| CoreError::MaterialNotFound { id: id.to_owned() })?
        .into_material()
}

/// The library, newest first, filtered by `query`.
///
/// Matching is done here rather than in SQL because SQLite's LIKE and lower() fold ASCII only:
/// a search for "équipe" must find "Équipe". A team's library is hundreds of rows, not
/// millions, so reading the live rows is cheap.
pub async fn list(store: &LocalStore, query: &MaterialQuery) -> Result<Vec<Material>> {
    let sql = if query.deleted {
        select!("WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC")
    } else {
        select!("WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC")
    };
    let rows = sqlx::query_as::<_, Row>(sql)
        .fetch_all(store.pool())
        .await
        .map_err(|e| store.err(e))?;
    let words: Vec<String> = query
        .search
        .as_deref()
        .map(|s| s.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    let tag = query
        .tag
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let mut out = Vec::new();
    for row in rows {
        let m = row.into_material()?;
        if query.kind.is_some_and(|k| k != m.kind) {
            continue;
        }
        if let Some(tag) = &tag
            && !m.tags.iter().any(|t| t.to_lowercase() == *tag)
        {
            continue;
        }
        if !words.is_empty() {
            let haystack = format!(
                "{}\n{}\n{}",
                m.title,
                m.description.as_deref().unwrap_or(""),
                m.tags.join("\n")
            )
            .to_lowercase();
            if !words.iter().all(|w| haystack.contains(w.as_str())) {
                continue;
            }
        }
        out.push(m);
    }
    Ok(out)
}

/// Every tag in use on live materials, sorted case-insensitively (for the filter menu).
pub async fn tags_in_use(store: &LocalStore) -> Result<Vec<String>> {
    let mut tags: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT j.value FROM training_materials m, json_each(m.tags) j \
         WHERE m.deleted_at IS NULL",
    )
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    tags.sort_by_key(|t| t.to_lowercase());
    tags.dedup_by_key(|t| t.to_lowercase());
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, LocalStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("s.db")).await.unwrap();
        (dir, store)
    }

    fn meta(title: &str, tags: &[&str]) -> MaterialMeta {
        MaterialMeta {
            title: title.into(),
            description: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn file(mime: &str) -> MaterialFile {
        MaterialFile {
            path: "a".repeat(64),
            size: 42,
            sha256: "a".repeat(64),
            mime: mime.into(),
        }
    }

    #[tokio::test]
    async fn crud_records_every_change() {
        let (_d, store) = store().await;
        let mut tx = store.begin_write().await.unwrap();
        let m = insert(
            &mut tx,
            &meta(
                "  Objection handling  ",
                &["Onboarding", "onboarding", "Q3"],
            ),
            Some(&file("application/pdf")),
        )
        .await
        .unwrap();
        let changes = tx.commit().await.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].table, TABLE);
        assert_eq!(changes[0].op, RowOp::Upsert);
        assert_eq!(m.title, "Objection handling");
        assert_eq!(m.tags, vec!["Onboarding", "Q3"]);
        assert_eq!(m.kind, MaterialKind::Pdf);
        assert_eq!(m.file_size, Some(42));
        assert_eq!(Uuid::parse_str(&m.id).unwrap().get_version_num(), 7);

        let mut tx = store.begin_write().await.unwrap();
        let updated = update(
            &mut tx,
            &m.id,
            &MaterialUpdate {
                title: Some("Objections 101".into()),
                description: Some("Read first".into()),
                tags: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(tx.commit().await.unwrap().len(), 1);
        assert_eq!(updated.title, "Objections 101");
        assert_eq!(updated.description.as_deref(), Some("Read first"));
        assert_eq!(updated.tags, vec!["Onboarding", "Q3"]);

        let mut tx = store.begin_write().await.unwrap();
        soft_delete(&mut tx, &m.id).await.unwrap();
        let changes = tx.commit().await.unwrap();
        assert_eq!(changes[0].op, RowOp::Delete);
        assert!(matches!(
            get(&store, &m.id).await,
            Err(CoreError::MaterialNotFound { .. })
        ));
        let deleted = list(
            &store,
            &MaterialQuery {
                deleted: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(deleted.len(), 1);
        assert!(deleted[0].deleted_at.is_some());

        let mut tx = store.begin_write().await.unwrap();
        assert!(matches!(
            soft_delete(&mut tx, &m.id).await,
            Err(CoreError::MaterialNotFound { .. })
        ));
        restore(&mut tx, &m.id).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(get(&store, &m.id).await.unwrap().title, "Objections 101");
    }

    #[tokio::test]
    async fn put_adds_then_finds_unchanged_updates_and_leaves_deleted_alone() {
        let (_d, store) = store().await;
        let id = "0192f0c1-7d3e-8a4b-9c1d-2e3f4a5b6c7d";
        let facts = FileFacts {
            size: Some(482_113),
            mime: Some("application/pdf".into()),
        };
        let created = "2026-03-02T10:15:00.000Z";
        let mut tx = store.begin_write().await.unwrap();
        let m = meta("Playbook", &["objections"]);
        assert_eq!(
            put(&mut tx, id, &m, &facts, created).await.unwrap(),
            Put::Added
        );
        assert_eq!(tx.commit().await.unwrap().len(), 1);
        let got = get(&store, id).await.unwrap();
        assert_eq!(got.created_at, created);
        assert_eq!(got.file_size, Some(482_113));
        assert_eq!(got.kind, MaterialKind::Pdf);
        assert_eq!(got.file_path, None);

        let mut tx = store.begin_write().await.unwrap();
        assert_eq!(
            put(&mut tx, id, &m, &facts, created).await.unwrap(),
            Put::Unchanged
        );
        assert!(
            tx.commit().await.unwrap().is_empty(),
            "unchanged writes nothing"
        );

        let mut tx = store.begin_write().await.unwrap();
        let smaller = FileFacts {
            size: Some(1),
            ..facts.clone()
        };
        assert_eq!(
            put(&mut tx, id, &m, &smaller, created).await.unwrap(),
            Put::Updated
        );
        tx.commit().await.unwrap();
        assert_eq!(get(&store, id).await.unwrap().file_size, Some(1));

        let mut tx = store.begin_write().await.unwrap();
        let bad = FileFacts {
            size: None,
            mime: Some("x".repeat(MAX_MIME_CHARS + 1)),
        };
        let err = put(&mut tx, id, &m, &bad, created).await.unwrap_err();
        assert!(err.to_string().contains("MIME type"), "{err}");
        assert!(put(&mut tx, "m-1", &m, &facts, created).await.is_err());
        soft_delete(&mut tx, id).await.unwrap();
        assert_eq!(
            put(&mut tx, id, &meta("Other", &[]), &facts, created)
                .await
                .unwrap(),
            Put::Deleted
        );
        tx.commit().await.unwrap();
        let gone = list(
            &store,
            &MaterialQuery {
                deleted: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(gone[0].title, "Playbook");
        assert_eq!(gone[0].file_size, Some(1));
    }

    #[tokio::test]
    async fn bad_input_is_refused_and_nothing_is_written() {
        let (_d, store) = store().await;
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        let cases: Vec<(MaterialMeta, &str)> = vec![
            (meta("   ", &[]), "needs a title"),
            (meta(&long, &[]), "keep it to 500"),
            (meta("a\u{7}b", &[]), "control characters"),
            (meta("ok", &[" "]), "cannot be empty"),
            (meta("ok", &[&"y".repeat(51)]), "keep tags to 50"),
            (meta("ok", &["a\nb"]), "control characters"),
            (
                MaterialMeta {
                    tags: many,
                    ..meta("ok", &[])
                },
                "at most 20",
            ),
        ];
        for (m, expected) in cases {
            let mut tx = store.begin_write().await.unwrap();
            let err = insert(&mut tx, &m, None).await.unwrap_err();
            assert!(err.to_string().contains(expected), "{err} vs {expected}");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            tx.commit().await.unwrap();
        }
        assert!(
            list(&store, &MaterialQuery::default())
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            get(&store, "not-an-id").await,
            Err(CoreError::InvalidInput(_))
        ));
        // A failed update leaves the row as it was.
        let mut tx = store.begin_write().await.unwrap();
        let m = insert(&mut tx, &meta("Keep me", &["a"]), None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin_write().await.unwrap();
        assert!(
            update(
                &mut tx,
                &m.id,
                &MaterialUpdate {
                    title: Some("".into()),
                    ..Default::default()
                }
            )
            .await
            .is_err()
        );
        drop(tx);
        assert_eq!(get(&store, &m.id).await.unwrap().title, "Keep me");
    }

    #[tokio::test]
    async fn search_is_case_insensitive_over_title_description_and_tags() {
        let (_d, store) = store().await;
        let mut tx = store.begin_write().await.unwrap();
        insert(
            &mut tx,
            &MaterialMeta {
                title: "Équipe kickoff".into(),
                description: Some("Pricing deck for the Q3 push".into()),
                tags: vec!["Pricing".into()],
            },
            Some(&file(
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            )),
        )
        .await
        .unwrap();
        insert(
            &mut tx,
            &meta("Cold call recording", &["calls", "Demo"]),
            Some(&file("audio/mpeg")),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let q = |search: Option<&str>, tag: Option<&str>, kind: Option<MaterialKind>| {
            let store = store.clone();
            let query = MaterialQuery {
                search: search.map(Into::into),
                tag: tag.map(Into::into),
                kind,
                deleted: false,
            };
            async move {
                list(&store, &query)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| m.title)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(q(Some("équipe"), None, None).await, vec!["Équipe kickoff"]);
        assert_eq!(
            q(Some("PRICING q3"), None, None).await,
            vec!["Équipe kickoff"]
        );
        assert_eq!(
            q(Some("demo"), None, None).await,
            vec!["Cold call recording"]
        );
        assert!(q(Some("pricing demo"), None, None).await.is_empty());
        assert_eq!(
            q(None, Some("CALLS"), None).await,
            vec!["Cold call recording"]
        );
        assert_eq!(
            q(None, None, Some(MaterialKind::Slides)).await,
            vec!["Équipe kickoff"]
        );
        assert_eq!(
            q(None, None, Some(MaterialKind::Audio)).await,
            vec!["Cold call recording"]
        );
        assert_eq!(q(None, None, None).await.len(), 2);
        assert_eq!(
            tags_in_use(&store).await.unwrap(),
            vec!["calls", "Demo", "Pricing"]
        );
    }

    #[test]
    fn kinds_from_mime() {
        assert_eq!(
            MaterialKind::of_mime(Some("video/mp4")),
            MaterialKind::Video
        );
        assert_eq!(
            MaterialKind::of_mime(Some("text/plain; charset=utf-8")),
            MaterialKind::Document
        );
        assert_eq!(MaterialKind::of_mime(None), MaterialKind::Other);
        assert_eq!(MaterialKind::parse("PDF").unwrap(), MaterialKind::Pdf);
        assert!(MaterialKind::parse("slideshow").is_err());
    }
}
