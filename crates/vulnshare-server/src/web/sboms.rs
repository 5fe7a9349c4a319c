//! SBOM upload with the advisories its components match.

use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use maud::html;

use super::{Page, WebForm, WebResult, WebUser};
use crate::AppState;
use crate::error::AppError;
use crate::service;

/// `GET /sboms`: the organization's products and an upload form.
pub(crate) async fn page(State(state): State<AppState>, user: WebUser) -> WebResult {
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
pub(crate) async fn upload(
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
