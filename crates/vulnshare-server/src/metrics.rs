//! Prometheus metrics at `/metrics`: request counts and latency histograms per route and status
//! class, requests refused by the rate limits, when this node's sweeper last swept, and gauges
//! read from the database (obligations by status, outbox backlog, sweeper lag), so every node
//! reports the same platform-wide numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use vulnshare_store::Gauge;

use crate::AppState;
use crate::error::{AppError, AppResult};

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
pub struct Metrics {
    requests: Arc<Mutex<BTreeMap<SeriesKey, Series>>>,
    /// Microseconds since the epoch of this node's last completed sweep (0: none yet).
    last_sweep: Arc<AtomicI64>,
}

impl Metrics {
    /// Records that this node's deadline sweeper completed a sweep at `at`.
    pub fn sweep_finished(&self, at: jiff::Timestamp) {
        self.last_sweep
            .store(at.as_microsecond(), Ordering::Relaxed);
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let class = match status {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
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
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
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

/// Seconds from `from` to `to`, never negative.
fn seconds_between(from: Option<jiff::Timestamp>, to: jiff::Timestamp) -> f64 {
    from.map_or(0.0, |f| {
        (to.as_microsecond() - f.as_microsecond()).max(0) as f64 / 1e6
    })
}

/// A label value with `\`, `"` and newlines escaped as the text format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    state.metrics.render(&mut out);
    let now = state.clock.now();
    for (gauge, name, key, help) in [
        (
            Gauge::Obligations,
            "vulnshare_obligations",
            "status",
            "Obligations by status.",
        ),
        (
            Gauge::Outbox,
            "vulnshare_outbox_deliveries",
            "state",
            "Outbox deliveries by state (pending includes those waiting to be retried).",
        ),
        (
            Gauge::Reports,
            "vulnshare_reports",
            "state",
            "Reports by state.",
        ),
    ] {
        family(&mut out, name, "gauge", help);
        for (value, n) in counts(&state, gauge).await {
            let _ = writeln!(out, "{name}{{{key}=\"{}\"}} {n}", label(&value));
        }
    }
    match state.store.backlog(now).await {
        Ok(backlog) => {
            family(
                &mut out,
                "vulnshare_outbox_backlog",
                "gauge",
                "Outbox deliveries due to be sent now and not sent yet.",
            );
            let _ = writeln!(out, "vulnshare_outbox_backlog {}", backlog.outbox_due);
            family(
                &mut out,
                "vulnshare_outbox_backlog_age_seconds",
                "gauge",
                "How long the oldest due delivery has waited (0 when none).",
            );
            let _ = writeln!(
                out,
                "vulnshare_outbox_backlog_age_seconds {}",
                seconds_between(backlog.outbox_oldest_due_at, now)
            );
            family(
                &mut out,
                "vulnshare_sweeper_lag_seconds",
                "gauge",
                "How long past its deadline the oldest obligation still waits to be marked overdue (0 when none).",
            );
            let _ = writeln!(
                out,
                "vulnshare_sweeper_lag_seconds {}",
                seconds_between(backlog.oldest_unswept_due_at, now)
            );
        }
        Err(e) => tracing::warn!(error = %e, "metrics query failed"),
    }
    family(
        &mut out,
        "vulnshare_sweeper_last_sweep_timestamp_seconds",
        "gauge",
        "When this node's deadline sweeper last completed a sweep (0: not yet).",
    );
    let _ = writeln!(
        out,
        "vulnshare_sweeper_last_sweep_timestamp_seconds {}",
        state.metrics.last_sweep.load(Ordering::Relaxed) as f64 / 1e6
    );
    let (by_address, by_credential) = state.rate_limits.refused();
    family(
        &mut out,
        "vulnshare_rate_limited_requests_total",
        "counter",
        "Requests this node refused with 429, by the limit that refused them.",
    );
    let _ = writeln!(
        out,
        "vulnshare_rate_limited_requests_total{{limit=\"address\"}} {by_address}\nvulnshare_rate_limited_requests_total{{limit=\"credential\"}} {by_credential}"
    );
    let (memory, store) = state.tokens.answered();
    family(
        &mut out,
        "vulnshare_token_checks_total",
        "counter",
        "API token checks on this node, by what answered them: this node's memory (while the change feed is live) or the database.",
    );
    let _ = writeln!(
        out,
        "vulnshare_token_checks_total{{answered_by=\"memory\"}} {memory}\nvulnshare_token_checks_total{{answered_by=\"store\"}} {store}"
    );
    family(
        &mut out,
        "vulnshare_change_feed_live",
        "gauge",
        "1 while this node hears of every committed change through PostgreSQL's notifications, else 0 (SQLite: always 0).",
    );
    let _ = writeln!(
        out,
        "vulnshare_change_feed_live {}",
        u8::from(state.store.changes().is_live())
    );
    let batches = state.submissions.stats();
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    family(
        &mut out,
        "vulnshare_submission_transactions_total",
        "counter",
        "Transactions in which this node filed reports submitted as they were filed (several submissions waiting at once share one).",
    );
    let _ = writeln!(
        out,
        "vulnshare_submission_transactions_total {}",
        load(&batches.batches)
    );
    family(
        &mut out,
        "vulnshare_submissions_filed_total",
        "counter",
        "Reports this node filed as submitted in those transactions.",
    );
    let _ = writeln!(
        out,
        "vulnshare_submissions_filed_total {}",
        load(&batches.submissions)
    );
    family(
        &mut out,
        "vulnshare_submission_batches_split_total",
        "counter",
        "Batches of submissions rolled back because one failed, then filed one by one.",
    );
    let _ = writeln!(
        out,
        "vulnshare_submission_batches_split_total {}",
        load(&batches.split)
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

/// `GET /readyz`: the database answers and the audit head is readable.
pub(crate) async fn ready(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    state
        .store
        .ready()
        .await
        .map_err(|e| AppError::Unavailable(Box::new(e)))?;
    Ok(axum::Json(serde_json::json!({"status": "ready"})))
}
