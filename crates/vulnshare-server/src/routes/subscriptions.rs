//! Subscriptions and their deliveries.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::AppState;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::extract::Json;
use crate::outbox::{self, NewSubscription};

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<impl IntoResponse> {
    caller
        .actor
        .require_scope(vulnshare_core::token::TokenScope::Read)?;
    Ok(axum::Json(
        json!({"items": state.store.active_subscriptions(Some(&caller.actor.org_id)).await?}),
    ))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewSubscription>,
) -> AppResult<impl IntoResponse> {
    let (s, secret) = outbox::subscribe(&state, &caller.actor, body).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"subscription": s, "secret": secret})),
    ))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    outbox::unsubscribe(&state, &caller.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let s = outbox::own_subscription(&state, &caller.actor, &id).await?;
    Ok(axum::Json(
        json!({"items": state.store.deliveries_of(&s.id).await?}),
    ))
}
