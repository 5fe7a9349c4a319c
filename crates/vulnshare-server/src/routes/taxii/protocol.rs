//! The TAXII 2.1 wire rules: media types and `Accept` negotiation, error messages, and
//! authentication by HTTP Basic (e-mail address and API token) or the platform's bearer token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use vulnshare_core::token::looks_like_secret;

use crate::AppState;
use crate::auth::{Caller, caller_from_secret};
use crate::error::AppError;

/// The TAXII 2.1 media type.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// The STIX 2.1 media type, also offered for object envelopes.
pub use vulnshare_formats::stix::STIX_MEDIA_TYPE;

/// A failed TAXII request, answered with a TAXII error message.
#[derive(Debug)]
pub enum TaxiiError {
    /// Any failure the rest of the API knows.
    App(AppError),
    /// The `Accept` header names nothing this endpoint serves.
    NotAcceptable,
    /// The body's `Content-Type` is not a TAXII or STIX type.
    UnsupportedMediaType,
}

impl From<AppError> for TaxiiError {
    fn from(e: AppError) -> Self {
        TaxiiError::App(e)
    }
}

impl From<vulnshare_core::policy::Denied> for TaxiiError {
    fn from(e: vulnshare_core::policy::Denied) -> Self {
        TaxiiError::App(e.into())
    }
}

/// Result alias for TAXII handlers.
pub type TaxiiResult<T> = Result<T, TaxiiError>;

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let (status, title, description) = match self {
            TaxiiError::NotAcceptable => (
                StatusCode::NOT_ACCEPTABLE,
                "Not acceptable",
                format!("send Accept: {TAXII_MEDIA_TYPE}"),
            ),
            TaxiiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                format!("send the body with Content-Type: {TAXII_MEDIA_TYPE}"),
            ),
            TaxiiError::App(e) => {
                let (status, _, title) = e.parts();
                (status, title, e.detail())
            }
        };
        let body = json!({"title": title, "description": description, "http_status": status.as_u16().to_string()});
        let mut response = taxii_json(status, &body, TAXII_MEDIA_TYPE);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"vulnshare TAXII\", Bearer"),
            );
        }
        response
    }
}

/// A JSON response with a TAXII or STIX media type.
pub fn taxii_json(status: StatusCode, body: &Value, media_type: &'static str) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

/// A media type with its `version` parameter, if any, lowercased.
fn media_type(text: &str) -> (String, Option<String>) {
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let version = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("version")).then(|| v.trim().trim_matches('"').to_owned())
    });
    (essence, version)
}

/// The media type to answer with, from the `Accept` header: TAXII 2.1 (also for `*/*` or no
/// header), or STIX 2.1 where `stix_too` (object envelopes); 406 otherwise.
pub fn negotiate(headers: &HeaderMap, stix_too: bool) -> TaxiiResult<&'static str> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(TAXII_MEDIA_TYPE);
    };
    let accept = accept.to_str().map_err(|_| TaxiiError::NotAcceptable)?;
    if accept.trim().is_empty() {
        return Ok(TAXII_MEDIA_TYPE);
    }
    for range in accept.split(',') {
        let (essence, version) = media_type(range);
        let version_ok = version.as_deref().is_none_or(|v| v == "2.1");
        match essence.as_str() {
            "*/*" | "application/*" => return Ok(TAXII_MEDIA_TYPE),
            "application/taxii+json" if version_ok => return Ok(TAXII_MEDIA_TYPE),
            "application/stix+json" if version_ok && stix_too => return Ok(STIX_MEDIA_TYPE),
            _ => {}
        }
    }
    Err(TaxiiError::NotAcceptable)
}

/// Checks the `Content-Type` of a posted envelope: TAXII or STIX 2.1 JSON (plain JSON is
/// tolerated for hand-written clients).
pub fn check_content_type(headers: &HeaderMap) -> TaxiiResult<()> {
    let (essence, version) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(media_type)
        .ok_or(TaxiiError::UnsupportedMediaType)?;
    let version_ok = version.as_deref().is_none_or(|v| v == "2.1");
    match essence.as_str() {
        "application/taxii+json" | "application/stix+json" if version_ok => Ok(()),
        "application/json" => Ok(()),
        _ => Err(TaxiiError::UnsupportedMediaType),
    }
}

/// The caller of a TAXII request, who may be anonymous. Credentials: HTTP Basic with the
/// user's e-mail address and an API token as the password (what TAXII clients send), or
/// `Authorization: Bearer vs_…` as everywhere else; present but wrong credentials are 401.
#[derive(Debug, Clone)]
pub struct TaxiiCaller(pub Option<Caller>);

impl TaxiiCaller {
    /// The caller, or 401 for an anonymous request.
    pub fn required(self) -> TaxiiResult<Caller> {
        self.0.ok_or(TaxiiError::App(AppError::Unauthenticated(
            "sign in with HTTP Basic (e-mail address, API token) or Authorization: Bearer vs_…",
        )))
    }
}

impl FromRequestParts<AppState> for TaxiiCaller {
    type Rejection = TaxiiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(TaxiiCaller(None));
        };
        let basic = value.to_str().ok().and_then(|h| {
            h.strip_prefix("Basic ")
                .or_else(|| h.strip_prefix("basic "))
        });
        let Some(encoded) = basic else {
            return Caller::from_request_parts(parts, state)
                .await
                .map(|c| TaxiiCaller(Some(c)))
                .map_err(TaxiiError::App);
        };
        let unauthenticated = || {
            TaxiiError::App(AppError::Unauthenticated(
                "HTTP Basic needs your e-mail address as user name and an API token (vs_…) as password",
            ))
        };
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(unauthenticated)?;
        let (user, secret) = decoded.split_once(':').ok_or_else(unauthenticated)?;
        if !looks_like_secret(secret) {
            return Err(unauthenticated());
        }
        let caller = caller_from_secret(state, secret).await?;
        // The token decides who calls; the user name must agree so a leaked token is not
        // silently accepted under someone else's name.
        if !caller.user.email.eq_ignore_ascii_case(user.trim()) && caller.user.id != user.trim() {
            return Err(unauthenticated());
        }
        Ok(TaxiiCaller(Some(caller)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(
            negotiate(&HeaderMap::new(), false).unwrap(),
            TAXII_MEDIA_TYPE
        );
        assert_eq!(
            negotiate(&accept("application/taxii+json;version=2.1"), false).unwrap(),
            TAXII_MEDIA_TYPE
        );
        assert_eq!(
            negotiate(&accept("application/stix+json;version=2.1"), true).unwrap(),
            STIX_MEDIA_TYPE
        );
        assert!(negotiate(&accept("application/stix+json;version=2.1"), false).is_err());
        assert!(negotiate(&accept("application/taxii+json;version=2.0"), false).is_err());
        assert!(negotiate(&accept("text/html"), true).is_err());
        assert_eq!(
            negotiate(&accept("text/html, */*;q=0.1"), true).unwrap(),
            TAXII_MEDIA_TYPE
        );
    }
}
