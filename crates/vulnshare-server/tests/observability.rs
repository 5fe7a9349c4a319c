//! Health, readiness, Prometheus metrics and security headers.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestApp, log4shell_report};
use tower::ServiceExt;
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;

#[tokio::test]
async fn metrics_count_requests_by_route_and_read_platform_gauges() {
    TestApp::each(|app| async move {
        let m = app.member("Vendor", OrganizationKind::Provider, &[Role::Member]).await;
        let router = vulnshare_server::router(app.state.clone());
        for _ in 0..2 {
            let req = Request::post("/api/v1/reports?submit=true")
                .header("authorization", format!("Bearer {}", m.token))
                .header("content-type", "application/json")
                .body(Body::from(log4shell_report().to_string()))
                .unwrap();
            assert_eq!(router.clone().oneshot(req).await.unwrap().status(), StatusCode::CREATED);
        }
        let (s, _) = app.call("GET", "/readyz", None, None).await;
        assert_eq!(s, StatusCode::OK);
        let res = router.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
        let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            text.contains("vulnshare_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/reports\",status=\"2xx\"} 2"),
            "{text}"
        );
        assert!(text.contains("vulnshare_reports{state=\"submitted\"} 2"), "{text}");
        assert!(!text.contains(&m.token), "secrets never appear in metrics");
    })
    .await;
}
