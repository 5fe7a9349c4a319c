//! Products of an organization.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use vulnshare_core::product::NewProduct;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::service;

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<String>,
) -> AppResult<impl IntoResponse> {
    caller.actor.can_read_products(&org_id)?;
    Ok(axum::Json(
        json!({"items": state.store.products_of(&org_id).await?}),
    ))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<String>,
    Json(body): Json<NewProduct>,
) -> AppResult<impl IntoResponse> {
    let product = service::create_product(
        &state.store,
        &caller.actor,
        &org_id,
        body,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(product)))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let product = state.store.product(&id).await?;
    caller
        .actor
        .can_read_products(&product.organization_id)
        .map_err(|_| AppError::NotFound("product"))?;
    Ok(axum::Json(product))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewProduct>,
) -> AppResult<impl IntoResponse> {
    let product =
        service::update_product(&state.store, &caller.actor, &id, body, state.clock.now()).await?;
    Ok(axum::Json(product))
}
