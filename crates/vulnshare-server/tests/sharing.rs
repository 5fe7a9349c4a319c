//! Coordinated disclosure and sharing: cases, participants, vendor statuses, embargo,
//! publication gates, TLP on advisories, SBOM upload and exposure matching, notifications.

mod common;

use axum::http::StatusCode;
use common::{Member, TestApp, log4shell_report};
use jiff::SignedDuration;
use serde_json::{Value, json};
use vulnshare_core::organization::{Membership, OrganizationKind};
use vulnshare_core::user::Role;

fn cyclonedx(log4j_version: &str) -> Value {
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "components": [
            {"type": "library", "group": "org.apache.logging.log4j", "name": "log4j-core", "version": log4j_version,
             "purl": format!("pkg:maven/org.apache.logging.log4j/log4j-core@{log4j_version}")},
            {"type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0"}
        ]
    })
}

async fn product(app: &TestApp, m: &Member, name: &str) -> String {
    let (s, p) = app
        .call(
            "POST",
            &format!("/api/v1/organizations/{}/products", m.org.id),
            Some(&m.token),
            Some(json!({"name": name, "versions": ["1.0", "2.0"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn log4shell_case_from_report_to_exposure_notifications() {
    TestApp::each(|app| async move {
        let alibaba = app.member("Alibaba Cloud", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
        let regulator = app.member("MIIT", OrganizationKind::Regulator, &[Role::Regulator]).await;
        let exposed = app.member("Exposed Vendor", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let bystander = app.member("Bystander", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let asf = {
            let admin = app.member("Platform", OrganizationKind::Coordinator, &[Role::PlatformAdmin]).await;
            let (_, org) = app
                .call("POST", "/api/v1/organizations", Some(&admin.token), Some(json!({"name": "Apache Software Foundation", "kind": "provider", "country": "US"})))
                .await;
            let (_, researcher) = app
                .call("POST", "/api/v1/organizations", Some(&admin.token), Some(json!({"name": "Overseas Research Lab", "kind": "researcher", "country": "US"})))
                .await;
            (org["id"].as_str().unwrap().to_owned(), researcher["id"].as_str().unwrap().to_owned())
        };

        // The exposed vendor ships log4j-core 2.14.1 in product P 1.0 before anything is published.
        let p = product(&app, &exposed, "Gateway").await;
        let (s, up) = app.call("POST", &format!("/api/v1/products/{p}/sboms?version=1.0"), Some(&exposed.token), Some(cyclonedx("2.14.1"))).await;
        assert_eq!(s, StatusCode::CREATED, "{up}");
        assert_eq!(up["sbom"]["component_count"], 2);
        assert_eq!(up["exposures"].as_array().unwrap().len(), 0, "nothing published yet");

        let (_, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&alibaba.token), Some(log4shell_report())).await;
        let report_id = filed["report"]["id"].as_str().unwrap().to_owned();
        let (s, case) = app
            .call("POST", "/api/v1/cases", Some(&analyst.token), Some(json!({
                "title": "Log4Shell", "report_ids": [report_id], "tlp": "AMBER",
                "embargo": {"ends_at": "2021-12-10T16:00:00Z", "time_zone": "Asia/Shanghai"}})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{case}");
        assert_eq!(case["embargo_local_end"], "2021-12-11T00:00:00+08:00[Asia/Shanghai]");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let path = |rest: &str| format!("/api/v1/cases/{case_id}{rest}");

        // The upstream provider abroad may be told; an overseas researcher may not (Art. 9(7)).
        let (s, c) = app.call("POST", &path("/participants"), Some(&analyst.token), Some(json!({"org_id": asf.0, "role": "upstream"}))).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["silent_vendors"], json!([]), "an upstream provider is not a vendor");
        let (s, p9) = app.call("POST", &path("/participants"), Some(&analyst.token), Some(json!({"org_id": asf.1, "role": "reporter"}))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(p9["detail"].as_str().unwrap().contains("Art. 9(7)"), "{p9}");

        // Directed messages reach only their audience.
        let (s, _) = app
            .call("POST", &path("/messages"), Some(&alibaba.token), Some(json!({"body": "patch attached for ASF only", "audience": {"to": "organizations", "org_ids": [asf.0]}})))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, msgs) = app.call("GET", &path("/messages"), Some(&alibaba.token), None).await;
        assert_eq!(msgs["items"].as_array().unwrap().len(), 1);

        // Public publication before a fix, without remediation, under embargo: refused, with reasons.
        let (s, refused) = app.call("POST", &path("/advisory"), Some(&analyst.token), Some(json!({"tlp": "CLEAR", "summary": "Log4Shell"}))).await;
        assert_eq!(s, StatusCode::CONFLICT, "{refused}");
        let detail = refused["detail"].as_str().unwrap();
        for needle in ["Art. 9(1)", "Art. 9(5)", "embargo ends 2021-12-11T00:00:00+08:00"] {
            assert!(detail.contains(needle), "{needle} missing in {detail}");
        }
        assert_eq!(app.count("advisories").await, 0);

        // Members outside the case see nothing of it.
        let (s, _) = app.call("GET", &path(""), Some(&bystander.token), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // An AMBER advisory for the participants goes out; the exposed vendor is found by its SBOM.
        let (s, published) = app
            .call("POST", &path("/advisory"), Some(&analyst.token), Some(json!({"tlp": "AMBER", "summary": "Log4Shell: RCE in log4j-core", "remediation": "Upgrade to 2.15.0"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{published}");
        assert_eq!(published["new_exposures"], 1);
        let advisory_id = published["advisory"]["id"].as_str().unwrap().to_owned();
        assert_eq!(published["advisory"]["aliases"], json!(["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]));

        let (_, notes) = app.call("GET", "/api/v1/notifications", Some(&exposed.token), None).await;
        let kinds: Vec<&str> = notes["items"].as_array().unwrap().iter().filter_map(|n| n["kind"].as_str()).collect();
        assert!(kinds.contains(&"advisory.exposure"), "{notes}");
        let (_, ex) = app.call("GET", &format!("/api/v1/organizations/{}/exposures", exposed.org.id), Some(&exposed.token), None).await;
        assert_eq!(ex["items"][0]["version"], "2.14.1");
        assert_eq!(ex["items"][0]["advisory_id"], advisory_id);

        // The exposed vendor joined the case and can read the AMBER advisory; others cannot.
        let (s, a) = app.call("GET", &format!("/api/v1/advisories/{advisory_id}"), Some(&exposed.token), None).await;
        assert_eq!(s, StatusCode::OK, "{a}");
        let (s, _) = app.call("GET", &format!("/api/v1/advisories/{advisory_id}"), Some(&bystander.token), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.call("GET", &format!("/api/v1/advisories/{advisory_id}"), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, list) = app.call("GET", "/api/v1/advisories", Some(&bystander.token), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 0);
        let (_, c) = app.call("GET", &path(""), Some(&exposed.token), None).await;
        assert_eq!(c["silent_vendors"], json!([exposed.org.id]), "a vendor that never answered is not 'not affected'");
        // The directed message stays hidden from the newcomer.
        let (_, msgs) = app.call("GET", &path("/messages"), Some(&exposed.token), None).await;
        assert_eq!(msgs["items"].as_array().unwrap().len(), 0);

        // The vendor states its status; only it (or staff) may.
        let vendor_path = path(&format!("/vendors/{}", exposed.org.id));
        let (s, _) = app.call("PUT", &vendor_path, Some(&alibaba.token), Some(json!({"vulnerability": report_id, "status": "not_affected"}))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, c) = app
            .call("PUT", &vendor_path, Some(&exposed.token), Some(json!({"vulnerability": report_id, "status": "affected", "statement": "fix in 1.1", "tracking_id": "GW-77"})))
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["silent_vendors"], json!([]));

        // A later SBOM is matched on upload: 2.15.0 is fixed, 2.14.1 in version 2.0 is not.
        let (_, up) = app.call("POST", &format!("/api/v1/products/{p}/sboms?version=1.1"), Some(&exposed.token), Some(cyclonedx("2.15.0"))).await;
        assert_eq!(up["exposures"].as_array().unwrap().len(), 0);
        let (_, up) = app.call("POST", &format!("/api/v1/products/{p}/sboms?version=2.0"), Some(&exposed.token), Some(cyclonedx("2.14.1"))).await;
        assert_eq!(up["exposures"].as_array().unwrap().len(), 1);

        // A suspended member keeps nothing but TLP:CLEAR.
        {
            let mut tx = app.store.begin_write().await.unwrap();
            let now = app.clock_now();
            tx.set_membership(&exposed.org.id, &Membership::Suspended { from: now, until: now + SignedDuration::from_hours(24 * 180), reason: "test".into(), decision_id: None })
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let (s, _) = app.call("GET", &format!("/api/v1/advisories/{advisory_id}"), Some(&exposed.token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Withdrawal keeps the history.
        let (s, w) = app.call("POST", &format!("/api/v1/advisories/{advisory_id}/withdraw"), Some(&analyst.token), Some(json!({"reason": "superseded"}))).await;
        assert_eq!(s, StatusCode::OK, "{w}");
        let (_, h) = app.call("GET", &format!("/api/v1/advisories/{advisory_id}/history"), Some(&regulator.token), None).await;
        let changes: Vec<&str> = h["items"].as_array().unwrap().iter().map(|v| v["change"].as_str().unwrap()).collect();
        assert_eq!(changes, ["published", "withdrawn"]);
        assert_eq!(app.store.verify_audit().await.unwrap().error, None);
    })
    .await;
}

#[tokio::test]
async fn public_advisories_need_a_fix_and_then_reach_everyone() {
    TestApp::each(|app| async move {
        let vendor = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
        let regulator = app.member("MIIT", OrganizationKind::Regulator, &[Role::Regulator]).await;
        let (_, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&vendor.token), Some(log4shell_report())).await;
        let report_id = filed["report"]["id"].as_str().unwrap().to_owned();
        // A vendor may start coordination of its own report.
        let (s, case) = app.call("POST", "/api/v1/cases", Some(&vendor.token), Some(json!({"title": "own", "report_ids": [report_id]}))).await;
        assert_eq!(s, StatusCode::CREATED, "{case}");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let publish = json!({"tlp": "CLEAR", "summary": "Fixed RCE", "remediation": "Upgrade to 2.15.0"});
        let (s, p) = app.call("POST", &format!("/api/v1/cases/{case_id}/advisory"), Some(&vendor.token), Some(publish.clone())).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("Art. 9(1)"));

        // The regulator may approve early publication; only the regulator.
        let (s, _) = app.call("POST", &format!("/api/v1/cases/{case_id}/early-publication"), Some(&analyst.token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Instead the fix ships: triage, coordinate, fix available.
        let t = format!("/api/v1/reports/{report_id}/transitions");
        for (who, to) in [(&analyst.token, "triaged"), (&analyst.token, "coordinating"), (&vendor.token, "fix_available")] {
            let (s, r) = app.call("POST", &t, Some(who), Some(json!({"to": to}))).await;
            assert_eq!(s, StatusCode::OK, "{to}: {r}");
        }
        // Exploit code never goes public; a patch may.
        let attach = |name: &str, exploit: bool| json!({"name": name, "media_type": "text/plain", "content_base64": "cGF0Y2g=", "exploit_code": exploit});
        let (s, poc) = app.call("POST", &format!("/api/v1/cases/{case_id}/attachments"), Some(&vendor.token), Some(attach("poc.py", true))).await;
        assert_eq!(s, StatusCode::CREATED, "{poc}");
        let (_, patch) = app.call("POST", &format!("/api/v1/cases/{case_id}/attachments"), Some(&vendor.token), Some(attach("fix.patch", false))).await;
        let (s, bad) = app.call("POST", &format!("/api/v1/cases/{case_id}/attachments"), Some(&vendor.token), Some(json!({"name": "../x", "content_base64": "%%%"}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let mut with_poc = publish.clone();
        with_poc["attachments"] = json!([poc["id"], patch["id"]]);
        let (s, p) = app.call("POST", &format!("/api/v1/cases/{case_id}/advisory"), Some(&vendor.token), Some(with_poc)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{p}");
        assert!(p["detail"].as_str().unwrap().contains("Art. 9(4): attachment \"poc.py\""), "{p}");
        let (s, file) = app.call("GET", &format!("/api/v1/cases/{case_id}/attachments/{}", patch["id"].as_str().unwrap()), Some(&vendor.token), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(file, json!("patch"));
        let mut publish = publish;
        publish["attachments"] = json!([patch["id"]]);
        let (s, p) = app.call("POST", &format!("/api/v1/cases/{case_id}/advisory"), Some(&vendor.token), Some(publish)).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["advisory"]["attachments"][0]["name"], "fix.patch");
        let id = p["advisory"]["id"].as_str().unwrap();
        let (s, anon) = app.call("GET", &format!("/api/v1/advisories/{id}"), None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(anon["tlp"], "CLEAR");
        let (_, list) = app.call("GET", "/api/v1/advisories", None, None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        let (s, _) = app.call("POST", &format!("/api/v1/cases/{case_id}/early-publication"), Some(&regulator.token), None).await;
        assert_eq!(s, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn bad_sboms_are_refused_with_the_path_of_the_problem() {
    TestApp::each(|app| async move {
        let vendor = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let p = product(&app, &vendor, "Box").await;
        let url = format!("/api/v1/products/{p}/sboms?version=1.0");
        let (s, e) = app.call("POST", &url, Some(&vendor.token), Some(json!({"hello": "world"}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, e) = app.call("POST", &url, Some(&vendor.token), Some(json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", "name": 7}]}))).await;
        assert!(s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::BAD_REQUEST, "{s} {e}");
        assert!(e["errors"][0]["field"].as_str().unwrap_or("").contains("components"), "{e}");
        let (s, _) = app.call("POST", &format!("/api/v1/products/{p}/sboms"), Some(&vendor.token), Some(cyclonedx("2.14.1"))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "version is required");
        assert_eq!(app.count("sboms").await, 0);
    })
    .await;
}

/// An SBOM uploaded in one format comes back out in either: the tool-made CycloneDX and SPDX
/// fixtures, uploaded, then exported as CycloneDX 1.6 and SPDX 2.3, name the same packages.
#[tokio::test]
async fn uploaded_sboms_export_as_cyclonedx_and_spdx_with_the_same_packages() {
    use vulnshare_formats::sbom::{SbomLimits, parse_sbom};
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vulnshare-formats/tests/fixtures/sbom"
    );
    let packages = |bytes: &[u8]| {
        let mut parts: Vec<_> = parse_sbom(bytes, &SbomLimits::default())
            .unwrap()
            .components
            .iter()
            .filter_map(|c| c.purl_parts())
            .map(|(e, n, v)| (e.as_str(), n, v))
            .collect();
        parts.sort();
        parts
    };
    TestApp::each(|app| async move {
        let vendor = app
            .member("Vendor", OrganizationKind::Provider, &[Role::Member])
            .await;
        let p = product(&app, &vendor, "payments-gateway").await;
        for fixture in ["cyclonedx-1.4.json", "cyclonedx-1.6.json", "spdx-2.3.json"] {
            let original = std::fs::read(format!("{fixtures}/{fixture}")).unwrap();
            let body: Value = serde_json::from_slice(&original).unwrap();
            let (s, up) = app
                .call(
                    "POST",
                    &format!("/api/v1/products/{p}/sboms?version=4.2.0"),
                    Some(&vendor.token),
                    Some(body),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{fixture}: {up}");
            let sbom_id = up["sbom"]["id"].as_str().unwrap();
            let (s, stored) = app
                .call(
                    "GET",
                    &format!("/api/v1/products/{p}/sboms/{sbom_id}"),
                    Some(&vendor.token),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{stored}");
            assert_eq!(
                stored["components"].as_array().unwrap().len() as i64,
                stored["sbom"]["component_count"].as_i64().unwrap()
            );
            for (format, marker) in [("cyclonedx", "bomFormat"), ("spdx", "spdxVersion")] {
                let (s, doc) = app
                    .call(
                        "GET",
                        &format!("/api/v1/products/{p}/sboms/{sbom_id}?format={format}"),
                        Some(&vendor.token),
                        None,
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{doc}");
                assert!(doc.get(marker).is_some(), "{format}: {doc}");
                assert_eq!(
                    packages(doc.to_string().as_bytes()),
                    packages(&original),
                    "{fixture} exported as {format}"
                );
                // scripts/interop.sh checks these with cyclonedx-python-lib and spdx-tools.
                if let Ok(dir) = std::env::var("VULNSHARE_SBOM_OUT") {
                    let stem = fixture.trim_end_matches(".json");
                    std::fs::write(
                        format!("{dir}/{stem}.as-{format}.json"),
                        serde_json::to_vec_pretty(&doc).unwrap(),
                    )
                    .unwrap();
                }
            }
        }
        let (s, e) = app
            .call(
                "GET",
                &format!("/api/v1/products/{p}/sboms/sbom_nope"),
                Some(&vendor.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        let (_, list) = app
            .call(
                "GET",
                &format!("/api/v1/products/{p}/sboms"),
                Some(&vendor.token),
                None,
            )
            .await;
        let sbom_id = list["items"][0]["id"].as_str().unwrap();
        let (s, e) = app
            .call(
                "GET",
                &format!("/api/v1/products/{p}/sboms/{sbom_id}?format=swid"),
                Some(&vendor.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        // The SBOM is reachable only under its own product.
        let other = product(&app, &vendor, "other-box").await;
        let (s, _) = app
            .call(
                "GET",
                &format!("/api/v1/products/{other}/sboms/{sbom_id}"),
                Some(&vendor.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

/// A large SBOM is stored whole and in order (its components go in several multi-row inserts).
#[tokio::test]
async fn a_large_sbom_is_stored_whole_and_in_order() {
    TestApp::each(|app| async move {
        let vendor = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let p = product(&app, &vendor, "Monolith").await;
        let mut components: Vec<Value> = (0..1_234)
            .map(|i| json!({"type": "library", "group": "com.example", "name": format!("lib-{i}"), "version": "1.0.0", "purl": format!("pkg:maven/com.example/lib-{i}@1.0.0")}))
            .collect();
        components.push(cyclonedx("2.14.1")["components"][0].clone());
        let body = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components});
        let (s, up) = app.call("POST", &format!("/api/v1/products/{p}/sboms?version=1.0"), Some(&vendor.token), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{up}");
        assert_eq!(up["sbom"]["component_count"], 1_235);
        let sbom_id = up["sbom"]["id"].as_str().unwrap();
        let (_, stored) = app.call("GET", &format!("/api/v1/products/{p}/sboms/{sbom_id}"), Some(&vendor.token), None).await;
        let names: Vec<&str> = stored["components"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), 1_235);
        assert_eq!(names[0], "com.example:lib-0");
        assert_eq!(names[1_233], "com.example:lib-1233");
        assert_eq!(names[1_234], "org.apache.logging.log4j:log4j-core");
        assert_eq!(app.count("sbom_components").await, 1_235);
    })
    .await;
}
