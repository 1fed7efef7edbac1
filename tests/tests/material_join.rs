//! A data directory used in local mode joins a team, against the Supabase Auth fake writing to
//! a real PostgreSQL (the testkit's throwaway cluster), the Storage fake checking the same
//! project's tokens, and the sync engine between them:
//! - an admin's local library goes up to `training-materials` and its rows move to the team
//!   keys; a second device that pulled a row before its file was up shows "queued upload"
//!   (and says why it cannot open it), then downloads the file once the row moves;
//! - the local-mode avatar becomes the team avatar;
//! - a rep's local materials stay on the device with the reason, nothing sent, nothing lost;
//! - signed out, the library still lists the rows and opens what is cached; the rest says
//!   "sign in to …".

use std::path::Path;
use std::time::Duration;

use salesdesk_core::data::materials::{MaterialMeta, MaterialQuery};
use salesdesk_core::files::Transfer;
use salesdesk_core::materials::{BUCKET, FileProblemReason, FileState, TransferDirection};
use salesdesk_core::{ErrorKind, Salesdesk};
use salesdesk_testkit::isolated::IsolatedEnv;
use salesdesk_testkit::storage::{cancel_at, sha};
use salesdesk_testkit::team::{TeamProject, memory_vaults};

fn pdf(dir: &Path, name: &str, len: usize, seed: u8) -> (std::path::PathBuf, Vec<u8>) {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len as u32).map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed)));
    let p = dir.join(name);
    std::fs::write(&p, &bytes).unwrap();
    (p, bytes)
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    b.extend([7u8; 300]);
    b
}

fn meta(title: &str) -> MaterialMeta {
    MaterialMeta {
        title: title.into(),
        ..Default::default()
    }
}

/// Signs `email` in on `core` (signing up first when `new`) with the team role `role`;
/// returns the user id.
async fn join(team: &TeamProject, core: &Salesdesk, email: &str, new: bool, role: &str) -> String {
    let user = team.sign_in(core, email, new).await;
    sqlx::query("update app.profiles set role = $2 where id = $1::uuid")
        .bind(&user)
        .bind(role)
        .execute(&team.db.admin)
        .await
        .unwrap();
    if role == "admin" {
        team.storage.add_admin(&user);
    }
    user
}

async fn remote_file_path(team: &TeamProject, id: &str) -> Option<String> {
    sqlx::query_scalar("select file_path from app.training_materials where id = $1::uuid")
        .bind(id)
        .fetch_optional(&team.db.admin)
        .await
        .unwrap()
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_local_library_goes_up_and_other_devices_never_see_a_broken_file() {
    let team = TeamProject::start().await;
    let env = IsolatedEnv::new();

    // Local mode: two materials and an avatar in the local file store.
    let ada = team.open(&env.data_dir(), memory_vaults()).await;
    let (deck_src, deck) = pdf(env.root(), "Pricing deck.pdf", 300_000, 1);
    let (notes_src, notes) = pdf(env.root(), "Call notes.pdf", 50_000, 2);
    let m_deck = ada
        .add_material(&deck_src, &meta("Pricing deck"), &Transfer::default())
        .await
        .unwrap();
    let m_notes = ada
        .add_material(&notes_src, &meta("Call notes"), &Transfer::default())
        .await
        .unwrap();
    assert_eq!(m_deck.file_path.as_deref(), Some(sha(&deck).as_str()));
    let face = env.root().join("Ada.png");
    std::fs::write(&face, png()).unwrap();
    ada.set_avatar(&face, &Transfer::default()).await.unwrap();

    // Joins as an admin: before the files go up, the rows reach the team with their
    // local-mode keys (they were queued when written) ...
    let ada_id = join(&team, &ada, "ada@example.test", true, "admin").await;
    ada.sync_now().await.expect("first sync");
    assert_eq!(
        remote_file_path(&team, &m_deck.id).await.as_deref(),
        Some(sha(&deck).as_str())
    );
    let library = ada.materials().await.unwrap();
    let entry = library.get(&m_deck.id).await.unwrap();
    assert_eq!(entry.file_state, FileState::QueuedUpload);
    // ... and still open on this device, from its local store.
    let out = env.root().join("deck-out.pdf");
    ada.get_material_file(&m_deck.id, &out, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), deck);

    // A second device (a rep of the same team) pulls the rows before the files are up: it
    // says "queued upload" and why it cannot open the file yet, instead of a broken download.
    let bob_dir = env.root().join("bob-data");
    // Bob's engine pulls on its own, often (the first `sync_now` starts it).
    let bob = team.open(&bob_dir, memory_vaults()).await.with_sync_config(
        salesdesk_core::sync::SyncConfig {
            period: Duration::from_millis(300),
            ..salesdesk_testkit::sync::fast_config()
        },
    );
    join(&team, &bob, "bob@example.test", true, "rep").await;
    bob.sync_now().await.expect("bob's first sync");
    let bob_library = bob.materials().await.unwrap();
    let seen = bob_library.get(&m_deck.id).await.unwrap();
    assert_eq!(seen.file_state, FileState::QueuedUpload);
    let err = bob
        .get_material_file(&m_deck.id, &env.root().join("x.pdf"), &Transfer::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(
        err.to_string().contains("not in the team library yet"),
        "{err}"
    );
    // A pin there waits too: nothing to download until the file is up.
    bob_library.pin(&m_deck.id).await.unwrap();
    assert!(bob.run_file_jobs().await.unwrap().failed.is_empty());
    // Bob's app runs the background work from now on; nothing wakes it below but the pull.
    bob.start_file_jobs();
    let requests_before = team.storage.requests().len();

    // The background pass on Ada's device: files and avatar up, rows moved to team keys.
    let report = ada.run_file_jobs().await.expect("pass");
    assert_eq!(report.done.len(), 2, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    for (m, bytes) in [(&m_deck, &deck), (&m_notes, &notes)] {
        let moved = library.get(&m.id).await.unwrap();
        let key = moved.material.file_path.clone().unwrap();
        assert!(
            key.starts_with(&format!("{}/{}/", m.id, sha(bytes))),
            "{key}"
        );
        assert_eq!(
            team.storage.object_digest(BUCKET, &key),
            Some((bytes.len() as u64, sha(bytes)))
        );
        // Still on this device: it opens offline.
        assert_eq!(moved.file_state, FileState::Cached);
    }
    assert!(team.storage.requests().len() > requests_before);
    let avatar = salesdesk_core::avatars::current_path(ada.store(), &ada_id)
        .await
        .unwrap()
        .expect("team avatar set");
    assert!(avatar.starts_with(&format!("{ada_id}/avatar-")), "{avatar}");
    assert_eq!(
        team.storage.object_digest("user-avatars", &avatar),
        Some((png().len() as u64, sha(&png())))
    );
    // A second pass has nothing left to do.
    let again = ada.run_file_jobs().await.unwrap();
    assert!(
        again.done.is_empty() && again.failed.is_empty(),
        "{again:?}"
    );

    // The moved rows reach the team, and Bob's pinned copy arrives with them.
    ada.sync_now().await.unwrap();
    let deck_key = library
        .get(&m_deck.id)
        .await
        .unwrap()
        .material
        .file_path
        .unwrap();
    assert_eq!(
        remote_file_path(&team, &m_deck.id).await.as_deref(),
        Some(deck_key.as_str())
    );
    // Bob's engine pulls the moved row by itself, and that pull is what starts the download.
    let mut state = FileState::QueuedUpload;
    for _ in 0..200 {
        state = bob_library.get(&m_deck.id).await.unwrap().file_state;
        if state == FileState::Cached {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        state,
        FileState::Cached,
        "fetched after the pull, in the background"
    );
    assert_eq!(
        bob_library.get(&m_notes.id).await.unwrap().file_state,
        FileState::Synced
    );

    // Signed out, Bob's library still lists the rows and opens what is cached; the rest
    // says to sign in, one action at a time.
    bob.sign_out(false).await.unwrap();
    assert!(bob.materials().await.is_err());
    let reading = bob.materials_for_reading().await.unwrap();
    assert!(reading.is_signed_out());
    let listed = reading.list(&MaterialQuery::default()).await.unwrap();
    assert_eq!(listed.len(), 2);
    let out = env.root().join("bob-deck.pdf");
    reading
        .get_file(&m_deck.id, &out, &Transfer::default())
        .await
        .expect("cached file opens signed out");
    assert_eq!(std::fs::read(&out).unwrap(), deck);
    let err = reading
        .get_file(&m_notes.id, &env.root().join("n.pdf"), &Transfer::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignedOut, "{err}");
    assert!(err.to_string().starts_with("sign in to download"), "{err}");
    reading
        .pin(&m_notes.id)
        .await
        .expect("a pin is recorded signed out");
    let notes_entry = reading.get(&m_notes.id).await.unwrap();
    assert_eq!(notes_entry.file_state, FileState::Failed);
    let problem = notes_entry.file_problem.unwrap();
    assert_eq!(problem.reason, FileProblemReason::SignedOut);
    assert!(
        problem.message.starts_with("sign in to"),
        "{}",
        problem.message
    );
    let (extra, _) = pdf(env.root(), "Extra.pdf", 1000, 3);
    let err = reading.queue(&extra, &meta("")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignedOut);
    assert!(err.to_string().starts_with("sign in to add"), "{err}");
    assert!(
        reading.pending().await.unwrap().is_empty(),
        "nothing recorded"
    );

    bob.close().await;
    ada.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reps_local_materials_stay_on_the_device_with_the_reason() {
    let team = TeamProject::start().await;
    let env = IsolatedEnv::new();
    let rep = team.open(&env.data_dir(), memory_vaults()).await;
    let (src, bytes) = pdf(env.root(), "My script.pdf", 20_000, 4);
    let m = rep
        .add_material(&src, &meta("My script"), &Transfer::default())
        .await
        .unwrap();
    join(&team, &rep, "cy@example.test", true, "rep").await;
    // The role reaches the device with the profile.
    let _ = rep.sync_now().await;
    assert_eq!(
        rep.account_status().await.unwrap().role.as_deref(),
        Some("rep")
    );
    team.storage.clear_requests();
    let report = rep.run_file_jobs().await.unwrap();
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(
        team.storage
            .requests()
            .iter()
            .all(|r| !r.path.contains(BUCKET)),
        "nothing was sent to the materials bucket"
    );
    let library = rep.materials().await.unwrap();
    let entry = library.get(&m.id).await.unwrap();
    assert_eq!(entry.file_state, FileState::LocalOnly);
    let problem = entry.file_problem.unwrap();
    assert_eq!(problem.reason, FileProblemReason::Forbidden);
    assert_eq!(problem.direction, TransferDirection::Upload);
    assert!(
        problem.message.contains("stays on this device"),
        "{}",
        problem.message
    );
    // Nothing lost: the row keeps its local key and the file opens.
    assert_eq!(
        entry.material.file_path.as_deref(),
        Some(sha(&bytes).as_str())
    );
    let out = env.root().join("out.pdf");
    rep.get_material_file(&m.id, &out, &Transfer::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    rep.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_local_file_cut_short_resumes_from_the_servers_offset() {
    const CHUNK: u64 = 6 * 1024 * 1024;
    let team = TeamProject::start().await;
    let env = IsolatedEnv::new();
    let core = team.open(&env.data_dir(), memory_vaults()).await;
    let (src, bytes) = pdf(
        env.root(),
        "Onboarding video notes.pdf",
        13 * 1024 * 1024,
        5,
    );
    let m = core
        .add_material(&src, &meta("Onboarding"), &Transfer::default())
        .await
        .unwrap();
    join(&team, &core, "dee@example.test", true, "admin").await;
    let library = core.materials().await.unwrap();

    // The app stops mid-upload (a cancel at the first confirmed chunk stands in for the
    // exit): the file waits, nothing is recorded as failed, the row keeps its local key.
    let stopped = library
        .upload_local_files(None, |_| cancel_at(CHUNK))
        .await
        .unwrap();
    assert_eq!(stopped.waiting, 1, "{stopped:?}");
    assert!(stopped.done.is_empty() && stopped.failed.is_empty());
    let entry = library.get(&m.id).await.unwrap();
    assert_eq!(entry.file_state, FileState::QueuedUpload);
    assert_eq!(
        entry.material.file_path.as_deref(),
        Some(sha(&bytes).as_str())
    );
    let patches_before = team.storage.count("PATCH", "/upload/resumable");
    assert!(patches_before >= 1);

    // The next pass resumes at the server's offset instead of sending the file again.
    let report = core.run_file_jobs().await.unwrap();
    assert_eq!(report.done, vec![m.id.clone()], "{report:?}");
    let patches = team.storage.count("PATCH", "/upload/resumable") - patches_before;
    assert!(patches <= 2, "resumed: {patches} more chunks of 3");
    let key = library
        .get(&m.id)
        .await
        .unwrap()
        .material
        .file_path
        .unwrap();
    assert_eq!(
        team.storage.object_digest(BUCKET, &key),
        Some((bytes.len() as u64, sha(&bytes)))
    );
    core.close().await;
}
