//! Administration: organizations (platform administrators), an organization's users
//! (its administrators), and the regimes each organization is under. API tokens are each
//! user's own business and live on the account page (`web::tokens`).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use maud::html;
use serde::Deserialize;
use vulnshare_core::organization::{NewOrganization, OrganizationKind};
use vulnshare_core::user::{NewUser, Role};

use super::{Page, PostedForm, WebResult, WebUser};
use crate::AppState;
use crate::error::AppError;
use crate::service::{self, RegimeChoice};

#[derive(Debug, Deserialize, Default)]
pub(crate) struct OrgQuery {
    org: Option<String>,
}

/// Every organization kind, for the new-organization form.
const KINDS: [OrganizationKind; 6] = [
    OrganizationKind::Provider,
    OrganizationKind::Operator,
    OrganizationKind::Researcher,
    OrganizationKind::MonitoringInstitution,
    OrganizationKind::Regulator,
    OrganizationKind::Coordinator,
];

/// `GET /admin[?org=ID]`: platform administrators see and create every organization; an
/// organization's administrators manage their own users and regimes.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<OrgQuery>,
) -> WebResult {
    let actor = user.actor();
    let platform = actor.has(Role::PlatformAdmin);
    if !platform && !actor.has(Role::OrgAdmin) {
        return Err(AppError::Forbidden(
            "administration is for platform and organization administrators".into(),
        )
        .into());
    }
    let org_id = q.org.unwrap_or_else(|| actor.org_id.clone());
    actor.can_manage_users(&org_id)?;
    let org = state.store.organization(&org_id).await?;
    let orgs = if platform {
        state.store.organizations(None, 200).await?
    } else {
        vec![org.clone()]
    };
    let users = state.store.users_of(&org_id).await?;
    let catalogue = service::catalogue(&state.store).await?;
    let chosen = service::effective_settings(&org, state.store.regime_settings(&org_id).await?);
    let may_choose = actor.can_manage_regimes(&org_id).is_ok();
    // Only the roles this organization's users may hold and this administrator may grant.
    let grantable: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| r.allowed_for(org.kind) && actor.can_grant(*r).is_ok())
        .collect();
    let body = html! {
        h1 { "Administration" }
        h2 { "Organizations" }
        div.table-wrap { table id="org-table" {
            thead { tr { th { "Name" } th { "Kind" } th { "Country" } th { "Membership" } } }
            tbody { @for o in &orgs { tr {
                td { a href={ "/admin?org=" (o.id) } { (o.name) } }
                td { (o.kind.as_str()) } td { (o.country) }
                td { (format!("{:?}", o.membership).split(['{', ' ', '(']).next().unwrap_or("").to_lowercase()) }
            } } }
        } }
        @if platform {
            details {
                summary { "New organization" }
                form.stack method="post" action="/admin/organizations" id="new-org-form" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    label for="org-name" { "Organization name" }
                    input id="org-name" name="name" required maxlength="200";
                    label for="org-kind" { "Kind" }
                    select id="org-kind" name="kind" { @for k in KINDS { option value=(k.as_str()) { (k.as_str().replace('_', " ")) } } }
                    label for="org-country" { "Country (ISO 3166 two letters)" }
                    input id="org-country" name="country" required minlength="2" maxlength="2" pattern="[A-Za-z]{2}";
                    button type="submit" { "Create organization" }
                }
            }
        }
        h2 { "Users of " (org.name) }
        div.table-wrap { table id="user-table" {
            thead { tr { th { "E-mail" } th { "Name" } th { "Roles" } th { "Status" } th { span.visually-hidden { "Action" } } } }
            tbody { @for u in &users { tr {
                td { (u.email) } td { (u.display_name) }
                td { (u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")) }
                td.user-status { @if u.disabled { "disabled" } @else { "active" } }
                td {
                    @if u.id != actor.user_id {
                        form method="post" action={ "/admin/users/" (u.id) "/status" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            input type="hidden" name="disabled" value=(if u.disabled { "false" } else { "true" });
                            button type="submit" aria-label={ (if u.disabled { "Enable " } else { "Disable " }) (u.email) } {
                                @if u.disabled { "Enable" } @else { "Disable" }
                            }
                        }
                    }
                }
            } } }
        } }
        details {
            summary { "New user of " (org.name) }
            form.stack method="post" action={ "/admin/users?org=" (org.id) } id="new-user-form" {
                input type="hidden" name="csrf" value=(user.csrf);
                label for="user-email" { "E-mail address" }
                input id="user-email" name="email" type="email" required maxlength="254" autocomplete="off";
                label for="user-name" { "Display name" }
                input id="user-name" name="display_name" required maxlength="200";
                label for="user-password" { "Initial password (12 characters or more)" }
                input id="user-password" name="password" type="password" required minlength="12" maxlength="256" autocomplete="new-password";
                fieldset {
                    legend { "Roles" }
                    @for r in &grantable {
                        label { input type="checkbox" name="role" value=(r.as_str()) checked[*r == Role::Member]; " " (r.as_str().replace('_', " ")) }
                    }
                }
                button type="submit" { "Create user" }
            }
        }
        h2 { "Regimes of " (org.name) }
        form.stack method="post" action={ "/admin/regimes?org=" (org.id) } {
            input type="hidden" name="csrf" value=(user.csrf);
            fieldset {
                legend { "Regimes this organization is under" }
                @for e in &catalogue {
                    @let id = &e.regime.id;
                    label { input type="checkbox" name="regime" value=(id) checked[chosen.regime_ids.contains(id)] disabled[!may_choose]; " " (id) }
                }
            }
            @if may_choose { button type="submit" { "Save regimes" } }
        }
        p { "Your own API tokens: " a href="/account/tokens" { "API tokens" } "." }
    };
    Ok(Page::new("Administration").body(body).render(Some(&user)))
}

/// `POST /admin/organizations`: a platform administrator creates an organization.
pub(crate) async fn create_organization(
    State(state): State<AppState>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let kind = OrganizationKind::parse(form.get("kind"))
        .ok_or_else(|| AppError::field("kind", "choose one of the listed kinds"))?;
    let org = service::create_organization(
        &state.store,
        Some(user.actor()),
        NewOrganization {
            name: form.get("name").to_owned(),
            kind,
            country: form.get("country").to_uppercase(),
        },
        state.clock.now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin?org={}", org.id)).into_response())
}

/// `POST /admin/users?org=ID`: an administrator creates a user of the organization.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Query(q): Query<OrgQuery>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let org_id = q.org.unwrap_or_else(|| user.actor().org_id.clone());
    let mut roles = Vec::new();
    for name in form.all("role") {
        roles.push(Role::parse(name).ok_or_else(|| AppError::field("roles", "an unknown role"))?);
    }
    service::create_user(
        &state.store,
        Some(user.actor()),
        &org_id,
        NewUser {
            email: form.get("email").to_owned(),
            display_name: form.get("display_name").to_owned(),
            // Passwords are taken as typed: spaces at either end are part of them.
            password: form
                .0
                .iter()
                .find(|(k, _)| k == "password")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            roles,
        },
        state.clock.now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin?org={org_id}")).into_response())
}

/// `POST /admin/users/{id}/status`: an administrator disables or enables a user.
pub(crate) async fn set_user_status(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let disabled = match form.get("disabled") {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::field("disabled", "true or false").into()),
    };
    let changed = service::set_user_disabled(
        &state.store,
        user.actor(),
        &user_id,
        disabled,
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("user"),
        other => other,
    })?;
    Ok(Redirect::to(&format!("/admin?org={}", changed.organization_id)).into_response())
}

/// `POST /admin/regimes?org=ID`.
pub(crate) async fn choose_regimes(
    State(state): State<AppState>,
    Query(q): Query<OrgQuery>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let org_id = q.org.unwrap_or_else(|| user.actor().org_id.clone());
    service::choose_regimes(
        &state,
        user.actor(),
        &org_id,
        RegimeChoice {
            regimes: form.all("regime").into_iter().map(str::to_owned).collect(),
            cn_interpretation: None,
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/admin?org={org_id}")).into_response())
}
