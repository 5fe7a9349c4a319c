//! The canonical scenario of DESIGN.md replayed over the HTTP API under a manual clock:
//! member A learns of Log4Shell on 2021-11-24 (Asia/Shanghai) and notifies Apache the same
//! day but does not report to the platform; monitoring institution M reports CVE-2021-44228 on
//! 2021-12-09. A's membership duty fell due 2021-11-26 24:00 CST, the sweeper marks it overdue,
//! M's report records a violation 13 days late, the regulator suspends A for 6 months and A
//! loses access to the TLP:AMBER report it could read before.

mod common;

use axum::http::StatusCode;
use common::{Member, TestApp, log4shell_report};
use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::token::TokenScope;
use vulnshare_core::user::Role;
use vulnshare_server::sweeper::sweep_once;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn kinds(notes: &Value) -> Vec<String> {
    notes["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{notes}"));
    notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn log4shell_membership_duty_violation_and_suspension() {
    TestApp::each(|app| async move {
        app.clock.set(at("2021-11-24T15:00:00+08:00"));
        let a = app.member("Alibaba Cloud", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let m = app.member("Monitoring Institution M", OrganizationKind::MonitoringInstitution, &[Role::OrgAdmin, Role::Member]).await;
        let c = app.member("Other Vendor C", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let regulator = app.member("MIIT", OrganizationKind::Regulator, &[Role::Regulator]).await;
        let backend = app.backend;

        // A's own product, which embeds log4j-core (M will name it as affected).
        let (s, product) = app
            .call("POST", &format!("/api/v1/organizations/{}/products", a.org.id), Some(&a.token), Some(json!({"name": "Alibaba Cloud Gateway", "model": "G1", "versions": ["1.0"]})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{product}");

        // CN organizations are under CN-MIIT-2021 and the membership duty by default.
        let (_, regimes) = app.call("GET", &format!("/api/v1/organizations/{}/regimes", a.org.id), Some(&a.token), None).await;
        assert_eq!(regimes["regimes"], json!(["CN-MIIT-2021", "CN-PLATFORM-MEMBERSHIP"]));
        assert_eq!(regimes["default"], true);

        // 2021-11-24: A learns of it at 10:00 and e-mails Apache at 14:00, and records that.
        let (s, upstream) = app
            .call(
                "POST",
                "/api/v1/upstream-notifications",
                Some(&a.token),
                Some(json!({
                    "notified_org": "Apache Software Foundation",
                    "aware_at": "2021-11-24T10:00:00+08:00",
                    "notified_at": "2021-11-24T14:00:00+08:00",
                    "evidence": "E-mail to the Apache Logging security team, 2021-11-24 14:00 CST",
                    "aliases": ["CVE-2021-44228"],
                    "packages": [{"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}],
                })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "[{backend}] {upstream}");
        // A is not log4j's provider: only the membership duty, civil-code reading.
        let obligations = upstream["obligations"].as_array().unwrap();
        assert_eq!(obligations.len(), 1, "{upstream}");
        assert_eq!(obligations[0]["rule_id"], "membership-report");
        assert_eq!(obligations[0]["due_at"], "2021-11-26T16:00:00Z", "2021-11-26 24:00 CST");
        let obligation_id = obligations[0]["id"].as_str().unwrap().to_owned();

        // The compliance view counts down in UTC and in the rule's time zone.
        let path = format!("/api/v1/organizations/{}/obligations", a.org.id);
        let (s, view) = app.call("GET", &path, Some(&a.token), None).await;
        assert_eq!(s, StatusCode::OK, "{view}");
        let item = &view["items"][0];
        assert_eq!(item["state"], "pending");
        assert_eq!(item["seconds_remaining"], 2 * 86_400 + 9 * 3_600);
        assert_eq!(item["due_at_local"], "2021-11-27T00:00:00+08:00[Asia/Shanghai]");
        assert_eq!(item["last_day_local"], "2021-11-26");
        // The regulator sees them too; another member cannot.
        let (s, as_regulator) = app.call("GET", &path, Some(&regulator.token), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(as_regulator["items"][0]["id"], item["id"]);
        let (s, _) = app.call("GET", &path, Some(&c.token), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // 12 hours before the deadline: one reminder, however often the sweeper runs.
        let early = at("2021-11-26T12:00:00+08:00");
        app.clock.set(early);
        let first = sweep_once(&app.state, early).await.unwrap();
        assert_eq!(first.early_reminders, std::slice::from_ref(&obligation_id));
        assert!(first.overdue.is_empty());
        assert_eq!(sweep_once(&app.state, early).await.unwrap(), Default::default());

        // One second before 24:00 nothing is overdue; 30 s after, the sweeper marks it.
        let before = at("2021-11-26T23:59:59+08:00");
        assert!(sweep_once(&app.state, before).await.unwrap().overdue.is_empty());
        let after = at("2021-11-27T00:00:30+08:00");
        app.clock.set(after);
        let swept = sweep_once(&app.state, after).await.unwrap();
        assert_eq!(swept.overdue, std::slice::from_ref(&obligation_id));
        assert_eq!(swept.due_reminders, std::slice::from_ref(&obligation_id));
        let (_, notes) = app.call("GET", "/api/v1/notifications", Some(&a.token), None).await;
        assert_eq!(kinds(&notes), ["obligation.due", "obligation.due_soon"]);

        // 2021-12-09: M reports the same CVE (TLP:AMBER), naming A's product as affected.
        let received = at("2021-12-09T11:00:00+08:00");
        app.clock.set(received);
        let mut m_report = log4shell_report();
        m_report["kind"] = json!("third_party_observation");
        m_report["aware_at"] = json!("2021-12-09T09:00:00+08:00");
        m_report["awareness_evidence"] = json!("Observed exploitation attempts on monitored networks.");
        m_report["affected_products"]
            .as_array_mut()
            .unwrap()
            .push(json!({"vendor": "Alibaba Cloud", "name": "Alibaba Cloud Gateway", "model": "G1", "versions": ["1.0"], "product_id": product["id"]}));
        assert_eq!(m_report["tlp"], "AMBER");
        let (s, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&m.token), Some(m_report)).await;
        assert_eq!(s, StatusCode::CREATED, "{filed}");
        let m_report_id = filed["report"]["id"].as_str().unwrap().to_owned();
        let m_path = format!("/api/v1/reports/{m_report_id}");

        // A takes part (its product is affected) and, as an active member, reads the AMBER report;
        // C does not take part and is not told it exists.
        let (s, seen) = app.call("GET", &m_path, Some(&a.token), None).await;
        assert_eq!(s, StatusCode::OK, "{seen}");
        let (s, _) = app.call("GET", &m_path, Some(&c.token), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // M's report proves A knew 13 days after its deadline.
        let (s, violations) = app.call("GET", "/api/v1/violations", Some(&regulator.token), None).await;
        assert_eq!(s, StatusCode::OK, "{violations}");
        let items = violations["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{violations}");
        let v = &items[0];
        assert_eq!(v["party_org"], a.org.id.as_str());
        assert_eq!(v["obligation_id"], obligation_id.as_str());
        assert_eq!(v["days_late"], 13);
        assert_eq!(v["article"], "Membership agreement, vulnerability reporting clause");
        assert_eq!(v["evidence"]["kind"], "earlier_awareness");
        assert_eq!(v["evidence"]["proof"]["kind"], "upstream_notification");
        assert_eq!(v["evidence"]["third_party"]["report_id"], m_report_id.as_str());
        let violation_id = v["id"].as_str().unwrap().to_owned();
        // Only the regulator lists violations.
        let (s, _) = app.call("GET", "/api/v1/violations", Some(&a.token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The regulator's compliance view shows A overdue with a 0 % on-time rate.
        let (_, compliance) = app.call("GET", "/api/v1/compliance", Some(&regulator.token), None).await;
        let a_row = compliance["organizations"].as_array().unwrap().iter().find(|o| o["organization_id"] == a.org.id.as_str()).unwrap().clone();
        assert_eq!(a_row["overdue"], 1);
        assert_eq!(a_row["on_time_rate"], 0.0);
        assert_eq!(compliance["overdue"][0]["id"], obligation_id.as_str());
        assert_eq!(compliance["overdue"][0]["days_late"], 13);

        // The regulator suspends A for 6 months, citing the violation.
        let decided_at = at("2021-12-22T10:00:00+08:00");
        app.clock.set(decided_at);
        let sanctions = format!("/api/v1/organizations/{}/sanctions", a.org.id);
        let suspension = json!({"kind": "suspension", "months": 6, "reason": "Did not report CVE-2021-44228 to the platform within 2 days", "violation_ids": [violation_id]});
        let (s, _) = app.call("POST", &sanctions, Some(&a.token), Some(suspension.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "a member cannot sanction itself");
        let (s, decision) = app.call("POST", &sanctions, Some(&regulator.token), Some(suspension)).await;
        assert_eq!(s, StatusCode::CREATED, "{decision}");
        assert_eq!(decision["effective_until"], "2022-06-22T02:00:00Z");

        // Suspended: the AMBER report is refused, while A's own duties and rights go on.
        let (s, refused) = app.call("GET", &m_path, Some(&a.token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{refused}");
        assert!(refused["detail"].as_str().unwrap().contains("TLP:CLEAR"), "{refused}");
        let (_, membership) = app.call("GET", &sanctions, Some(&a.token), None).await;
        assert_eq!(membership["membership"]["status"], "suspended");
        let mut own = log4shell_report();
        own["aware_at"] = json!("2021-11-24T10:00:00+08:00");
        own["kind"] = json!("third_party_observation");
        let (s, late) = app.call("POST", "/api/v1/reports?submit=true", Some(&a.token), Some(own)).await;
        assert_eq!(s, StatusCode::CREATED, "a suspended member still files reports: {late}");
        let late_id = late["report"]["id"].as_str().unwrap().to_owned();
        // The late report meets the duty (late) instead of creating a second one; the violation
        // on record stays the one M's report established.
        let (_, view) = app.call("GET", &path, Some(&a.token), None).await;
        let items = view["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{view}");
        assert_eq!(items[0]["state"], "met");
        assert_eq!(items[0]["status"]["by_report"], late_id.as_str());
        assert_eq!(items[0]["status"]["days_late"], 26);
        let (_, violations) = app.call("GET", "/api/v1/violations", Some(&regulator.token), None).await;
        assert_eq!(violations["items"].as_array().unwrap().len(), 1);

        // When the suspension ends the regulator is reminded to review it; A stays suspended
        // until a reinstatement is decided.
        let ended = at("2022-06-22T02:00:01Z");
        app.clock.set(ended);
        // Half a year on, both sign in again (test tokens last 30 days).
        let scopes = [TokenScope::Read, TokenScope::Write, TokenScope::Admin];
        let a = Member { token: app.token_for(&a.user, &scopes).await, ..a };
        let regulator = Member { token: app.token_for(&regulator.user, &scopes).await, ..regulator };
        let swept = sweep_once(&app.state, ended).await.unwrap();
        assert_eq!(swept.suspension_reviews.len(), 1);
        assert!(sweep_once(&app.state, ended).await.unwrap().suspension_reviews.is_empty());
        let (_, notes) = app.call("GET", "/api/v1/notifications", Some(&regulator.token), None).await;
        assert_eq!(kinds(&notes), ["suspension.review_due"]);
        let (s, _) = app.call("GET", &m_path, Some(&a.token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, reinstated) = app
            .call("POST", &sanctions, Some(&regulator.token), Some(json!({"kind": "reinstatement", "reason": "Review completed; reporting procedure fixed"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{reinstated}");
        let (s, _) = app.call("GET", &m_path, Some(&a.token), None).await;
        assert_eq!(s, StatusCode::OK);

        // Every step is on the audit chain, which still verifies.
        let (_, verified) = app.call("GET", "/api/v1/audit/verify", Some(&regulator.token), None).await;
        assert!(verified["error"].is_null() && verified["entries"].as_i64() > Some(0), "{verified}");
        let (_, audit) = app.call("GET", "/api/v1/audit?limit=200", Some(&regulator.token), None).await;
        let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        for action in ["upstream_notification.record", "obligation.create", "obligation.overdue", "violation.record", "sanction.decide", "sanction.review_due"] {
            assert!(actions.contains(&action), "[{backend}] audit lacks {action}: {actions:?}");
        }
    })
    .await;
}
