//! Refusals in CVE Services' shape (`{"error": CODE, "message": …}`) and how the platform's
//! own errors map onto them.

use serde_json::{Value, json};
use vulnshare_core::cve::ReservationError;
use vulnshare_core::policy::Denied;
use vulnshare_store::StoreError;

use crate::error::AppError;

/// A refusal in CVE Services' shape: HTTP status, error code and message.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CveApiError {
    /// HTTP status.
    pub status: u16,
    /// CVE Services' error code, e.g. `CVE_ID_NOT_FOUND`.
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
    /// Per-field problems, when there are some.
    pub details: Option<Value>,
    /// The cause of a server error, logged and never shown.
    #[source]
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl CveApiError {
    /// A refusal with `status`, `code` and `message`.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> CveApiError {
        CveApiError {
            status,
            code,
            message: message.into(),
            details: None,
            cause: None,
        }
    }

    /// `404 CVE_ID_NOT_FOUND`, also for ids another CNA holds in the RESERVED state.
    pub fn id_not_found(id: &str) -> CveApiError {
        CveApiError::new(404, "CVE_ID_NOT_FOUND", format!("{id} not found"))
    }

    /// `400 BAD_INPUT` for one parameter.
    pub fn bad_input(field: &str, message: impl Into<String>) -> CveApiError {
        let message = message.into();
        CveApiError {
            details: Some(json!([{"param": field, "msg": message}])),
            ..CveApiError::new(400, "BAD_INPUT", format!("{field}: {message}"))
        }
    }
}

impl From<AppError> for CveApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errors) => CveApiError {
                details: Some(json!(
                    errors
                        .iter()
                        .map(|e| json!({"param": e.field, "msg": e.message}))
                        .collect::<Vec<_>>()
                )),
                ..CveApiError::new(
                    400,
                    "BAD_INPUT",
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            },
            AppError::MalformedBody { message, field } => match field {
                Some(f) => CveApiError::bad_input(&f, message),
                None => CveApiError::new(400, "BAD_INPUT", message),
            },
            AppError::TooLarge(n) => CveApiError::new(
                413,
                "PAYLOAD_TOO_LARGE",
                format!("the request body is larger than {n} bytes"),
            ),
            AppError::Unauthenticated(m) => CveApiError::new(401, "UNAUTHORIZED", m),
            AppError::Forbidden(m) => CveApiError::new(403, "FORBIDDEN", m),
            AppError::Locked(m) => CveApiError::new(429, "TOO_MANY_REQUESTS", m),
            AppError::NotFound(what) => {
                CveApiError::new(404, "NOT_FOUND", format!("{what} not found"))
            }
            AppError::Conflict(m) => CveApiError::new(409, "CONFLICT", m),
            e @ AppError::RateLimited { .. } => {
                CveApiError::new(429, "TOO_MANY_REQUESTS", e.to_string())
            }
            AppError::Unavailable(cause) => CveApiError {
                cause: Some(cause),
                ..CveApiError::new(503, "SERVICE_UNAVAILABLE", "Service Unavailable")
            },
            AppError::Internal(cause) => CveApiError {
                cause: Some(cause),
                ..CveApiError::new(500, "INTERNAL_SERVER_ERROR", "Internal Server Error")
            },
        }
    }
}

impl From<StoreError> for CveApiError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<Denied> for CveApiError {
    fn from(d: Denied) -> Self {
        AppError::from(d).into()
    }
}

impl From<ReservationError> for CveApiError {
    fn from(e: ReservationError) -> Self {
        let status = match e {
            ReservationError::OverQuota { .. }
            | ReservationError::OverNonsequentialMax
            | ReservationError::Year(_) => 403,
            _ => 400,
        };
        let details = match &e {
            ReservationError::OverQuota { available } => Some(json!({"available": available})),
            _ => None,
        };
        CveApiError {
            details,
            ..CveApiError::new(status, e.code(), e.to_string())
        }
    }
}

/// Result alias for CVE Services use cases.
pub type CveResult<T> = Result<T, CveApiError>;
