//! The audit log, for the regulator and platform administrators.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use super::page_limit;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::extract::Query;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    after: Option<i64>,
    limit: Option<i64>,
    object_type: Option<String>,
    object_id: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> AppResult<impl IntoResponse> {
    caller.actor.can_read_audit()?;
    let limit = page_limit(q.limit)?;
    let object = match (&q.object_type, &q.object_id) {
        (Some(t), Some(i)) => Some((t.as_str(), i.as_str())),
        (None, None) => None,
        _ => {
            return Err(AppError::field(
                "object_id",
                "give both object_type and object_id",
            ));
        }
    };
    let items = state
        .store
        .audit_entries(q.after.unwrap_or(0).max(0), limit, object)
        .await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(axum::Json(json!({"items": items, "next_after": next})))
}

pub(crate) async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<impl IntoResponse> {
    caller.actor.can_read_audit()?;
    Ok(axum::Json(state.store.verify_audit().await?))
}
