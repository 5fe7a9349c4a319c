//! Matching a published advisory against the stored SBOMs in batches: every exposure once,
//! every exposed member notified, given its duties and made a case participant once, however
//! the batches fall and whoever runs them.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Member, TestApp};
use serde_json::{Value, json};
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;
use vulnshare_server::service::{self, MATCH_BATCH, MatchingConfig};

/// A CycloneDX SBOM with `count` log4j-core components at `version` (and one other package).
fn sbom(version: &str, count: usize) -> Value {
    let mut components: Vec<Value> = (0..count)
        .map(|i| {
            json!({"type": "library", "group": "org.apache.logging.log4j", "name": "log4j-core",
                   "version": version, "bom-ref": format!("log4j-{i}"),
                   "purl": format!("pkg:maven/org.apache.logging.log4j/log4j-core@{version}")})
        })
        .collect();
    components.push(json!({"type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0"}));
    json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components})
}

async fn upload(app: &TestApp, m: &Member, product: &str, version: &str, count: usize) {
    let (s, p) = app
        .call(
            "POST",
            &format!("/api/v1/organizations/{}/products", m.org.id),
            Some(&m.token),
            Some(json!({"name": product, "versions": ["1.0"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().unwrap();
    let (s, up) = app
        .call(
            "POST",
            &format!("/api/v1/products/{id}/sboms?version=1.0"),
            Some(&m.token),
            Some(sbom(version, count)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
}

struct Members {
    vendor: Member,
    analyst: Member,
    big: Member,
    small: Member,
    safe: Member,
}

/// `big` ships log4j-core 2.14.1 in two products (`per_product` copies each), `small` in one,
/// `safe` ships 2.17.1.
async fn members(app: &TestApp, per_product: usize) -> Members {
    let provider = [Role::OrgAdmin, Role::Member];
    let m = Members {
        vendor: app
            .member(
                "Apache Software Foundation",
                OrganizationKind::Provider,
                &provider,
            )
            .await,
        analyst: app
            .member("Platform", OrganizationKind::Coordinator, &[Role::Analyst])
            .await,
        big: app
            .member("Big Integrator", OrganizationKind::Provider, &provider)
            .await,
        small: app
            .member("Small Vendor", OrganizationKind::Provider, &provider)
            .await,
        safe: app
            .member("Patched Vendor", OrganizationKind::Provider, &provider)
            .await,
    };
    upload(app, &m.big, "Gateway", "2.14.1", per_product).await;
    upload(app, &m.big, "Portal", "2.14.1", per_product).await;
    upload(app, &m.small, "Widget", "2.14.1", 1).await;
    upload(app, &m.safe, "Patched", "2.17.1", per_product).await;
    m
}

/// Everything a finished matching of `advisory` must have left, exactly once.
async fn assert_matched_once(app: &TestApp, m: &Members, advisory: &str, per_product: usize) {
    let cursor = app
        .store
        .matching(advisory)
        .await
        .unwrap()
        .expect("matching recorded");
    assert!(cursor.finished_at.is_some(), "{cursor:?}");
    let exposed = 2 * per_product as i64 + 1;
    assert_eq!(cursor.exposures, exposed);
    assert_eq!(app.count("exposures").await, exposed);
    let all_log4j = 3 * per_product as i64 + 1;
    assert_eq!(cursor.batches, all_log4j / MATCH_BATCH + 1, "{cursor:?}");
    for (who, n) in [
        (&m.big, 2 * per_product as i64),
        (&m.small, 1),
        (&m.safe, 0),
    ] {
        let org = &who.org.id;
        assert_eq!(
            app.count(&format!("exposures WHERE organization_id = '{org}'"))
                .await,
            n
        );
        let notified = app
            .count(&format!(
                "notifications WHERE organization_id = '{org}' AND kind = 'advisory.exposure'"
            ))
            .await;
        assert_eq!(notified, i64::from(n > 0), "one notification for {org}");
        let joined = app
            .count(&format!("case_participants WHERE org_id = '{org}'"))
            .await;
        assert_eq!(joined, i64::from(n > 0), "one participation for {org}");
    }
    // Duties start once per exposed member, however many batches it appeared in.
    let duties = |org: &str| format!("obligations WHERE party_org_id = '{org}'");
    let big = app.count(&duties(&m.big.org.id)).await;
    assert!(big > 0);
    assert_eq!(big, app.count(&duties(&m.small.org.id)).await);
    assert_eq!(app.count(&duties(&m.safe.org.id)).await, 0);
    let finished = app
        .count(&format!(
            "audit_log WHERE action = 'advisory.matched' AND object_id = '{advisory}'"
        ))
        .await;
    assert_eq!(finished, 1);
    let verified = app.store.verify_audit().await.unwrap();
    assert_eq!(verified.error, None);
}

/// Publishes with members whose SBOMs take several batches, answering after one batch with
/// nothing carrying on by itself: as if the publishing node died right after answering.
async fn publish_with_one_batch(app: &mut TestApp) -> (Members, String, usize) {
    app.state.matching = MatchingConfig {
        publish_budget: Duration::ZERO,
        continue_in_background: false,
    };
    let per_product = 2 * MATCH_BATCH as usize;
    let m = members(app, per_product).await;
    let (_, advisory) = app
        .publish_log4shell(&m.vendor, &m.analyst, "AMBER", "Log4Shell")
        .await;
    (m, advisory, per_product)
}

#[tokio::test]
async fn a_publication_matches_every_sbom_in_batches_and_each_member_once() {
    TestApp::each(|app| async move {
        let per_product = MATCH_BATCH as usize + 10;
        let m = members(&app, per_product).await;
        let (_, advisory) = app
            .publish_log4shell(&m.vendor, &m.analyst, "AMBER", "Log4Shell")
            .await;
        // The request matches for 200 ms and this node's background task does the rest; on a
        // loaded machine the rest can outlast the request, so wait for the end.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while app
            .store
            .matching(&advisory)
            .await
            .unwrap()
            .is_some_and(|c| c.finished_at.is_none())
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_matched_once(&app, &m, &advisory, per_product).await;
        // The exposed members read the AMBER advisory; the one that is not exposed does not.
        for (who, status) in [
            (&m.big, StatusCode::OK),
            (&m.small, StatusCode::OK),
            (&m.safe, StatusCode::NOT_FOUND),
        ] {
            let (s, _) = app
                .call(
                    "GET",
                    &format!("/api/v1/advisories/{advisory}"),
                    Some(&who.token),
                    None,
                )
                .await;
            assert_eq!(s, status);
        }
    })
    .await;
}

#[tokio::test]
async fn an_unfinished_matching_is_carried_on_by_concurrent_runners_exactly_once() {
    TestApp::each(|mut app| async move {
        let (m, advisory, per_product) = publish_with_one_batch(&mut app).await;
        let cursor = app.store.matching(&advisory).await.unwrap().unwrap();
        assert_eq!(
            (cursor.batches, cursor.finished_at),
            (1, None),
            "one batch in the request"
        );
        assert_eq!(
            app.store.unfinished_matchings(10).await.unwrap(),
            vec![advisory.clone()]
        );
        // Three runners (sweepers of three nodes, say) at once.
        let budget = Duration::from_secs(60);
        let (a, b, c) = tokio::join!(
            service::continue_matchings(&app.state, budget),
            service::continue_matchings(&app.state, budget),
            service::run_matching(&app.state, &advisory, None),
        );
        let finished = a.unwrap() + b.unwrap() + usize::from(c.unwrap().complete);
        assert!(finished >= 1);
        assert!(app.store.unfinished_matchings(10).await.unwrap().is_empty());
        assert_matched_once(&app, &m, &advisory, per_product).await;
    })
    .await;
}

/// A node's sweeper leaves alone the matching a task on the same node is carrying on (a second
/// runner there would only make other writers wait for two batches instead of one), and takes
/// it up once that task has ended.
#[tokio::test]
async fn a_sweeper_leaves_a_matching_to_its_own_node_s_task() {
    TestApp::each(|mut app| async move {
        let (m, advisory, per_product) = publish_with_one_batch(&mut app).await;
        let budget = Duration::from_secs(60);
        let task = app
            .state
            .matching_tasks
            .start(&advisory)
            .expect("no task yet");
        assert!(
            app.state.matching_tasks.start(&advisory).is_none(),
            "one task per advisory"
        );
        assert_eq!(
            service::continue_matchings(&app.state, budget)
                .await
                .unwrap(),
            0
        );
        let cursor = app.store.matching(&advisory).await.unwrap().unwrap();
        assert_eq!((cursor.batches, cursor.finished_at), (1, None));
        drop(task);
        assert!(!app.state.matching_tasks.contains(&advisory));
        assert_eq!(
            service::continue_matchings(&app.state, budget)
                .await
                .unwrap(),
            1
        );
        assert_matched_once(&app, &m, &advisory, per_product).await;
    })
    .await;
}

#[tokio::test]
async fn a_withdrawn_advisory_stops_exposing_members() {
    TestApp::each(|mut app| async move {
        let (m, advisory, per_product) = publish_with_one_batch(&mut app).await;
        // One batch of components ran (which SBOMs it held depends on their random ids).
        let cursor = app.store.matching(&advisory).await.unwrap().unwrap();
        assert_eq!(cursor.batches, 1);
        let after_first = app.count("exposures").await;
        assert_eq!(after_first, cursor.exposures);
        assert!(after_first <= MATCH_BATCH);
        let (s, w) = app
            .call(
                "POST",
                &format!("/api/v1/advisories/{advisory}/withdraw"),
                Some(&m.analyst.token),
                Some(json!({"reason": "published in error"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{w}");
        let progress = service::run_matching(&app.state, &advisory, None)
            .await
            .unwrap();
        assert_eq!((progress.new_exposures, progress.complete), (0, true));
        assert_eq!(app.count("exposures").await, after_first);
        let cursor = app.store.matching(&advisory).await.unwrap().unwrap();
        assert!(cursor.finished_at.is_some());
        assert_eq!(
            cursor.exposures,
            after_first,
            "of {} exposed components",
            2 * per_product + 1
        );
    })
    .await;
}

/// (exposures, exposure notifications, case participations, duties) of `org`.
async fn exposure_counts(app: &TestApp, org: &str) -> (i64, i64, i64, i64) {
    (
        app.count(&format!("exposures WHERE organization_id = '{org}'"))
            .await,
        app.count(&format!(
            "notifications WHERE organization_id = '{org}' AND kind = 'advisory.exposure'"
        ))
        .await,
        app.count(&format!("case_participants WHERE org_id = '{org}'"))
            .await,
        app.count(&format!("obligations WHERE party_org_id = '{org}'"))
            .await,
    )
}

/// An SBOM uploaded after the publication has the consequences matching at publication would
/// have had: one notification, the member's duties and a vendor's place in the case (so it can
/// read the TLP:AMBER advisory), and a second exposed upload adds none of them again.
#[tokio::test]
async fn an_sbom_uploaded_after_publication_exposes_its_member_as_publication_does() {
    TestApp::each(|app| async move {
        let m = members(&app, 1).await;
        let (_, advisory) = app
            .publish_log4shell(&m.vendor, &m.analyst, "AMBER", "Log4Shell")
            .await;
        let late = app
            .member(
                "Late Vendor",
                OrganizationKind::Provider,
                &[Role::OrgAdmin, Role::Member],
            )
            .await;
        let read = format!("/api/v1/advisories/{advisory}");
        let (s, _) = app.call("GET", &read, Some(&late.token), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "not exposed yet");
        let org = late.org.id.as_str();
        let small_duties = app
            .count(&format!(
                "obligations WHERE party_org_id = '{}'",
                m.small.org.id
            ))
            .await;
        assert!(small_duties > 0);

        upload(&app, &late, "Appliance", "2.14.1", 3).await;
        assert_eq!(exposure_counts(&app, org).await, (3, 1, 1, small_duties));
        let (s, a) = app.call("GET", &read, Some(&late.token), None).await;
        assert_eq!(s, StatusCode::OK, "a participant now: {a}");

        upload(&app, &late, "Router", "2.14.1", 1).await;
        assert_eq!(
            exposure_counts(&app, org).await,
            (4, 1, 1, small_duties),
            "a second exposure notifies and obliges nobody again"
        );
        upload(&app, &late, "Patched", "2.17.1", 1).await;
        assert_eq!(exposure_counts(&app, org).await, (4, 1, 1, small_duties));
        assert_eq!(app.store.verify_audit().await.unwrap().error, None);
    })
    .await;
}

/// An exposed organization that already takes part in the case keeps its place: the reporter
/// exposed by the publication's matching stays the reporter, an upstream provider exposed by a later
/// upload stays upstream, and neither is asked for a vendor status again; both are still
/// notified, and the reporter is given its duties.
#[tokio::test]
async fn an_exposed_participant_keeps_its_role_in_the_case() {
    TestApp::each(|app| async move {
        let m = members(&app, 1).await;
        upload(&app, &m.vendor, "Log4j bundle", "2.14.1", 2).await;
        let (case, _) = app
            .publish_log4shell(&m.vendor, &m.analyst, "AMBER", "Log4Shell")
            .await;
        let role = |org: &str, role: &str| {
            format!("case_participants WHERE case_id = '{case}' AND org_id = '{org}' AND role = '{role}'")
        };
        let asked = |org: &str| format!("vendor_responses WHERE case_id = '{case}' AND org_id = '{org}'");
        let vendor = m.vendor.org.id.as_str();
        let (exposures, notified, joined, duties) = exposure_counts(&app, vendor).await;
        assert_eq!((exposures, notified, joined), (2, 1, 1));
        assert!(duties > 0);
        assert_eq!(app.count(&role(vendor, "reporter")).await, 1);
        assert_eq!(app.count(&asked(vendor)).await, 0);
        // Members exposed by the same matching joined as vendors, asked about the report.
        let small = m.small.org.id.as_str();
        assert_eq!(app.count(&role(small, "vendor")).await, 1);
        assert_eq!(app.count(&asked(small)).await, 1);

        let upstream = m.safe.org.id.as_str();
        let (s, p) = app
            .call(
                "POST",
                &format!("/api/v1/cases/{case}/participants"),
                Some(&m.analyst.token),
                Some(json!({"org_id": upstream, "role": "upstream"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!(app.count(&asked(upstream)).await, 1, "asked when invited");
        upload(&app, &m.safe, "Legacy appliance", "2.14.1", 1).await;
        let (exposures, notified, joined, _) = exposure_counts(&app, upstream).await;
        assert_eq!((exposures, notified, joined), (1, 1, 1));
        assert_eq!(app.count(&role(upstream, "upstream")).await, 1);
        assert_eq!(app.count(&asked(upstream)).await, 1);
        assert_eq!(app.store.verify_audit().await.unwrap().error, None);
    })
    .await;
}
