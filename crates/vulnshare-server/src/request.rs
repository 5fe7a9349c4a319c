//! Every request's id, tracing span and one log line when it finishes.
//!
//! The id comes from the client's `X-Request-Id` when it is a short token of safe characters
//! (so a proxy's id carries through), otherwise it is made here; it is echoed in the response.
//! The span carries the id, method and route pattern, so every event logged while handling the
//! request (a failed query, an internal error) names them; the closing line adds the status and
//! latency. Headers, query strings and bodies are never logged: they carry tokens, passwords
//! and API keys.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The request id header, read and echoed.
pub const REQUEST_ID: &str = "x-request-id";

/// A client-supplied id is kept when it is at most this long.
const MAX_ID_LEN: usize = 64;

fn client_id(request: &Request) -> Option<String> {
    let id = request.headers().get(REQUEST_ID)?.to_str().ok()?;
    let safe = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    safe.then(|| id.to_owned())
}

fn new_id() -> String {
    hex::encode(&crate::auth::random_bytes()[..12])
}

/// Middleware: the request span and the closing log line.
pub async fn trace(request: Request, next: Next) -> Response {
    let id = client_id(&request).unwrap_or_else(new_id);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        route = %route,
    );
    let start = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let latency_ms = (start.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    let status = response.status().as_u16();
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, latency_ms, "request finished");
        } else {
            tracing::info!(status, latency_ms, "request finished");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn with_header(value: &str) -> Request {
        Request::builder()
            .header(REQUEST_ID, value)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn safe_client_ids_are_kept_and_others_replaced() {
        assert_eq!(
            client_id(&with_header("lb-7f3a:42")).as_deref(),
            Some("lb-7f3a:42")
        );
        assert_eq!(client_id(&with_header("a b")), None);
        assert_eq!(client_id(&with_header("x\"}{")), None);
        assert_eq!(client_id(&with_header(&"a".repeat(65))), None);
        assert_eq!(new_id().len(), 24);
    }
}
