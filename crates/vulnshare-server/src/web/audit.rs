//! The audit log viewer, with the chain's verification status.

use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

use super::{Page, WebResult, WebUser, fmt_time};
use crate::AppState;

#[derive(Debug, Deserialize, Default)]
pub(crate) struct AuditQuery {
    after: Option<i64>,
}

/// Audit entries per page.
const AUDIT_PAGE: i64 = 100;

/// `GET /audit[?after=SEQ]`: the log, and whether the whole chain verifies.
pub(crate) async fn page(
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
