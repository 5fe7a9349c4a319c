//! Outbox claims between nodes: one winner per claim, and a node whose lease ran out cannot
//! record an outcome over the node that took the delivery over.

use jiff::{SignedDuration, Timestamp};
use vulnshare_store::testing::test_databases;

#[tokio::test]
async fn an_expired_lease_cannot_overwrite_the_new_owner() {
    for db in test_databases().await {
        let b = db.backend;
        let store = db.store().await;
        for sql in [
            "INSERT INTO organizations (id, name, kind, country, membership, created_at) VALUES ('org_x', 'X', 'provider', 'CN', '{}', 1)",
            "INSERT INTO users (id, organization_id, email, display_name, password_hash, roles, created_at) VALUES ('usr_x', 'org_x', 'x@x.example', 'X', 'h', '[]', 1)",
            "INSERT INTO subscriptions (id, organization_id, user_id, channel, url, secret, filter, created_at) VALUES ('sub_x', 'org_x', 'usr_x', 'webhook', 'http://127.0.0.1:9/', 's', '{}', 1)",
            "INSERT INTO outbox (id, subscription_id, event_kind, event_id, payload, state, attempts, next_attempt_at, created_at) VALUES ('dlv_x', 'sub_x', 'advisory.published', 'VSA-1', '{}', 'pending', 0, 1, 1)",
        ] {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();

        // Node A claims; node B, at the same instant, does not get it.
        let a = store
            .claim_delivery("dlv_x", t0, 60)
            .await
            .unwrap()
            .unwrap();
        assert!(
            store
                .claim_delivery("dlv_x", t0, 60)
                .await
                .unwrap()
                .is_none(),
            "[{b}]"
        );
        // A stalls past its lease; B takes the delivery over and delivers it.
        let later = t0 + SignedDuration::from_secs(61);
        assert_eq!(
            store.due_deliveries(later, 10).await.unwrap(),
            ["dlv_x"],
            "[{b}]"
        );
        let b_claim = store
            .claim_delivery("dlv_x", later, 60)
            .await
            .unwrap()
            .unwrap();
        // A wakes up and tries to record a failure: refused, B's claim stands.
        assert!(
            !store
                .finish_delivery(&a, Err("timeout".into()), later, Some(later))
                .await
                .unwrap(),
            "[{b}] a stale lease recorded an outcome"
        );
        assert!(
            store
                .finish_delivery(&b_claim, Ok(()), later, None)
                .await
                .unwrap(),
            "[{b}]"
        );
        let d = &store.deliveries_of("sub_x").await.unwrap()[0];
        assert_eq!((d.state.as_str(), d.attempts), ("delivered", 1), "[{b}]");
        assert_eq!(d.last_error, None, "[{b}]");
        assert!(
            store
                .due_deliveries(later + SignedDuration::from_hours(1), 10)
                .await
                .unwrap()
                .is_empty(),
            "[{b}]"
        );
        store.close().await;
        db.drop().await;
    }
}
