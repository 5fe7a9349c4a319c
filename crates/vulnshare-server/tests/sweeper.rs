//! The deadline sweeper: two nodes racing on one database act exactly once, and the
//! background task `vulnshare serve` starts marks duties overdue from the clock.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{Member, TestApp};
use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;
use vulnshare_server::sweeper::{SweepReport, sweep_once};
use vulnshare_server::{AppState, ManualClock};
use vulnshare_store::testing::test_databases;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

async fn provider(app: &TestApp, name: &str) -> Member {
    app.member(
        name,
        OrganizationKind::Provider,
        &[Role::OrgAdmin, Role::Member],
    )
    .await
}

async fn obligations(app: &TestApp, member: &Member) -> Vec<Value> {
    let path = format!("/api/v1/organizations/{}/obligations", member.org.id);
    let (s, body) = app.call("GET", &path, Some(&member.token), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// Two server nodes sweep one database at the same instant, many times over: every obligation
/// turns overdue once, and every reminder is sent once.
#[tokio::test]
async fn concurrent_sweepers_act_exactly_once() {
    for db in test_databases().await {
        let node_a = TestApp::start(&db).await;
        let store_b = db.store().await;
        let clock_b = Arc::new(ManualClock::new(common::t0()));
        let node_b = AppState::new(store_b.clone(), clock_b).await.unwrap();
        let backend = node_a.backend;

        node_a.clock.set(at("2021-11-24T12:00:00+08:00"));
        let mut members = Vec::new();
        for i in 0..6 {
            let m = provider(&node_a, &format!("Vendor {i}")).await;
            let body = json!({"notified_org": "ASF", "aware_at": "2021-11-24T10:00:00+08:00", "notified_at": "2021-11-24T11:00:00+08:00", "evidence": "mail", "aliases": [format!("CVE-2021-{}", 40000 + i)]});
            let (s, r) = node_a
                .call(
                    "POST",
                    "/api/v1/upstream-notifications",
                    Some(&m.token),
                    Some(body),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{r}");
            members.push(m);
        }
        let audit_before = node_a.count("audit_log").await;

        let mut combined = SweepReport::default();
        for now in [
            "2021-11-26T13:00:00+08:00",
            "2021-11-27T00:00:10+08:00",
            "2021-11-27T00:00:20+08:00",
        ] {
            let now = at(now);
            let (ra, rb) = tokio::join!(sweep_once(&node_a.state, now), sweep_once(&node_b, now),);
            for r in [ra.unwrap(), rb.unwrap()] {
                combined.overdue.extend(r.overdue);
                combined.early_reminders.extend(r.early_reminders);
                combined.due_reminders.extend(r.due_reminders);
            }
        }
        for list in [
            &mut combined.overdue,
            &mut combined.early_reminders,
            &mut combined.due_reminders,
        ] {
            let n = list.len();
            list.sort();
            list.dedup();
            assert_eq!(list.len(), n, "[{backend}] something happened twice");
            assert_eq!(n, 6, "[{backend}] every obligation once: {list:?}");
        }
        assert_eq!(node_a.count("notifications").await, 12, "[{backend}]");
        // 6 overdue transitions + 12 reminders, each audited once.
        assert_eq!(
            node_a.count("audit_log").await,
            audit_before + 18,
            "[{backend}]"
        );
        for m in &members {
            let items = obligations(&node_a, m).await;
            assert_eq!(items.len(), 1);
            assert_eq!(items[0]["state"], "overdue");
        }
        let (_, verified) = node_a
            .call(
                "GET",
                "/api/v1/audit/verify",
                Some(
                    &node_a
                        .member("MIIT", OrganizationKind::Regulator, &[Role::Regulator])
                        .await
                        .token,
                ),
                None,
            )
            .await;
        assert!(
            verified["error"].is_null() && verified["entries"].as_i64() > Some(0),
            "[{backend}] {verified}"
        );
        node_a.store.close().await;
        store_b.close().await;
        db.drop().await;
    }
}

/// The background sweeper `vulnshare serve` starts reads the clock and marks duties overdue.
#[tokio::test]
async fn the_background_sweeper_marks_overdue_duties() {
    TestApp::each(|app| async move {
        app.clock.set(at("2021-11-24T12:00:00+08:00"));
        let a = provider(&app, "Vendor A").await;
        let body = json!({"notified_org": "ASF", "notified_at": "2021-11-24T11:00:00+08:00", "evidence": "mail", "aliases": ["CVE-2021-44228"]});
        let (s, _) = app
            .call("POST", "/api/v1/upstream-notifications", Some(&a.token), Some(body))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        app.clock.set(at("2021-11-27T00:00:01+08:00"));
        let sweeper = vulnshare_server::sweeper::spawn(
            app.state.clone(),
            vulnshare_server::sweeper::SweeperConfig {
                interval: std::time::Duration::from_millis(20),
                ..Default::default()
            },
        );
        let mut state = Value::Null;
        for _ in 0..200 {
            state = obligations(&app, &a).await[0]["status"]["state"].clone();
            if state == "overdue" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        sweeper.abort();
        assert_eq!(state, "overdue", "[{}]", app.backend);
    })
    .await;
}
