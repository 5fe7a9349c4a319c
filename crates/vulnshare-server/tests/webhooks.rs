//! Subscriptions and webhook delivery: signed, TLP-respecting, exactly once per subscription and
//! event even with two nodes delivering at the same time, retried and dead-lettered.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use common::{TestApp, log4shell_report};
use jiff::SignedDuration;
use serde_json::{Value, json};
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::subscription::verify_webhook_signature;
use vulnshare_core::user::Role;
use vulnshare_server::AppState;
use vulnshare_server::outbox::deliver_due;

/// One received webhook: (path, delivery id, signature, body).
type Hook = (String, String, String, String);

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Hook>>>);

/// A webhook receiver on 127.0.0.1 that records (path, delivery id, signature, body); paths
/// starting with /fail answer 500.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let r = received.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: String| {
            let r = r.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                r.0.lock().unwrap().push((
                    uri.path().to_owned(),
                    h("x-vulnshare-delivery"),
                    h("x-vulnshare-signature"),
                    body,
                ));
                if uri.path().starts_with("/fail") {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let (s, sub) = app
        .call("POST", "/api/v1/subscriptions", Some(token), Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sub}");
    (
        sub["subscription"]["id"].as_str().unwrap().to_owned(),
        sub["secret"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exposed_member_receives_one_signed_webhook_and_failures_are_retried_then_dead() {
    TestApp::each(|app| async move {
        let (base, received) = receiver().await;
        let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
        let reporter = app.member("Reporter", OrganizationKind::Provider, &[Role::Member]).await;
        let exposed = app.member("Exposed", OrganizationKind::Provider, &[Role::OrgAdmin]).await;
        let bystander = app.member("Bystander", OrganizationKind::Provider, &[Role::OrgAdmin]).await;

        let (_, product) = app
            .call("POST", &format!("/api/v1/organizations/{}/products", exposed.org.id), Some(&exposed.token), Some(json!({"name": "Box"})))
            .await;
        let product_id = product["id"].as_str().unwrap().to_owned();
        let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
            {"type": "library", "name": "log4j-core", "version": "2.14.1", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}]});
        let (s, _) = app.call("POST", &format!("/api/v1/products/{product_id}/sboms?version=1.0"), Some(&exposed.token), Some(bom)).await;
        assert_eq!(s, StatusCode::CREATED);

        let (_, secret) = subscribe(&app, &exposed.token, json!({"channel": "webhook", "url": format!("{base}/exposed"), "filter": {"product_id": product_id}})).await;
        let (failing, _) = subscribe(&app, &exposed.token, json!({"channel": "webhook", "url": format!("{base}/fail"), "filter": {"purl_prefix": "pkg:maven/org.apache.logging.log4j/"}})).await;
        // The bystander subscribes to everything log4j but is no participant of an AMBER case.
        subscribe(&app, &bystander.token, json!({"channel": "webhook", "url": format!("{base}/bystander"), "filter": {"purl_prefix": "pkg:maven/org.apache.logging.log4j/"}})).await;
        let (s, e) = app.call("POST", "/api/v1/subscriptions", Some(&exposed.token), Some(json!({"channel": "webhook", "url": "ftp://x"}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

        let (_, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&reporter.token), Some(log4shell_report())).await;
        let (_, case) = app
            .call("POST", "/api/v1/cases", Some(&analyst.token), Some(json!({"title": "Log4Shell", "report_ids": [filed["report"]["id"]]})))
            .await;
        let case_id = case["case"]["id"].as_str().unwrap();
        let (s, published) = app
            .call("POST", &format!("/api/v1/cases/{case_id}/advisory"), Some(&analyst.token), Some(json!({"tlp": "AMBER", "summary": "Log4Shell"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{published}");
        let advisory_id = published["advisory"]["id"].as_str().unwrap().to_owned();

        // Two nodes deliver at once: each delivery is sent once.
        let other_node = AppState::new(app.store.clone(), app.clock.clone()).await.unwrap();
        let (r1, r2) = tokio::join!(deliver_due(&app.state), deliver_due(&other_node));
        let (r1, r2) = (r1.unwrap(), r2.unwrap());
        assert_eq!(r1.delivered + r2.delivered, 1, "{r1:?} {r2:?}");
        assert_eq!(r1.retried + r2.retried, 1, "{r1:?} {r2:?}");
        let got = received.0.lock().unwrap().clone();
        let to_exposed: Vec<_> = got.iter().filter(|r| r.0 == "/exposed").collect();
        assert_eq!(to_exposed.len(), 1, "{got:?}");
        assert!(got.iter().all(|r| r.0 != "/bystander"), "TLP:AMBER went to a non-participant");
        let (_, _, signature, body) = to_exposed[0];
        let now = app.clock_now().as_second();
        assert!(verify_webhook_signature(secret.as_bytes(), signature, body.as_bytes(), now, 300), "signature {signature}");
        assert!(!verify_webhook_signature(b"wrong", signature, body.as_bytes(), now, 300));
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["event"], "advisory.exposure");
        assert_eq!(payload["advisory"]["id"], advisory_id);

        // Nothing more is due until the backoff passes; then the failing hook is retried until dead.
        assert_eq!(deliver_due(&app.state).await.unwrap().retried, 0);
        for _ in 0..10 {
            app.clock.advance(SignedDuration::from_hours(24));
            deliver_due(&app.state).await.unwrap();
        }
        let (_, deliveries) = app.call("GET", &format!("/api/v1/subscriptions/{failing}/deliveries"), Some(&exposed.token), None).await;
        let d = &deliveries["items"][0];
        assert_eq!(d["state"], "dead", "{deliveries}");
        assert_eq!(d["attempts"], 8);
        assert!(d["last_error"].as_str().unwrap().contains("500"));
        let hits = received.0.lock().unwrap().iter().filter(|r| r.0 == "/fail").count();
        assert_eq!(hits, 8);
        // The successful delivery was never repeated.
        assert_eq!(received.0.lock().unwrap().iter().filter(|r| r.0 == "/exposed").count(), 1);
    })
    .await;
}

#[tokio::test]
async fn public_advisories_reach_every_matching_subscriber_inbox() {
    TestApp::each(|app| async move {
        let vendor = app
            .member("Vendor", OrganizationKind::Provider, &[Role::Member])
            .await;
        let analyst = app
            .member("Platform", OrganizationKind::Coordinator, &[Role::Analyst])
            .await;
        let watcher = app
            .member("Watcher", OrganizationKind::Operator, &[Role::Member])
            .await;
        subscribe(
            &app,
            &watcher.token,
            json!({"channel": "inbox", "filter": {"cwe": "CWE-917", "min_severity": "critical"}}),
        )
        .await;
        app.publish_log4shell(&vendor, &analyst, "CLEAR", "public")
            .await;
        let (_, notes) = app
            .call("GET", "/api/v1/notifications", Some(&watcher.token), None)
            .await;
        let kinds: Vec<&str> = notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["advisory.published"], "{notes}");
    })
    .await;
}
