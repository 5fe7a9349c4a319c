//! Every route, called by someone from another organization, is refused without revealing
//! whether the object exists; every non-public route refuses a missing or bad token.

mod common;

use axum::http::StatusCode;
use common::{CveCredentials, TestApp, log4shell_report};
use serde_json::{Value, json};
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;
use vulnshare_server::ROUTES;

const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/.well-known/csaf/provider-metadata.json"),
    ("GET", "/.well-known/csaf/white/index.txt"),
    ("GET", "/.well-known/csaf/white/changes.csv"),
    ("GET", "/.well-known/csaf/white/csaf-feed-tlp-white.json"),
    ("GET", "/.well-known/csaf/white/{year}/{file}"),
    ("GET", "/.well-known/csaf/openpgp/{file}"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/platform/public-key"),
    ("GET", "/api/v1/receipts/verify"),
    ("POST", "/api/v1/receipts/verify"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/cve-services/api/health-check"),
    ("GET", "/cve-services/api/cve_count"),
    ("GET", "/taxii2/"),
    ("GET", "/taxii2/api1/"),
];

/// Routes that anonymous callers may use (they see TLP:CLEAR material only).
const OPTIONAL_AUTH: &[(&str, &str)] = &[
    ("GET", "/api/v1/advisories/{id}/csaf"),
    ("POST", "/osv/v1/query"),
    ("POST", "/osv/v1/querybatch"),
    ("GET", "/osv/v1/vulns/{id}"),
    ("GET", "/osv/v1/ecosystems/{id}/all.zip"),
    ("GET", "/api/v1/advisories"),
    ("GET", "/api/v1/advisories/{id}"),
    ("GET", "/api/v1/advisories/{id}/history"),
    ("GET", "/cve-services/api/cve-id/{id}"),
    ("GET", "/cve-services/api/cve/{id}"),
    ("GET", "/taxii2/api1/collections/"),
    ("GET", "/taxii2/api1/collections/{id}/"),
    ("GET", "/taxii2/api1/collections/{id}/objects/"),
    ("GET", "/taxii2/api1/collections/{id}/objects/{object_id}/"),
    (
        "GET",
        "/taxii2/api1/collections/{id}/objects/{object_id}/versions/",
    ),
    ("GET", "/taxii2/api1/collections/{id}/manifest/"),
];

/// The TAXII collection for TLP:AMBER.
const AMBER_COLLECTION: &str = "2a9c4e33-7d21-4f6b-8e0a-5b1c9d3e0003";

fn stix_indicator(uuid: &str) -> Value {
    json!({"type": "indicator", "spec_version": "2.1", "id": format!("indicator--{uuid}"),
           "created": "2021-12-10T08:00:00.000Z", "modified": "2021-12-10T08:00:00.000Z",
           "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix", "valid_from": "2021-12-10T08:00:00Z"})
}

/// What a caller from another organization gets: refused, or allowed but seeing none of A's data.
enum Expect {
    Refused,
    AllowedWithoutLeak,
    /// Refused as invalid input because the named object is not visible (422).
    Invalid,
}

#[tokio::test]
async fn another_organization_is_refused_on_every_route() {
    TestApp::each(|app| async move {
        let a = app.member("Vendor A", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let b = app.member("Vendor B", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let (_, product) = app
            .call("POST", &format!("/api/v1/organizations/{}/products", a.org.id), Some(&a.token), Some(json!({"name": "A Gateway", "model": "G1", "versions": ["1.0"]})))
            .await;
        let (s, sbom) = app
            .call(
                "POST",
                &format!("/api/v1/products/{}/sboms?version=1.0", product["id"].as_str().unwrap()),
                Some(&a.token),
                Some(json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", "name": "secret-lib", "version": "1.0", "purl": "pkg:npm/secret-lib@1.0"}]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{sbom}");
        let a_sbom = sbom["sbom"]["id"].as_str().unwrap().to_owned();
        let (_, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&a.token), Some(log4shell_report())).await;
        let report_id = filed["report"]["id"].as_str().unwrap().to_owned();
        let (_, me) = app.call("GET", "/api/v1/me", Some(&a.token), None).await;
        let a_token_id = me["token_id"].as_str().unwrap().to_owned();
        let secret_marker = "JNDI lookups in Apache Log4j 2";
        // A's report was filed weeks after A knew: the late report left A a notification.
        let (_, a_notes) = app.call("GET", "/api/v1/notifications", Some(&a.token), None).await;
        let a_notification = a_notes["items"][0]["id"].as_str().expect("A has a notification").to_owned();
        // A coordinates its own case and shares an AMBER advisory with its participants.
        let (s, case) = app
            .call("POST", "/api/v1/cases", Some(&a.token), Some(json!({"title": "A's case", "report_ids": [report_id]})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{case}");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let (s, published) = app
            .call("POST", &format!("/api/v1/cases/{case_id}/advisory"), Some(&a.token), Some(json!({"tlp": "AMBER", "summary": "A's advisory"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{published}");
        let advisory_id = published["advisory"]["id"].as_str().unwrap().to_owned();
        let (s, att) = app
            .call("POST", &format!("/api/v1/cases/{case_id}/attachments"), Some(&a.token), Some(json!({"name": "poc.py", "content_base64": "cHJpbnQoMSk=", "exploit_code": true})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{att}");
        let a_attachment = att["id"].as_str().unwrap().to_owned();
        let (s, sub) = app
            .call("POST", "/api/v1/subscriptions", Some(&a.token), Some(json!({"channel": "webhook", "url": "http://127.0.0.1:9/hook"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{sub}");
        let a_subscription = sub["subscription"]["id"].as_str().unwrap().to_owned();
        // Both are CNAs; A holds a RESERVED id (secret) and a PUBLISHED one (public).
        let cve_creds = |m: &common::Member, short_name: &str| CveCredentials { org: short_name.into(), user: m.user.email.clone(), key: m.token.clone() };
        for (m, short_name) in [(&a, "vendor-a"), (&b, "vendor-b")] {
            vulnshare_server::service::cve::set_cna(&app.store, &m.org.id, short_name, 10, app.clock_now()).await.unwrap();
        }
        let (a_cve, b_cve) = (cve_creds(&a, "vendor-a"), cve_creds(&b, "vendor-b"));
        let (s, reserved) = app.call_cve("POST", "/cve-id?amount=2&cve_year=2021&short_name=vendor-a&batch_type=sequential", Some(&a_cve), None).await;
        assert_eq!(s, StatusCode::OK, "{reserved}");
        let a_reserved = reserved["cve_ids"][0]["cve_id"].as_str().unwrap().to_owned();
        let a_published = reserved["cve_ids"][1]["cve_id"].as_str().unwrap().to_owned();
        let container: Value = serde_json::from_str(include_str!("fixtures/cve-services/published-container.json")).unwrap();
        let (s, body) = app.call_cve("POST", &format!("/cve/{a_published}/cna"), Some(&a_cve), Some(json!({"cnaContainer": container}))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let rejection = json!({"cnaContainer": {"providerMetadata": {"orgId": "8254265b-2729-46b6-b9e3-3dfca2d5bfca"}, "rejectedReasons": [{"lang": "en", "value": "spite"}]}});
        // A shares an AMBER indicator over TAXII.
        let a_indicator = "indicator--a0a0a0a0-1111-4222-8333-444444444444".to_owned();
        let (s, taxii_status) = app
            .call("POST", &format!("/taxii2/api1/collections/{AMBER_COLLECTION}/objects/"), Some(&a.token), Some(json!({"objects": [stix_indicator(&a_indicator[11..])]})))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{taxii_status}");
        assert_eq!(taxii_status["success_count"], 1, "{taxii_status}");
        let a_status = taxii_status["id"].as_str().unwrap().to_owned();
        let collection_path = |p: &str| p.replace("{id}", AMBER_COLLECTION).replace("{object_id}", &a_indicator);

        for (method, path) in ROUTES {
            let public = PUBLIC.contains(&(*method, *path));
            let (concrete, expect, body): (String, Expect, Option<Value>) = match (*method, *path) {
                (_, p) if public => (p.to_owned(), Expect::AllowedWithoutLeak, None),
                ("GET", "/api/v1/me") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("GET", "/api/v1/organizations") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("POST", "/api/v1/organizations") => (path.to_string(), Expect::Refused, Some(json!({"name": "Evil", "kind": "provider", "country": "XX"}))),
                ("GET", "/api/v1/organizations/{id}") => (path.replace("{id}", &a.org.id), Expect::AllowedWithoutLeak, None),
                ("GET", "/api/v1/organizations/{id}/users") => (path.replace("{id}", &a.org.id), Expect::Refused, None),
                ("POST", "/api/v1/organizations/{id}/users") => (
                    path.replace("{id}", &a.org.id),
                    Expect::Refused,
                    Some(json!({"email": "mole@b.example", "display_name": "Mole", "password": "a long enough password"})),
                ),
                ("PATCH", "/api/v1/users/{id}") => (path.replace("{id}", &a.user.id), Expect::Refused, Some(json!({"disabled": true}))),
                ("GET", "/api/v1/tokens") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("POST", "/api/v1/tokens") => (path.to_string(), Expect::AllowedWithoutLeak, Some(json!({"name": "mine"}))),
                ("DELETE", "/api/v1/tokens/{id}") => (path.replace("{id}", &a_token_id), Expect::Refused, None),
                ("GET", "/api/v1/organizations/{id}/products") => (path.replace("{id}", &a.org.id), Expect::Refused, None),
                ("POST", "/api/v1/organizations/{id}/products") => (path.replace("{id}", &a.org.id), Expect::Refused, Some(json!({"name": "Planted"}))),
                ("GET", "/api/v1/products/{id}") => (path.replace("{id}", product["id"].as_str().unwrap()), Expect::Refused, None),
                ("PUT", "/api/v1/products/{id}") => (path.replace("{id}", product["id"].as_str().unwrap()), Expect::Refused, Some(json!({"name": "Renamed"}))),
                ("GET", "/api/v1/reports") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("POST", "/api/v1/reports") => (path.to_string(), Expect::AllowedWithoutLeak, Some(json!({"kind": "threat", "title": "B's own"}))),
                ("GET", "/api/v1/reports/{id}") => (path.replace("{id}", &report_id), Expect::Refused, None),
                ("PUT", "/api/v1/reports/{id}") => (path.replace("{id}", &report_id), Expect::Refused, Some(log4shell_report())),
                ("POST", "/api/v1/reports/{id}/transitions") => (path.replace("{id}", &report_id), Expect::Refused, Some(json!({"to": "closed"}))),
                ("GET", "/api/v1/reports/{id}/receipt") => (path.replace("{id}", &report_id), Expect::Refused, None),
                ("GET", "/api/v1/audit") => (path.to_string(), Expect::Refused, None),
                ("GET", "/api/v1/audit/verify") => (path.to_string(), Expect::Refused, None),
                ("GET", "/api/v1/regimes") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("POST", "/api/v1/regimes") => (path.to_string(), Expect::Refused, Some(json!({"id": "EVIL"}))),
                ("GET", "/api/v1/organizations/{id}/regimes") => (path.replace("{id}", &a.org.id), Expect::Refused, None),
                ("PUT", "/api/v1/organizations/{id}/regimes") => (path.replace("{id}", &a.org.id), Expect::Refused, Some(json!({"regimes": []}))),
                ("GET", "/api/v1/organizations/{id}/obligations") => (path.replace("{id}", &a.org.id), Expect::Refused, None),
                ("POST", "/api/v1/upstream-notifications") => (
                    path.to_string(),
                    Expect::Refused,
                    Some(json!({"report_id": report_id, "notified_org": "ASF", "notified_at": "2021-12-09T07:00:00Z", "evidence": "mail"})),
                ),
                ("GET", "/api/v1/compliance") => (path.to_string(), Expect::Refused, None),
                ("GET", "/api/v1/violations") => (path.to_string(), Expect::Refused, None),
                ("GET", "/api/v1/organizations/{id}/sanctions") => (path.replace("{id}", &a.org.id), Expect::Refused, None),
                ("POST", "/api/v1/organizations/{id}/sanctions") => (
                    path.replace("{id}", &a.org.id),
                    Expect::Refused,
                    Some(json!({"kind": "expulsion", "reason": "hostile takeover"})),
                ),
                ("GET", "/api/v1/notifications") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("POST", "/api/v1/notifications/{id}/read") => (path.replace("{id}", &a_notification), Expect::Refused, None),
                ("GET", "/api/v1/cases") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("POST", "/api/v1/cases") => (path.to_string(), Expect::Invalid, Some(json!({"title": "hijack", "report_ids": [report_id]}))),
                ("GET", "/api/v1/cases/{id}") => (path.replace("{id}", &case_id), Expect::Refused, None),
                ("POST", "/api/v1/cases/{id}/participants") => (
                    path.replace("{id}", &case_id),
                    Expect::Refused,
                    Some(json!({"org_id": b.org.id, "role": "vendor"})),
                ),
                ("PUT", "/api/v1/cases/{id}/vendors/{org_id}") => (
                    path.replace("{id}", &case_id).replace("{org_id}", &b.org.id),
                    Expect::Refused,
                    Some(json!({"vulnerability": report_id, "status": "not_affected"})),
                ),
                ("PUT", "/api/v1/cases/{id}/embargo") => (path.replace("{id}", &case_id), Expect::Refused, Some(json!({"embargo": null}))),
                ("POST", "/api/v1/cases/{id}/early-publication") => (path.replace("{id}", &case_id), Expect::Refused, None),
                ("GET", "/api/v1/cases/{id}/messages") => (path.replace("{id}", &case_id), Expect::Refused, None),
                ("POST", "/api/v1/cases/{id}/messages") => (path.replace("{id}", &case_id), Expect::Refused, Some(json!({"body": "hello"}))),
                ("POST", "/api/v1/cases/{id}/advisory") => (path.replace("{id}", &case_id), Expect::Refused, Some(json!({"tlp": "AMBER", "summary": "x"}))),
                ("GET", "/api/v1/cases/{id}/attachments") => (path.replace("{id}", &case_id), Expect::Refused, None),
                ("POST", "/api/v1/cases/{id}/attachments") => (path.replace("{id}", &case_id), Expect::Refused, Some(json!({"name": "x.txt", "content_base64": "aGk="}))),
                ("GET", "/api/v1/cases/{id}/attachments/{attachment_id}") => (
                    path.replace("{id}", &case_id).replace("{attachment_id}", &a_attachment),
                    Expect::Refused,
                    None,
                ),
                ("GET", "/api/v1/advisories") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("GET", "/api/v1/advisories/{id}") => (path.replace("{id}", &advisory_id), Expect::Refused, None),
                ("GET", "/api/v1/advisories/{id}/history") => (path.replace("{id}", &advisory_id), Expect::Refused, None),
                ("POST", "/api/v1/advisories/{id}/withdraw") => (path.replace("{id}", &advisory_id), Expect::Refused, Some(json!({"reason": "spite"}))),
                ("GET", "/api/v1/products/{id}/sboms") => (path.replace("{id}", product["id"].as_str().unwrap()), Expect::Refused, None),
                ("POST", "/api/v1/products/{id}/sboms") => (
                    format!("{}?version=1.0", path.replace("{id}", product["id"].as_str().unwrap())),
                    Expect::Refused,
                    Some(json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []})),
                ),
                ("GET", "/api/v1/products/{id}/sboms/{sbom_id}") => (
                    format!("{}?format=spdx", path.replace("{id}", product["id"].as_str().unwrap()).replace("{sbom_id}", &a_sbom)),
                    Expect::Refused,
                    None,
                ),
                ("GET", "/api/v1/organizations/{id}/exposures") => (path.replace("{id}", &a.org.id), Expect::Refused, None),
                ("POST", "/osv/v1/query") => (
                    path.to_string(),
                    Expect::AllowedWithoutLeak,
                    Some(json!({"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}, "version": "2.14.1"})),
                ),
                ("POST", "/osv/v1/querybatch") => (
                    format!("{path}?full=true"),
                    Expect::AllowedWithoutLeak,
                    Some(json!({"queries": [{"package": {"purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}}]})),
                ),
                ("GET", "/api/v1/advisories/{id}/csaf") => (path.replace("{id}", &advisory_id), Expect::Refused, None),
                ("GET", "/osv/v1/vulns/{id}") => (path.replace("{id}", &advisory_id), Expect::Refused, None),
                ("GET", "/osv/v1/ecosystems/{id}/all.zip") => (path.replace("{id}", "Maven"), Expect::AllowedWithoutLeak, None),
                ("GET", "/api/v1/subscriptions") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("POST", "/api/v1/subscriptions") => (path.to_string(), Expect::AllowedWithoutLeak, Some(json!({"channel": "inbox"}))),
                ("DELETE", "/api/v1/subscriptions/{id}") => (path.replace("{id}", &a_subscription), Expect::Refused, None),
                ("GET", "/api/v1/subscriptions/{id}/deliveries") => (path.replace("{id}", &a_subscription), Expect::Refused, None),
                ("POST", "/cve-services/api/cve-id") => (format!("{path}?amount=1&cve_year=2021&short_name=vendor-a"), Expect::Refused, None),
                ("GET", "/cve-services/api/cve-id") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("GET", "/cve-services/api/cve-id/{id}") => (path.replace("{id}", &a_reserved), Expect::Refused, None),
                ("PUT", "/cve-services/api/cve-id/{id}") => (format!("{}?state=REJECTED", path.replace("{id}", &a_reserved)), Expect::Refused, None),
                ("GET", "/cve-services/api/cve/{id}") => (path.replace("{id}", &a_reserved), Expect::Refused, None),
                ("POST", "/cve-services/api/cve/{id}/cna") => (path.replace("{id}", &a_reserved), Expect::Refused, Some(json!({"cnaContainer": container}))),
                ("PUT", "/cve-services/api/cve/{id}/cna") => (path.replace("{id}", &a_published), Expect::Refused, Some(json!({"cnaContainer": container}))),
                ("POST", "/cve-services/api/cve/{id}/reject") => (path.replace("{id}", &a_reserved), Expect::Refused, Some(rejection.clone())),
                ("PUT", "/cve-services/api/cve/{id}/reject") => (path.replace("{id}", &a_published), Expect::Refused, Some(rejection.clone())),
                ("GET", "/cve-services/api/org/{short_name}") => (path.replace("{short_name}", "vendor-a"), Expect::Refused, None),
                ("GET", "/cve-services/api/org/{short_name}/id_quota") => (path.replace("{short_name}", "vendor-a"), Expect::Refused, None),
                ("GET", "/cve-services/api/org/{short_name}/users") => (path.replace("{short_name}", "vendor-a"), Expect::Refused, None),
                ("POST", "/cve-services/api/org/{short_name}/user") => (path.replace("{short_name}", "vendor-a"), Expect::Refused, Some(json!({"username": "mole@b.example"}))),
                ("GET", "/cve-services/api/org/{short_name}/user/{username}") => (
                    path.replace("{short_name}", "vendor-a").replace("{username}", &a.user.email),
                    Expect::Refused,
                    None,
                ),
                ("PUT", "/cve-services/api/org/{short_name}/user/{username}") => (
                    format!("{}?active=false", path.replace("{short_name}", "vendor-a").replace("{username}", &a.user.email)),
                    Expect::Refused,
                    None,
                ),
                ("PUT", "/cve-services/api/org/{short_name}/user/{username}/reset_secret") => (
                    path.replace("{short_name}", "vendor-a").replace("{username}", &a.user.email),
                    Expect::Refused,
                    None,
                ),
                ("GET", "/taxii2/api1/collections/") => (path.to_string(), Expect::AllowedWithoutLeak, None),
                ("GET", "/taxii2/api1/collections/{id}/") => (collection_path(path), Expect::AllowedWithoutLeak, None),
                ("GET", "/taxii2/api1/collections/{id}/objects/") => (collection_path(path), Expect::AllowedWithoutLeak, None),
                ("POST", "/taxii2/api1/collections/{id}/objects/") => (
                    collection_path(path),
                    Expect::AllowedWithoutLeak,
                    Some(json!({"objects": [stix_indicator("b0b0b0b0-1111-4222-8333-444444444444")]})),
                ),
                ("GET", "/taxii2/api1/collections/{id}/objects/{object_id}/") => (collection_path(path), Expect::Refused, None),
                ("DELETE", "/taxii2/api1/collections/{id}/objects/{object_id}/") => (collection_path(path), Expect::Refused, None),
                ("GET", "/taxii2/api1/collections/{id}/objects/{object_id}/versions/") => (collection_path(path), Expect::Refused, None),
                ("GET", "/taxii2/api1/collections/{id}/manifest/") => (collection_path(path), Expect::AllowedWithoutLeak, None),
                ("GET", "/taxii2/api1/status/{status_id}/" | "/taxii2/api1/status/{status_id}") => {
                    (path.replace("{status_id}", &a_status), Expect::Refused, None)
                }
                other => panic!("route {other:?} has no authorization expectation: add one"),
            };
            // CVE Services routes authenticate with CVE-API-* headers instead of a bearer token.
            let cve_route = path.starts_with("/cve-services/");
            let concrete = match concrete.strip_prefix("/cve-services/api") {
                Some(rest) => rest.to_owned(),
                None => concrete,
            };
            if public {
                continue;
            }
            let audit_before = app.count("audit_log").await;
            let (status, response) = if cve_route {
                app.call_cve(method, &concrete, Some(&b_cve), body.clone()).await
            } else {
                app.call(method, &concrete, Some(&b.token), body.clone()).await
            };
            match expect {
                Expect::Refused => {
                    assert!(
                        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
                        "[{}] {method} {concrete} as another organization: {status} {response}",
                        app.backend
                    );
                    assert_eq!(app.count("audit_log").await, audit_before, "{method} {concrete} changed something");
                    // Objects of another organization are hidden, never merely forbidden.
                    if [a.org.id.as_str(), &report_id, product["id"].as_str().unwrap(), &case_id, &advisory_id, &a_subscription, &a_indicator, &a_status].iter().any(|id| concrete.contains(id)) {
                        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {concrete} reveals existence");
                    }
                }
                Expect::Invalid => {
                    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {concrete}: {status} {response}");
                    assert!(!response.to_string().contains(secret_marker));
                    assert_eq!(app.count("audit_log").await, audit_before, "{method} {concrete} changed something");
                }
                Expect::AllowedWithoutLeak => {
                    assert!(status.is_success(), "{method} {concrete}: {status} {response}");
                    let text = response.to_string();
                    assert!(!text.contains(secret_marker), "{method} {concrete} leaks A's report");
                    assert!(!text.contains(&report_id), "{method} {concrete} leaks A's report id");
                    assert!(!text.contains(&a.user.email), "{method} {concrete} leaks A's users");
                    assert!(!text.contains(&a_reserved), "{method} {concrete} leaks A's RESERVED CVE id");
                    assert!(!text.contains(&a_indicator), "{method} {concrete} leaks A's AMBER indicator");
                    assert!(!text.contains("A's advisory"), "{method} {concrete} leaks A's AMBER advisory");
                }
            }

            // Without a token, or with a malformed or unknown one, every non-public route is 401;
            // routes open to anonymous readers (TLP:CLEAR advisories) show them nothing of A's.
            for token in [None, Some("not-a-token"), Some("vs_0000000000000000000000000000000000000000000000000000000000000000")] {
                let (status, response) = if cve_route {
                    let creds = token.map(|key| CveCredentials { key: key.into(), ..b_cve.clone() });
                    app.call_cve(method, &concrete, creds.as_ref(), body.clone()).await
                } else {
                    app.call(method, &concrete, token, body.clone()).await
                };
                if token.is_none() && OPTIONAL_AUTH.contains(&(*method, *path)) {
                    assert!(status == StatusCode::OK || status == StatusCode::NOT_FOUND, "{method} {concrete} anonymously: {status}");
                    assert!(!response.to_string().contains(&advisory_id), "{method} {concrete} shows A's advisory anonymously");
                    continue;
                }
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {concrete} with token {token:?}");
            }
        }

        // A's objects are untouched.
        let (_, r) = app.call("GET", &format!("/api/v1/reports/{report_id}"), Some(&a.token), None).await;
        assert_eq!(r["report"]["state"], "submitted");
        let (s, _) = app.call("GET", "/api/v1/me", Some(&a.token), None).await;
        assert_eq!(s, StatusCode::OK, "A's token still works");
        let (_, id) = app.call_cve("GET", &format!("/cve-id/{a_reserved}"), Some(&a_cve), None).await;
        assert_eq!(id["state"], "RESERVED", "A's reserved id is untouched");
    })
    .await;
}

#[tokio::test]
async fn members_cannot_escalate_roles_and_disabled_users_lose_access() {
    TestApp::each(|app| async move {
        let admin = app.member("Vendor", OrganizationKind::Provider, &[Role::OrgAdmin]).await;
        let member = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let path = format!("/api/v1/organizations/{}/users", admin.org.id);
        let (s, _) = app
            .call("POST", &path, Some(&member.token), Some(json!({"email": "x@v.example", "display_name": "X", "password": "a long enough password"})))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .call("POST", &path, Some(&admin.token), Some(json!({"email": "y@v.example", "display_name": "Y", "password": "a long enough password", "roles": ["platform_admin"]})))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.call("PATCH", &format!("/api/v1/users/{}", member.user.id), Some(&admin.token), Some(json!({"disabled": true}))).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app.call("GET", "/api/v1/me", Some(&member.token), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _) = app
            .call("POST", "/api/v1/auth/token", None, Some(json!({"email": member.user.email, "password": "correct horse battery"})))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    })
    .await;
}
