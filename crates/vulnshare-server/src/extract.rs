//! Request extractors whose failures are problem+json naming the offending field.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::MAX_BODY_BYTES;
use crate::error::AppError;

/// A JSON body; unknown fields, wrong types and syntax errors are reported with their path.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let mime = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(AppError::MalformedBody {
                message: "send the body as JSON with Content-Type: application/json".into(),
                field: None,
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_) => AppError::TooLarge(MAX_BODY_BYTES),
            other => AppError::MalformedBody {
                message: other.body_text(),
                field: None,
            },
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// The raw body, up to the route's limit; a longer body is refused with 413 as soon as the
/// limit is crossed, without reading the rest. Handlers of APIs with their own error dialect
/// (TAXII, CVE Services) take `Result<RawBody, AppError>` and convert the error.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e| match e {
                BytesRejection::FailedToBufferBody(_) => AppError::TooLarge(MAX_BODY_BYTES),
                other => AppError::MalformedBody {
                    message: other.body_text(),
                    field: None,
                },
            })
    }
}

/// Parses JSON, reporting the path of the first error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // serde_json's default recursion limit (128) bounds nesting depth.
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        AppError::MalformedBody {
            message: inner.to_string(),
            field: (path != ".").then_some(path),
        }
    })?;
    de.end().map_err(|e| AppError::MalformedBody {
        message: e.to_string(),
        field: None,
    })?;
    Ok(value)
}

/// Query parameters; bad values are reported with the parameter's name.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded_deserializer(query);
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                AppError::MalformedBody {
                    message: format!("query parameter: {}", e.into_inner()),
                    field: (path != ".").then_some(path),
                }
            })
    }
}

fn serde_urlencoded_deserializer(query: &str) -> serde_urlencoded::Deserializer<'_> {
    serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()))
}

/// A JSON body whatever its `Content-Type` (osv.dev's clients, pip-audit among them, send none).
pub struct AnyJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AnyJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_) => AppError::TooLarge(MAX_BODY_BYTES),
            other => AppError::MalformedBody {
                message: other.body_text(),
                field: None,
            },
        })?;
        parse_json(&bytes).map(AnyJson)
    }
}
