//! Call recordings: an audio or video file kept with an analysis, in the local file store
//! (local mode) or the user's own folder of the `call-recordings` bucket (team mode). Only
//! storing and listing: transcription comes with a later issue, so the transcript is still
//! pasted or dropped by the user.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use crate::data::analyses;
use crate::data::local::LocalStore;
use crate::error::{CoreError, Result};
use crate::files::{FileStore, Transfer};
use crate::time::now_rfc3339;

/// The Storage bucket of call recordings (created by the remote migrations).
pub const BUCKET: &str = "call-recordings";

/// A stored recording, as the Analyze page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(specta::Type))]
pub struct Recording {
    pub id: String,
    pub analysis_id: String,
    /// `local` or `team`: where this device stored it.
    pub store: String,
    pub file_key: String,
    pub file_name: String,
    pub file_size: u64,
    pub file_sha256: String,
    pub mime_type: String,
    pub created_at: String,
}

/// Where a recording goes: the store and its label in the row.
pub struct RecordingTarget<'a> {
    pub files: &'a dyn FileStore,
    pub store: &'static str,
}

/// Stores `src` as the recording of `analysis_id`, then records it. Refused before a byte
/// moves: an analysis that does not exist, a file that is not audio or video (content sniffed,
/// not the extension's word), and whatever the store refuses up front (hostile names, an empty
/// file, over the bucket's limit). A refusal records nothing.
pub async fn attach(
    store: &LocalStore,
    target: RecordingTarget<'_>,
    analysis_id: &str,
    src: &Path,
    transfer: &Transfer,
) -> Result<Recording> {
    let analysis = analyses::get(store, analysis_id).await?;
    let name = src
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            CoreError::InvalidInput(format!(
                "the file name of {} is not valid Unicode; rename the file and try again",
                src.display()
            ))
        })?
        .to_owned();
    let name = crate::files::names::check_file_name(&name)?;
    let sniffed = crate::files::sniff::check_file(src, &name)?;
    if !(sniffed.mime.starts_with("audio/") || sniffed.mime.starts_with("video/")) {
        return Err(CoreError::InvalidInput(format!(
            "“{name}” is {}, not an audio or video recording; drop the call's recording here, \
             and paste or drop its transcript in the transcript box",
            sniffed.mime
        )));
    }
    let stored = target
        .files
        .put(src, &name, Some(&sniffed.mime), transfer)
        .await?;
    let recording = Recording {
        id: Uuid::now_v7().to_string(),
        analysis_id: analysis.id.clone(),
        store: target.store.to_owned(),
        file_key: stored.key,
        file_name: name,
        file_size: stored.size,
        file_sha256: stored.sha256,
        mime_type: stored.mime,
        created_at: now_rfc3339(),
    };
    sqlx::query(
        "INSERT INTO call_recordings (id, analysis_id, store, file_key, file_name, file_size, \
         file_sha256, mime_type, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&recording.id)
    .bind(&recording.analysis_id)
    .bind(&recording.store)
    .bind(&recording.file_key)
    .bind(&recording.file_name)
    .bind(i64::try_from(stored.size).unwrap_or(i64::MAX))
    .bind(&recording.file_sha256)
    .bind(&recording.mime_type)
    .bind(&recording.created_at)
    .execute(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(recording)
}

/// The recordings stored with an analysis, oldest first.
pub async fn list(store: &LocalStore, analysis_id: &str) -> Result<Vec<Recording>> {
    let analysis = analyses::get(store, analysis_id).await?;
    let rows = sqlx::query(
        "SELECT id, analysis_id, store, file_key, file_name, file_size, file_sha256, \
         mime_type, created_at FROM call_recordings WHERE analysis_id = ? \
         ORDER BY created_at, id",
    )
    .bind(&analysis.id)
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.err(e))?;
    Ok(rows
        .iter()
        .map(|r| Recording {
            id: r.get("id"),
            analysis_id: r.get("analysis_id"),
            store: r.get("store"),
            file_key: r.get("file_key"),
            file_name: r.get("file_name"),
            file_size: u64::try_from(r.get::<i64, _>("file_size")).unwrap_or(0),
            file_sha256: r.get("file_sha256"),
            mime_type: r.get("mime_type"),
            created_at: r.get("created_at"),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::analyses::NewAnalysis;
    use crate::files::LocalFileStore;

    fn wav(seconds_of_silence: usize) -> Vec<u8> {
        let data = vec![0u8; 8000 * seconds_of_silence];
        let mut b = b"RIFF".to_vec();
        b.extend(u32::try_from(36 + data.len()).unwrap().to_le_bytes());
        b.extend(b"WAVEfmt ");
        b.extend(16u32.to_le_bytes());
        b.extend(1u16.to_le_bytes()); // PCM
        b.extend(1u16.to_le_bytes()); // mono
        b.extend(8000u32.to_le_bytes());
        b.extend(8000u32.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(8u16.to_le_bytes());
        b.extend(b"data");
        b.extend(u32::try_from(data.len()).unwrap().to_le_bytes());
        b.extend(data);
        b
    }

    async fn setup() -> (tempfile::TempDir, LocalStore, LocalFileStore, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&dir.path().join("s.db")).await.unwrap();
        let files = LocalFileStore::new(dir.path().join("files"));
        let mut tx = store.begin_write().await.unwrap();
        let record = analyses::insert(
            &mut tx,
            NewAnalysis {
                title: "Discovery call".into(),
                transcript: "Rep: hello\nClient: hi".into(),
                analysis: serde_json::json!({}),
                provider: "offline".into(),
                model: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (dir, store, files, record.id)
    }

    #[tokio::test]
    async fn a_recording_is_stored_then_listed_with_its_analysis() {
        let (dir, store, files, id) = setup().await;
        let src = dir.path().join("Call with Zoë.wav");
        std::fs::write(&src, wav(1)).unwrap();
        let target = || RecordingTarget {
            files: &files,
            store: "local",
        };
        let r = attach(&store, target(), &id, &src, &Transfer::default())
            .await
            .unwrap();
        assert_eq!(r.analysis_id, id);
        assert_eq!(r.file_name, "Call with Zoë.wav");
        assert!(r.mime_type.starts_with("audio/"), "{}", r.mime_type);
        assert_eq!(r.file_size, std::fs::metadata(&src).unwrap().len());
        let out = dir.path().join("back.wav");
        files
            .get(&r.file_key, &out, &Transfer::default())
            .await
            .unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&src).unwrap());
        assert_eq!(list(&store, &id).await.unwrap(), vec![r]);
    }

    #[tokio::test]
    async fn refusals_record_nothing() {
        let (dir, store, files, id) = setup().await;
        let target = || RecordingTarget {
            files: &files,
            store: "local",
        };
        // A transcript dropped on the recording box: says where it goes instead.
        let text = dir.path().join("call.txt");
        std::fs::write(&text, "Rep: hello\n").unwrap();
        let err = attach(&store, target(), &id, &text, &Transfer::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("transcript box"), "{err}");
        // Content that does not match the extension.
        let fake = dir.path().join("fake.wav");
        std::fs::write(&fake, "not audio at all").unwrap();
        let err = attach(&store, target(), &id, &fake, &Transfer::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        // Empty.
        let empty = dir.path().join("empty.wav");
        std::fs::write(&empty, b"").unwrap();
        assert!(
            attach(&store, target(), &id, &empty, &Transfer::default())
                .await
                .is_err()
        );
        // No such analysis.
        let ok = dir.path().join("ok.wav");
        std::fs::write(&ok, wav(1)).unwrap();
        let err = attach(
            &store,
            target(),
            "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d",
            &ok,
            &Transfer::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotFound, "{err}");
        assert!(list(&store, &id).await.unwrap().is_empty());
        assert!(
            !dir.path().join("files").exists()
                || std::fs::read_dir(dir.path().join("files")).unwrap().count() == 0
        );
    }
}
