//! The obligations engine over HTTP: duties created by submissions and fulfilled with a
//! content checklist, regime choice and uploads, follow-up duties on a fix, third-party
//! evidence, and the regulator-only surfaces. (The sweeper has its own file.)

mod common;

use axum::http::{Request, StatusCode};
use common::{Member, TestApp, log4shell_report};
use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;

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

fn by_rule<'a>(items: &'a [Value], rule: &str) -> &'a Value {
    items
        .iter()
        .find(|o| o["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {items:?}"))
}

#[tokio::test]
async fn submission_creates_and_fulfils_duties_with_a_checklist() {
    TestApp::each(|app| async move {
        let a = provider(&app, "Vendor A").await;
        app.clock.set(at("2021-11-25T09:00:00+08:00"));
        let mut report = log4shell_report();
        report["kind"] = json!("own_product");
        report["aware_at"] = json!("2021-11-24T10:00:00+08:00");
        report["harm"] = json!("");
        report["affected_products"] = json!([{"name": "Gateway", "versions": ["1.0"]}]);
        report["affected_packages"] = json!([]);
        let (s, filed) = app
            .call(
                "POST",
                "/api/v1/reports?submit=true",
                Some(&a.token),
                Some(report),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{filed}");
        let items = obligations(&app, &a).await;
        // Provider of its own product: CN Art. 7 duties plus the membership duty.
        let rules: Vec<&str> = items
            .iter()
            .map(|o| o["rule_id"].as_str().unwrap())
            .collect();
        for rule in [
            "cn-miit-7-1-verify",
            "cn-miit-7-2-report",
            "cn-miit-7-3-fix",
            "membership-report",
        ] {
            assert!(rules.contains(&rule), "{rules:?}");
        }
        // Art. 7(2) under the default stricter reading: 48 h from 10:00 CST on the 24th.
        let art7 = by_rule(&items, "cn-miit-7-2-report");
        assert_eq!(art7["due_at"], "2021-11-26T02:00:00Z");
        assert_eq!(art7["state"], "met");
        assert_eq!(art7["status"]["lateness"], Value::Null);
        // The checklist shows what the report lacked: harm and the product model.
        assert_eq!(
            art7["status"]["missing_content"],
            json!(["product_model", "harm"])
        );
        let checklist = art7["checklist"].as_array().unwrap();
        assert!(
            checklist
                .iter()
                .any(|c| c["item"] == "harm" && c["present"] == false)
        );
        assert!(
            checklist
                .iter()
                .any(|c| c["item"] == "product_name" && c["present"] == true)
        );
        // Duties without a fixed clock stay pending with no countdown.
        let verify = by_rule(&items, "cn-miit-7-1-verify");
        assert_eq!(verify["state"], "pending");
        assert_eq!(verify["seconds_remaining"], Value::Null);

        // CSV export of the same list.
        let req = Request::builder()
            .uri(format!(
                "/api/v1/organizations/{}/obligations?format=csv",
                a.org.id
            ))
            .header("authorization", format!("Bearer {}", a.token))
            .body(axum::body::Body::empty())
            .unwrap();
        let (s, csv) = app.send(req).await;
        assert_eq!(s, StatusCode::OK);
        let csv = csv.as_str().unwrap();
        assert!(csv.starts_with("id,party_org,regime_id"), "{csv}");
        assert_eq!(csv.lines().count(), items.len() + 1);
        assert!(csv.contains("cn-miit-7-2-report"));
        let (s, _) = app
            .call(
                "GET",
                &format!("/api/v1/organizations/{}/obligations?format=xml", a.org.id),
                Some(&a.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn regimes_are_chosen_per_organization_and_uploads_are_checked() {
    TestApp::each(|app| async move {
        let a = provider(&app, "Vendor A").await;
        let member = app.member("Vendor A", OrganizationKind::Provider, &[Role::Member]).await;
        let admin = app.member("Platform", OrganizationKind::Coordinator, &[Role::PlatformAdmin]).await;
        let (s, catalogue) = app.call("GET", "/api/v1/regimes", Some(&member.token), None).await;
        assert_eq!(s, StatusCode::OK);
        let ids: Vec<&str> = catalogue["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        for id in ["CN-MIIT-2021", "CN-PLATFORM-MEMBERSHIP", "EU-CRA-2024", "EU-NIS2-2022", "IN-CERT-IN-2022", "US-SEC-8K-105"] {
            assert!(ids.contains(&id), "{ids:?}");
        }

        let path = format!("/api/v1/organizations/{}/regimes", a.org.id);
        let choice = json!({"regimes": ["CN-MIIT-2021", "EU-CRA-2024"], "cn_interpretation": "civil_code"});
        let (s, _) = app.call("PUT", &path, Some(&member.token), Some(choice.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "members do not choose regimes");
        let (s, bad) = app.call("PUT", &path, Some(&a.token), Some(json!({"regimes": ["XX-NOPE"]}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad["errors"][0]["field"], "regimes[0]");
        let (s, chosen) = app.call("PUT", &path, Some(&a.token), Some(choice)).await;
        assert_eq!(s, StatusCode::OK, "{chosen}");
        let (_, read) = app.call("GET", &path, Some(&a.token), None).await;
        assert_eq!(read["regimes"], json!(["CN-MIIT-2021", "EU-CRA-2024"]));
        assert_eq!(read["default"], false);

        // Civil-code reading: aware Wednesday 10:00 CST -> due Friday 24:00 CST.
        app.clock.set(at("2021-11-24T12:00:00+08:00"));
        let mut report = log4shell_report();
        report["kind"] = json!("own_product");
        report["aware_at"] = json!("2021-11-24T10:00:00+08:00");
        app.call("POST", "/api/v1/reports?submit=true", Some(&a.token), Some(report)).await;
        let items = obligations(&app, &a).await;
        assert_eq!(by_rule(&items, "cn-miit-7-2-report")["due_at"], "2021-11-26T16:00:00Z");
        assert!(!items.iter().any(|o| o["regime_id"] == "CN-PLATFORM-MEMBERSHIP"), "membership was switched off");

        // Uploads: platform administrators only; a bad file is refused naming the line.
        let bad_regime = "id = \"X-1\"\nversion = \"1\"\nname = \"X\"\njurisdiction = \"XX\"\neffective_from = \"2020-01-01\"\ntime_zone = \"UTC\"\n\n[[rules]]\nid = \"r\"\narticle = \"Art. 1\"\nduty = \"Report.\"\nparty = \"reporter\"\ntrigger = \"aware\"\nperiod = \"2 days\"\nclock = \"lunar\"\n";
        let upload = |token: String, body: &'static str, ct: &'static str| {
            Request::builder()
                .method("POST")
                .uri("/api/v1/regimes")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", ct)
                .body(axum::body::Body::from(body))
                .unwrap()
        };
        let (s, _) = app.send(upload(a.token.clone(), bad_regime, "application/toml")).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, refused) = app.send(upload(admin.token.clone(), bad_regime, "application/toml")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert!(refused["detail"].as_str().unwrap().contains("line 15"), "{refused}");
        assert!(refused["detail"].as_str().unwrap().contains("lunar"), "{refused}");
        assert_eq!(refused["errors"][0]["field"], "rules[0].clock");
        let good = "id = \"X-1\"\nversion = \"1\"\nname = \"Example duty\"\njurisdiction = \"CN\"\neffective_from = \"2020-01-01\"\ntime_zone = \"Asia/Shanghai\"\nclock = \"strict_hours\"\n\n[[rules]]\nid = \"x-platform-report\"\narticle = \"Art. 1\"\nduty = \"Report to the platform within 6 hours.\"\nparty = \"reporter\"\ntrigger = \"aware\"\nperiod = \"6 hours\"\n";
        let (s, created) = app.send(upload(admin.token.clone(), good, "application/toml")).await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        assert_eq!(created["origin"], "custom");
        let (s, _) = app.send(upload(admin.token.clone(), good, "application/toml")).await;
        assert_eq!(s, StatusCode::CONFLICT, "the same version twice");
        let (s, json_refused) = app.send(upload(admin.token.clone(), "{\"id\": ", "application/json")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(json_refused["detail"].as_str().unwrap().contains("line 1"), "{json_refused}");

        // The uploaded regime, once enabled, creates duties (met at once by the report).
        let (s, _) = app.call("PUT", &path, Some(&admin.token), Some(json!({"regimes": ["X-1"]}))).await;
        assert_eq!(s, StatusCode::OK);
        let mut again = log4shell_report();
        again["aware_at"] = json!("2021-11-24T11:00:00+08:00");
        app.call("POST", "/api/v1/reports?submit=true", Some(&a.token), Some(again)).await;
        let items = obligations(&app, &a).await;
        let custom = by_rule(&items, "x-platform-report");
        assert_eq!(custom["state"], "met");
        assert_eq!(custom["due_at"], "2021-11-24T09:00:00Z");
    })
    .await;
}

#[tokio::test]
async fn a_fix_starts_the_cra_final_report_clock() {
    TestApp::each(|app| async move {
        app.clock.set(at("2026-10-05T08:00:00Z"));
        let a = provider(&app, "EU Vendor").await;
        let analyst = app
            .member("Platform", OrganizationKind::Coordinator, &[Role::Analyst])
            .await;
        let path = format!("/api/v1/organizations/{}/regimes", a.org.id);
        app.call(
            "PUT",
            &path,
            Some(&a.token),
            Some(json!({"regimes": ["EU-CRA-2024", "CN-MIIT-2021"]})),
        )
        .await;
        let mut report = log4shell_report();
        report["kind"] = json!("own_product");
        report["exploitation"] = json!("exploited_in_wild");
        report["aware_at"] = json!("2026-10-05T06:00:00Z");
        let (s, filed) = app
            .call(
                "POST",
                "/api/v1/reports?submit=true",
                Some(&a.token),
                Some(report),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{filed}");
        let id = filed["report"]["id"].as_str().unwrap().to_owned();
        let items = obligations(&app, &a).await;
        assert_eq!(
            by_rule(&items, "cra-14-2-a-early-warning")["due_at"],
            "2026-10-06T06:00:00Z"
        );
        assert_eq!(
            by_rule(&items, "cra-14-2-b-notification")["due_at"],
            "2026-10-08T06:00:00Z"
        );
        // CRA notifications go to ENISA, not to this platform: tracked, not fulfilled here.
        assert_eq!(
            by_rule(&items, "cra-14-2-a-early-warning")["state"],
            "pending"
        );
        assert!(
            !items
                .iter()
                .any(|o| o["rule_id"] == "cra-14-2-c-final-report")
        );

        let transitions = format!("/api/v1/reports/{id}/transitions");
        app.call(
            "POST",
            &transitions,
            Some(&analyst.token),
            Some(json!({"to": "triaged"})),
        )
        .await;
        app.clock.set(at("2026-10-20T10:00:00Z"));
        let (s, moved) = app
            .call(
                "POST",
                &transitions,
                Some(&a.token),
                Some(json!({"to": "fix_available"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{moved}");
        let items = obligations(&app, &a).await;
        let final_report = by_rule(&items, "cra-14-2-c-final-report");
        assert_eq!(final_report["trigger"], "fix_available");
        assert_eq!(final_report["trigger_at"], "2026-10-20T10:00:00Z");
        // The fix meets the CN Art. 7(3) duty to fix.
        let fix = by_rule(&items, "cn-miit-7-3-fix");
        assert_eq!(fix["state"], "met");
        assert_eq!(fix["status"]["at"], "2026-10-20T10:00:00Z");
        // 14 days under Reg. 1182/71: ends 24:00 Brussels time on 3 November.
        assert_eq!(final_report["due_at"], "2026-11-03T23:00:00Z");
        assert_eq!(final_report["last_day_local"], "2026-11-03");
    })
    .await;
}

#[tokio::test]
async fn upstream_notifications_are_validated_and_meet_the_notify_duty() {
    TestApp::each(|app| async move {
        let a = provider(&app, "Vendor A").await;
        let b = provider(&app, "Vendor B").await;
        app.clock.set(at("2021-11-24T16:00:00+08:00"));
        let future = json!({"notified_org": "ASF", "notified_at": "2021-11-25T00:00:00+08:00", "evidence": "mail", "aliases": ["CVE-2021-44228"]});
        let (s, refused) = app.call("POST", "/api/v1/upstream-notifications", Some(&a.token), Some(future)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused["errors"][0]["field"], "notified_at");
        let audit_before = app.count("audit_log").await;
        let (s, _) = app
            .call("POST", "/api/v1/upstream-notifications", Some(&a.token), Some(json!({"notified_org": "ASF", "notified_at": "2021-11-24T14:00:00+08:00", "evidence": " "})))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("audit_log").await, audit_before, "nothing written");

        // A provider's report about an upstream component: notify-upstream is pending until
        // the notification is recorded against the report.
        let mut report = log4shell_report();
        report["aware_at"] = json!("2021-11-24T10:00:00+08:00");
        let (_, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&a.token), Some(report)).await;
        let report_id = filed["report"]["id"].as_str().unwrap().to_owned();
        let items = obligations(&app, &a).await;
        assert_eq!(by_rule(&items, "cn-miit-7-1-notify-upstream")["state"], "pending");
        let body = json!({"report_id": report_id, "notified_org": "Apache Software Foundation", "notified_at": "2021-11-24T14:00:00+08:00", "evidence": "E-mail to security@apache.org"});
        let (s, _) = app.call("POST", "/api/v1/upstream-notifications", Some(&b.token), Some(body.clone())).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "B cannot attach to A's report");
        let (s, recorded) = app.call("POST", "/api/v1/upstream-notifications", Some(&a.token), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{recorded}");
        assert_eq!(recorded["notification"]["aliases"], json!(["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]));
        let items = obligations(&app, &a).await;
        let notify = by_rule(&items, "cn-miit-7-1-notify-upstream");
        assert_eq!(notify["state"], "met");
        assert_eq!(notify["status"]["at"], "2021-11-24T06:00:00Z");
        assert_eq!(items.len(), 5, "no duplicate duties: {items:?}");
    })
    .await;
}

#[tokio::test]
async fn only_the_regulator_decides_and_decisions_are_checked() {
    TestApp::each(|app| async move {
        let a = provider(&app, "Vendor A").await;
        let admin = app
            .member(
                "Platform",
                OrganizationKind::Coordinator,
                &[Role::PlatformAdmin],
            )
            .await;
        let regulator = app
            .member("MIIT", OrganizationKind::Regulator, &[Role::Regulator])
            .await;
        let path = format!("/api/v1/organizations/{}/sanctions", a.org.id);
        let warning = json!({"kind": "warning", "reason": "Late report"});
        let (s, _) = app
            .call("POST", &path, Some(&admin.token), Some(warning.clone()))
            .await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "platform administrators do not sanction"
        );
        let (s, _) = app
            .call("GET", "/api/v1/compliance", Some(&admin.token), None)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, bad) = app
            .call(
                "POST",
                &path,
                Some(&regulator.token),
                Some(json!({"kind": "suspension", "reason": "x"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad["errors"][0]["field"], "months");
        let (s, _) = app
            .call(
                "POST",
                &path,
                Some(&regulator.token),
                Some(json!({"kind": "warning", "reason": "x", "violation_ids": ["vio_nope"]})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app
            .call(
                "POST",
                &path,
                Some(&regulator.token),
                Some(json!({"kind": "reinstatement", "reason": "x"})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "nothing to reinstate");
        let (s, _) = app
            .call("POST", &path, Some(&regulator.token), Some(warning))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, expelled) = app
            .call(
                "POST",
                &path,
                Some(&regulator.token),
                Some(json!({"kind": "expulsion", "reason": "Repeated concealment"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{expelled}");
        let (_, history) = app.call("GET", &path, Some(&a.token), None).await;
        assert_eq!(history["membership"]["status"], "expelled");
        assert_eq!(history["items"].as_array().unwrap().len(), 2);
        let (_, notes) = app
            .call(
                "GET",
                "/api/v1/notifications?unread=true",
                Some(&a.token),
                None,
            )
            .await;
        let notes = notes["items"].as_array().unwrap().clone();
        assert_eq!(notes.len(), 2);
        let (s, _) = app
            .call(
                "POST",
                &format!(
                    "/api/v1/notifications/{}/read",
                    notes[0]["id"].as_str().unwrap()
                ),
                Some(&a.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, unread) = app
            .call(
                "GET",
                "/api/v1/notifications?unread=true",
                Some(&a.token),
                None,
            )
            .await;
        assert_eq!(unread["items"].as_array().unwrap().len(), 1);
        let (s, csv) = app
            .call(
                "GET",
                "/api/v1/compliance?format=csv",
                Some(&regulator.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            csv.as_str()
                .unwrap()
                .starts_with("organization_id,organization_name,with_deadline"),
            "{csv}"
        );
        let (s, csv) = app
            .call(
                "GET",
                "/api/v1/violations?format=csv",
                Some(&regulator.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            csv.as_str().unwrap().starts_with("id,party_org,regime_id"),
            "{csv}"
        );
    })
    .await;
}

/// A member that reports after someone else already did is late to the first report, not only
/// to its own: the violation is measured to the other organization's report.
#[tokio::test]
async fn a_late_report_is_measured_to_the_earlier_third_party_report() {
    TestApp::each(|app| async move {
        app.clock.set(at("2021-12-01T10:00:00+08:00"));
        let a = provider(&app, "Vendor A").await;
        let m = app
            .member(
                "Monitor M",
                OrganizationKind::MonitoringInstitution,
                &[Role::Member],
            )
            .await;
        let regulator = app
            .member("MIIT", OrganizationKind::Regulator, &[Role::Regulator])
            .await;
        let mut first = log4shell_report();
        first["kind"] = json!("third_party_observation");
        first["aware_at"] = json!("2021-12-01T08:00:00+08:00");
        let (s, m_filed) = app
            .call(
                "POST",
                "/api/v1/reports?submit=true",
                Some(&m.token),
                Some(first),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m_filed}");
        let (_, none) = app
            .call("GET", "/api/v1/violations", Some(&regulator.token), None)
            .await;
        assert_eq!(
            none["items"],
            json!([]),
            "M reported on time; A is unknown yet"
        );

        app.clock.set(at("2021-12-10T10:00:00+08:00"));
        let mut late = log4shell_report();
        late["kind"] = json!("third_party_observation");
        late["aware_at"] = json!("2021-11-24T10:00:00+08:00");
        let (s, _) = app
            .call(
                "POST",
                "/api/v1/reports?submit=true",
                Some(&a.token),
                Some(late),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, violations) = app
            .call("GET", "/api/v1/violations", Some(&regulator.token), None)
            .await;
        let items = violations["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{violations}");
        assert_eq!(items[0]["party_org"], a.org.id.as_str());
        assert_eq!(items[0]["evidence"]["kind"], "earlier_awareness");
        assert_eq!(items[0]["evidence"]["proof"]["kind"], "member_aware_at");
        assert_eq!(
            items[0]["evidence"]["third_party"]["report_id"],
            m_filed["report"]["id"]
        );
        assert_eq!(
            items[0]["days_late"], 5,
            "due 2021-11-26 24:00, M reported 2021-12-01"
        );
        let membership = obligations(&app, &a).await;
        let duty = by_rule(&membership, "membership-report");
        assert_eq!(duty["state"], "met");
        assert_eq!(duty["status"]["days_late"], 14);
    })
    .await;
}
