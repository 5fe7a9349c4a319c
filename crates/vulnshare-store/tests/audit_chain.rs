//! The audit chain detects edits, deletions, reordering and truncation made directly in the
//! database, on every backend.

use jiff::Timestamp;
use vulnshare_core::audit::AuditEvent;
use vulnshare_core::organization::{NewOrganization, OrganizationKind};
use vulnshare_store::Store;
use vulnshare_store::testing::test_databases;

async fn seed(store: &Store, n: usize) {
    for i in 0..n {
        let mut tx = store.begin_write().await.unwrap();
        let now = Timestamp::from_second(1_700_000_000 + i as i64).unwrap();
        let org = tx
            .create_organization(
                &NewOrganization {
                    name: format!("Org {i}"),
                    kind: OrganizationKind::Provider,
                    country: "CN".into(),
                },
                now,
            )
            .await
            .unwrap();
        tx.audit(
            now,
            AuditEvent {
                actor_user_id: None,
                actor_org_id: None,
                action: "organization.create".into(),
                object_type: "organization".into(),
                object_id: org.id,
                details: format!("{{\"i\":{i}}}"),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn broken(store: &Store) -> Option<String> {
    store.verify_audit().await.unwrap().error
}

#[tokio::test]
async fn tampering_in_the_database_is_detected() {
    for db in test_databases().await {
        let b = db.backend;
        let tampers: [(&str, &[&str]); 5] = [
            (
                "edit",
                &["UPDATE audit_log SET details = '{\"i\":99}' WHERE seq = 3"],
            ),
            ("delete", &["DELETE FROM audit_log WHERE seq = 2"]),
            (
                "reorder",
                &[
                    "UPDATE audit_log SET seq = 100 WHERE seq = 2",
                    "UPDATE audit_log SET seq = 2 WHERE seq = 3",
                    "UPDATE audit_log SET seq = 3 WHERE seq = 100",
                ],
            ),
            ("truncate", &["DELETE FROM audit_log WHERE seq = 5"]),
            (
                "rewrite time",
                &["UPDATE audit_log SET at = at - 86400000000 WHERE seq = 4"],
            ),
        ];
        for (what, statements) in tampers {
            // A fresh store per tamper, each on the same kind of backend.
            let store = db.store().await;
            sqlx::query("DELETE FROM audit_log")
                .execute(store.pool())
                .await
                .unwrap();
            sqlx::query("DELETE FROM organizations")
                .execute(store.pool())
                .await
                .unwrap();
            sqlx::query("UPDATE audit_head SET seq = 0, hash = '0000000000000000000000000000000000000000000000000000000000000000'")
                .execute(store.pool())
                .await
                .unwrap();
            seed(&store, 5).await;
            assert_eq!(
                broken(&store).await,
                None,
                "[{b}] intact chain before {what}"
            );
            for sql in statements {
                sqlx::query(sql).execute(store.pool()).await.unwrap();
            }
            let error = broken(&store).await;
            assert!(error.is_some(), "[{b}] {what} went unnoticed");
            store.close().await;
        }
        db.drop().await;
    }
}

#[tokio::test]
async fn concurrent_writers_keep_one_linear_chain() {
    for db in test_databases().await {
        let store = db.store().await;
        let mut tasks = Vec::new();
        for w in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..10 {
                    let mut tx = store.begin_write().await.unwrap();
                    let now = Timestamp::from_second(1_700_000_000 + i).unwrap();
                    tx.audit(
                        now,
                        AuditEvent {
                            actor_user_id: None,
                            actor_org_id: None,
                            action: "test.write".into(),
                            object_type: "test".into(),
                            object_id: format!("{w}-{i}"),
                            details: "{}".into(),
                        },
                    )
                    .await
                    .unwrap();
                    tx.commit().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let v = store.verify_audit().await.unwrap();
        assert_eq!(v.error, None, "[{}]", db.backend);
        assert_eq!(v.entries, 40, "[{}]", db.backend);
        store.close().await;
        db.drop().await;
    }
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_audit_entry() {
    for db in test_databases().await {
        let store = db.store().await;
        seed(&store, 1).await;
        {
            let mut tx = store.begin_write().await.unwrap();
            tx.create_organization(
                &NewOrganization {
                    name: "Ghost".into(),
                    kind: OrganizationKind::Provider,
                    country: "CN".into(),
                },
                Timestamp::UNIX_EPOCH,
            )
            .await
            .unwrap();
            // Dropped without commit.
        }
        let v = store.verify_audit().await.unwrap();
        assert_eq!((v.entries, v.error), (1, None), "[{}]", db.backend);
        assert!(store.organization_by_name("Ghost").await.is_err());
        store.close().await;
        db.drop().await;
    }
}

#[tokio::test]
async fn unsupported_urls_are_refused_clearly() {
    let err = Store::connect("mysql://localhost/db").await.unwrap_err();
    assert!(err.to_string().contains("not supported"), "{err}");
}

/// One transaction that appends many entries (written in several multi-row inserts at commit)
/// leaves one linear chain that verifies; a rolled-back one leaves none of its entries.
#[tokio::test]
async fn many_entries_in_one_transaction_chain_in_order() {
    for db in test_databases().await {
        let store = db.store().await;
        seed(&store, 2).await;
        let now = Timestamp::from_second(1_700_100_000).unwrap();
        let event = |i: usize| AuditEvent {
            actor_user_id: None,
            actor_org_id: None,
            action: "test.bulk".into(),
            object_type: "test".into(),
            object_id: format!("o{i}"),
            details: format!("{{\"i\":{i}}}"),
        };
        let mut tx = store.begin_write().await.unwrap();
        let mut seqs = Vec::new();
        for i in 0..150 {
            seqs.push(tx.audit(now, event(i)).await.unwrap());
        }
        tx.commit().await.unwrap();
        assert_eq!(seqs, (3..153).collect::<Vec<i64>>(), "{}", db.backend);
        let mut tx = store.begin_write().await.unwrap();
        tx.audit(now, event(999)).await.unwrap();
        tx.rollback().await.unwrap();
        let v = store.verify_audit().await.unwrap();
        assert_eq!(v.error, None, "{}", db.backend);
        assert_eq!((v.entries, v.head_seq), (152, 152), "{}", db.backend);
        let entries = store.audit_entries(2, 200, None).await.unwrap();
        assert_eq!(entries.len(), 150);
        assert!(
            entries
                .iter()
                .enumerate()
                .all(|(i, e)| e.event.object_id == format!("o{i}"))
        );
        store.close().await;
        db.drop().await;
    }
}
