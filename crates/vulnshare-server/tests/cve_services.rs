//! The CVE Services-compatible API on each test database: reserving ids within the quota,
//! publishing, updating and rejecting records, paging like the real service, users and API
//! keys, and what another CNA (or nobody) may see and change.

mod common;

use axum::http::StatusCode;
use common::{CveCredentials, TestApp};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/cve-services/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn published() -> Value {
    json!({"cnaContainer": fixture("published-container.json")})
}

fn rejected() -> Value {
    json!({"cnaContainer": fixture("rejected-container.json")})
}

async fn reserve(app: &TestApp, c: &CveCredentials, query: &str) -> (StatusCode, Value) {
    app.call_cve("POST", &format!("/cve-id?{query}"), Some(c), None)
        .await
}

fn ids(v: &Value) -> Vec<String> {
    v["cve_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["cve_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn audit_actions(app: &TestApp, cve_id: &str) -> Vec<String> {
    app.store
        .audit_entries(0, 100, Some(("cve_id", cve_id)))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect()
}

#[tokio::test]
async fn a_cna_reserves_publishes_and_rejects_within_its_quota() {
    TestApp::each(|app| async move {
        let (a, acme) = app.cna("Acme", "acme", 5).await;
        let (_, other) = app.cna("Other", "other", 5).await;
        let (s, _) = app.call_cve("GET", "/health-check", None, None).await;
        assert_eq!(s, StatusCode::OK);

        // Refusals carry CVE Services' codes.
        for (query, status, code) in [
            ("cve_year=2021&short_name=acme", 400, "NO_AMOUNT"),
            ("amount=1&short_name=acme", 400, "NO_YEAR"),
            ("amount=1&cve_year=2021", 400, "NO_ORG_SHORTNAME"),
            ("amount=1&cve_year=2021&short_name=other", 403, "ORG_CANNOT_RESERVE_FOR_OTHER"),
            ("amount=0&cve_year=2021&short_name=acme", 400, "INVALID_AMOUNT"),
            ("amount=2&cve_year=2021&short_name=acme", 400, "NO_BATCH_TYPE"),
            ("amount=2&cve_year=2021&short_name=acme&batch_type=random", 400, "INVALID_BATCH_TYPE"),
            ("amount=6&cve_year=2021&short_name=acme&batch_type=sequential", 403, "EXCEEDED_ID_QUOTA"),
            ("amount=1&cve_year=2023&short_name=acme", 403, "CANNOT_RESERVE_FOR_YEAR"),
            ("amount=lots&cve_year=2021&short_name=acme", 400, "BAD_INPUT"),
        ] {
            let (s, body) = reserve(&app, &acme, query).await;
            assert_eq!((s.as_u16(), body["error"].as_str()), (status, Some(code)), "[{}] {query}: {body}", app.backend);
        }
        assert_eq!(app.count("cve_ids").await, 0);

        let (s, one) = reserve(&app, &acme, "amount=1&cve_year=2021&short_name=acme").await;
        assert_eq!(s, StatusCode::OK, "{one}");
        assert_eq!(one["meta"]["remaining_quota"], 4);
        let first = ids(&one)[0].clone();
        assert_eq!(one["cve_ids"][0]["state"], "RESERVED");
        assert_eq!(one["cve_ids"][0]["requested_by"], json!({"cna": "acme", "user": a.user.email}));
        assert_eq!(audit_actions(&app, &first).await, ["cve_id.reserve"]);

        let (_, seq) = reserve(&app, &acme, "amount=2&cve_year=2021&short_name=acme&batch_type=sequential").await;
        let seq = ids(&seq);
        let number = |id: &str| id.rsplit('-').next().unwrap().parse::<i64>().unwrap();
        assert_eq!(number(&seq[1]), number(&seq[0]) + 1);
        assert_eq!(number(&seq[0]), number(&first) + 1);
        let (s, random) = reserve(&app, &acme, "amount=2&cve_year=2022&short_name=acme&batch_type=nonsequential").await;
        assert_eq!(s, StatusCode::OK, "{random}");
        assert_eq!(random["meta"]["remaining_quota"], 0);
        assert!(ids(&random).iter().all(|id| id.starts_with("CVE-2022-")));
        let (s, over) = reserve(&app, &acme, "amount=1&cve_year=2021&short_name=acme").await;
        assert_eq!((s, over["error"].as_str()), (StatusCode::FORBIDDEN, Some("EXCEEDED_ID_QUOTA")));
        let (_, quota) = app.call_cve("GET", "/org/acme/id_quota", Some(&acme), None).await;
        assert_eq!(quota, json!({"id_quota": 5, "total_reserved": 5, "available": 0}));

        // Listing filters like CVE Services; small results carry no paging fields.
        let (_, all) = app.call_cve("GET", "/cve-id", Some(&acme), None).await;
        assert_eq!(ids(&all).len(), 5);
        assert!(all.get("nextPage").is_none());
        for (query, expected) in [
            ("state=RESERVED", 5),
            ("state=PUBLISHED", 0),
            ("cve_id_year=2022", 2),
            ("time_reserved.gt=2021-12-09T07:00:00", 5),
            ("time_reserved.lt=2021-12-09T07:00:00Z", 0),
            ("time_modified.gt=2021-12-10T00:00:00Z", 0),
        ] {
            let (s, listed) = app.call_cve("GET", &format!("/cve-id?{query}"), Some(&acme), None).await;
            assert_eq!(s, StatusCode::OK, "{query}: {listed}");
            assert_eq!(ids(&listed).len(), expected, "{query}");
        }

        // RESERVED ids are the owner's secret.
        let (s, shown) = app.call_cve("GET", &format!("/cve-id/{first}"), Some(&acme), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(shown["owning_cna"], "acme");
        assert_eq!(shown["requested_by"]["user"], a.user.email.as_str());
        for creds in [Some(&other), None] {
            let (s, body) = app.call_cve("GET", &format!("/cve-id/{first}"), creds, None).await;
            assert_eq!((s, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("CVE_ID_NOT_FOUND")), "{body}");
            let (s, body) = app.call_cve("GET", &format!("/cve/{first}"), creds, None).await;
            assert_eq!((s, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("CVE_RECORD_DNE")));
        }
        let (_, theirs) = app.call_cve("GET", "/cve-id", Some(&other), None).await;
        assert!(ids(&theirs).is_empty());
        let audit_before = app.count("audit_log").await;
        let (s, body) = app.call_cve("POST", &format!("/cve/{first}/cna"), Some(&other), Some(published())).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("CVE_ID_NOT_FOUND")));
        let (s, _) = app.call_cve("PUT", &format!("/cve-id/{first}?state=REJECTED"), Some(&other), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(app.count("audit_log").await, audit_before);

        // Publishing: the container is checked and the error names its path.
        let mut broken = published();
        broken["cnaContainer"]["references"] = json!([]);
        let (s, body) = app.call_cve("POST", &format!("/cve/{first}/cna"), Some(&acme), Some(broken)).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_JSON_SCHEMA")), "{body}");
        assert_eq!(body["details"]["errors"][0]["instancePath"], "references");
        let (s, body) = app.call_cve("POST", &format!("/cve/{first}/cna"), Some(&acme), Some(json!({"affected": []}))).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("BAD_INPUT")), "{body}");
        let (s, body) = app.call_cve("PUT", &format!("/cve/{first}/cna"), Some(&acme), Some(published())).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("CVE_RECORD_DNE")), "{body}");

        let (s, created) = app.call_cve("POST", &format!("/cve/{first}/cna"), Some(&acme), Some(published())).await;
        assert_eq!(s, StatusCode::OK, "{created}");
        assert_eq!(created["message"], format!("{first} record was successfully created."));
        let record = &created["created"];
        assert_eq!(record["cveMetadata"]["state"], "PUBLISHED");
        assert_eq!(record["cveMetadata"]["assignerShortName"], "acme");
        let org_uuid = vulnshare_core::cve::uuid_of(&a.org.id).unwrap();
        assert_eq!(record["cveMetadata"]["assignerOrgId"], org_uuid.as_str());
        assert_eq!(record["containers"]["cna"]["providerMetadata"]["orgId"], org_uuid.as_str());
        assert_eq!(record["containers"]["cna"]["providerMetadata"]["shortName"], "acme");
        let (s, again) = app.call_cve("POST", &format!("/cve/{first}/cna"), Some(&acme), Some(published())).await;
        assert_eq!((s, again["error"].as_str()), (StatusCode::FORBIDDEN, Some("CVE_RECORD_EXISTS")));
        let mut changed = published();
        changed["cnaContainer"]["title"] = json!("Log4Shell");
        let (s, updated) = app.call_cve("PUT", &format!("/cve/{first}/cna"), Some(&acme), Some(changed.clone())).await;
        assert_eq!(s, StatusCode::OK, "{updated}");
        assert_eq!(updated["updated"]["containers"]["cna"]["title"], "Log4Shell");
        assert_eq!(audit_actions(&app, &first).await, ["cve_id.reserve", "cve_record.publish", "cve_record.update"]);

        // Published records are public; only the owner changes them.
        for creds in [Some(&other), None] {
            let (s, body) = app.call_cve("GET", &format!("/cve/{first}"), creds, None).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(body["containers"]["cna"]["title"], "Log4Shell");
            let (s, body) = app.call_cve("GET", &format!("/cve-id/{first}"), creds, None).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(body, json!({"cve_id": first, "cve_year": "2021", "state": "PUBLISHED", "owning_cna": "acme"}));
        }
        let (s, body) = app.call_cve("PUT", &format!("/cve/{first}/cna"), Some(&other), Some(changed)).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("NOT_OWNER_ORG")));

        // Rejecting with a record, and without one.
        let (s, body) = app.call_cve("POST", &format!("/cve/{}/reject", seq[0]), Some(&acme), Some(rejected())).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["created"]["cveMetadata"]["state"], "REJECTED");
        assert!(body["created"]["cveMetadata"]["dateRejected"].is_string());
        let (s, body) = app.call_cve("POST", &format!("/cve/{}/reject", seq[0]), Some(&acme), Some(rejected())).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("CVE_RECORD_EXISTS")));
        let (s, _) = app.call_cve("PUT", &format!("/cve/{}/reject", seq[0]), Some(&acme), Some(rejected())).await;
        assert_eq!(s, StatusCode::OK);
        let (s, body) = app.call_cve("PUT", &format!("/cve-id/{}?state=REJECTED", seq[1]), Some(&acme), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["updated"]["state"], "REJECTED");
        let (s, body) = app.call_cve("PUT", &format!("/cve-id/{first}?state=RESERVED"), Some(&acme), None).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("CANNOT_CHANGE_CVE_ID_WITH_RECORD")));
        let (_, quota) = app.call_cve("GET", "/org/acme/id_quota", Some(&acme), None).await;
        assert_eq!(quota["available"], 3, "published and rejected ids leave the quota");
        let (_, listed) = app.call_cve("GET", "/cve-id?state=REJECTED", Some(&acme), None).await;
        assert_eq!(ids(&listed), [seq[0].clone(), seq[1].clone()]);

        // Credentials must fit together.
        let wrong = [
            CveCredentials { key: other.key.clone(), ..acme.clone() },
            CveCredentials { user: "nobody@example.org".into(), ..acme.clone() },
            CveCredentials { org: "other".into(), ..acme.clone() },
            CveCredentials { key: "vs_0000000000000000000000000000000000000000000000000000000000000000".into(), ..acme.clone() },
        ];
        for creds in &wrong {
            let (s, body) = app.call_cve("GET", "/cve-id", Some(creds), None).await;
            assert_eq!((s, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED")), "{creds:?}");
        }
        let (s, _) = app.call_cve("GET", "/cve-id", None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, body) = app.call_cve("GET", "/no-such-route", Some(&acme), None).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")));
        let verification = app.store.verify_audit().await.unwrap();
        assert_eq!(verification.error, None);
    })
    .await;
}

#[tokio::test]
async fn listing_pages_like_cve_services() {
    TestApp::each(|app| async move {
        let (_, acme) = app.cna("Acme", "acme", 600).await;
        let (s, body) = reserve(
            &app,
            &acme,
            "amount=501&cve_year=2021&short_name=acme&batch_type=sequential",
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, page1) = app.call_cve("GET", "/cve-id", Some(&acme), None).await;
        assert_eq!(ids(&page1).len(), 500);
        assert_eq!(
            (
                &page1["totalCount"],
                &page1["itemsPerPage"],
                &page1["pageCount"],
                &page1["currentPage"],
                &page1["prevPage"],
                &page1["nextPage"]
            ),
            (
                &json!(501),
                &json!(500),
                &json!(2),
                &json!(1),
                &Value::Null,
                &json!(2)
            )
        );
        let (_, page2) = app
            .call_cve("GET", "/cve-id?page=2", Some(&acme), None)
            .await;
        assert_eq!(ids(&page2).len(), 1);
        assert_eq!(
            (&page2["prevPage"], &page2["nextPage"]),
            (&json!(1), &Value::Null)
        );
        assert!(!ids(&page1).contains(&ids(&page2)[0]));
    })
    .await;
}

#[tokio::test]
async fn cna_administrators_manage_users_and_api_keys() {
    TestApp::each(|app| async move {
        let (a, acme) = app.cna("Acme", "acme", 5).await;
        let (_, other) = app.cna("Other", "other", 5).await;
        let (s, org) = app.call_cve("GET", "/org/acme", Some(&acme), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(org["short_name"], "acme");
        assert_eq!(org["name"], "Acme");
        assert_eq!(org["policies"]["id_quota"], 5);
        assert_eq!(org["UUID"], vulnshare_core::cve::uuid_of(&a.org.id).unwrap().as_str());
        for path in ["/org/acme", "/org/acme/id_quota", "/org/acme/users", &format!("/org/acme/user/{}", a.user.email)] {
            let (s, body) = app.call_cve("GET", path, Some(&other), None).await;
            assert_eq!((s, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("NOT_SAME_ORG_OR_SECRETARIAT")), "{path}");
            assert!(!body.to_string().contains(&a.user.email));
        }

        let (s, created) = app
            .call_cve("POST", "/org/acme/user", Some(&acme), Some(json!({"username": "Ada@Acme.example", "name": {"first": "Ada", "last": "Lovelace"}})))
            .await;
        assert_eq!(s, StatusCode::OK, "{created}");
        let ada = &created["created"];
        assert_eq!(ada["username"], "ada@acme.example");
        assert_eq!(ada["name"], json!({"first": "Ada", "last": "Lovelace"}));
        assert_eq!(ada["authority"]["active_roles"], json!([]));
        assert_eq!(ada["active"], true);
        let ada_creds = CveCredentials { org: "acme".into(), user: "ada@acme.example".into(), key: ada["secret"].as_str().unwrap().into() };
        let (s, shown) = app.call_cve("GET", "/org/acme/user/ada@acme.example", Some(&ada_creds), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(shown.get("secret").is_none());
        let (_, users) = app.call_cve("GET", "/org/acme/users", Some(&ada_creds), None).await;
        assert_eq!(users["users"].as_array().unwrap().len(), 2);

        // A user without ADMIN cannot create users or change others, but renames themself.
        let (s, body) = app.call_cve("POST", "/org/acme/user", Some(&ada_creds), Some(json!({"username": "eve@acme.example"}))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        let (s, _) = app.call_cve("PUT", &format!("/org/acme/user/{}?active=false", a.user.email), Some(&ada_creds), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, renamed) = app.call_cve("PUT", "/org/acme/user/ada@acme.example?name.last=King", Some(&ada_creds), None).await;
        assert_eq!(s, StatusCode::OK, "{renamed}");
        assert_eq!(renamed["updated"]["name"], json!({"first": "Ada", "last": "King"}));

        // Resetting a key retires the old one.
        let (s, reset) = app.call_cve("PUT", "/org/acme/user/ada@acme.example/reset_secret", Some(&ada_creds), None).await;
        assert_eq!(s, StatusCode::OK);
        let new_key = reset["API-secret"].as_str().unwrap().to_owned();
        let (s, _) = app.call_cve("GET", "/cve-id", Some(&ada_creds), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let ada_creds = CveCredentials { key: new_key, ..ada_creds };
        let (s, _) = app.call_cve("GET", "/cve-id", Some(&ada_creds), None).await;
        assert_eq!(s, StatusCode::OK);

        // The administrator grants ADMIN, then deactivates the user, whose key stops working.
        let (s, granted) = app.call_cve("PUT", "/org/acme/user/ada@acme.example?active_roles.add=ADMIN", Some(&acme), None).await;
        assert_eq!(s, StatusCode::OK, "{granted}");
        assert_eq!(granted["updated"]["authority"]["active_roles"], json!(["ADMIN"]));
        let (s, off) = app.call_cve("PUT", "/org/acme/user/ada@acme.example?active=false", Some(&acme), None).await;
        assert_eq!(s, StatusCode::OK, "{off}");
        assert_eq!(off["updated"]["active"], false);
        let (s, _) = app.call_cve("GET", "/cve-id", Some(&ada_creds), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, body) = app.call_cve("PUT", "/org/acme/user/nobody@acme.example?active=false", Some(&acme), None).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("USER_DNE")));
        let (s, _) = app.call_cve("PUT", &format!("/org/acme/user/{}/reset_secret", a.user.email), Some(&other), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

/// An id moves to another CNA only at its owner's request and only into quota; the new owner
/// then holds it, the old one no longer does. Record counts are public, per state.
#[tokio::test]
async fn ids_transfer_between_cnas_and_records_are_counted() {
    TestApp::each(|app| async move {
        let (_, acme) = app.cna("Acme", "acme", 5).await;
        let (_, other) = app.cna("Other", "other", 1).await;
        let (s, body) = reserve(
            &app,
            &acme,
            "amount=3&cve_year=2021&short_name=acme&batch_type=sequential",
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let seq = ids(&body);

        // Only the owner may transfer (to anyone else a RESERVED id does not exist); the receiver
        // must exist.
        let (s, body) = app
            .call_cve(
                "PUT",
                &format!("/cve-id/{}?org=other", seq[0]),
                Some(&other),
                None,
            )
            .await;
        assert_eq!(
            (s, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("CVE_ID_NOT_FOUND")),
            "{body}"
        );
        let (s, body) = app
            .call_cve(
                "PUT",
                &format!("/cve-id/{}?org=nobody", seq[0]),
                Some(&acme),
                None,
            )
            .await;
        assert_eq!(
            (s, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("ORG_DNE_PARAM")),
            "{body}"
        );
        let (s, body) = app
            .call_cve(
                "PUT",
                &format!("/cve-id/{}?org=other&state=REJECTED", seq[0]),
                Some(&acme),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

        let (s, body) = app
            .call_cve(
                "PUT",
                &format!("/cve-id/{}?org=other", seq[0]),
                Some(&acme),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["updated"]["owning_cna"], "other", "{body}");
        let (_, theirs) = app.call_cve("GET", "/cve-id", Some(&other), None).await;
        assert_eq!(ids(&theirs), vec![seq[0].clone()]);
        let (_, ours) = app.call_cve("GET", "/cve-id", Some(&acme), None).await;
        assert_eq!(ids(&ours), seq[1..].to_vec());
        let (s, _) = app
            .call_cve(
                "PUT",
                &format!("/cve-id/{}?state=REJECTED", seq[0]),
                Some(&acme),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "the old owner lost it");
        assert!(
            audit_actions(&app, &seq[0])
                .await
                .contains(&"cve_id.transfer".to_owned())
        );

        // Other's quota of 1 is now full: a second RESERVED id cannot move there.
        let (s, body) = app
            .call_cve(
                "PUT",
                &format!("/cve-id/{}?org=other", seq[1]),
                Some(&acme),
                None,
            )
            .await;
        assert_eq!(
            (s, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("NO_QUOTA_REMAINING")),
            "{body}"
        );

        // Counts: public, PUBLISHED and REJECTED only.
        let (s, body) = app
            .call_cve(
                "POST",
                &format!("/cve/{}/cna", seq[1]),
                Some(&acme),
                Some(published()),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = app
            .call_cve(
                "POST",
                &format!("/cve/{}/reject", seq[2]),
                Some(&acme),
                Some(rejected()),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        for (query, want) in [("", 2), ("?state=PUBLISHED", 1), ("?state=rejected", 1)] {
            let (s, body) = app
                .call_cve("GET", &format!("/cve_count{query}"), None, None)
                .await;
            assert_eq!(
                (s, body["totalCount"].as_i64()),
                (StatusCode::OK, Some(want)),
                "{query}: {body}"
            );
        }
        let (s, body) = app
            .call_cve("GET", "/cve_count?state=RESERVED", None, None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    })
    .await;
}
