//! Bad input is refused with problem+json naming the field, and leaves nothing half-written.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestApp, log4shell_report};
use serde_json::{Value, json};
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;

/// A change that breaks an otherwise valid report.
type Mutation = Box<dyn Fn(&mut Value)>;

/// Asserts a refusal whose first field error is `field`.
fn assert_field(status: StatusCode, problem: &Value, expected_status: StatusCode, field: &str) {
    assert_eq!(status, expected_status, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        fields.contains(&field),
        "expected an error on {field}, got {fields:?}: {problem}"
    );
    assert!(problem["type"].as_str().unwrap().starts_with("/problems/"));
}

#[tokio::test]
async fn invalid_report_fields_are_named_and_nothing_is_written() {
    TestApp::each(|app| async move {
        let m = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let reports_before = app.count("reports").await;
        let audit_before = app.count("audit_log").await;
        let cases: Vec<(&str, Mutation, StatusCode)> = vec![
            ("cvss_vector", Box::new(|r| r["cvss_vector"] = json!("CVSS:3.1/AV:N/AC:L")), StatusCode::UNPROCESSABLE_ENTITY),
            ("cvss_vector", Box::new(|r| r["cvss_vector"] = json!("CVSS:3.1/AV:Z/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")), StatusCode::UNPROCESSABLE_ENTITY),
            ("cwes[0]", Box::new(|r| r["cwes"] = json!(["CWE-abc"])), StatusCode::BAD_REQUEST),
            ("affected_packages[0].purl", Box::new(|r| r["affected_packages"][0]["purl"] = json!("pkg:npm/log4j-core")), StatusCode::UNPROCESSABLE_ENTITY),
            ("affected_packages[0].purl", Box::new(|r| r["affected_packages"][0]["purl"] = json!("not a purl")), StatusCode::UNPROCESSABLE_ENTITY),
            (
                "affected_packages[0].ranges[0].events",
                Box::new(|r| r["affected_packages"][0]["ranges"][0]["events"] = json!([{"fixed": "2.15.0"}])),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "affected_packages[0].ranges[0].events[0]",
                Box::new(|r| {
                    r["affected_packages"][0] = json!({"ecosystem": "PyPI", "name": "django", "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "not-a-version!"}]}]})
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "affected_packages[0].ranges[0].events[0]",
                Box::new(|r| r["affected_packages"][0]["ranges"][0]["events"][0] = json!({"introduced": "2.0", "fixed": "2.1"})),
                StatusCode::BAD_REQUEST,
            ),
            ("aware_at", Box::new(|r| r["aware_at"] = json!("2030-01-01T00:00:00Z")), StatusCode::UNPROCESSABLE_ENTITY),
            ("aware_at", Box::new(|r| r["aware_at"] = json!("yesterday")), StatusCode::BAD_REQUEST),
            ("aliases[1]", Box::new(|r| r["aliases"] = json!(["CVE-2021-44228", "CVE-21-1"])), StatusCode::UNPROCESSABLE_ENTITY),
            ("tlp", Box::new(|r| r["tlp"] = json!("PURPLE")), StatusCode::BAD_REQUEST),
            ("kind", Box::new(|r| r["kind"] = json!("bug")), StatusCode::BAD_REQUEST),
            ("received_at", Box::new(|r| r["received_at"] = json!("2021-01-01T00:00:00Z")), StatusCode::BAD_REQUEST),
            ("title", Box::new(|r| r["title"] = json!("   ")), StatusCode::UNPROCESSABLE_ENTITY),
            ("title", Box::new(|r| r["title"] = json!("x".repeat(301))), StatusCode::UNPROCESSABLE_ENTITY),
            ("affected_products", Box::new(|r| r["affected_products"] = json!(vec![json!({"name": "p"}); 201])), StatusCode::UNPROCESSABLE_ENTITY),
            ("affected_products[0].name", Box::new(|r| r["affected_products"][0]["name"] = json!(7)), StatusCode::BAD_REQUEST),
        ];
        for (field, mutate, status) in cases {
            let mut body = log4shell_report();
            mutate(&mut body);
            let (s, p) = app.call("POST", "/api/v1/reports?submit=true", Some(&m.token), Some(body)).await;
            assert_field(s, &p, status, field);
        }
        // The client never chooses received_at or the id.
        let mut body = log4shell_report();
        body["id"] = json!("VS-2021-00001");
        let (s, p) = app.call("POST", "/api/v1/reports", Some(&m.token), Some(body)).await;
        assert_field(s, &p, StatusCode::BAD_REQUEST, "id");

        assert_eq!(app.count("reports").await, reports_before, "a refused request wrote a report");
        assert_eq!(app.count("audit_log").await, audit_before, "a refused request wrote an audit entry");
        assert_eq!(app.count("report_counters").await, 0, "a refused request consumed a report number");
    })
    .await;
}

#[tokio::test]
async fn malformed_oversized_and_mistyped_bodies_are_refused() {
    TestApp::each(|app| async move {
        let m = app
            .member("Vendor", OrganizationKind::Provider, &[Role::OrgAdmin])
            .await;
        let send = |body: Body, content_type: &str| {
            Request::builder()
                .method("POST")
                .uri("/api/v1/reports")
                .header("authorization", format!("Bearer {}", m.token))
                .header("content-type", content_type)
                .body(body)
                .unwrap()
        };
        let (s, p) = app
            .send(send(
                Body::from("{\"kind\": \"threat\", \"title\": "),
                "application/json",
            ))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{p}");
        let (s, _) = app
            .send(send(
                Body::from("{\"kind\":\"threat\",\"title\":\"x\"} trailing"),
                "application/json",
            ))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = app
            .send(send(
                Body::from("kind=threat"),
                "application/x-www-form-urlencoded",
            ))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let big = format!(
            "{{\"kind\":\"threat\",\"title\":\"{}\"}}",
            "x".repeat(2 * 1024 * 1024)
        );
        let (s, p) = app.send(send(Body::from(big), "application/json")).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{p}");
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let (s, _) = app.send(send(Body::from(deep), "application/json")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);

        // Other resources name their fields too.
        let (s, p) = app
            .call(
                "POST",
                &format!("/api/v1/organizations/{}/users", m.org.id),
                Some(&m.token),
                Some(json!({"email": "nope", "display_name": "", "password": "short"})),
            )
            .await;
        assert_field(s, &p, StatusCode::UNPROCESSABLE_ENTITY, "email");
        assert_field(s, &p, StatusCode::UNPROCESSABLE_ENTITY, "display_name");
        assert_field(s, &p, StatusCode::UNPROCESSABLE_ENTITY, "password");
        let (s, p) = app
            .call(
                "POST",
                &format!("/api/v1/organizations/{}/products", m.org.id),
                Some(&m.token),
                Some(json!({"name": "P", "versions": ["1.0", ""]})),
            )
            .await;
        assert_field(s, &p, StatusCode::UNPROCESSABLE_ENTITY, "versions[1]");
        let (s, p) = app
            .call(
                "POST",
                "/api/v1/tokens",
                Some(&m.token),
                Some(json!({"name": "t", "expires_in_days": 9999})),
            )
            .await;
        assert_field(s, &p, StatusCode::UNPROCESSABLE_ENTITY, "expires_in_days");
        let (s, p) = app
            .call(
                "POST",
                "/api/v1/tokens",
                Some(&m.token),
                Some(json!({"name": "t", "scopes": ["root"]})),
            )
            .await;
        assert_field(s, &p, StatusCode::BAD_REQUEST, "scopes[0]");
        let (s, p) = app
            .call("GET", "/api/v1/receipts/verify?receipt=%7B%7D", None, None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{p}");
        let (s, _) = app
            .call(
                "GET",
                "/api/v1/reports/VS-2021-00001%27%20OR%201=1",
                Some(&m.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app
            .call("GET", "/api/v1/no-such-route", Some(&m.token), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn duplicate_names_are_conflicts() {
    TestApp::each(|app| async move {
        let admin = app
            .member(
                "Operator",
                OrganizationKind::Coordinator,
                &[Role::PlatformAdmin],
            )
            .await;
        let body = json!({"name": "Same", "kind": "provider", "country": "CN"});
        let (s, _) = app
            .call(
                "POST",
                "/api/v1/organizations",
                Some(&admin.token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, p) = app
            .call(
                "POST",
                "/api/v1/organizations",
                Some(&admin.token),
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{p}");
        assert!(p["detail"].as_str().unwrap().contains("Same"));
        let v = app.store.verify_audit().await.unwrap();
        assert_eq!(v.error, None);
    })
    .await;
}
