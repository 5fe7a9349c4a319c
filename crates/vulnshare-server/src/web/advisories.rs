//! Advisory pages: public for TLP:CLEAR, otherwise for whoever the API would show them to
//! (the same `read_advisory` check: suspended members see TLP:CLEAR only), with OSV, CVE JSON
//! 5.1 and CSAF downloads.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use maud::html;

use super::layout::tlp_badge;
use super::{MaybeWebUser, Page, WebResult, fmt_time};
use crate::AppState;
use crate::error::AppError;
use crate::service::{self, cve};
use serde_json::Value;
use vulnshare_core::advisory::Advisory;
use vulnshare_core::cve::{CveState, uuid_of};
use vulnshare_formats::cve::{CveOptions, advisory_to_cve};
use vulnshare_store::StoreError;

/// Most advisories on the list page.
const LIST_LIMIT: i64 = 200;

pub(crate) async fn list(
    State(state): State<AppState>,
    MaybeWebUser(user): MaybeWebUser,
) -> WebResult {
    let actor = user.as_ref().map(|u| u.actor());
    let items = service::list_advisories(&state, actor, LIST_LIMIT).await?;
    let tz = user
        .as_ref()
        .map(|u| u.tz.clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let body = html! {
        h1 { "Advisories" }
        @if user.is_none() { p.muted { "Showing public (TLP:CLEAR) advisories. " a href="/sign-in?next=/advisories" { "Sign in" } " to see those shared with your organization." } }
        @if items.is_empty() { p { "No advisories to show." } } @else {
            div.table-wrap { table id="advisory-list" {
                thead { tr { th { "Advisory" } th { "Summary" } th { "TLP" } th { "Aliases" } th { "Published" } } }
                tbody { @for a in &items { tr {
                    td { a href={ "/advisories/" (a.id) } { (a.id) } }
                    td { (a.summary) }
                    td { (tlp_badge(a.tlp)) }
                    td { (a.aliases.join(", ")) }
                    td { (fmt_time(a.published_at, &tz)) }
                } } }
            } }
        }
    };
    Ok(Page::new("Advisories").body(body).render(user.as_ref()))
}

/// The assigner named in a CVE record the platform generates for an id it does not hold.
const PLATFORM_SHORT_NAME: &str = "vulnshare";
/// The platform's organization UUID in such records.
const PLATFORM_ORG_UUID: &str = "5e2c7a30-9d1b-4f6e-8a41-0c3b7d9e2f15";

/// `GET /advisories/{id}` (and `….osv.json`, `….cve.json`, `….csaf.json` downloads).
pub(crate) async fn page(
    State(state): State<AppState>,
    MaybeWebUser(user): MaybeWebUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> WebResult {
    let (id, download) = if let Some(base) = id.strip_suffix(".osv.json") {
        (base.to_owned(), Some("osv"))
    } else if let Some(base) = id.strip_suffix(".csaf.json") {
        (base.to_owned(), Some("csaf"))
    } else if let Some(base) = id.strip_suffix(".cve.json") {
        (base.to_owned(), Some("cve"))
    } else {
        (id, None)
    };
    let actor = user.as_ref().map(|u| u.actor());
    let a = match service::read_advisory(&state, actor, &id).await {
        Ok(a) => a,
        Err(AppError::NotFound(_)) if user.is_none() => {
            return Err(super::WebError::SignIn {
                next: format!("/advisories/{id}"),
            });
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(kind) = download {
        let base = crate::routes::csaf::base_url(&headers);
        let doc = match kind {
            "osv" => serde_json::to_value(vulnshare_formats::osv::advisory_to_osv(&a))
                .map_err(|e| AppError::Internal(Box::new(e)))?,
            "cve" => cve_record(&state, &base, &a).await?,
            _ => crate::routes::csaf::document(
                &state,
                &base,
                &a,
                vulnshare_formats::csaf::CsafCategory::SecurityAdvisory,
            )?,
        };
        let file = format!("{}.{kind}.json", a.id);
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file}\""),
                ),
            ],
            doc.to_string(),
        )
            .into_response());
    }
    let tz = user
        .as_ref()
        .map(|u| u.tz.clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let body = html! {
        h1 { (a.id) ": " (a.summary) }
        p { (tlp_badge(a.tlp)) " · version " (a.version) " · published " (fmt_time(a.published_at, &tz))
            " · " (format!("{:?}", a.state).to_lowercase()) }
        @if let Some(r) = &a.withdrawn_reason { p.problem { "Withdrawn: " (r) } }
        h2 { "Downloads" }
        ul {
            li { a href={ "/advisories/" (a.id) ".osv.json" } download { "OSV JSON" } }
            li { a href={ "/advisories/" (a.id) ".csaf.json" } download { "CSAF 2.0 JSON" } }
            @if let Some(cve) = first_cve(&a) {
                li { a href={ "/advisories/" (a.id) ".cve.json" } download { "CVE JSON 5.1" } " (" (cve) ")" }
            }
            @for alias in a.aliases.iter().filter(|x| x.starts_with("CVE-")) {
                li { "CVE record: " a href={ "https://www.cve.org/CVERecord?id=" (alias) } { (alias) } }
            }
        }
        h2 { "Details" }
        p { (a.details) }
        h2 { "Remediation" }
        p { (a.remediation) }
        h2 { "Affected" }
        ul {
            @for p in &a.affected_products { li { (p.vendor.as_deref().unwrap_or("")) " " (p.name) " " (p.model.as_deref().unwrap_or("")) " " (p.versions.join(", ")) } }
            @for p in &a.affected_packages { li { (p.ecosystem.as_str()) " " code { (p.name) } } }
        }
        dl {
            dt { "Aliases" } dd { (a.aliases.join(", ")) }
            dt { "CVSS" } dd { (a.cvss_vector.as_deref().unwrap_or("—")) }
            dt { "CWEs" } dd { (a.cwes.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")) }
            dt { "Case" } dd { @if user.is_some() { a href={ "/cases/" (a.case_id) } { (a.case_id) } } @else { (a.case_id) } }
        }
    };
    Ok(Page::new(a.id.clone()).body(body).render(user.as_ref()))
}

fn first_cve(a: &Advisory) -> Option<&str> {
    a.aliases
        .iter()
        .map(String::as_str)
        .find(|x| x.starts_with("CVE-"))
}

/// The advisory's CVE record: the published record when the platform's CVE Services holds
/// one for its first CVE alias (what `GET /api/cve/{id}` serves), otherwise one generated from
/// the advisory, assigned by the id's owning CNA on this platform or else by the platform.
async fn cve_record(state: &AppState, base_url: &str, a: &Advisory) -> Result<Value, AppError> {
    let cve_id = first_cve(a).ok_or(AppError::NotFound("CVE id of this advisory"))?;
    let (org_id, short_name) = match state.store.cve_id(cve_id).await {
        Ok(held) => {
            if held.state == CveState::Published
                && let Some(record) = cve::record_of(&state.store, &held)
                    .await
                    .map_err(|e| AppError::Internal(Box::new(e)))?
            {
                return Ok(record);
            }
            (
                uuid_of(&held.owning_org_id).unwrap_or_else(|| PLATFORM_ORG_UUID.into()),
                held.owning_short_name,
            )
        }
        Err(StoreError::NotFound(_)) => (PLATFORM_ORG_UUID.into(), PLATFORM_SHORT_NAME.into()),
        Err(e) => return Err(e.into()),
    };
    let options = CveOptions {
        cve_id: cve_id.to_owned(),
        org_id,
        short_name,
        date_published: a.published_at,
        date_updated: a.updated_at,
        references: vec![format!("{base_url}/advisories/{}", a.id)],
    };
    advisory_to_cve(a, &options).map_err(|e| AppError::Conflict(e.to_string()))
}
