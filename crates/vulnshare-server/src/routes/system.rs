//! Unauthenticated routes: health, the OpenAPI document, the platform's public key and
//! receipt verification.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;
use vulnshare_core::receipt::{Receipt, key_id};

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Query, parse_json};

pub(crate) async fn health(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    state
        .store
        .ping()
        .await
        .map_err(|e| AppError::Unavailable(Box::new(e)))?;
    Ok(axum::Json(json!({"status": "ok"})))
}

pub(crate) async fn openapi() -> impl IntoResponse {
    axum::Json(crate::openapi::document())
}

pub(crate) async fn public_key(State(state): State<AppState>) -> impl IntoResponse {
    let key = state.signing_key.verifying_key();
    axum::Json(json!({
        "algorithm": "Ed25519",
        "key_id": key_id(&key),
        "public_key": hex::encode(key.as_bytes()),
    }))
}

#[derive(Debug, Serialize)]
struct Verification {
    valid: bool,
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn verify(state: &AppState, receipt: &Receipt) -> axum::Json<Verification> {
    let key = state.signing_key.verifying_key();
    let result = receipt.verify(&key);
    axum::Json(Verification {
        valid: result.is_ok(),
        key_id: key_id(&key),
        error: result.err().map(|e| e.to_string()),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiptQuery {
    receipt: String,
}

/// `GET /receipts/verify?receipt=<the receipt JSON, URL-encoded>`.
pub(crate) async fn verify_receipt_query(
    State(state): State<AppState>,
    Query(q): Query<ReceiptQuery>,
) -> AppResult<impl IntoResponse> {
    let receipt: Receipt = parse_json(q.receipt.as_bytes()).map_err(|e| match e {
        AppError::MalformedBody { message, field } => AppError::MalformedBody {
            message,
            field: Some(format!(
                "receipt{}",
                field.map(|f| format!(".{f}")).unwrap_or_default()
            )),
        },
        other => other,
    })?;
    Ok(verify(&state, &receipt))
}

/// `POST /receipts/verify` with the receipt as the JSON body.
pub(crate) async fn verify_receipt_body(
    State(state): State<AppState>,
    Json(receipt): Json<Receipt>,
) -> AppResult<impl IntoResponse> {
    Ok(verify(&state, &receipt))
}
