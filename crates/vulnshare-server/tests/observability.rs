//! Health, readiness, Prometheus metrics and security headers.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestApp, log4shell_report};
use tower::ServiceExt;
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;

/// A sample's labels, as (name, value) pairs.
type Labels = Vec<(String, String)>;
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

/// One sample of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// A strict reader of the Prometheus text exposition format 0.0.4: every line must be a HELP,
/// a TYPE (before the family's samples, once) or a sample of a declared family with well-formed
/// labels and value; no series twice; histogram buckets cumulative and ending at +Inf = count.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    let mut series = BTreeSet::new();
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, tail) = (
                parts.next().unwrap(),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            assert!(is_name(name, true), "bad metric name in {line:?}");
            match kind {
                "HELP" => assert!(!tail.is_empty(), "{line:?}"),
                "TYPE" => {
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&tail),
                        "{line:?}"
                    );
                    assert!(
                        types.insert(name.to_owned(), tail.to_owned()).is_none(),
                        "TYPE twice: {line:?}"
                    );
                    assert!(
                        !samples.iter().any(|s: &Sample| s.name.starts_with(name)),
                        "TYPE after samples: {line:?}"
                    );
                }
                _ => panic!("unknown comment {line:?}"),
            }
            continue;
        }
        assert!(!line.is_empty() && !line.starts_with('#'), "{line:?}");
        let (head, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match head.split_once('{') {
            None => (head, Vec::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line:?}"));
                let mut labels = Vec::new();
                let mut chars = body.chars().peekable();
                while chars.peek().is_some() {
                    let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                    assert!(is_name(&key, false), "bad label name {key:?} in {line:?}");
                    assert_eq!(chars.next(), Some('"'), "{line:?}");
                    let mut value = String::new();
                    loop {
                        match chars
                            .next()
                            .unwrap_or_else(|| panic!("unterminated label value: {line:?}"))
                        {
                            '"' => break,
                            '\\' => match chars.next() {
                                Some('\\') => value.push('\\'),
                                Some('"') => value.push('"'),
                                Some('n') => value.push('\n'),
                                other => panic!("bad escape {other:?} in {line:?}"),
                            },
                            c => value.push(c),
                        }
                    }
                    labels.push((key, value));
                    match chars.next() {
                        None => {}
                        Some(',') => {}
                        other => {
                            panic!("expected , or }} after a label, got {other:?} in {line:?}")
                        }
                    }
                }
                (name, labels)
            }
        };
        assert!(is_name(name, true), "bad metric name in {line:?}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(
            types.contains_key(family),
            "sample of an undeclared family: {line:?}"
        );
        assert!(series.insert(head.to_owned()), "series twice: {line:?}");
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    // Histograms: per label set, buckets cumulative in `le` order, +Inf equal to _count.
    for (family, _) in types.iter().filter(|(_, t)| *t == "histogram") {
        let mut groups: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let le = s
                .labels
                .iter()
                .find(|(k, _)| k == "le")
                .expect("bucket without le");
            let le = if le.1 == "+Inf" {
                f64::INFINITY
            } else {
                le.1.parse().unwrap()
            };
            let rest: Vec<_> = s
                .labels
                .iter()
                .filter(|(k, _)| k != "le")
                .cloned()
                .collect();
            groups.entry(rest).or_default().push((le, s.value));
        }
        for (labels, buckets) in groups {
            assert!(
                buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{family} {labels:?}: {buckets:?}"
            );
            assert_eq!(
                buckets.last().unwrap().0,
                f64::INFINITY,
                "{family} {labels:?} has no +Inf bucket"
            );
            let count = samples
                .iter()
                .find(|s| s.name == format!("{family}_count") && s.labels == labels)
                .expect("histogram without _count");
            assert_eq!(
                count.value,
                buckets.last().unwrap().1,
                "{family} {labels:?}"
            );
        }
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(k2, v2)| k2 == k && v2 == v))
        })
        .map(|s| s.value)
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    let res = vulnshare_server::router(app.state.clone())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4");
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    parse_prometheus(std::str::from_utf8(&body).unwrap())
}

#[tokio::test]
async fn metrics_are_valid_prometheus_text_with_sweeper_lag_and_outbox_backlog() {
    TestApp::each(|app| async move {
        let at = |t: &str| -> jiff::Timestamp { t.parse().unwrap() };
        app.clock.set(at("2021-11-24T04:00:00Z"));
        let vendor = app.member("Vendor", OrganizationKind::Provider, &[Role::OrgAdmin, Role::Member]).await;
        let analyst = app.member("Platform", OrganizationKind::Coordinator, &[Role::Analyst]).await;
        let reporter = app.member("Reporter", OrganizationKind::Provider, &[Role::Member]).await;
        let idle = scrape(&app).await;
        assert_eq!(value(&idle, "vulnshare_sweeper_lag_seconds", &[]), Some(0.0));
        assert_eq!(value(&idle, "vulnshare_outbox_backlog", &[]), Some(0.0));
        assert_eq!(value(&idle, "vulnshare_sweeper_last_sweep_timestamp_seconds", &[]), Some(0.0));

        // A membership duty falls due 2021-11-26 24:00 CST (16:00 UTC); nobody sweeps.
        let body = serde_json::json!({"notified_org": "ASF", "aware_at": "2021-11-24T02:00:00Z", "notified_at": "2021-11-24T03:00:00Z", "evidence": "mail", "aliases": ["CVE-2021-44228"]});
        let (s, r) = app.call("POST", "/api/v1/upstream-notifications", Some(&vendor.token), Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        // A webhook subscriber's product is exposed by a new advisory: one delivery waits.
        let (_, product) = app
            .call("POST", &format!("/api/v1/organizations/{}/products", vendor.org.id), Some(&vendor.token), Some(serde_json::json!({"name": "Box"})))
            .await;
        let product_id = product["id"].as_str().unwrap().to_owned();
        let bom = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
            {"type": "library", "name": "log4j-core", "version": "2.14.1", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}]});
        let (s, _) = app.call("POST", &format!("/api/v1/products/{product_id}/sboms?version=1.0"), Some(&vendor.token), Some(bom)).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = app
            .call("POST", "/api/v1/subscriptions", Some(&vendor.token), Some(serde_json::json!({"channel": "webhook", "url": "http://127.0.0.1:9/hook", "filter": {"product_id": product_id}})))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, filed) = app.call("POST", "/api/v1/reports?submit=true", Some(&reporter.token), Some(log4shell_report())).await;
        let (_, case) = app
            .call("POST", "/api/v1/cases", Some(&analyst.token), Some(serde_json::json!({"title": "Log4Shell", "report_ids": [filed["report"]["id"]]})))
            .await;
        let (s, published) = app
            .call("POST", &format!("/api/v1/cases/{}/advisory", case["case"]["id"].as_str().unwrap()), Some(&analyst.token), Some(serde_json::json!({"tlp": "AMBER", "summary": "Log4Shell"})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{published}");

        app.clock.set(at("2021-11-26T17:00:00Z"));
        let behind = scrape(&app).await;
        assert_eq!(value(&behind, "vulnshare_sweeper_lag_seconds", &[]), Some(3600.0), "one hour past the deadline");
        assert_eq!(value(&behind, "vulnshare_obligations", &[("status", "pending")]).map(|v| v >= 1.0), Some(true));
        let backlog = value(&behind, "vulnshare_outbox_backlog", &[]).unwrap();
        assert!(backlog >= 1.0, "{backlog}");
        let age = value(&behind, "vulnshare_outbox_backlog_age_seconds", &[]).unwrap();
        assert!(age >= 2.0 * 86400.0, "the delivery has waited since the 24th: {age}");
        assert_eq!(value(&behind, "vulnshare_outbox_deliveries", &[("state", "pending")]), Some(backlog));

        // A sweep catches up: no lag, the duty overdue, the sweep's time on this node.
        let report = vulnshare_server::sweeper::sweep_once(&app.state, app.clock_now()).await.unwrap();
        assert!(!report.overdue.is_empty());
        app.state.metrics.sweep_finished(app.clock_now());
        let swept = scrape(&app).await;
        assert_eq!(value(&swept, "vulnshare_sweeper_lag_seconds", &[]), Some(0.0));
        assert!(value(&swept, "vulnshare_obligations", &[("status", "overdue")]).unwrap() >= 1.0);
        assert_eq!(
            value(&swept, "vulnshare_sweeper_last_sweep_timestamp_seconds", &[]),
            Some(app.clock_now().as_second() as f64)
        );
        // Latency histograms per route template, never per raw path.
        assert!(value(&swept, "vulnshare_http_request_duration_seconds_count", &[("route", "/api/v1/products/{id}/sboms"), ("method", "POST")]).is_some());
        assert!(!swept.iter().any(|s| s.labels.iter().any(|(_, v)| v.contains(&product_id))));
    })
    .await;
}

#[tokio::test]
async fn readiness_and_health_answer_503_when_the_database_is_unreachable() {
    TestApp::each(|app| async move {
        for path in ["/readyz", "/healthz", "/api/v1/health"] {
            let (s, _) = app.call("GET", path, None, None).await;
            assert_eq!(s, StatusCode::OK, "{path}");
        }
        app.store.close().await;
        for path in ["/readyz", "/healthz", "/api/v1/health"] {
            let (s, problem) = app.call("GET", path, None, None).await;
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{path}: {problem}");
            assert_eq!(problem["type"], "/problems/unavailable");
        }
        // /metrics still answers (the node's own series) so that a scrape shows the outage.
        let res = vulnshare_server::router(app.state.clone())
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_safe_client_one() {
    TestApp::each(|app| async move {
        let router = vulnshare_server::router(app.state.clone());
        let res = router
            .clone()
            .oneshot(
                Request::get("/healthz")
                    .header("x-request-id", "lb-42:a")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.headers()["x-request-id"], "lb-42:a");
        let res = router
            .clone()
            .oneshot(
                Request::get("/nope")
                    .header("x-request-id", "<script>")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 24);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    })
    .await;
}
