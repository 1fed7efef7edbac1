//! Avatars in team mode through the `Salesdesk` handle, against the Supabase Auth fake writing
//! to a real PostgreSQL (the testkit's throwaway cluster) and the Storage fake checking the
//! same project's tokens: the image lands in the user's own folder of `user-avatars`,
//! `app.profiles.avatar_path` is set for the caller (through row-level security) and mirrored
//! locally, a refused file changes nothing, and remove clears both.

use salesdesk_core::ErrorKind;
use salesdesk_core::files::Transfer;
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::storage::sha;
use salesdesk_testkit::supabase::TestDb;
use salesdesk_testkit::team::{TeamProject, memory_vaults};

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    b.extend([9u8; 512]);
    b
}

async fn remote_avatar(db: &TestDb, user: &str) -> Option<String> {
    sqlx::query_scalar("select avatar_path from app.profiles where id = $1::uuid")
        .bind(user)
        .fetch_one(&db.admin)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_avatar_lands_in_the_users_folder_and_their_profile() {
    let project = TeamProject::start().await;
    let (db, storage) = (&project.db, &project.storage);
    let env = IsolatedEnv::new();
    let core = project.open(&env.data_dir(), memory_vaults()).await;
    let user = project.sign_in(&core, "zoe@example.test", true).await;
    assert_eq!(remote_avatar(db, &user).await, None);

    let src = env.root().join("Zoë.png");
    std::fs::write(&src, png()).unwrap();
    let digest = sha(&png());
    let path = core.set_avatar(&src, &Transfer::default()).await.unwrap();
    assert_eq!(path, format!("{user}/avatar-{digest}.png"));
    assert_eq!(
        storage.object_digest("user-avatars", &path),
        Some((png().len() as u64, digest.clone()))
    );
    assert_eq!(
        storage.object_mime("user-avatars", &path).as_deref(),
        Some("image/png")
    );
    assert_eq!(
        remote_avatar(db, &user).await.as_deref(),
        Some(path.as_str())
    );
    assert_eq!(
        salesdesk_core::avatars::current_path(core.store(), &user)
            .await
            .unwrap()
            .as_deref(),
        Some(path.as_str())
    );

    // The preview is a verified local copy of the stored object.
    let previews = env.data_dir().join("cache").join("previews");
    let preview = core.avatar_preview(&previews).await.unwrap().unwrap();
    assert_eq!(std::fs::read(&preview.path).unwrap(), png());

    // A refused file sends nothing and keeps the avatar.
    let text = env.root().join("notes.png");
    std::fs::write(&text, "not an image").unwrap();
    storage.clear_requests();
    let err = core
        .set_avatar(&text, &Transfer::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(storage.requests().is_empty(), "refused before any upload");
    assert_eq!(
        remote_avatar(db, &user).await.as_deref(),
        Some(path.as_str())
    );

    // Remove clears the profile (server and mirror) and deletes the object.
    assert!(core.remove_avatar().await.unwrap());
    assert_eq!(remote_avatar(db, &user).await, None);
    assert_eq!(storage.object_digest("user-avatars", &path), None);
    assert!(core.avatar_preview(&previews).await.unwrap().is_none());

    core.close().await;
}
