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
