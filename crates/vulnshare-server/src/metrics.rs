//! Prometheus metrics at `/metrics`: request counts and latency histograms per route and status
//! class, and gauges read from the database (obligations by status, outbox backlog), so every
//! node reports the same platform-wide numbers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vulnshare_store::Gauge;

use crate::AppState;
use crate::error::AppResult;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// (method, route pattern, status class).
type SeriesKey = (String, String, &'static str);

/// Request metrics kept in memory by this node.
#[derive(Debug, Default, Clone)]
pub struct Metrics(Arc<Mutex<BTreeMap<SeriesKey, Series>>>);

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let class = match status {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let s = map
            .entry((method.to_owned(), route.to_owned(), class))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        out.push_str("# HELP vulnshare_http_request_duration_seconds HTTP request latency by route and status class.\n");
        out.push_str("# TYPE vulnshare_http_request_duration_seconds histogram\n");
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for ((method, route, class), s) in map.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{class}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "vulnshare_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}\n",
                    s.buckets[i]
                ));
            }
            out.push_str(&format!(
                "vulnshare_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
                s.count
            ));
            out.push_str(&format!(
                "vulnshare_http_request_duration_seconds_sum{{{labels}}} {}\n",
                s.sum
            ));
            out.push_str(&format!(
                "vulnshare_http_request_duration_seconds_count{{{labels}}} {}\n",
                s.count
            ));
        }
    }
}

/// Middleware recording each request under its route pattern (never the raw path, whose ids
/// would explode the label space).
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

async fn counts(state: &AppState, gauge: Gauge) -> Vec<(String, i64)> {
    state.store.gauge(gauge).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "metrics query failed");
        Vec::new()
    })
}

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    state.metrics.render(&mut out);
    out.push_str(
        "# HELP vulnshare_obligations Obligations by status.\n# TYPE vulnshare_obligations gauge\n",
    );
    for (status, n) in counts(&state, Gauge::Obligations).await {
        out.push_str(&format!(
            "vulnshare_obligations{{status=\"{status}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP vulnshare_outbox_deliveries Outbox deliveries by state (pending is the backlog).\n# TYPE vulnshare_outbox_deliveries gauge\n");
    for (s, n) in counts(&state, Gauge::Outbox).await {
        out.push_str(&format!(
            "vulnshare_outbox_deliveries{{state=\"{s}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP vulnshare_reports Reports by state.\n# TYPE vulnshare_reports gauge\n");
    for (s, n) in counts(&state, Gauge::Reports).await {
        out.push_str(&format!("vulnshare_reports{{state=\"{s}\"}} {n}\n"));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

/// `GET /readyz`: the database answers and the audit head is readable.
pub(crate) async fn ready(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    state.store.ready().await?;
    Ok(axum::Json(serde_json::json!({"status": "ready"})))
}
