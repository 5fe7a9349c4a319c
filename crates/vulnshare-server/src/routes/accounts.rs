//! Sign-in, organizations, users and tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use vulnshare_core::organization::NewOrganization;
use vulnshare_core::token::{NewToken, TokenScope};
use vulnshare_core::user::NewUser;

use super::page_limit;
use crate::AppState;
use crate::auth::{Caller, ClientAddress};
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Query};
use crate::service::{self, TokenIssuer};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignIn {
    email: String,
    password: String,
    /// The one-time code, for accounts with TOTP enabled.
    #[serde(default)]
    totp: Option<String>,
    #[serde(default)]
    token: Option<NewToken>,
}

/// Exchanges an e-mail address and password (and a one-time code, when the account has TOTP)
/// for an API token. Repeated failures lock the account and the client address, exactly as
/// the web sign-in does.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddress,
    Json(body): Json<SignIn>,
) -> AppResult<impl IntoResponse> {
    let creds = service::check_password(
        &state,
        service::PasswordAttempt {
            email: &body.email,
            password: &body.password,
            totp: body.totp.as_deref(),
            client: client.0,
        },
    )
    .await?;
    let request = body.token.unwrap_or(NewToken {
        name: "sign-in".into(),
        scopes: vec![],
        expires_in_days: Some(1),
    });
    let issued = service::create_token(
        &state.store,
        TokenIssuer::SignIn,
        &creds.user,
        request,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(issued)))
}

/// The caller, their organization and the token's scopes.
pub(crate) async fn me(caller: Caller) -> AppResult<impl IntoResponse> {
    caller.actor.require_scope(TokenScope::Read)?;
    Ok(axum::Json(json!({
        "user": caller.user,
        "organization": caller.organization,
        "scopes": caller.actor.scopes,
        "token_id": caller.token_id,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrgPage {
    after: Option<String>,
    limit: Option<i64>,
}

/// The member directory (names, kinds, countries, membership), visible to every member.
pub(crate) async fn list_organizations(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OrgPage>,
) -> AppResult<impl IntoResponse> {
    caller.actor.require_scope(TokenScope::Read)?;
    let limit = page_limit(q.limit)?;
    let items = state.store.organizations(q.after.as_deref(), limit).await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|o| o.name.clone()))
        .flatten();
    Ok(axum::Json(json!({"items": items, "next_after": next})))
}

pub(crate) async fn create_organization(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewOrganization>,
) -> AppResult<impl IntoResponse> {
    let org =
        service::create_organization(&state.store, Some(&caller.actor), body, state.clock.now())
            .await?;
    Ok((StatusCode::CREATED, axum::Json(org)))
}

pub(crate) async fn get_organization(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    caller.actor.require_scope(TokenScope::Read)?;
    Ok(axum::Json(state.store.organization(&id).await?))
}

pub(crate) async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    caller.actor.can_view_members(&id)?;
    Ok(axum::Json(
        json!({"items": state.store.users_of(&id).await?}),
    ))
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewUser>,
) -> AppResult<impl IntoResponse> {
    let user = service::create_user(
        &state.store,
        Some(&caller.actor),
        &id,
        body,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserPatch {
    disabled: bool,
}

pub(crate) async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UserPatch>,
) -> AppResult<impl IntoResponse> {
    // Look-up failures and other organizations' users both answer 404.
    let user = service::set_user_disabled(
        &state.store,
        &caller.actor,
        &id,
        body.disabled,
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("user"),
        other => other,
    })?;
    Ok(axum::Json(user))
}

pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<impl IntoResponse> {
    caller.actor.require_scope(TokenScope::Read)?;
    Ok(axum::Json(
        json!({"items": state.store.tokens_of(&caller.user.id).await?}),
    ))
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewToken>,
) -> AppResult<impl IntoResponse> {
    let issued = service::create_token(
        &state.store,
        TokenIssuer::Token(&caller.actor),
        &caller.user,
        body,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(issued)))
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    service::revoke_token(&state.store, &caller.actor, &id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
