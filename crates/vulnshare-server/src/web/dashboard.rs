//! The member dashboard: my organization's open obligations with countdowns (in my zone and
//! the deadline's own), my reports and my exposures.

use axum::extract::State;
use jiff::Timestamp;
use maud::{Markup, html};
use serde_json::Value;
use vulnshare_store::{ReportFilter, ReportScope};

use super::layout::{countdown, tlp_badge};
use super::{Page, WebResult, WebUser, fmt_time};
use crate::AppState;
use crate::routes::obligations::obligation_row;

/// Most reports shown on the dashboard (the rest are a search away).
const RECENT_REPORTS: i64 = 50;

pub(crate) async fn page(State(state): State<AppState>, user: WebUser) -> WebResult {
    let now = state.clock.now();
    let org_id = user.actor().org_id.clone();
    let obligations: Vec<Value> = if user.actor().can_read_obligations(&org_id).is_ok() {
        state
            .store
            .obligations_of(&org_id, None)
            .await?
            .iter()
            .map(|r| obligation_row(r, now))
            .filter(|row| matches!(row["state"].as_str(), Some("pending" | "overdue")))
            .collect()
    } else {
        Vec::new()
    };
    let reports = state
        .store
        .reports(
            &ReportScope::Organization(org_id.clone()),
            &ReportFilter::default(),
            None,
            RECENT_REPORTS,
        )
        .await?
        .items;
    let exposures = if user.actor().can_read_products(&org_id).is_ok() {
        state.store.exposures_of(&org_id).await?
    } else {
        Vec::new()
    };
    let overdue = obligations
        .iter()
        .filter(|o| o["state"] == "overdue")
        .count();
    let body = html! {
        h1 { "Dashboard" }
        p.muted {
            (user.caller.organization.name) " · times in "
            strong { (user.tz.iana_name().unwrap_or("UTC")) }
            " (your browser's zone) and in each deadline's own zone · server time "
            (fmt_time(now, &user.tz))
        }
        @if !user.actor().membership_active {
            p.problem role="alert" { "Your organization's membership is suspended: you can file reports, but shared information other than TLP:CLEAR is closed to you." }
        }
        div.cards {
            div.card { div.n id="count-open" { (obligations.len()) } "open obligations" }
            div.card { div.n.overdue[overdue > 0] id="count-overdue" { (overdue) } "overdue" }
            div.card { div.n { (reports.len()) } "reports" }
            div.card { div.n { (exposures.len()) } "exposures" }
        }
        h2 id="obligations" { "My open obligations" }
        (obligation_table(&obligations, now, &user))
        h2 { "My reports" }
        @if reports.is_empty() {
            p { "No reports yet. " a href="/reports/new" { "File one" } "." }
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Report" } th { "Title" } th { "State" } th { "TLP" } th { "Received" } } }
                tbody {
                    @for r in &reports {
                        tr {
                            td { a href={ "/reports/" (r.id) } { (r.id) } }
                            td { (r.content.title) }
                            td { (r.state.as_str()) }
                            td { (tlp_badge(r.content.tlp)) }
                            td { @if let Some(t) = r.received_at { (fmt_time(t, &user.tz)) } @else { span.muted { "draft" } } }
                        }
                    }
                }
            } }
        }
        h2 { "My exposures" }
        @if exposures.is_empty() {
            p.muted { "No component of your uploaded SBOMs matches a published advisory. " a href="/sboms" { "Upload an SBOM" } "." }
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Advisory" } th { "Product version" } th { "Component" } th { "Found" } } }
                tbody {
                    @for e in &exposures {
                        tr {
                            td { a href={ "/advisories/" (e.advisory_id) } { (e.advisory_id) } }
                            td { (e.product_id) " " (e.product_version) }
                            td { (e.ecosystem) " " (e.name) " " (e.version) }
                            td { (fmt_time(e.created_at, &user.tz)) }
                        }
                    }
                }
            } }
        }
    };
    Ok(Page::new("Dashboard").body(body).render(Some(&user)))
}

/// Obligations as a table: the deadline in the viewer's zone and in the rule's zone, a live
/// countdown and the content still required.
pub(crate) fn obligation_table(rows: &[Value], now: Timestamp, user: &WebUser) -> Markup {
    if rows.is_empty() {
        return html! { p.muted id="no-obligations" { "No open obligations." } };
    }
    html! {
        div.table-wrap { table id="obligation-table" {
            thead { tr {
                th scope="col" { "Duty" } th scope="col" { "Subject" } th scope="col" { "Due (your zone)" }
                th scope="col" { "Due (deadline's zone)" } th scope="col" { "Time left" } th scope="col" { "State" }
            } }
            tbody {
                @for row in rows {
                    @let due: Option<Timestamp> = row["due_at"].as_str().and_then(|s| s.parse().ok());
                    @let subject = row["subject"].as_str().unwrap_or("");
                    @let state = row["state"].as_str().unwrap_or("");
                    tr.obligation data-state=(state) {
                        td {
                            strong { (row["regime_id"].as_str().unwrap_or("")) " " (row["article"].as_str().unwrap_or("")) }
                            br; (row["duty"].as_str().unwrap_or(""))
                        }
                        td { @if subject.starts_with("VS-") { a href={ "/reports/" (subject) } { (subject) } } @else { (subject) } }
                        td { @if let Some(d) = due { (fmt_time(d, &user.tz)) } @else { "without delay" } }
                        td {
                            (row["due_at_local"].as_str().map(in_own_zone).unwrap_or_else(|| "—".into()))
                            br; span.muted { (row["time_zone"].as_str().unwrap_or("")) }
                        }
                        td { @if let Some(d) = due { (countdown(d, now)) } @else { "—" } }
                        td class=(state) { (state) }
                    }
                }
            }
        } }
    }
}

/// A deadline as the API gives it in its own zone (`2026-03-05T00:00:00+08:00[Asia/Shanghai]`),
/// written for people: `2026-03-05 00:00 CST`.
fn in_own_zone(text: &str) -> String {
    match text.parse::<jiff::Zoned>() {
        Ok(z) => z.strftime("%Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => text.to_owned(),
    }
}
