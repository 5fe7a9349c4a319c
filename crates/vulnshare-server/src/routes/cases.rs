//! Coordinated-disclosure cases.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use vulnshare_core::advisory::NewAdvisory;
use vulnshare_core::sharing::can_read_case;

use crate::AppState;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::extract::Json;
use crate::service::{self, EmbargoRequest, NewCase, NewMessage, NewParticipant, VendorStatement};

/// A case with what the caller should see about it: the embargo in its own time zone and
/// the vendors that never responded.
fn view(case: &vulnshare_core::case::Case) -> serde_json::Value {
    json!({
        "case": case,
        "embargo_local_end": case.embargo.as_ref().map(|e| e.local_end()),
        "silent_vendors": case.silent_vendors(),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<impl IntoResponse> {
    caller
        .actor
        .require_scope(vulnshare_core::token::TokenScope::Read)?;
    let scope = if caller.actor.is_staff() {
        None
    } else {
        Some(caller.actor.org_id.as_str())
    };
    let now = state.clock.now();
    let mut items = Vec::new();
    for id in state.store.case_ids(scope, 200).await? {
        let case = state.store.case(&id).await?;
        if can_read_case(&caller.actor, &case, now).is_ok() {
            items.push(view(&case));
        }
    }
    Ok(axum::Json(json!({"items": items})))
}

pub(crate) async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewCase>,
) -> AppResult<impl IntoResponse> {
    let case = service::open_case(&state, &caller.actor, body).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&case))))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let case = service::read_case(&state, &caller.actor, &id).await?;
    let advisories: Vec<String> = state
        .store
        .advisories_of_case(&id)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let mut v = view(&case);
    v["advisories"] = json!(advisories);
    Ok(axum::Json(v))
}

pub(crate) async fn add_participant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewParticipant>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(view(
        &service::add_participant(&state, &caller.actor, &id, body).await?,
    )))
}

pub(crate) async fn vendor_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, org_id)): Path<(String, String)>,
    Json(body): Json<VendorStatement>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(view(
        &service::respond(&state, &caller.actor, &id, &org_id, body).await?,
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmbargoBody {
    embargo: Option<EmbargoRequest>,
}

pub(crate) async fn embargo(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<EmbargoBody>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(view(
        &service::set_embargo(&state, &caller.actor, &id, body.embargo).await?,
    )))
}

pub(crate) async fn approve_early(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(view(
        &service::approve_early_publication(&state, &caller.actor, &id).await?,
    )))
}

pub(crate) async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(
        json!({"items": service::messages(&state, &caller.actor, &id).await?}),
    ))
}

pub(crate) async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewMessage>,
) -> AppResult<impl IntoResponse> {
    let m = service::post_message(&state, &caller.actor, &id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(m)))
}

pub(crate) async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewAdvisory>,
) -> AppResult<impl IntoResponse> {
    let (advisory, matching) = service::publish(&state, &caller.actor, &id, body).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "advisory": advisory,
            "new_exposures": matching.new_exposures,
            "matching_complete": matching.complete,
        })),
    ))
}

pub(crate) async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<service::NewAttachment>,
) -> AppResult<impl IntoResponse> {
    let a = service::attach(&state, &caller.actor, &id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(a)))
}

pub(crate) async fn attachments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    service::read_case(&state, &caller.actor, &id).await?;
    Ok(axum::Json(
        json!({"items": state.store.attachments_of(&id).await?}),
    ))
}

/// Downloads an attachment (case readers only), as `application/octet-stream` so that browsers
/// never render it.
pub(crate) async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attachment_id)): Path<(String, String)>,
) -> AppResult<impl IntoResponse> {
    service::read_case(&state, &caller.actor, &id).await?;
    let (a, content) = state.store.attachment(&attachment_id).await?;
    if a.case_id != id {
        return Err(crate::error::AppError::NotFound("attachment"));
    }
    let disposition = format!(
        "attachment; filename=\"{}\"",
        a.name.replace(['"', '\r', '\n'], "_")
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/octet-stream".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        content,
    ))
}
