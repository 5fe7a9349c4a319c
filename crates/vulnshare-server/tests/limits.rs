//! Rate limits per address and per credential (429 with Retry-After, in each API's error
//! dialect) and body size limits enforced while the body streams in.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use common::TestApp;
use http_body_util::BodyExt;
use tower::ServiceExt;
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;
use vulnshare_server::rate_limit::{Rate, RateLimitConfig};

fn limits(per_address: u32, per_credential: u32) -> RateLimitConfig {
    RateLimitConfig {
        per_address: Rate {
            per_minute: 60,
            burst: per_address,
        },
        per_credential: Rate {
            per_minute: 60,
            burst: per_credential,
        },
        nodes: 1,
    }
}

fn from(peer: &str, request: axum::http::request::Builder) -> Request<Body> {
    let peer: SocketAddr = peer.parse().unwrap();
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

async fn status_and_retry(
    router: &axum::Router,
    request: Request<Body>,
) -> (u16, Option<u64>, String, String) {
    let res = router.clone().oneshot(request).await.unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        retry,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn an_address_over_its_limit_gets_429_problem_json_with_retry_after() {
    TestApp::each(|app| async move {
        let router = vulnshare_server::router(app.state.clone().with_rate_limits(limits(3, 100)));
        for _ in 0..3 {
            let (s, ..) = status_and_retry(
                &router,
                from("192.0.2.7:4000", Request::get("/api/v1/health")),
            )
            .await;
            assert_eq!(s, 200);
        }
        let (s, retry, content_type, body) = status_and_retry(
            &router,
            from("192.0.2.7:4001", Request::get("/api/v1/health")),
        )
        .await;
        assert_eq!(s, 429, "{body}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(retry, Some(1), "one request a second refills the bucket");
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["type"], "/problems/rate-limited");
        assert_eq!(problem["status"], 429);
        assert!(
            problem["detail"].as_str().unwrap().contains("this address"),
            "{problem}"
        );

        // Another address has its own bucket; probes are never limited.
        let (s, ..) = status_and_retry(
            &router,
            from("192.0.2.8:4000", Request::get("/api/v1/health")),
        )
        .await;
        assert_eq!(s, 200);
        for path in ["/healthz", "/readyz", "/metrics"] {
            let (s, ..) =
                status_and_retry(&router, from("192.0.2.7:4002", Request::get(path))).await;
            assert_eq!(s, 200, "{path}");
        }
        // The refusal shows in the metrics.
        let (_, _, _, metrics) =
            status_and_retry(&router, from("192.0.2.9:1", Request::get("/metrics"))).await;
        assert!(
            metrics.contains("vulnshare_rate_limited_requests_total{limit=\"address\"} 1"),
            "{metrics}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_credential_over_its_limit_is_refused_on_every_api_in_its_dialect() {
    TestApp::each(|app| async move {
        let m = app
            .member("Vendor", OrganizationKind::Provider, &[Role::Member])
            .await;
        let other = app
            .member("Other", OrganizationKind::Provider, &[Role::Member])
            .await;
        let router = vulnshare_server::router(app.state.clone().with_rate_limits(limits(1000, 2)));
        let bearer = |token: &str| {
            Request::get("/api/v1/me").header("authorization", format!("Bearer {token}"))
        };
        for _ in 0..2 {
            let (s, ..) =
                status_and_retry(&router, bearer(&m.token).body(Body::empty()).unwrap()).await;
            assert_eq!(s, 200);
        }
        let (s, retry, content_type, body) =
            status_and_retry(&router, bearer(&m.token).body(Body::empty()).unwrap()).await;
        assert_eq!(
            (s, content_type.as_str()),
            (429, "application/problem+json"),
            "{body}"
        );
        assert!(retry.unwrap() >= 1);
        assert!(body.contains("this credential"), "{body}");
        // Without a connection address (no per-address limit applies) another token still works.
        let (s, ..) =
            status_and_retry(&router, bearer(&other.token).body(Body::empty()).unwrap()).await;
        assert_eq!(s, 200);

        // The same secret as a CVE Services key, and made-up Basic credentials on TAXII, count
        // as credentials too; the refusal speaks each API's dialect.
        let cve = || {
            Request::get("/cve-services/api/cve-id")
                .header("CVE-API-ORG", "x")
                .header("CVE-API-USER", "y")
                .header("CVE-API-KEY", "vs_made_up_key")
                .body(Body::empty())
                .unwrap()
        };
        for _ in 0..2 {
            let (s, ..) = status_and_retry(&router, cve()).await;
            assert_eq!(s, 401);
        }
        let (s, retry, content_type, body) = status_and_retry(&router, cve()).await;
        assert_eq!(
            (s, content_type.as_str()),
            (429, "application/json"),
            "{body}"
        );
        assert!(retry.is_some());
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"], "TOO_MANY_REQUESTS", "{error}");

        let taxii = || {
            Request::get("/taxii2/api1/collections/")
                .header(
                    "authorization",
                    "Basic Z3Vlc3NAZXhhbXBsZS5vcmc6dnNfZ3Vlc3M=",
                )
                .header("accept", "application/taxii+json;version=2.1")
                .body(Body::empty())
                .unwrap()
        };
        for _ in 0..2 {
            let (s, ..) = status_and_retry(&router, taxii()).await;
            assert_eq!(s, 401);
        }
        let (s, retry, content_type, body) = status_and_retry(&router, taxii()).await;
        assert_eq!(
            (s, content_type.as_str()),
            (429, "application/taxii+json;version=2.1"),
            "{body}"
        );
        assert!(retry.is_some());
        assert!(body.contains("\"http_status\":\"429\""), "{body}");
    })
    .await;
}

/// A body that counts how many bytes the server pulled from it, and never ends.
fn endless_body(pulled: Arc<AtomicUsize>) -> Body {
    let chunk = Bytes::from(vec![b' '; 64 * 1024]);
    Body::from_stream(futures_util::stream::repeat_with(move || {
        pulled.fetch_add(chunk.len(), Ordering::Relaxed);
        Ok::<_, std::io::Error>(chunk.clone())
    }))
}

#[tokio::test]
async fn bodies_over_each_routes_limit_are_refused_while_streaming() {
    TestApp::each(|app| async move {
        let m = app
            .member(
                "Vendor",
                OrganizationKind::Provider,
                &[Role::OrgAdmin, Role::Member],
            )
            .await;
        let (_, product) = app
            .call(
                "POST",
                &format!("/api/v1/organizations/{}/products", m.org.id),
                Some(&m.token),
                Some(serde_json::json!({"name": "Box"})),
            )
            .await;
        let product = product["id"].as_str().unwrap().to_owned();
        let router = vulnshare_server::router(app.state.clone());
        let taxii = "application/taxii+json;version=2.1";
        let green = "/taxii2/api1/collections/1f5e1e8a-4b7e-4a0f-9c1d-3d7e2b6a0002/objects/";
        for (path, limit, content_type) in [
            (
                "/api/v1/reports".to_owned(),
                vulnshare_server::MAX_BODY_BYTES,
                "application/json",
            ),
            (green.to_owned(), vulnshare_server::MAX_BODY_BYTES, taxii),
            (
                format!("/api/v1/products/{product}/sboms?version=1"),
                vulnshare_server::service::MAX_SBOM_BYTES,
                "application/json",
            ),
        ] {
            let pulled = Arc::new(AtomicUsize::new(0));
            let request = Request::post(&path)
                .header("authorization", format!("Bearer {}", m.token))
                .header("content-type", content_type)
                .header("accept", taxii)
                .body(endless_body(pulled.clone()))
                .unwrap();
            let res = router.clone().oneshot(request).await.unwrap();
            assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
            let expected = if content_type == taxii {
                taxii
            } else {
                "application/problem+json"
            };
            assert_eq!(
                res.headers()["content-type"],
                expected,
                "{path}: the refusal is in the API's dialect"
            );
            let read = pulled.load(Ordering::Relaxed);
            assert!(
                read > limit && read <= limit + 2 * 64 * 1024,
                "{path}: read {read} bytes for a limit of {limit}"
            );
        }
        // A declared length over the limit is refused before any of the body is read.
        let pulled = Arc::new(AtomicUsize::new(0));
        let request = Request::post("/api/v1/reports")
            .header("authorization", format!("Bearer {}", m.token))
            .header("content-type", "application/json")
            .header("content-length", (64 << 20).to_string())
            .body(endless_body(pulled.clone()))
            .unwrap();
        let res = router.clone().oneshot(request).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(pulled.load(Ordering::Relaxed) <= vulnshare_server::MAX_BODY_BYTES + 64 * 1024);
    })
    .await;
}
