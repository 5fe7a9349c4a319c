//! Web sessions expire, and the failed sign-in counter locks a key after the limit within its
//! window, on every backend.

use jiff::{SignedDuration, Timestamp};
use vulnshare_core::audit::AuditEvent;
use vulnshare_core::organization::{NewOrganization, OrganizationKind};
use vulnshare_core::user::{NewUser, Role};
use vulnshare_store::testing::test_databases;
use vulnshare_store::{LockoutPolicy, WebSession};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const POLICY: LockoutPolicy = LockoutPolicy {
    max_failures: 3,
    window: SignedDuration::from_mins(15),
    lock_for: SignedDuration::from_mins(15),
};

#[tokio::test]
async fn failures_lock_a_key_within_the_window_only() {
    for db in test_databases().await {
        let store = db.store().await;
        let t = at("2026-01-01T00:00:00Z");
        let key = "account:a@example.org";
        assert_eq!(
            store.record_sign_in_failure(key, t, POLICY).await.unwrap(),
            None
        );
        // A failure outside the window starts counting again.
        let later = t + SignedDuration::from_mins(20);
        assert_eq!(
            store
                .record_sign_in_failure(key, later, POLICY)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .record_sign_in_failure(key, later, POLICY)
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.sign_in_locked_until(key, later).await.unwrap(), None);
        let until = store
            .record_sign_in_failure(key, later, POLICY)
            .await
            .unwrap()
            .expect("the third failure in the window locks");
        assert_eq!(
            until,
            later + SignedDuration::from_mins(15),
            "{}",
            db.backend
        );
        assert_eq!(
            store.sign_in_locked_until(key, later).await.unwrap(),
            Some(until)
        );
        // Another key is not affected; the lock ends on time.
        assert_eq!(
            store
                .sign_in_locked_until("account:b@example.org", later)
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.sign_in_locked_until(key, until).await.unwrap(), None);
        store.clear_sign_in_failures(key).await.unwrap();
        assert_eq!(store.sign_in_locked_until(key, later).await.unwrap(), None);
        store.close().await;
        db.drop().await;
    }
}

#[tokio::test]
async fn sessions_are_found_by_hash_until_they_expire() {
    for db in test_databases().await {
        let store = db.store().await;
        let t = at("2026-01-01T00:00:00Z");
        let mut tx = store.begin_write().await.unwrap();
        let org = tx
            .create_organization(
                &NewOrganization {
                    name: "Org".into(),
                    kind: OrganizationKind::Provider,
                    country: "CN".into(),
                },
                t,
            )
            .await
            .unwrap();
        let user = tx
            .create_user(
                &org.id,
                &NewUser {
                    email: "a@example.org".into(),
                    display_name: "A".into(),
                    password: String::new(),
                    roles: vec![Role::Member],
                },
                "phc",
                t,
            )
            .await
            .unwrap();
        let s = WebSession {
            id_hash: "ab".repeat(32),
            user_id: user.id.clone(),
            csrf_token: "csrf".into(),
            created_at: t,
            last_seen_at: t,
            expires_at: t + SignedDuration::from_hours(12),
        };
        tx.create_web_session(&s).await.unwrap();
        tx.set_totp_secret(&user.id, "JBSWY3DPEHPK3PXP")
            .await
            .unwrap();
        tx.audit(
            t,
            AuditEvent {
                actor_user_id: None,
                actor_org_id: None,
                action: "session.create".into(),
                object_type: "user".into(),
                object_id: user.id.clone(),
                details: "{}".into(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.web_session(&s.id_hash, t).await.unwrap(),
            Some(s.clone())
        );
        assert_eq!(store.web_session(&"cd".repeat(32), t).await.unwrap(), None);
        assert_eq!(
            store.web_session(&s.id_hash, s.expires_at).await.unwrap(),
            None
        );
        assert_eq!(
            store.totp_secret(&user.id).await.unwrap().as_deref(),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert_eq!(store.purge_web_sessions(s.expires_at).await.unwrap(), 1);
        assert_eq!(store.web_session(&s.id_hash, t).await.unwrap(), None);
        store.close().await;
        db.drop().await;
    }
}
