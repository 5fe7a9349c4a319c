//! Static files embedded in the binary: the vendored htmx (see `scripts/vendor-htmx.sh`), our
//! small script and the style sheet. Cached for a year: a new release changes the binary, and
//! the pages are never cached.

use axum::http::header;
use axum::response::IntoResponse;

/// htmx 2.0.11 from the npm package `htmx.org`, `dist/htmx.min.js`.
pub(crate) const HTMX: &[u8] = include_bytes!("../../static/htmx.min.js");
/// SHA-256 of [`HTMX`] as fetched by `scripts/vendor-htmx.sh`.
pub(crate) const HTMX_SHA256: &str =
    "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717";
const APP_JS: &str = include_str!("../../static/app.js");
const APP_CSS: &str = include_str!("../../static/app.css");

const LONG_CACHE: &str = "public, max-age=31536000, immutable";

pub(crate) async fn htmx() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/javascript; charset=utf-8".to_owned(),
            ),
            (header::CACHE_CONTROL, LONG_CACHE.to_owned()),
            (header::ETAG, format!("\"{HTMX_SHA256}\"")),
        ],
        HTMX,
    )
}

pub(crate) async fn app_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_JS,
    )
}

pub(crate) async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_CSS,
    )
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn vendored_htmx_is_the_pinned_release() {
        assert_eq!(hex::encode(Sha256::digest(HTMX)), HTMX_SHA256);
        assert!(
            std::str::from_utf8(HTMX)
                .unwrap()
                .starts_with("var htmx=function()")
        );
    }
}
