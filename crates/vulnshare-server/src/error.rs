//! One error type for every handler, rendered as RFC 9457 problem+json with a stable `type`.
//! Client errors carry a message for the user; server errors hide their detail and are logged
//! once with their cause.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vulnshare_core::policy::Denied;
use vulnshare_core::report::TransitionError;
use vulnshare_core::{FieldError, Invalid};
use vulnshare_store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input failed validation; each field error names the field.
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// The body is not JSON of the expected shape.
    #[error("{message}")]
    MalformedBody {
        /// What is wrong.
        message: String,
        /// Where in the document, when known.
        field: Option<String>,
    },
    /// The body is larger than the server accepts.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// No valid credentials were given.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed sign-ins: the account or address is locked for a while.
    #[error("{0}")]
    Locked(String),
    /// The object does not exist or is not visible to the caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The caller sent more requests than its rate limit allows.
    #[error("too many requests from {who}; retry after {} s", retry_after_secs(*.retry_after))]
    RateLimited {
        /// Whose limit: "this address" or "this credential".
        who: &'static str,
        /// How long until the next request is allowed.
        retry_after: std::time::Duration,
    },
    /// The database cannot be reached; the node is not ready.
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The server failed.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// A single-field validation error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// For [`AppError::RateLimited`], the whole seconds to wait (what `Retry-After` says).
    pub fn retry_after_secs(&self) -> u64 {
        match self {
            AppError::RateLimited { retry_after, .. } => retry_after_secs(*retry_after),
            _ => 0,
        }
    }

    /// What the client is told: the message, every invalid field, or for server errors
    /// nothing but that it was logged (which this does, once, with the cause).
    pub(crate) fn detail(&self) -> String {
        match self {
            AppError::Internal(cause) => {
                tracing::error!(error = %cause, source = ?cause.source(), "request failed");
                "the server failed to handle the request; it has been logged".to_owned()
            }
            AppError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "the database is unavailable");
                self.to_string()
            }
            AppError::Invalid(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }

    pub(crate) fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            AppError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-error",
                "Invalid request",
            ),
            AppError::MalformedBody { .. } => (
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "Malformed request body",
            ),
            AppError::TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
            ),
            AppError::Unauthenticated(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            AppError::Locked(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "sign-in-locked",
                "Too many failed sign-ins",
            ),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            AppError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            AppError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "Internal server error",
            ),
        }
    }
}

/// The problem+json body.
#[derive(Debug, Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        let errors = match &self {
            AppError::Invalid(errors) => errors.clone(),
            AppError::MalformedBody {
                field: Some(f),
                message,
            } => vec![FieldError {
                field: f.clone(),
                message: message.clone(),
            }],
            _ => Vec::new(),
        };
        let detail = self.detail();
        let body = Problem {
            problem_type: format!("/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let AppError::RateLimited { retry_after, .. } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs(*retry_after).into());
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Whole seconds to wait, rounded up, at least one (what `Retry-After` carries).
fn retry_after_secs(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::Invalid(e.0)
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Hidden => AppError::NotFound("object"),
            other => AppError::Forbidden(other.to_string()),
        }
    }
}

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Forbidden { .. } => AppError::Forbidden(e.to_string()),
            TransitionError::NotAllowed { .. } => AppError::Conflict(e.to_string()),
            TransitionError::MissingDetail(m) => AppError::field("reason", m),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Internal(Box::new(other)),
        }
    }
}

/// Result alias for handlers.
pub type AppResult<T> = Result<T, AppError>;
