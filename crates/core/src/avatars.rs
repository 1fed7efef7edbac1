//! The user's avatar (Settings → Profile): one image per user, checked before any byte moves,
//! kept in the team's `user-avatars` bucket and `app.profiles.avatar_path` in team mode, or in
//! the local file store and a local profile row in local mode.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use crate::data::local::LocalStore;
use crate::data::remote::{RemoteConfig, RemoteStore};
use crate::error::{CoreError, Result};
use crate::files::{FileStore, LocalFileStore, SupabaseStorage, Transfer};
use crate::secrets::SecretString;
use crate::time::now_rfc3339;

/// The Storage bucket of avatars (created by the remote migrations).
pub const BUCKET: &str = "user-avatars";

/// The bucket's size limit (migrations/remote/20261126000007_storage.sql), also applied in
/// local mode so an avatar chosen offline can later go to the team unchanged.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// The image types the bucket takes.
const ALLOWED: &[&str] = &["image/png", "image/jpeg", "image/webp", "image/gif"];

/// The local profile row of local mode (no account, so no user id): a fixed, documented id that
/// no server ever issues (the nil UUID), so it cannot collide with a synced profile.
pub const LOCAL_PROFILE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The avatar in force, for display: a local copy the webview can load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct AvatarPreview {
    /// A verified copy in the previews folder.
    pub path: String,
    pub mime: String,
}

/// Where the avatar goes.
pub enum AvatarTarget<'a> {
    /// Local mode: the local file store; the profile row is [`LOCAL_PROFILE_ID`].
    Local { files: &'a LocalFileStore },
    /// Team mode: the user's folder of the bucket and their `app.profiles` row.
    Team {
        storage: &'a SupabaseStorage,
        user_id: &'a str,
        database_url: &'a SecretString,
        access_token: &'a SecretString,
    },
}

impl AvatarTarget<'_> {
    fn profile_id(&self) -> &str {
        match self {
            AvatarTarget::Local { .. } => LOCAL_PROFILE_ID,
            AvatarTarget::Team { user_id, .. } => user_id,
        }
    }
}

/// What the checks found about a candidate image.
struct Checked {
    mime: String,
    ext: &'static str,
    size: u64,
}

/// Refuses, before any upload: a hostile or non-Unicode name, an empty file, a file over the
/// bucket's limit, and content that is not a PNG, JPEG, WebP or GIF image (sniffed, not the
/// extension's word).
fn check(src: &Path) -> Result<Checked> {
    let name = src.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        CoreError::InvalidInput(format!(
            "the file name of {} is not valid Unicode; rename the file and try again",
            src.display()
        ))
    })?;
    let name = crate::files::names::check_file_name(name)?;
    let meta = std::fs::metadata(src).map_err(|e| crate::files::source_error(src, e))?;
    if !meta.is_file() {
        return Err(CoreError::InvalidInput(format!(
            "“{name}” is not a file; choose a PNG, JPEG, WebP or GIF image"
        )));
    }
    if meta.len() == 0 {
        return Err(crate::files::FileError::Empty { name }.into());
    }
    if meta.len() > MAX_BYTES {
        return Err(crate::files::FileError::TooLarge {
            name,
            size: meta.len(),
            limit: MAX_BYTES,
            bucket: BUCKET.to_owned(),
        }
        .into());
    }
    let sniffed = crate::files::sniff::check_file(src, &name)?;
    let ext = match sniffed.mime.as_str() {
        m if ALLOWED.contains(&m) => crate::files::sniff::extension_for_mime(m),
        _ => None,
    }
    .ok_or_else(|| {
        CoreError::InvalidInput(format!(
            "“{name}” is {}, not an image an avatar can use; choose a PNG, JPEG, WebP or GIF \
             image",
            sniffed.mime
        ))
    })?;
    Ok(Checked {
        mime: sniffed.mime,
        ext,
        size: meta.len(),
    })
}

/// Sets `src` as the caller's avatar and returns the new `avatar_path`. Nothing is stored or
/// changed when a check refuses the file. The previous avatar file is deleted (best effort)
/// once the new one is recorded.
pub async fn set_avatar(
    store: &LocalStore,
    target: AvatarTarget<'_>,
    src: &Path,
    transfer: &Transfer,
) -> Result<String> {
    let checked = check(src)?;
    let previous = current_path(store, target.profile_id()).await?;
    let path = match &target {
        AvatarTarget::Local { files } => {
            let stored = files
                .put(src, "avatar", Some(&checked.mime), transfer)
                .await?;
            if stored.size != checked.size {
                return Err(CoreError::Files(crate::files::FileError::SourceChanged {
                    path: src.to_owned(),
                }));
            }
            format!("{}.{}", stored.key, checked.ext)
        }
        AvatarTarget::Team {
            storage,
            user_id,
            database_url,
            access_token,
        } => {
            let sha256 = crate::files::hash_file(src).await?;
            let path = format!("{user_id}/avatar-{sha256}.{}", checked.ext);
            storage
                .upload(BUCKET, &path, src, &checked.mime, true, transfer)
                .await?;
            set_remote(database_url, access_token, user_id, Some(&path)).await?;
            path
        }
    };
    set_local(store, target.profile_id(), Some(&path)).await?;
    if let Some(old) = previous.filter(|old| *old != path) {
        // The new avatar is recorded; a leftover old file only wastes space.
        let _ = delete_file(&target, &old).await;
    }
    Ok(path)
}

/// Clears the caller's avatar and deletes its file (best effort). `false` when there was none.
pub async fn remove_avatar(store: &LocalStore, target: AvatarTarget<'_>) -> Result<bool> {
    let Some(old) = current_path(store, target.profile_id()).await? else {
        if let AvatarTarget::Team {
            user_id,
            database_url,
            access_token,
            ..
        } = &target
        {
            // The local mirror may lag another device: clear the server's too.
            set_remote(database_url, access_token, user_id, None).await?;
        }
        return Ok(false);
    };
    if let AvatarTarget::Team {
        user_id,
        database_url,
        access_token,
        ..
    } = &target
    {
        set_remote(database_url, access_token, user_id, None).await?;
    }
    set_local(store, target.profile_id(), None).await?;
    let _ = delete_file(&target, &old).await;
    Ok(true)
}

/// A verified local copy of the caller's avatar in `dir` (the previews folder the asset
/// protocol serves), or `None` when none is set.
pub async fn avatar_preview(
    store: &LocalStore,
    target: AvatarTarget<'_>,
    dir: &Path,
) -> Result<Option<AvatarPreview>> {
    let Some(path) = current_path(store, target.profile_id()).await? else {
        return Ok(None);
    };
    let (sha256, ext) = parse_path(&path).ok_or_else(|| {
        CoreError::Internal(format!(
            "the stored avatar path {path:?} is not one Salesdesk writes"
        ))
    })?;
    let mime = crate::files::sniff::mime_for_extension(ext)
        .unwrap_or("application/octet-stream")
        .to_owned();
    let dest: PathBuf = dir.join(format!("avatar-{sha256}.{ext}"));
    if !dest.exists() {
        std::fs::create_dir_all(dir).map_err(|e| crate::files::source_error(dir, e))?;
        match &target {
            AvatarTarget::Local { files } => {
                files.get(sha256, &dest, &Transfer::default()).await?;
            }
            AvatarTarget::Team { storage, .. } => {
                storage
                    .download(BUCKET, &path, &dest, Some(sha256), &Transfer::default())
                    .await?;
            }
        }
    }
    Ok(Some(AvatarPreview {
        path: dest.to_string_lossy().into_owned(),
        mime,
    }))
}

/// The SHA-256 and extension an avatar path names: `<sha256>.<ext>` (local) or
/// `<user id>/avatar-<sha256>.<ext>` (team).
fn parse_path(path: &str) -> Option<(&str, &str)> {
    let file = path.rsplit('/').next()?;
    let file = file.strip_prefix("avatar-").unwrap_or(file);
    let (sha256, ext) = file.split_once('.')?;
    let ok = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some((sha256, ext))
}

async fn delete_file(target: &AvatarTarget<'_>, path: &str) -> Result<()> {
    match target {
        AvatarTarget::Local { files } => {
            if let Some((sha256, _)) = parse_path(path) {
                files.delete(sha256).await?;
            }
        }
        AvatarTarget::Team { storage, .. } => storage.delete(BUCKET, &[path]).await?,
    }
    Ok(())
}

/// The avatar path recorded in the local profile row `id`.
pub async fn current_path(store: &LocalStore, id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT avatar_path FROM profiles WHERE id = ? AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(|e| store.err(e))?;
    Ok(row.and_then(|r| r.get::<Option<String>, _>("avatar_path")))
}

/// Records `path` in the local profile row `id`, creating the row if needed. Written directly,
/// not through the sync outbox: in team mode the server already has it (set first), and the
/// local-mode row must never be pushed.
async fn set_local(store: &LocalStore, id: &str, path: Option<&str>) -> Result<()> {
    let now = now_rfc3339();
    sqlx::query(
        "INSERT INTO profiles (id, avatar_path, created_at, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET avatar_path = excluded.avatar_path, \
         updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(path)
    .bind(&now)
    .bind(&now)
    .execute(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(())
}

/// Sets the caller's `app.profiles.avatar_path` as the caller (row-level security lets a user
/// update only their own row's full_name and avatar_path).
async fn set_remote(
    database_url: &SecretString,
    access_token: &SecretString,
    user_id: &str,
    path: Option<&str>,
) -> Result<()> {
    let remote = RemoteStore::connect(&RemoteConfig::from_url(database_url.expose())?).await?;
    let result: Result<()> = async {
        let mut tx = remote.begin_as(access_token.expose()).await?;
        let updated = sqlx::query("UPDATE app.profiles SET avatar_path = $1 WHERE id = $2::uuid")
            .bind(path)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(crate::data::remote::RemoteError::from_query)?;
        if updated.rows_affected() != 1 {
            return Err(CoreError::InvalidInput(
                "your team profile was not found; sign out and in again, then retry".into(),
            ));
        }
        tx.commit()
            .await
            .map_err(crate::data::remote::RemoteError::from_query)?;
        Ok(())
    }
    .await;
    remote.pool().close().await;
    result
}

/// A data directory that was used in local mode joins a team: the local-mode avatar becomes
/// the user's team avatar (uploaded to their folder of `user-avatars`, `app.profiles` set),
/// unless their team profile already has one (a choice made on another device wins). The
/// local copy is kept. `work_dir` holds a named copy for the upload's checks for a moment.
/// Returns the new team path, `None` when there was nothing to do.
pub async fn upload_local_avatar(
    store: &LocalStore,
    local: &LocalFileStore,
    target: AvatarTarget<'_>,
    work_dir: &Path,
) -> Result<Option<String>> {
    if matches!(target, AvatarTarget::Local { .. }) {
        return Ok(None);
    }
    let Some(local_path) = current_path(store, LOCAL_PROFILE_ID).await? else {
        return Ok(None);
    };
    if current_path(store, target.profile_id()).await?.is_some() {
        return Ok(None);
    }
    let Some((sha256, ext)) = parse_path(&local_path) else {
        return Ok(None);
    };
    // The checks read the file's name for its extension; the store names files by digest.
    let dir = work_dir.join(uuid::Uuid::now_v7().to_string());
    std::fs::create_dir_all(&dir).map_err(|e| crate::files::source_error(&dir, e))?;
    let named = dir.join(format!("avatar.{ext}"));
    let result = async {
        local.get(sha256, &named, &Transfer::default()).await?;
        set_avatar(store, target, &named, &Transfer::default()).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(extra: usize) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
        b.extend(std::iter::repeat_n(7u8, extra));
        b
    }

    fn gif() -> Vec<u8> {
        b"GIF89a\x01\0\x01\0\0\0\0;".to_vec()
    }

    async fn setup() -> (tempfile::TempDir, LocalStore, LocalFileStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("s.db")).await.unwrap();
        let files = LocalFileStore::new(dir.path().join("files"));
        (dir, store, files)
    }

    fn stored_count(dir: &Path) -> usize {
        fn walk(p: &Path) -> usize {
            std::fs::read_dir(p).map_or(0, |rd| {
                rd.flatten()
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() { walk(&p) } else { 1 }
                    })
                    .sum()
            })
        }
        walk(&dir.join("files"))
    }

    #[tokio::test]
    async fn an_avatar_is_stored_previewed_replaced_and_removed() {
        let (dir, store, files) = setup().await;
        let target = || AvatarTarget::Local { files: &files };
        assert!(
            current_path(&store, LOCAL_PROFILE_ID)
                .await
                .unwrap()
                .is_none()
        );
        let first = dir.path().join("Me at the beach.png");
        std::fs::write(&first, png(100)).unwrap();
        let path = set_avatar(&store, target(), &first, &Transfer::default())
            .await
            .unwrap();
        assert!(path.ends_with(".png"), "{path}");
        assert_eq!(
            current_path(&store, LOCAL_PROFILE_ID)
                .await
                .unwrap()
                .as_deref(),
            Some(path.as_str())
        );
        let previews = dir.path().join("previews");
        let preview = avatar_preview(&store, target(), &previews)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(preview.mime, "image/png");
        assert!(Path::new(&preview.path).starts_with(&previews));
        assert_eq!(std::fs::read(&preview.path).unwrap(), png(100));

        // Replacing keeps only the new file.
        let second = dir.path().join("new.gif");
        std::fs::write(&second, gif()).unwrap();
        let path2 = set_avatar(&store, target(), &second, &Transfer::default())
            .await
            .unwrap();
        assert_ne!(path, path2);
        assert!(path2.ends_with(".gif"), "{path2}");
        assert_eq!(stored_count(dir.path()), 1);
        let preview = avatar_preview(&store, target(), &previews)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(preview.mime, "image/gif");
        assert_eq!(std::fs::read(&preview.path).unwrap(), gif());

        assert!(remove_avatar(&store, target()).await.unwrap());
        assert!(
            current_path(&store, LOCAL_PROFILE_ID)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            avatar_preview(&store, target(), &previews)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(stored_count(dir.path()), 0);
        assert!(!remove_avatar(&store, target()).await.unwrap());
    }

    #[tokio::test]
    async fn each_refusal_keeps_the_current_avatar() {
        let (dir, store, files) = setup().await;
        let target = || AvatarTarget::Local { files: &files };
        let good = dir.path().join("me.png");
        std::fs::write(&good, png(10)).unwrap();
        let kept = set_avatar(&store, target(), &good, &Transfer::default())
            .await
            .unwrap();

        let refuse = async |name: &str, bytes: Vec<u8>, says: &str| {
            let src = dir.path().join(name);
            std::fs::write(&src, bytes).unwrap();
            let err = set_avatar(&store, target(), &src, &Transfer::default())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{name}: {err}");
            assert!(err.to_string().contains(says), "{name}: {err}");
            assert_eq!(
                current_path(&store, LOCAL_PROFILE_ID)
                    .await
                    .unwrap()
                    .as_deref(),
                Some(kept.as_str()),
                "{name}"
            );
            assert_eq!(stored_count(dir.path()), 1, "{name}");
        };
        // Not an image: a PDF under its own name, text dressed as a PNG.
        refuse(
            "deck.pdf",
            b"%PDF-1.4\n%\xe2\xe3\n".to_vec(),
            "not an image",
        )
        .await;
        refuse("notes.txt", b"hello".to_vec(), "not an image").await;
        refuse("fake.png", b"just some text".to_vec(), "png").await;
        // Empty, and over the bucket's limit.
        refuse("empty.png", Vec::new(), "empty").await;
        let too_big = usize::try_from(MAX_BYTES).unwrap();
        refuse("huge.png", png(too_big), "5").await;
        // A hostile name (a Windows device name).
        refuse("CON.png", png(10), "CON").await;
        // A missing file.
        let err = set_avatar(
            &store,
            target(),
            &dir.path().join("gone.png"),
            &Transfer::default(),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("gone.png"), "{err}");
        assert_eq!(
            current_path(&store, LOCAL_PROFILE_ID)
                .await
                .unwrap()
                .as_deref(),
            Some(kept.as_str())
        );
    }

    #[test]
    fn avatar_paths_name_their_digest() {
        let sha = "a".repeat(64);
        assert_eq!(
            parse_path(&format!("{sha}.png")),
            Some((sha.as_str(), "png"))
        );
        assert_eq!(
            parse_path(&format!("u1/avatar-{sha}.webp")),
            Some((sha.as_str(), "webp"))
        );
        assert_eq!(parse_path("u1/avatar-short.png"), None);
    }
}
