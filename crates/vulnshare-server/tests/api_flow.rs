//! End-to-end API flows: organizations, users, sign-in, reports with receipts, transitions,
//! listing, and the audit chain.

mod common;

use axum::http::StatusCode;
use common::{TestApp, log4shell_report};
use jiff::SignedDuration;
use serde_json::json;
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;

#[tokio::test]
async fn admin_creates_member_who_signs_in_files_and_verifies_a_receipt() {
    TestApp::each(|app| async move {
        let admin = app.member("Operator", OrganizationKind::Coordinator, &[Role::PlatformAdmin]).await;
        let (s, org) = app
            .call("POST", "/api/v1/organizations", Some(&admin.token), Some(json!({"name": "Example Cloud", "kind": "provider", "country": "cn"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{org}");
        assert_eq!(org["country"], "CN");
        assert_eq!(org["membership"]["status"], "active");
        let org_id = org["id"].as_str().unwrap();

        let (s, user) = app
            .call(
                "POST",
                &format!("/api/v1/organizations/{org_id}/users"),
                Some(&admin.token),
                Some(json!({"email": "sec@cloud.example", "display_name": "Sec", "password": "a long enough password", "roles": ["org_admin", "member"]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{user}");

        let (s, bad) = app.call("POST", "/api/v1/auth/token", None, Some(json!({"email": "sec@cloud.example", "password": "wrong password!!"}))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{bad}");
        let (s, tok) = app
            .call("POST", "/api/v1/auth/token", None, Some(json!({"email": "SEC@cloud.example", "password": "a long enough password"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{tok}");
        let token = tok["secret"].as_str().unwrap().to_owned();

        let (s, me) = app.call("GET", "/api/v1/me", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(me["organization"]["id"], org_id);

        // A clock with sub-microsecond digits: what is returned must equal what is stored.
        app.clock.set("2021-12-09T08:00:00.123456789Z".parse().unwrap());
        let before = app.clock_now();
        let (s, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&token), Some(log4shell_report())).await;
        assert_eq!(s, StatusCode::CREATED, "{filed}");
        let report = &filed["report"];
        assert_eq!(report["state"], "submitted");
        assert_eq!(report["received_at"], json!(before));
        let receipt = filed["receipt"].clone();
        assert_eq!(receipt["report_id"], report["id"]);
        assert_eq!(receipt["received_at"], report["received_at"]);

        // The receipt verifies with the published key, over GET and POST; a tampered one does not.
        let (_, v) = app.call("POST", "/api/v1/receipts/verify", None, Some(receipt.clone())).await;
        assert_eq!(v["valid"], true, "{v}");
        let q = form_urlencoded::byte_serialize(receipt.to_string().as_bytes()).collect::<String>();
        let (_, v) = app.call("GET", &format!("/api/v1/receipts/verify?receipt={q}"), None, None).await;
        assert_eq!(v["valid"], true, "{v}");
        let mut forged = receipt.clone();
        forged["received_at"] = json!("2021-11-01T00:00:00Z");
        let (_, v) = app.call("POST", "/api/v1/receipts/verify", None, Some(forged)).await;
        assert_eq!(v["valid"], false);

        // The stored report re-issues the same receipt.
        let id = report["id"].as_str().unwrap();
        let (_, again) = app.call("GET", &format!("/api/v1/reports/{id}/receipt"), Some(&token), None).await;
        assert_eq!(again, receipt);

        // The submitted content is frozen.
        let (s, _) = app.call("PUT", &format!("/api/v1/reports/{id}"), Some(&token), Some(log4shell_report())).await;
        assert_eq!(s, StatusCode::CONFLICT);

        let v = app.store.verify_audit().await.unwrap();
        assert_eq!(v.error, None);
        assert!(v.entries >= 6, "{v:?}");
    })
    .await;
}

#[tokio::test]
async fn drafts_are_edited_then_submitted_and_move_through_states_by_role() {
    TestApp::each(|app| async move {
        let vendor = app
            .member("Vendor", OrganizationKind::Provider, &[Role::Member])
            .await;
        let analyst = app
            .member("Operator", OrganizationKind::Coordinator, &[Role::Analyst])
            .await;
        let mut draft = log4shell_report();
        draft.as_object_mut().unwrap().remove("aware_at");
        let (s, filed) = app
            .call(
                "POST",
                "/api/v1/reports",
                Some(&vendor.token),
                Some(draft.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert!(filed.get("receipt").is_none());
        let id = filed["report"]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/reports/{id}/transitions");

        // Staff cannot see drafts; the draft lacks aware_at so it cannot be submitted yet.
        let (s, _) = app
            .call(
                "GET",
                &format!("/api/v1/reports/{id}"),
                Some(&analyst.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, p) = app
            .call(
                "POST",
                &path,
                Some(&vendor.token),
                Some(json!({"to": "submitted"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["errors"][0]["field"], "aware_at");

        draft["aware_at"] = json!("2021-12-01T00:00:00Z");
        let (s, _) = app
            .call(
                "PUT",
                &format!("/api/v1/reports/{id}"),
                Some(&vendor.token),
                Some(draft),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        // The edit wrote the draft's aliases again: it is still found by them.
        let (s, found) = app
            .call(
                "GET",
                "/api/v1/reports?alias=CVE-2021-44228",
                Some(&vendor.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{found}");
        let ids: Vec<&str> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str()]);
        app.clock.advance(SignedDuration::from_mins(5));
        let (s, sub) = app
            .call(
                "POST",
                &path,
                Some(&vendor.token),
                Some(json!({"to": "submitted"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{sub}");
        assert_eq!(sub["report"]["received_at"], json!(app.clock_now()));
        assert!(sub["receipt"]["signature"].is_string());

        // The reporter cannot triage its own report; staff can; illegal edges are conflicts.
        let (s, _) = app
            .call(
                "POST",
                &path,
                Some(&vendor.token),
                Some(json!({"to": "triaged"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .call(
                "POST",
                &path,
                Some(&analyst.token),
                Some(json!({"to": "published"})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = app
            .call(
                "POST",
                &path,
                Some(&analyst.token),
                Some(json!({"to": "triaged"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, p) = app
            .call(
                "POST",
                &path,
                Some(&analyst.token),
                Some(json!({"to": "rejected"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["errors"][0]["field"], "reason");
        let (s, p) = app
            .call(
                "POST",
                &path,
                Some(&analyst.token),
                Some(json!({"to": "duplicate", "duplicate_of": "VS-2021-99999"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["errors"][0]["field"], "duplicate_of");
        let (s, _) = app
            .call(
                "POST",
                &path,
                Some(&analyst.token),
                Some(json!({"to": "coordinating"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app
            .call(
                "POST",
                &path,
                Some(&vendor.token),
                Some(json!({"to": "fix_available"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, r) = app
            .call(
                "POST",
                &path,
                Some(&analyst.token),
                Some(json!({"to": "published"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(r["report"]["state"], "published");

        let (_, audit) = app
            .call(
                "GET",
                &format!("/api/v1/audit?object_type=report&object_id={id}"),
                Some(&analyst.token),
                None,
            )
            .await;
        assert!(
            audit.get("items").is_none(),
            "analysts do not read the audit log"
        );
        let admin = app
            .member(
                "Operator",
                OrganizationKind::Coordinator,
                &[Role::PlatformAdmin],
            )
            .await;
        let (s, audit) = app
            .call(
                "GET",
                &format!("/api/v1/audit?object_type=report&object_id={id}"),
                Some(&admin.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let actions: Vec<_> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            actions,
            [
                "report.create",
                "report.update",
                "report.submit",
                "report.transition",
                "report.transition",
                "report.transition",
                "report.transition"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn listing_filters_and_paginates_within_what_the_caller_may_see() {
    TestApp::each(|app| async move {
        let a = app
            .member("Vendor A", OrganizationKind::Provider, &[Role::Member])
            .await;
        let b = app
            .member("Vendor B", OrganizationKind::Provider, &[Role::Member])
            .await;
        let regulator = app
            .member("Regulator", OrganizationKind::Regulator, &[Role::Regulator])
            .await;
        for i in 0..7 {
            let mut r = log4shell_report();
            r["title"] = json!(format!("Finding number {i}"));
            if i % 2 == 0 {
                r["aliases"] = json!(["CVE-2021-45046"]);
            }
            let (s, _) = app
                .call(
                    "POST",
                    "/api/v1/reports?submit=true",
                    Some(&a.token),
                    Some(r),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED);
        }
        let (s, _) = app
            .call(
                "POST",
                "/api/v1/reports",
                Some(&b.token),
                Some(json!({"kind": "threat", "title": "B draft"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);

        // Pages of 3 walk all seven of A's reports, newest first, without repeats.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/reports?limit=3&cursor={c}"),
                None => "/api/v1/reports?limit=3".to_owned(),
            };
            let (s, page) = app.call("GET", &path, Some(&a.token), None).await;
            assert_eq!(s, StatusCode::OK, "{page}");
            for r in page["items"].as_array().unwrap() {
                seen.push(r["title"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let expected: Vec<String> = (0..7)
            .rev()
            .map(|i| format!("Finding number {i}"))
            .collect();
        assert_eq!(seen, expected);

        let (_, page) = app
            .call(
                "GET",
                "/api/v1/reports?alias=cve-2021-45046",
                Some(&a.token),
                None,
            )
            .await;
        assert_eq!(page["items"].as_array().unwrap().len(), 4);
        let (_, page) = app
            .call("GET", "/api/v1/reports?q=NUMBER%203", Some(&a.token), None)
            .await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let (_, page) = app
            .call(
                "GET",
                "/api/v1/reports?ecosystem=Maven&package=org.apache.logging.log4j:log4j-core",
                Some(&a.token),
                None,
            )
            .await;
        assert_eq!(page["items"].as_array().unwrap().len(), 7);

        // B sees only its own draft; the regulator sees A's seven submissions but not B's draft.
        let (_, page) = app
            .call("GET", "/api/v1/reports", Some(&b.token), None)
            .await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let (_, page) = app
            .call(
                "GET",
                "/api/v1/reports?limit=200",
                Some(&regulator.token),
                None,
            )
            .await;
        assert_eq!(page["items"].as_array().unwrap().len(), 7);

        for bad in [
            "state=open",
            "kind=bug",
            "tlp=purple",
            "limit=0",
            "limit=201",
            "cursor=xyz",
            "received_from=yesterday",
            "alias=CVE-1",
            "ecosystem=Maven",
            "unknown=1",
        ] {
            let (s, p) = app
                .call(
                    "GET",
                    &format!("/api/v1/reports?{bad}"),
                    Some(&a.token),
                    None,
                )
                .await;
            assert!(
                s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::BAD_REQUEST,
                "{bad}: {s} {p}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn tokens_expire_are_revocable_and_scoped() {
    TestApp::each(|app| async move {
        let m = app
            .member("Vendor", OrganizationKind::Provider, &[Role::OrgAdmin])
            .await;
        let (s, t) = app
            .call(
                "POST",
                "/api/v1/tokens",
                Some(&m.token),
                Some(json!({"name": "read only", "scopes": ["read"], "expires_in_days": 1})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        let ro = t["secret"].as_str().unwrap().to_owned();
        let (s, _) = app.call("GET", "/api/v1/reports", Some(&ro), None).await;
        assert_eq!(s, StatusCode::OK);
        let (s, p) = app
            .call(
                "POST",
                "/api/v1/reports",
                Some(&ro),
                Some(log4shell_report()),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
        let (s, _) = app
            .call(
                "POST",
                "/api/v1/tokens",
                Some(&ro),
                Some(json!({"name": "escalate", "scopes": ["admin"]})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The secret is never listed.
        let (_, list) = app
            .call("GET", "/api/v1/tokens", Some(&m.token), None)
            .await;
        assert!(!list.to_string().contains(&ro[3..]));
        assert!(!list.to_string().contains("token_hash"));

        app.clock.advance(SignedDuration::from_hours(25));
        let (s, _) = app.call("GET", "/api/v1/reports", Some(&ro), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);

        let id = t["id"].as_str().unwrap();
        let (s, _) = app
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{id}"),
                Some(&m.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let other = app
            .member("Other", OrganizationKind::Provider, &[Role::OrgAdmin])
            .await;
        let my_token_id = {
            let (_, me) = app.call("GET", "/api/v1/me", Some(&m.token), None).await;
            me["token_id"].as_str().unwrap().to_owned()
        };
        let (s, _) = app
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{my_token_id}"),
                Some(&other.token),
                None,
            )
            .await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "another user cannot revoke my token"
        );
        let (s, _) = app
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{my_token_id}"),
                Some(&m.token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = app.call("GET", "/api/v1/me", Some(&m.token), None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    })
    .await;
}

/// Reports without and with a CVSS score, alternately, on the same pooled connections: a NULL
/// score must not fix the parameter type of the cached statement (it once did on PostgreSQL).
#[tokio::test]
async fn reports_with_and_without_a_score_alternate() {
    TestApp::each(|app| async move {
        let a = app
            .member("Vendor A", OrganizationKind::Provider, &[Role::Member])
            .await;
        for i in 0..8 {
            let threat = json!({"kind": "threat", "title": format!("Scanning {i}"), "tlp": "GREEN",
                "technical_characteristics": "x", "aliases": ["CVE-2021-44228"],
                "aware_at": "2021-12-09T07:00:00Z"});
            let (s, r) = app
                .call(
                    "POST",
                    "/api/v1/reports?submit=true",
                    Some(&a.token),
                    Some(threat),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{r}");
            let mut scored = log4shell_report();
            scored["title"] = format!("Log4Shell {i}").into();
            let (s, r) = app
                .call(
                    "POST",
                    "/api/v1/reports?submit=true",
                    Some(&a.token),
                    Some(scored),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{r}");
            assert_eq!(
                r["report"]["id"].as_str().map(|id| id.starts_with("VS-")),
                Some(true)
            );
        }
    })
    .await;
}
