//! Sanction decisions: the regulator decides, the organization and staff read them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use vulnshare_core::sanction::SanctionRequest;

use crate::AppState;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::extract::Json;
use crate::service;

/// `POST /organizations/{id}/sanctions`: the regulator decides.
pub(crate) async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<String>,
    Json(body): Json<SanctionRequest>,
) -> AppResult<impl IntoResponse> {
    // Another organization's caller learns nothing, not even that the organization exists.
    caller.actor.can_read_obligations(&org_id)?;
    let decision = service::decide_sanction(&state, &caller.actor, &org_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(decision)))
}

/// `GET /organizations/{id}/sanctions`: the decisions about an organization (itself, the
/// regulator, platform administrators).
pub(crate) async fn of_organization(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<String>,
) -> AppResult<impl IntoResponse> {
    caller.actor.can_read_obligations(&org_id)?;
    let org = state.store.organization(&org_id).await?;
    Ok(axum::Json(json!({
        "membership": org.membership,
        "items": state.store.sanctions_of(&org_id).await?,
    })))
}
