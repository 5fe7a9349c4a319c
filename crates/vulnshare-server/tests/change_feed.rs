//! Two nodes with stores of their own over one PostgreSQL database: what one node keeps in
//! memory (token checks, the compiled advisory catalog) follows what the other commits,
//! through the store's change feed, and nothing committed while the feed is down is missed.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{Member, TestApp};
use serde_json::{Value, json};
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;
use vulnshare_store::testing::test_databases;

/// How long another node may take to hear of a commit here before a test fails.
const PATIENCE: Duration = Duration::from_secs(5);

/// Polls `probe` until it returns true; panics with `what` after [`PATIENCE`].
async fn eventually<F, Fut>(what: &str, mut probe: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if probe().await {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{what}: not seen within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn log4shell_query() -> Value {
    json!({"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"}, "version": "2.14.1"})
}

async fn osv_ids(node: &TestApp, token: Option<&str>) -> Vec<String> {
    let (s, r) = node
        .call("POST", "/osv/v1/query", token, Some(log4shell_query()))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r["vulns"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|a| a["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn token_id(node: &TestApp, member: &Member) -> String {
    let (s, me) = node
        .call("GET", "/api/v1/me", Some(&member.token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{me}");
    me["token_id"].as_str().unwrap().to_owned()
}

async fn metrics_text(node: &TestApp) -> String {
    use http_body_util::BodyExt;
    let req = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(vulnshare_server::router(node.state.clone()), req)
        .await
        .unwrap();
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn another_nodes_revocations_suspensions_and_publications_reach_this_node() {
    for db in test_databases().await {
        if db.backend != "postgres" {
            continue;
        }
        let a = TestApp::start(&db).await;
        let b = TestApp::start(&db).await;
        assert!(a.store.changes().is_live() && b.store.changes().is_live());

        let vendor = a
            .member("Vendor", OrganizationKind::Provider, &[Role::Member])
            .await;
        let analyst = a
            .member("Platform", OrganizationKind::Coordinator, &[Role::Analyst])
            .await;
        let regulator = a
            .member("MIIT", OrganizationKind::Regulator, &[Role::Regulator])
            .await;
        let leaver = a
            .member("Leaver", OrganizationKind::Researcher, &[Role::Member])
            .await;

        // Node b checks the tokens once and keeps the checks.
        assert_eq!(osv_ids(&b, None).await, Vec::<String>::new());
        assert_eq!(osv_ids(&b, Some(&vendor.token)).await, Vec::<String>::new());
        assert_eq!(osv_ids(&b, Some(&leaver.token)).await, Vec::<String>::new());

        // Published on a: node b serves it, anonymous and with a token it checked before.
        let (_, clear) = a
            .publish_log4shell(&vendor, &analyst, "CLEAR", "Log4Shell")
            .await;
        let waited = eventually("b serves a's publication", || async {
            osv_ids(&b, None).await == [clear.as_str()]
        })
        .await;
        eprintln!("publication seen on the other node after {waited:?}");
        assert_eq!(osv_ids(&b, Some(&vendor.token)).await, [clear.as_str()]);

        // A token revoked on a stops working on b.
        let leaver_token = token_id(&b, &leaver).await;
        let (s, r) = a
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{leaver_token}"),
                Some(&leaver.token),
                None,
            )
            .await;
        assert!(s.is_success(), "{r}");
        let waited = eventually("b refuses the revoked token", || async {
            let (s, _) = b.call("GET", "/api/v1/me", Some(&leaver.token), None).await;
            s == StatusCode::UNAUTHORIZED
        })
        .await;
        eprintln!("revocation seen on the other node after {waited:?}");

        // A TLP:AMBER advisory of the vendor's case: the vendor sees it on b until the
        // regulator suspends the vendor on a.
        let (_, amber_case) = a
            .publish_log4shell(&vendor, &analyst, "AMBER", "Log4Shell, AMBER")
            .await;
        let _ = amber_case;
        eventually("b serves the AMBER advisory to its participant", || async {
            osv_ids(&b, Some(&vendor.token)).await.len() == 2
        })
        .await;
        let sanctions = format!("/api/v1/organizations/{}/sanctions", vendor.org.id);
        let suspension =
            json!({"kind": "suspension", "months": 6, "reason": "Did not report within 2 days"});
        let (s, d) = a
            .call("POST", &sanctions, Some(&regulator.token), Some(suspension))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        eventually("b withholds AMBER from the suspended member", || async {
            osv_ids(&b, Some(&vendor.token)).await == [clear.as_str()]
        })
        .await;

        // The feed's connection dies: b falls back to the store, a revocation committed in the
        // gap is not missed, and the feed comes back.
        let killed: i64 = sqlx::query_scalar(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %vulnshare_changes_' || current_schema() || '%'",
        )
        .fetch_one(a.store.pool())
        .await
        .unwrap();
        assert!(
            killed >= 2,
            "both nodes' listeners were connected ({killed})"
        );
        let analyst_token = token_id(&b, &analyst).await;
        let (s, r) = a
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{analyst_token}"),
                Some(&analyst.token),
                None,
            )
            .await;
        assert!(s.is_success(), "{r}");
        eventually(
            "b refuses the token revoked while its feed was down",
            || async {
                let (s, _) = b
                    .call("GET", "/api/v1/me", Some(&analyst.token), None)
                    .await;
                s == StatusCode::UNAUTHORIZED
            },
        )
        .await;
        eventually("b's feed is live again", || async {
            b.store.changes().is_live()
        })
        .await;
        let (s, _) = b
            .call("GET", "/api/v1/me", Some(&analyst.token), None)
            .await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "and stays refused once the feed is back"
        );

        drop((a, b));
        db.drop().await;
    }
}

/// The node's own changes need no notification: the next request after a commit sees them.
/// Checks answered from memory on PostgreSQL only, as `/metrics` shows.
#[tokio::test]
async fn a_nodes_own_revocation_takes_effect_at_its_next_request() {
    TestApp::each(|app| async move {
        let member = app
            .member("Vendor", OrganizationKind::Provider, &[Role::Member])
            .await;
        let before = app.state.tokens.answered();
        for _ in 0..3 {
            let (s, _) = app
                .call("GET", "/api/v1/me", Some(&member.token), None)
                .await;
            assert_eq!(s, StatusCode::OK);
        }
        let (memory, store) = app.state.tokens.answered();
        let expected = if app.backend == "postgres" {
            (2, 1)
        } else {
            (0, 3)
        };
        assert_eq!(
            (memory - before.0, store - before.1),
            expected,
            "{}",
            app.backend
        );
        let metrics = metrics_text(&app).await;
        assert!(
            metrics.contains(&format!(
                "vulnshare_token_checks_total{{answered_by=\"memory\"}} {memory}"
            )),
            "{metrics}"
        );
        let live = u8::from(app.backend == "postgres");
        assert!(
            metrics.contains(&format!("vulnshare_change_feed_live {live}")),
            "{metrics}"
        );
        let id = token_id(&app, &member).await;
        let (s, r) = app
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{id}"),
                Some(&member.token),
                None,
            )
            .await;
        assert!(s.is_success(), "{r}");
        let (s, _) = app
            .call("GET", "/api/v1/me", Some(&member.token), None)
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    })
    .await;
}
