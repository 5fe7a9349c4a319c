//! The organization part of the CVE Services API: `GET /org/{short_name}`, its `id_quota`,
//! its users, and creating, updating and re-keying them.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use vulnshare_core::cve::uuid_of;
use vulnshare_core::user::{Role, User};

use super::{CveCaller, RawQuery, parse_body, time};
use crate::AppState;
use crate::error::AppError;
use crate::extract::RawBody;
use crate::service::cve::{self as cve, CnaUserUpdate, CveApiError, CveResult, NewCnaUser};

/// A user as CVE Services shows one; `ADMIN` is the organization administrator role.
fn user_view(user: &User) -> Value {
    let (first, last) = user
        .display_name
        .split_once(' ')
        .unwrap_or((user.display_name.as_str(), ""));
    let roles: Vec<&str> = if user.has(Role::OrgAdmin) {
        vec!["ADMIN"]
    } else {
        vec![]
    };
    json!({
        "username": user.email,
        "name": {"first": first, "last": last},
        "UUID": uuid_of(&user.id),
        "org_UUID": uuid_of(&user.organization_id),
        "active": !user.disabled,
        "authority": {"active_roles": roles},
        "time": {"created": time(user.created_at), "modified": time(user.created_at)},
    })
}

/// `GET /org/{short_name}`: the caller's own organization.
pub(crate) async fn org(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(short_name): Path<String>,
) -> CveResult<impl IntoResponse> {
    let cna = cve::own_cna(&caller, &short_name)?;
    let organization = state.store.organization(&cna.organization_id).await?;
    Ok(axum::Json(json!({
        "UUID": uuid_of(&organization.id),
        "short_name": cna.short_name,
        "name": organization.name,
        "authority": {"active_roles": ["CNA"]},
        "policies": {"id_quota": cna.id_quota},
        "time": {"created": time(cna.created_at), "modified": time(cna.updated_at)},
    })))
}

/// `GET /org/{short_name}/id_quota`.
pub(crate) async fn quota(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(short_name): Path<String>,
) -> CveResult<impl IntoResponse> {
    let cna = cve::own_cna(&caller, &short_name)?;
    let reserved = state.store.reserved_cve_count(&cna.organization_id).await?;
    Ok(axum::Json(json!({
        "id_quota": cna.id_quota,
        "total_reserved": reserved,
        "available": (cna.id_quota - reserved).max(0),
    })))
}

/// `GET /org/{short_name}/users`.
pub(crate) async fn users(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(short_name): Path<String>,
) -> CveResult<impl IntoResponse> {
    let cna = cve::own_cna(&caller, &short_name)?;
    let users = state.store.users_of(&cna.organization_id).await?;
    Ok(axum::Json(
        json!({"users": users.iter().map(user_view).collect::<Vec<_>>()}),
    ))
}

/// `GET /org/{short_name}/user/{username}`.
pub(crate) async fn show_user(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path((short_name, username)): Path<(String, String)>,
) -> CveResult<impl IntoResponse> {
    let user = cve::cna_user(&state.store, &caller, &short_name, &username).await?;
    Ok(axum::Json(user_view(&user)))
}

/// `POST /org/{short_name}/user` with `{"username", "name": {"first", "last"},
/// "authority": {"active_roles": ["ADMIN"]}}`; the answer holds the new user's API key once.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(short_name): Path<String>,
    body: Result<RawBody, AppError>,
) -> CveResult<impl IntoResponse> {
    let body = parse_body(&body?.0)?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let username = body
        .get("username")
        .and_then(Value::as_str)
        .ok_or_else(|| CveApiError::bad_input("username", "is required (an e-mail address)"))?
        .to_owned();
    let roles = body["authority"]["active_roles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(other) = roles.iter().find(|r| r.as_str() != Some("ADMIN")) {
        return Err(CveApiError::bad_input(
            "authority.active_roles",
            format!("unknown role {other}: the only role is ADMIN"),
        ));
    }
    let new = NewCnaUser {
        username,
        first: text(&body["name"]["first"]),
        last: text(&body["name"]["last"]),
        admin: !roles.is_empty(),
    };
    let (user, secret) =
        cve::create_cna_user(&state.store, &caller, &short_name, new, state.clock.now()).await?;
    let mut created = user_view(&user);
    created["secret"] = json!(secret);
    Ok(axum::Json(json!({
        "message": format!("{} was successfully created.", user.email),
        "created": created,
    })))
}

/// `PUT /org/{short_name}/user/{username}?active=&name.first=&name.last=&active_roles.add=&active_roles.remove=`.
pub(crate) async fn update_user(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path((short_name, username)): Path<(String, String)>,
    query: RawQuery,
) -> CveResult<impl IntoResponse> {
    if query.get("new_username").is_some() || query.get("org_short_name").is_some() {
        return Err(CveApiError::bad_input(
            "new_username",
            "usernames are platform e-mail addresses and users cannot move between organizations here",
        ));
    }
    let active = query
        .get("active")
        .map(|v| match v {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(CveApiError::bad_input("active", "must be true or false")),
        })
        .transpose()?;
    let role = |name: &str| -> CveResult<bool> {
        match query.get(name) {
            None => Ok(false),
            Some("ADMIN") => Ok(true),
            Some(_) => Err(CveApiError::bad_input(name, "the only role is ADMIN")),
        }
    };
    let update = CnaUserUpdate {
        active,
        first: query.get("name.first").map(str::to_owned),
        last: query.get("name.last").map(str::to_owned),
        add_admin: role("active_roles.add")?,
        remove_admin: role("active_roles.remove")?,
    };
    let user = cve::update_cna_user(
        &state.store,
        &caller,
        &short_name,
        &username,
        update,
        state.clock.now(),
    )
    .await?;
    Ok(axum::Json(json!({
        "message": format!("{} was successfully updated.", user.email),
        "updated": user_view(&user),
    })))
}

/// `PUT /org/{short_name}/user/{username}/reset_secret`: a new API key, shown once; the
/// previous CVE Services key of the user stops working.
pub(crate) async fn reset_secret(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path((short_name, username)): Path<(String, String)>,
) -> CveResult<impl IntoResponse> {
    let secret = cve::reset_secret(
        &state.store,
        &caller,
        &short_name,
        &username,
        state.clock.now(),
    )
    .await?;
    Ok(axum::Json(json!({"API-secret": secret})))
}
