//! Avatars in team mode through the `Salesdesk` handle, against the Supabase Auth fake writing
//! to a real PostgreSQL (the testkit's throwaway cluster) and the Storage fake checking the
//! same project's tokens: the image lands in the user's own folder of `user-avatars`,
//! `app.profiles.avatar_path` is set for the caller (through row-level security) and mirrored
//! locally, a refused file changes nothing, and remove clears both.

use std::sync::Arc;
use std::time::Duration;

use salesdesk_core::auth::MemoryVault;
use salesdesk_core::files::Transfer;
use salesdesk_core::secrets::SecretString;
use salesdesk_core::team::{TeamSettingsInput, TeamSetup};
use salesdesk_core::{DataPaths, ErrorKind, Salesdesk};
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
use salesdesk_testkit::fakes::supabase_storage::StorageFake;
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::supabase::TestDb;
use sha2::{Digest, Sha256};

const ANON: &str = "test-anon-key-not-real";
const PASSWORD: &str = "correct horse battery";

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
    let db = TestDb::new().await.expect("test database");
    let auth = SupabaseAuthFake::with_db(ANON, db.jwt_secret(), db.admin.clone()).await;
    auth.set_confirm_email(false);
    let storage = StorageFake::start(db.jwt_secret()).await;
    let env = IsolatedEnv::new();
    let setup = TeamSetup::with_vaults(
        Arc::new(MemoryVault::default()),
        Arc::new(MemoryVault::default()),
    );
    // Auth and Storage share one project URL on Supabase; the fakes listen apart.
    let storage_origin = storage.origin();
    let core = Salesdesk::open(DataPaths::at(env.data_dir()))
        .await
        .unwrap()
        .with_team(setup)
        .with_storage_config(move |c| {
            c.project_url = storage_origin.clone();
            c.retry_backoff = Duration::from_millis(10);
            c.request_timeout = Duration::from_secs(5);
        });
    core.save_team_settings(TeamSettingsInput {
        supabase_url: Some(auth.project_url()),
        anon_key: Some(ANON.into()),
        database_url: Some(db.app_url()),
        database_password: None,
    })
    .await
    .unwrap();
    core.sign_up("zoe@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    let status = core
        .sign_in("zoe@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    let user = status.user_id.expect("user id");
    assert_eq!(remote_avatar(&db, &user).await, None);

    let src = env.root().join("Zoë.png");
    std::fs::write(&src, png()).unwrap();
    let digest: String = Sha256::digest(png())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
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
        remote_avatar(&db, &user).await.as_deref(),
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
        remote_avatar(&db, &user).await.as_deref(),
        Some(path.as_str())
    );

    // Remove clears the profile (server and mirror) and deletes the object.
    assert!(core.remove_avatar().await.unwrap());
    assert_eq!(remote_avatar(&db, &user).await, None);
    assert_eq!(storage.object_digest("user-avatars", &path), None);
    assert!(core.avatar_preview(&previews).await.unwrap().is_none());

    core.close().await;
}
