//! In-app notifications: deadline reminders, violations, sanction decisions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use vulnshare_core::token::TokenScope;

use super::page_limit;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::extract::Query;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationQuery {
    #[serde(default)]
    unread: bool,
    limit: Option<i64>,
}

/// `GET /notifications`: the caller's in-app notifications, newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NotificationQuery>,
) -> AppResult<impl IntoResponse> {
    caller.actor.require_scope(TokenScope::Read)?;
    let limit = page_limit(q.limit)?;
    let items = state
        .store
        .notifications_for(&caller.actor.org_id, &caller.actor.user_id, q.unread, limit)
        .await?;
    Ok(axum::Json(json!({"items": items})))
}

/// `POST /notifications/{id}/read`: marks one of the caller's notifications read.
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    caller.actor.require_scope(TokenScope::Read)?;
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    if !tx
        .mark_notification_read(&id, &caller.actor.org_id, &caller.actor.user_id, now)
        .await?
    {
        return Err(AppError::NotFound("notification"));
    }
    // Reading a reminder changes no shared state worth a chain entry, but the chain records
    // every write, so it is audited like any other.
    tx.audit(
        now,
        crate::service::audit_event_by(
            Some((&caller.actor.user_id, &caller.actor.org_id)),
            "notification.read",
            "notification",
            &id,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
