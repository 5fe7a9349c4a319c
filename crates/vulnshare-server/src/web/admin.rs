//! Administration (organizations, users, tokens, regimes per organization), SBOM upload with
//! its matched advisories, and the audit log viewer with the chain's verification status.

use axum::extract::{Multipart, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use maud::html;
use serde::Deserialize;
use vulnshare_core::user::Role;

use super::{Page, WebForm, WebResult, WebUser, fmt_time};
use crate::AppState;
use crate::error::AppError;
use crate::service::{self, RegimeChoice};

#[derive(Debug, Deserialize, Default)]
pub(crate) struct OrgQuery {
    org: Option<String>,
}

/// `GET /admin[?org=ID]`: platform administrators see every organization; an organization's
/// administrators see their own.
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
    let tokens = state.store.tokens_of(&user.caller.user.id).await?;
    let catalogue = service::catalogue(&state.store).await?;
    let chosen = service::effective_settings(&org, state.store.regime_settings(&org_id).await?);
    let may_choose = actor.can_manage_regimes(&org_id).is_ok();
    let now = state.clock.now();
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
        h2 { "Users of " (org.name) }
        div.table-wrap { table id="user-table" {
            thead { tr { th { "E-mail" } th { "Name" } th { "Roles" } th { "Status" } } }
            tbody { @for u in &users { tr {
                td { (u.email) } td { (u.display_name) }
                td { (u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")) }
                td { @if u.disabled { "disabled" } @else { "active" } }
            } } }
        } }
        p.muted { "Create users and organizations with the API or " code { "vulnshare admin" } "." }
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
        h2 { "My API tokens" }
        div.table-wrap { table id="token-table" {
            thead { tr { th { "Name" } th { "Scopes" } th { "Expires" } th { "State" } } }
            tbody { @for t in &tokens { tr {
                td { (t.name) }
                td { (t.scopes.iter().map(|s| format!("{s:?}").to_lowercase()).collect::<Vec<_>>().join(", ")) }
                td { (fmt_time(t.expires_at, &user.tz)) }
                td { @if t.revoked_at.is_some() { "revoked" } @else if t.expires_at <= now { "expired" } @else { "usable" } }
            } } }
        } }
    };
    Ok(Page::new("Administration").body(body).render(Some(&user)))
}

/// `POST /admin/regimes?org=ID`.
pub(crate) async fn choose_regimes(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<OrgQuery>,
    headers: HeaderMap,
    form: WebForm,
) -> WebResult {
    form.check_csrf(&user, &headers)?;
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

/// `GET /sboms`: the organization's products and an upload form.
pub(crate) async fn sboms_page(State(state): State<AppState>, user: WebUser) -> WebResult {
    let org_id = user.actor().org_id.clone();
    user.actor().can_read_products(&org_id)?;
    let products = state.store.products_of(&org_id).await?;
    Ok(sbom_view(&user, &products, None).render(Some(&user)))
}

fn sbom_view(
    user: &WebUser,
    products: &[vulnshare_core::product::Product],
    result: Option<&service::Uploaded>,
) -> Page {
    Page::new("SBOMs").body(html! {
        h1 { "SBOM upload" }
        @if let Some(u) = result {
            section id="sbom-result" aria-live="polite" {
                h2 { "Results for " (u.sbom.product_version) }
                p.ok { "Stored SBOM " (u.sbom.id) "; " (u.unmatched_components) " components without a matchable purl." }
                @if u.exposures.is_empty() { p { "No published advisory matches a component." } } @else {
                    p.problem { (u.exposures.len()) " component(s) match published advisories:" }
                    div.table-wrap { table id="exposure-table" {
                        thead { tr { th { "Advisory" } th { "Component" } th { "Version" } } }
                        tbody { @for e in &u.exposures { tr {
                            td { a href={ "/advisories/" (e.advisory_id) } { (e.advisory_id) } }
                            td { (e.ecosystem) " " (e.name) } td { (e.version) }
                        } } }
                    } }
                }
            }
        }
        @if products.is_empty() {
            p.muted { "Your organization has no registered products; register one with the API first." }
        } @else {
            form.stack method="post" action="/sboms" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(user.csrf);
                label for="product" { "Product" }
                select id="product" name="product" { @for p in products { option value=(p.id) { (p.name) } } }
                label for="version" { "Product version" }
                input id="version" name="version" required maxlength="100";
                label for="sbom" { "CycloneDX 1.4–1.6 or SPDX 2.3 JSON (up to 32 MiB)" }
                input id="sbom" name="sbom" type="file" accept=".json,application/json" required;
                button type="submit" { "Upload and match" }
            }
        }
    })
}

/// `POST /sboms` (multipart): stores the SBOM and shows the advisories it matched.
pub(crate) async fn sbom_upload(
    State(state): State<AppState>,
    user: WebUser,
    mut multipart: Multipart,
) -> WebResult {
    let (mut csrf, mut product, mut version, mut body) =
        (String::new(), String::new(), String::new(), Vec::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::MalformedBody {
            message: format!("the upload form: {e}"),
            field: None,
        })?
    {
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| AppError::TooLarge(service::MAX_SBOM_BYTES))?;
        let text = || {
            String::from_utf8_lossy(&bytes[..bytes.len().min(1024)])
                .trim()
                .to_owned()
        };
        match name.as_str() {
            "csrf" => csrf = text(),
            "product" => product = text(),
            "version" => version = text(),
            "sbom" => body = bytes.to_vec(),
            _ => {}
        }
    }
    WebForm(vec![("csrf".into(), csrf)]).check_csrf(&user, &HeaderMap::new())?;
    let uploaded = service::upload(&state, user.actor(), &product, &version, &body).await?;
    let products = state.store.products_of(&user.actor().org_id).await?;
    Ok(sbom_view(&user, &products, Some(&uploaded)).render(Some(&user)))
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct AuditQuery {
    after: Option<i64>,
}

/// Audit entries per page.
const AUDIT_PAGE: i64 = 100;

/// `GET /audit[?after=SEQ]`: the log, and whether the whole chain verifies.
pub(crate) async fn audit_page(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<AuditQuery>,
) -> WebResult {
    user.actor().can_read_audit()?;
    let verification = state.store.verify_audit().await?;
    let after = q.after.unwrap_or(0).max(0);
    let entries = state.store.audit_entries(after, AUDIT_PAGE, None).await?;
    let body = html! {
        h1 { "Audit log" }
        @match &verification.error {
            None => { p.ok id="chain-status" { "Chain intact: " (verification.entries) " entries, head " code { (&verification.head_hash[..16.min(verification.head_hash.len())]) "…" } } }
            Some(e) => { p.problem id="chain-status" role="alert" { "Chain BROKEN: " (e) } }
        }
        div.table-wrap { table id="audit-table" {
            thead { tr { th { "#" } th { "When" } th { "Action" } th { "Object" } th { "By" } } }
            tbody { @for e in &entries { tr {
                td { (e.seq) } td { (fmt_time(e.at, &user.tz)) } td { (e.event.action) }
                td { (e.event.object_type) " " (e.event.object_id) }
                td { (e.event.actor_user_id.as_deref().unwrap_or("operator")) }
            } } }
        } }
        @if entries.len() as i64 == AUDIT_PAGE {
            @if let Some(last) = entries.last() { p { a href={ "/audit?after=" (last.seq) } { "Next page" } } }
        }
    };
    Ok(Page::new("Audit log").body(body).render(Some(&user)))
}
