//! Team-mode files follow the live team state through the `Salesdesk` handle (the desktop's
//! and the CLI's one path), against the Supabase Auth fake and the Storage fake signing and
//! checking tokens with the same project secret: local files with no project set up, a "sign
//! in" refusal (nothing recorded) with a project and no session, the team's buckets (materials,
//! and call recordings in the user's own folder) with the session's own tokens once signed in,
//! and local files again once the project is removed — all on one handle, without a restart.

use std::time::Duration;

use salesdesk_core::ErrorKind;
use salesdesk_core::data::analyses::NewAnalysis;
use salesdesk_core::data::materials::{MaterialMeta, MaterialQuery};
use salesdesk_core::files::Transfer;
use salesdesk_core::materials::{BUCKET, FileState};
use salesdesk_core::secrets::SecretString;
use salesdesk_core::team::TeamSettingsInput;
use salesdesk_testkit::fakes::supabase_auth::SupabaseAuthFake;
use salesdesk_testkit::fakes::supabase_storage::{On, StorageFake, StorageFault};
use salesdesk_testkit::storage::{sha, wav_8khz_mono};
use salesdesk_testkit::team::{memory_vaults, open_device};

const ANON: &str = "test-anon-key-not-real";
const SECRET: &str = "team-files-fake-project-jwt-secret-32-chars";
const PASSWORD: &str = "correct horse battery";

fn pdf(dir: &std::path::Path, name: &str, seed: u8) -> (std::path::PathBuf, String) {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..200_000u32).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    let p = dir.join(name);
    std::fs::write(&p, &bytes).unwrap();
    (p, sha(&bytes))
}

/// A short silent WAV (8 kHz, 8-bit mono).
fn wav() -> Vec<u8> {
    wav_8khz_mono(vec![128u8; 4000])
}

fn meta(title: &str) -> MaterialMeta {
    MaterialMeta {
        title: title.into(),
        description: None,
        tags: vec![],
    }
}

fn team(auth: &SupabaseAuthFake) -> TeamSettingsInput {
    TeamSettingsInput {
        supabase_url: Some(auth.project_url()),
        anon_key: Some(ANON.into()),
        database_url: None,
        database_password: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn materials_follow_the_team_settings_and_the_session_without_a_restart() {
    let auth = SupabaseAuthFake::start(ANON, SECRET).await;
    auth.set_confirm_email(false);
    let storage = StorageFake::start(SECRET).await;
    let dir = tempfile::tempdir().unwrap();
    // Supabase serves Auth and Storage under one project URL; the two fakes listen apart,
    // so the Storage client is pointed at its fake (everything else comes from the settings).
    let core = open_device(&dir.path().join("data"), memory_vaults(), &storage).await;

    // No project: the local file store.
    let library = core.materials().await.unwrap();
    assert!(!library.is_team());
    let (local_src, local_digest) = pdf(dir.path(), "Local notes.pdf", 1);
    let local = core
        .add_material(&local_src, &meta(""), &Transfer::default())
        .await
        .unwrap();
    assert_eq!(local.file_path.as_deref(), Some(local_digest.as_str()));
    assert_eq!(
        library.get(&local.id).await.unwrap().file_state,
        FileState::Stored
    );
    assert!(
        storage.requests().is_empty(),
        "local mode never calls Storage"
    );

    // A project set up, nobody signed in: refused with "sign in", nothing recorded or sent.
    core.save_team_settings(team(&auth)).await.unwrap();
    let (team_src, team_digest) = pdf(dir.path(), "Team deck.pdf", 2);
    let refused = core
        .add_material(&team_src, &meta(""), &Transfer::default())
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::SignedOut, "{refused}");
    assert!(refused.to_string().contains("sign"), "{refused}");
    assert!(core.materials().await.is_err());
    assert!(storage.requests().is_empty());

    // Signed in (as an admin, who may write the bucket): the team's Storage, with the
    // session's token, and the row records the bucket's key.
    core.sign_up("ada@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    let status = core
        .sign_in("ada@example.test", &SecretString::new(PASSWORD))
        .await
        .unwrap();
    let user = status.user_id.clone().expect("user id");
    storage.add_admin(&user);
    let library = core.materials().await.unwrap();
    assert!(library.is_team());
    let added = core
        .add_material(&team_src, &meta(""), &Transfer::default())
        .await
        .unwrap();
    let key = added.file_path.clone().unwrap();
    assert_eq!(key, format!("{}/{team_digest}/Team_deck.pdf", added.id));
    assert_eq!(
        storage.object_digest(BUCKET, &key),
        Some((200_009, team_digest.clone()))
    );
    let uploads = storage.count("POST", "/object/");
    assert!(uploads >= 1, "uploaded with the standard upload");
    let authorized = storage.requests().iter().all(|r| {
        r.header("authorization")
            .is_some_and(|v| v.starts_with("Bearer ey"))
    });
    assert!(
        authorized,
        "every Storage request carries the session's JWT"
    );
    let out = dir.path().join("out.pdf");
    core.get_material_file(&added.id, &out, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&team_src).unwrap()
    );

    // A call recording goes to the user's own folder of `call-recordings`.
    let analysis = core
        .save_analysis(NewAnalysis {
            title: "Discovery call".into(),
            transcript: "Rep: hello\nClient: hi".into(),
            analysis: serde_json::json!({}),
            provider: "offline".into(),
            model: None,
        })
        .await
        .unwrap();
    let call = dir.path().join("Call with Zoë.wav");
    std::fs::write(&call, wav()).unwrap();
    let recording = core
        .attach_recording(&analysis.id, &call, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(recording.store, "team");
    assert!(
        recording
            .file_key
            .starts_with(&format!("{user}/{}/", recording.file_sha256)),
        "{}",
        recording.file_key
    );
    assert!(recording.file_key.ends_with("/Call_with_Zo_.wav"));
    assert_eq!(
        storage.object_digest("call-recordings", &recording.file_key),
        Some((recording.file_size, recording.file_sha256.clone()))
    );
    assert_eq!(
        core.recordings(&analysis.id).await.unwrap(),
        vec![recording]
    );

    // Storage refuses a token Auth still thinks valid (revoked early): the team session is
    // refreshed once and the upload retried with the new token.
    let refreshes_before = auth
        .requests()
        .iter()
        .filter(|r| r.path_and_query.contains("grant_type=refresh_token"))
        .count();
    // Tokens carry their issue time in seconds: let a second pass so the new one differs.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    storage.clear_requests();
    storage.fault(On::Upload, StorageFault::Status(401));
    let (second_src, second_digest) = pdf(dir.path(), "Second deck.pdf", 3);
    let second = core
        .add_material(&second_src, &meta(""), &Transfer::default())
        .await
        .unwrap();
    assert_eq!(second.file_sha256.as_deref(), Some(second_digest.as_str()));
    let refreshes = auth
        .requests()
        .iter()
        .filter(|r| r.path_and_query.contains("grant_type=refresh_token"))
        .count();
    assert_eq!(
        refreshes,
        refreshes_before + 1,
        "one refresh after the refusal"
    );
    let tokens: Vec<String> = storage
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(tokens.len(), 2, "the refused upload and its retry");
    assert_ne!(
        tokens[0], tokens[1],
        "the retry carries the refreshed token"
    );

    // Signed out: the next call refuses again, without a restart.
    core.sign_out(false).await.unwrap();
    let err = core.materials().await.err().expect("signed out");
    assert_eq!(err.kind(), ErrorKind::SignedOut);

    // The project removed: local mode again, the local material still whole.
    core.save_team_settings(TeamSettingsInput {
        supabase_url: Some(String::new()),
        anon_key: Some(String::new()),
        database_url: None,
        database_password: None,
    })
    .await
    .unwrap();
    let library = core.materials().await.unwrap();
    assert!(!library.is_team());
    let listed = library.list(&MaterialQuery::default()).await.unwrap();
    let local_entry = listed
        .iter()
        .find(|e| e.material.id == local.id)
        .expect("local material listed");
    assert_eq!(local_entry.file_state, FileState::Stored);
    core.close().await;
}
