//! Clients, campaigns and signups on a real SQLite store: each mutation commits with its
//! change record, bad input is refused with a message naming the field and writes nothing.

use salesdesk_core::data::campaigns::{self, CampaignInput, CampaignStatus};
use salesdesk_core::data::clients::{self, ClientInput};
use salesdesk_core::data::local::RowOp;
use salesdesk_core::data::signups::{self, SignupInput};
use salesdesk_core::{DataPaths, ErrorKind, Salesdesk};
use salesdesk_testkit::isolated::IsolatedEnv;

async fn open(env: &IsolatedEnv) -> Salesdesk {
    Salesdesk::open(DataPaths::at(env.data_dir()))
        .await
        .unwrap()
}

#[tokio::test]
async fn clients_campaigns_and_signups_record_every_change_and_refuse_bad_input() {
    let env = IsolatedEnv::new();
    let core = open(&env).await;
    let store = core.store();

    let mut tx = store.begin_write().await.unwrap();
    let client = clients::create(
        &mut tx,
        &ClientInput {
            name: "  Acme Corp ".into(),
            email: Some("buyer@acme.example".into()),
            tags: vec!["enterprise".into(), "Enterprise".into(), " ".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let campaign = campaigns::create(
        &mut tx,
        &CampaignInput {
            name: "Spring push".into(),
            status: CampaignStatus::Active,
            starts_on: Some("2026-03-01".into()),
            ends_on: Some("2026-05-31".into()),
            budget: Some("12000.50".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let signup = signups::create(
        &mut tx,
        &SignupInput {
            client_id: client.id.clone(),
            campaign_id: Some(campaign.id.clone()),
            signed_up_on: "2026-03-15".into(),
            value: Some("4800".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let changes = tx.commit().await.unwrap();
    let tables: Vec<_> = changes.iter().map(|c| (c.table, c.op)).collect();
    assert_eq!(
        tables,
        [
            ("clients", RowOp::Upsert),
            ("campaigns", RowOp::Upsert),
            ("signups", RowOp::Upsert)
        ]
    );
    assert_eq!(client.name, "Acme Corp");
    assert_eq!(client.tags, ["enterprise"]);

    // Updates: a real change is recorded, an identical one is not.
    let mut tx = store.begin_write().await.unwrap();
    let renamed = clients::update(
        &mut tx,
        &client.id,
        &ClientInput {
            name: "Acme Corporation".into(),
            email: Some("buyer@acme.example".into()),
            tags: vec!["enterprise".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    campaigns::update(
        &mut tx,
        &campaign.id,
        &CampaignInput {
            name: "Spring push".into(),
            status: CampaignStatus::Active,
            starts_on: Some("2026-03-01".into()),
            ends_on: Some("2026-05-31".into()),
            budget: Some("12000.50".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let changes = tx.commit().await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(renamed.name, "Acme Corporation");
    assert_eq!(clients::list(store).await.unwrap().len(), 1);
    assert_eq!(
        signups::list(store, Some(&client.id)).await.unwrap()[0].id,
        signup.id
    );

    // Bad input: clear errors, and the transaction's earlier writes are not committed.
    let mut tx = store.begin_write().await.unwrap();
    clients::create(
        &mut tx,
        &ClientInput {
            name: "Would be lost".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let err = clients::create(&mut tx, &ClientInput::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("the client's name is required"),
        "{err}"
    );
    drop(tx);
    assert_eq!(clients::list(store).await.unwrap().len(), 1);

    let mut tx = store.begin_write().await.unwrap();
    let err = campaigns::create(
        &mut tx,
        &CampaignInput {
            name: "Backwards".into(),
            starts_on: Some("2026-05-01".into()),
            ends_on: Some("2026-04-01".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("before it starts"), "{err}");
    let err = campaigns::create(
        &mut tx,
        &CampaignInput {
            name: "Pricey".into(),
            budget: Some("1,000".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not an amount"), "{err}");
    let err = signups::create(
        &mut tx,
        &SignupInput {
            client_id: "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d".into(),
            signed_up_on: "2026-03-15".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("add the client first"), "{err}");
    let err = signups::create(
        &mut tx,
        &SignupInput {
            client_id: client.id.clone(),
            signed_up_on: "15/03/2026".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
    drop(tx);

    // Soft delete and restore, both recorded; a deleted client is not found.
    let mut tx = store.begin_write().await.unwrap();
    clients::delete(&mut tx, &client.id).await.unwrap();
    let changes = tx.commit().await.unwrap();
    assert_eq!(changes[0].op, RowOp::Delete);
    let err = clients::get(store, &client.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let mut tx = store.begin_write().await.unwrap();
    clients::restore(&mut tx, &client.id).await.unwrap();
    assert!(clients::delete(&mut tx, "not-an-id").await.is_err());
    tx.commit().await.unwrap();
    assert_eq!(
        clients::get(store, &client.id).await.unwrap().name,
        "Acme Corporation"
    );
    core.close().await;
}

#[tokio::test]
async fn campaigns_and_signups_delete_restore_and_put_like_clients() {
    let env = IsolatedEnv::new();
    let core = open(&env).await;
    let store = core.store();

    let mut tx = store.begin_write().await.unwrap();
    let client = clients::create(
        &mut tx,
        &ClientInput {
            name: "Globex".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let campaign = campaigns::create(
        &mut tx,
        &CampaignInput {
            name: "Autumn".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let signup = signups::create(
        &mut tx,
        &SignupInput {
            client_id: client.id.clone(),
            signed_up_on: "2026-10-01".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // Deleted: gone from lists and gets, and a tombstone in the change log of each.
    let mut tx = store.begin_write().await.unwrap();
    campaigns::delete(&mut tx, &campaign.id).await.unwrap();
    signups::delete(&mut tx, &signup.id).await.unwrap();
    let changes = tx.commit().await.unwrap();
    let ops: Vec<_> = changes.iter().map(|c| (c.table, c.op)).collect();
    assert_eq!(
        ops,
        [("campaigns", RowOp::Delete), ("signups", RowOp::Delete)]
    );
    assert!(campaigns::list(store).await.unwrap().is_empty());
    assert!(signups::list(store, None).await.unwrap().is_empty());
    assert_eq!(
        campaigns::get(store, &campaign.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    // The importer's put leaves a record deleted here deleted, and adds a new id.
    let mut tx = store.begin_write().await.unwrap();
    let put = campaigns::put(
        &mut tx,
        &campaign.id,
        &CampaignInput {
            name: "Autumn (imported)".into(),
            ..Default::default()
        },
        "2026-01-01T00:00:00Z",
    )
    .await
    .unwrap();
    assert_eq!(put, salesdesk_core::data::fields::Put::Deleted);
    let fresh = "0192f0c1-7d3e-7a4b-9c1d-2e3f4a5b6c7d";
    let input = SignupInput {
        client_id: client.id.clone(),
        signed_up_on: "2026-10-02".into(),
        value: Some("99.5".into()),
        ..Default::default()
    };
    let put = signups::put(&mut tx, fresh, &input, "2026-01-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(put, salesdesk_core::data::fields::Put::Added);
    let again = signups::put(&mut tx, fresh, &input, "2026-01-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(again, salesdesk_core::data::fields::Put::Unchanged);
    tx.commit().await.unwrap();
    let imported = signups::get(store, fresh).await.unwrap();
    assert_eq!(imported.value.as_deref(), Some("99.50"));
    assert_eq!(imported.created_at, "2026-01-01T00:00:00Z");

    // Restored: back whole, recorded as an upsert; restoring an unknown id is refused.
    let mut tx = store.begin_write().await.unwrap();
    campaigns::restore(&mut tx, &campaign.id).await.unwrap();
    signups::restore(&mut tx, &signup.id).await.unwrap();
    let err = signups::restore(&mut tx, "0192f0c1-0000-7a4b-9c1d-2e3f4a5b6c7d")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let changes = tx.commit().await.unwrap();
    assert!(changes.iter().all(|c| c.op == RowOp::Upsert), "{changes:?}");
    assert_eq!(
        campaigns::get(store, &campaign.id).await.unwrap().name,
        "Autumn"
    );
    assert_eq!(
        signups::list(store, Some(&client.id)).await.unwrap().len(),
        2
    );
    core.close().await;
}
