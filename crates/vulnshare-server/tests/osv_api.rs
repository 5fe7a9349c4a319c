//! The osv.dev-compatible API answers queries from the platform's advisories, under TLP.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;
use serde_json::json;
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;
use vulnshare_server::AppState;

#[tokio::test]
async fn osv_queries_find_published_advisories_and_respect_tlp() {
    TestApp::each(|app| async move {
        let vendor = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
        let publish = |tlp: &'static str| {
            let (app, vendor, analyst) = (&app, &vendor, &analyst);
            async move { app.publish_log4shell(vendor, analyst, tlp, tlp).await.1 }
        };
        let public = publish("CLEAR").await;
        let amber = publish("AMBER").await;

        let q = json!({"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}, "version": "2.14.1"});
        let (s, r) = app.call("POST", "/osv/v1/query", None, Some(q.clone())).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let ids: Vec<&str> = r["vulns"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [public.as_str()], "anonymous callers see TLP:CLEAR only");
        let v = &r["vulns"][0];
        assert_eq!(v["aliases"], json!(["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]));
        assert_eq!(v["affected"][0]["package"]["ecosystem"], "Maven");
        assert_eq!(v["severity"][0]["type"], "CVSS_V3");

        let (_, r) = app.call("POST", "/osv/v1/query", Some(&analyst.token), Some(q.clone())).await;
        assert_eq!(r["vulns"].as_array().unwrap().len(), 2, "staff see the AMBER advisory too");

        let (_, r) = app
            .call("POST", "/osv/v1/query", None, Some(json!({"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}, "version": "2.15.0"})))
            .await;
        assert_eq!(r, json!({}), "a fixed version has no vulnerabilities");

        let (_, r) = app
            .call("POST", "/osv/v1/querybatch", None, Some(json!({"queries": [
                {"package": {"purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta9"}},
                {"package": {"purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.12.2"}},
                {"package": {"ecosystem": "PyPI", "name": "django"}, "version": "1.0"}]})))
            .await;
        assert_eq!(r["results"][0]["vulns"][0], json!({"id": public, "modified": r["results"][0]["vulns"][0]["modified"]}));
        assert_eq!(r["results"][1], json!({}));
        assert_eq!(r["results"][2], json!({}));
        let (_, r) = app
            .call("POST", "/osv/v1/querybatch?full=true", None, Some(json!({"queries": [{"package": {"purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}}]})))
            .await;
        assert!(r["results"][0]["vulns"][0]["affected"].is_array(), "{r}");

        let (s, _) = app.call("GET", &format!("/osv/v1/vulns/{public}"), None, None).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app.call("GET", &format!("/osv/v1/vulns/{amber}"), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        for (body, field) in [
            (json!({"commit": "abc", "package": {"ecosystem": "Maven", "name": "a:b"}}), "commit"),
            (json!({"package": {"ecosystem": "Cobol", "name": "x"}, "version": "1"}), "package.ecosystem"),
            (json!({"package": {"ecosystem": "Maven", "name": "a:b"}}), "version"),
            (json!({"version": "1"}), "package"),
        ] {
            let (s, p) = app.call("POST", "/osv/v1/query", None, Some(body)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(p["errors"][0]["field"], field);
        }
        // CSAF: the public folder lists and serves only the TLP:CLEAR advisory, with digests.
        let (s, meta) = app.call("GET", "/.well-known/csaf/provider-metadata.json", None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(meta["role"], "csaf_provider");
        let (_, index) = app.call("GET", "/.well-known/csaf/white/index.txt", None, None).await;
        let index = index.as_str().unwrap().to_owned();
        let lines: Vec<&str> = index.lines().collect();
        assert_eq!(lines.len(), 1, "{index}");
        assert!(lines[0].ends_with(&format!("{}.json", public.to_lowercase())), "{index}");
        let (s, doc) = app.call("GET", &format!("/.well-known/csaf/white/{}", lines[0]), None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(doc["document"]["category"], "csaf_security_advisory");
        assert_eq!(doc["document"]["tracking"]["id"], public);
        assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "WHITE");
        let (_, digest) = app.call("GET", &format!("/.well-known/csaf/white/{}.sha256", lines[0]), None, None).await;
        let bytes = serde_json::to_vec_pretty(&doc).unwrap();
        use sha2::Digest;
        assert!(digest.as_str().unwrap().starts_with(&hex::encode(sha2::Sha256::digest(&bytes))), "{digest}");
        // The document's detached OpenPGP signature verifies, over exactly the served bytes, with
        // the key the provider metadata names and serves; a changed document does not.
        let keys = meta["public_openpgp_keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{meta}");
        let fingerprint = keys[0]["fingerprint"].as_str().unwrap();
        let key_url = keys[0]["url"].as_str().unwrap();
        assert!(key_url.ends_with(&format!("/.well-known/csaf/openpgp/{fingerprint}.asc")), "{meta}");
        let (s, armored_key) = app.call("GET", &format!("/.well-known/csaf/openpgp/{fingerprint}.asc"), None, None).await;
        assert_eq!(s, StatusCode::OK, "{armored_key}");
        let (public_key, _) = SignedPublicKey::from_string(armored_key.as_str().unwrap()).unwrap();
        assert_eq!(format!("{:X}", public_key.fingerprint()), fingerprint);
        let (s, asc) = app.call("GET", &format!("/.well-known/csaf/white/{}.asc", lines[0]), None, None).await;
        assert_eq!(s, StatusCode::OK, "{asc}");
        let (signature, _) = DetachedSignature::from_string(asc.as_str().unwrap()).unwrap();
        signature.verify(&public_key, &bytes).expect("the signature covers the served document");
        let mut tampered = bytes.clone();
        tampered[bytes.len() / 2] ^= 1;
        assert!(signature.verify(&public_key, &tampered).is_err(), "a changed document fails verification");
        let (s, _) = app.call("GET", &format!("/.well-known/csaf/openpgp/{}.asc", "0".repeat(40)), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let restarted = AppState::new(app.store.clone(), app.clock.clone()).await.unwrap();
        assert_eq!(restarted.openpgp_key.fingerprint(), fingerprint, "the key is kept in the database");
        assert_eq!(restarted.signing_key.to_bytes(), app.state.signing_key.to_bytes(), "the receipt key is unchanged");
        // The ROLIE feed named by the provider metadata lists the same public document only.
        let feed_url = meta["distributions"][0]["rolie"]["feeds"][0]["url"].as_str().unwrap().to_owned();
        let feed_path = feed_url.split_once("/.well-known/").map(|(_, p)| format!("/.well-known/{p}")).unwrap();
        let (s, feed) = app.call("GET", &feed_path, None, None).await;
        assert_eq!(s, StatusCode::OK, "{feed}");
        let entries = feed["feed"]["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{feed}");
        assert_eq!(entries[0]["id"], public);
        assert!(entries[0]["content"]["src"].as_str().unwrap().ends_with(lines[0]), "{feed}");
        assert!(entries[0]["link"].as_array().unwrap().iter().any(|l| l["rel"] == "signature"), "{feed}");
        assert_eq!(feed["feed"]["category"][0]["term"], "csaf");
        let (s, _) = app.call("GET", &format!("/api/v1/advisories/{amber}/csaf"), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, vex) = app.call("GET", &format!("/api/v1/advisories/{amber}/csaf?category=vex"), Some(&analyst.token), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(vex["document"]["category"], "csaf_vex");
        assert_eq!(vex["document"]["distribution"]["tlp"]["label"], "AMBER");
        if let Ok(dir) = std::env::var("VULNSHARE_CSAF_OUT") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(format!("{dir}/served-{}.json", app.backend), &bytes).unwrap();
            std::fs::write(format!("{dir}/served-vex-{}.json", app.backend), serde_json::to_vec_pretty(&vex).unwrap()).unwrap();
        }

        let too_many: Vec<_> = (0..1001).map(|_| json!({"package": {"purl": "pkg:npm/a@1.0.0"}})).collect();
        let (s, p) = app.call("POST", "/osv/v1/querybatch", None, Some(json!({"queries": too_many}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], "queries");
    })
    .await;
}

/// Advisories a caller may not read never hide older ones it may: 2,100 newer AMBER advisories
/// stand before one CLEAR advisory, and an anonymous OSV query still finds the CLEAR one.
#[tokio::test]
async fn many_newer_hidden_advisories_do_not_hide_an_older_readable_one() {
    TestApp::each(|app| async move {
        let vendor = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
        let (_, public) = app.publish_log4shell(&vendor, &analyst, "CLEAR", "t").await;
        let original = app.store.advisory(&public).await.unwrap();
        let mut tx = app.store.begin_write().await.unwrap();
        for i in 0..2100 {
            let mut hidden = original.clone();
            hidden.id = format!("VS-2099-{i:05}");
            hidden.tlp = vulnshare_core::tlp::Tlp::Amber;
            hidden.published_at = original.published_at + jiff::SignedDuration::from_secs(i + 1);
            tx.save_advisory(&hidden, None, "test").await.unwrap();
        }
        tx.commit().await.unwrap();
        let q = json!({"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}, "version": "2.14.1"});
        let (s, r) = app.call("POST", "/osv/v1/query", None, Some(q)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let ids: Vec<&str> = r["vulns"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [public.as_str()]);
        let (_, listed) = app.call("GET", "/api/v1/advisories?limit=5", None, None).await;
        assert_eq!(listed["items"][0]["id"], public.as_str(), "{listed}");
    })
    .await;
}

/// Each node keeps the published advisories compiled in memory: a node that has already
/// answered queries still sees every publication, new version and withdrawal made through
/// another node at its next query, and uploads to it match the new advisory.
#[tokio::test]
async fn a_nodes_compiled_catalog_follows_advisory_changes_made_on_another_node() {
    TestApp::each(|app| async move {
        let vendor = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
        let other_node = TestApp {
            state: AppState::new(app.store.clone(), app.clock.clone()).await.unwrap(),
            clock: app.clock.clone(),
            store: app.store.clone(),
            backend: app.backend,
        };
        let q = json!({"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}, "version": "2.14.1"});
        let ids = |r: serde_json::Value| -> Vec<String> {
            r["vulns"].as_array().map(|v| v.iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect()).unwrap_or_default()
        };
        let (s, r) = app.call("POST", "/osv/v1/query", None, Some(q.clone())).await;
        assert_eq!((s, r.clone()), (StatusCode::OK, json!({})), "nothing is published yet");

        // Published through the other node.
        let (case_id, id) = other_node.publish_log4shell(&vendor, &analyst, "CLEAR", "Log4Shell").await;
        let (_, r) = app.call("POST", "/osv/v1/query", None, Some(q.clone())).await;
        assert_eq!(ids(r), [id.as_str()], "the first node sees the other node's publication");

        // Withdrawn through the other node: gone from the first node's answers too.
        let (s, w) = other_node
            .call("POST", &format!("/api/v1/advisories/{id}/withdraw"), Some(&analyst.token), Some(json!({"reason": "published in error"})))
            .await;
        assert_eq!(s, StatusCode::OK, "{w}");
        let (_, r) = app.call("POST", "/osv/v1/query", None, Some(q.clone())).await;
        assert_eq!(r, json!({}), "a withdrawn advisory is no longer served");
        let (_, r) = other_node.call("POST", "/osv/v1/querybatch", None, Some(json!({"queries": [q.clone()]}))).await;
        assert_eq!(r["results"][0], json!({}), "{r}");

        // A TLP:AMBER advisory: a member outside the case does not see it on the first node
        // until the other node adds its organization to the case.
        let outsider = app.member("Operator", OrganizationKind::Operator, &[Role::Member]).await;
        let (s, p) = other_node
            .call("POST", &format!("/api/v1/cases/{case_id}/advisory"), Some(&analyst.token), Some(json!({"tlp": "AMBER", "summary": "Log4Shell, again"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let amber = p["advisory"]["id"].as_str().unwrap().to_owned();
        let (_, r) = app.call("POST", "/osv/v1/query", Some(&outsider.token), Some(q.clone())).await;
        assert_eq!(r, json!({}), "not a participant yet");
        let (_, r) = app.call("POST", "/osv/v1/query", Some(&vendor.token), Some(q.clone())).await;
        assert_eq!(ids(r), [amber.as_str()], "the reporter takes part");
        let (s, c) = other_node
            .call("POST", &format!("/api/v1/cases/{case_id}/participants"), Some(&analyst.token), Some(json!({"org_id": outsider.org.id, "role": "vendor"})))
            .await;
        assert!(s.is_success(), "{c}");
        let (_, r) = app.call("POST", "/osv/v1/query", Some(&outsider.token), Some(q)).await;
        assert_eq!(ids(r), [amber.as_str()], "a participant now, on every node");
    })
    .await;
}
