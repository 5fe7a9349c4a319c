//! Case pages: the timeline of every event, participants with their per-vulnerability status,
//! the embargo, messages, and why a public advisory would (or would not) pass the publication
//! gates now.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use maud::html;
use serde_json::Value;
use vulnshare_core::gate::{PublicationRequest, check_publication};
use vulnshare_core::sharing::can_read_case;
use vulnshare_core::tlp::Tlp;

use super::layout::tlp_badge;
use super::{Page, PostedForm, WebResult, WebUser, fmt_time};
use crate::AppState;
use crate::error::AppResult;
use crate::service::{self, NewMessage};

pub(crate) async fn list(State(state): State<AppState>, user: WebUser) -> WebResult {
    let actor = user.actor();
    let scope = if actor.is_staff() {
        None
    } else {
        Some(actor.org_id.as_str())
    };
    let now = state.clock.now();
    let mut cases = Vec::new();
    for id in state.store.case_ids(scope, 200).await? {
        let case = state.store.case(&id).await?;
        if can_read_case(actor, &case, now).is_ok() {
            cases.push(case);
        }
    }
    let body = html! {
        h1 { "Cases" }
        @if cases.is_empty() { p.muted { "No cases you take part in." } } @else {
            div.table-wrap { table id="case-list" {
                thead { tr { th { "Case" } th { "Title" } th { "TLP" } th { "State" } th { "Embargo ends" } } }
                tbody { @for c in &cases { tr {
                    td { a href={ "/cases/" (c.id) } { (c.id) } }
                    td { (c.title) } td { (tlp_badge(c.tlp)) } td { (format!("{:?}", c.state).to_lowercase()) }
                    td { @if let Some(e) = &c.embargo { (e.local_end()) } @else { "—" } }
                } } }
            } }
        }
    };
    Ok(Page::new("Cases").body(body).render(Some(&user)))
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let case = service::read_case(&state, user.actor(), &id).await?;
    let messages = service::messages(&state, user.actor(), &id).await?;
    let advisories = state.store.advisories_of_case(&id).await?;
    let now = state.clock.now();
    let mut names = BTreeMap::new();
    for p in &case.participants {
        let name = state
            .store
            .organization(&p.org_id)
            .await
            .map(|o| o.name)
            .unwrap_or_else(|_| p.org_id.clone());
        names.insert(p.org_id.clone(), name);
    }
    let visible_messages: HashSet<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    let mut objects = vec![("case", case.id.as_str())];
    objects.extend(advisories.iter().map(|a| ("advisory", a.id.as_str())));
    let (events, truncated) = timeline(&state, &objects, &visible_messages).await?;
    for e in &events {
        if let Some(org) = &e.actor_org
            && !names.contains_key(org)
        {
            let found = state.store.organization(org).await.map(|o| o.name);
            names.insert(org.clone(), found.unwrap_or_else(|_| org.clone()));
        }
    }
    let name = |org: &str| names.get(org).cloned().unwrap_or_else(|| org.to_owned());
    let fix = service::fix_available(&state, &case).await?;
    let gates = check_publication(&PublicationRequest {
        now,
        tlp: Tlp::Clear,
        fix_available: fix,
        remediation: Some("(the remediation given when publishing)"),
        attachments: &[],
        embargo: case.embargo.as_ref(),
        regulator_approved_early: case.early_publication_approved_at.is_some(),
        restricted_until: case.restricted_until,
    });
    let silent = case.silent_vendors();
    let body = html! {
        h1 { (case.id) ": " (case.title) }
        p { (tlp_badge(case.tlp)) " · " (format!("{:?}", case.state).to_lowercase()) " · reports: "
            @for r in &case.report_ids { a href={ "/reports/" (r) } { (r) } " " } }
        h2 { "Embargo" }
        @if let Some(e) = &case.embargo {
            p id="embargo" { "Ends " strong { (e.local_end()) } " (" (fmt_time(e.ends_at, &user.tz)) " your time)"
                @if e.in_force(now) { " — in force" } @else { " — ended" } }
        } @else { p.muted { "No embargo." } }
        h2 { "Publication gates (CN Art. 9) for a public advisory now" }
        @match &gates {
            Ok(()) => { p.ok id="gates" { "A TLP:CLEAR advisory with a remediation would pass every gate now." } }
            Err(refusals) => {
                div id="gates" {
                    p { "A TLP:CLEAR advisory would be refused now:" }
                    ul { @for r in refusals { li { (r.to_string()) } } }
                    p.muted { "Sharing at TLP:AMBER or GREEN is governed by TLP, not by these gates." }
                }
            }
        }
        h2 { "Participants and vendor status" }
        div.table-wrap { table id="participants" {
            thead { tr { th { "Organization" } th { "Role" } th { "Vulnerability" } th { "Status" } th { "Statement" } } }
            tbody {
                @for p in &case.participants {
                    @let responses: Vec<_> = case.vendor_responses.iter().filter(|r| r.org_id == p.org_id).collect();
                    @if responses.is_empty() {
                        tr { td { (name(&p.org_id)) } td { (format!("{:?}", p.role).to_lowercase()) } td { "—" } td { "—" } td { "" } }
                    }
                    @for r in responses {
                        tr { td { (name(&p.org_id)) } td { (format!("{:?}", p.role).to_lowercase()) } td { (r.vulnerability) }
                            td { (format!("{:?}", r.status).to_lowercase()) @if silent.contains(&p.org_id.as_str()) { " " span.late { "(no answer yet)" } } }
                            td { (r.statement.as_deref().unwrap_or("")) } }
                    }
                }
            }
        } }
        h2 { "Timeline" }
        p.muted { "Every event of the case and its advisories as the audit log recorded it." }
        ol.timeline id="timeline" { @for e in &events {
            li data-action=(e.action) {
                time datetime=(e.at) { (fmt_time(e.at, &user.tz)) } " — " (e.describe(&name))
                @if let Some(org) = &e.actor_org { span.muted { " · by " (name(org)) } }
                span.muted { " · audit #" (e.seq) }
            }
        } }
        @if truncated { p.muted { "Only the first " (TIMELINE_LIMIT) " events of each object are shown." } }
        h2 { "Messages" }
        @for m in &messages {
            article.message {
                p.muted { (name(&m.author_org_id)) " · " (fmt_time(m.created_at, &user.tz))
                    @if let vulnshare_core::case::MessageAudience::Organizations { org_ids } = &m.audience { " · to " (org_ids.iter().map(|o| name(o)).collect::<Vec<_>>().join(", ")) } }
                p { (m.body) }
            }
        }
        form.stack method="post" action={ "/cases/" (case.id) "/messages" } {
            input type="hidden" name="csrf" value=(user.csrf);
            label for="body" { "New message to all participants" }
            textarea id="body" name="body" required maxlength="20000" {}
            button type="submit" { "Post message" }
        }
        h2 { "Advisories" }
        @if vulnshare_core::sharing::can_coordinate(user.actor(), &case).is_ok() {
            details open[advisories.is_empty()] {
                summary { "Publish an advisory" }
                form.stack method="post" action={ "/cases/" (case.id) "/advisory" } id="publish-form" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    label for="adv-tlp" { "Sharing (TLP)" }
                    select id="adv-tlp" name="tlp" {
                        option value="AMBER" { "TLP:AMBER (the case's participants)" }
                        option value="GREEN" { "TLP:GREEN (active members)" }
                        option value="CLEAR" { "TLP:CLEAR (public)" }
                    }
                    label for="adv-summary" { "Summary" }
                    input id="adv-summary" name="summary" required maxlength="300";
                    label for="adv-details" { "Details" }
                    textarea id="adv-details" name="details" {}
                    label for="adv-remediation" { "Fix or mitigation" }
                    textarea id="adv-remediation" name="remediation" {}
                    button type="submit" { "Publish" }
                }
            }
        }
        ul { @for a in &advisories { li { a href={ "/advisories/" (a.id) } { (a.id) } " " (tlp_badge(a.tlp)) } } }
    };
    Ok(Page::new(case.id.clone()).body(body).render(Some(&user)))
}

/// `POST /cases/{id}/messages`.
pub(crate) async fn post_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    service::post_message(
        &state,
        user.actor(),
        &id,
        NewMessage {
            body: form.get("body").to_owned(),
            audience: None,
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

/// `POST /cases/{id}/advisory`: publishes through the same service (and gates) as the API; a
/// refusal is shown with every gate that failed.
pub(crate) async fn publish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let opt = |k: &str| Some(form.get(k).to_owned()).filter(|v| !v.is_empty());
    let new: vulnshare_core::advisory::NewAdvisory = serde_json::from_value(serde_json::json!({
        "tlp": form.get("tlp"), "summary": form.get("summary"),
        "details": opt("details"), "remediation": opt("remediation"),
    }))
    .map_err(|e| crate::error::AppError::field("tlp", e.to_string()))?;
    let (advisory, _) = service::publish(&state, user.actor(), &id, new).await?;
    Ok(Redirect::to(&format!("/advisories/{}", advisory.id)).into_response())
}

/// Most audit entries the timeline reads for one object (the case or one advisory).
const TIMELINE_LIMIT: i64 = 1000;

/// One line of a case's timeline: an audit entry of the case or of one of its advisories.
struct TimelineEvent {
    seq: i64,
    at: Timestamp,
    action: String,
    object_id: String,
    actor_org: Option<String>,
    details: Value,
}

impl TimelineEvent {
    /// What happened, in words, with organization ids turned into names by `name`.
    fn describe(&self, name: &dyn Fn(&str) -> String) -> String {
        let d = &self.details;
        let text = |k: &str| d[k].as_str().unwrap_or("").to_owned();
        match self.action.as_str() {
            "case.open" => format!("Case opened ({})", tlp_label(&d["tlp"])),
            "case.participant" => {
                format!("{} joined as {}", name(&text("org_id")), text("role"))
            }
            "case.vendor_status" => format!(
                "{} stated {} for {}",
                name(&text("vendor")),
                text("status").replace('_', " "),
                text("vulnerability")
            ),
            "case.embargo" => match d["embargo"]["ends_at"].as_str() {
                Some(end) => format!("Embargo set to end {end}"),
                None => "Embargo lifted".into(),
            },
            "case.early_publication_approved" => "Regulator approved early publication".into(),
            "case.message" => "Message posted".into(),
            "case.attachment" => format!(
                "Attachment {} added{}",
                text("name"),
                if d["exploit_code"] == true {
                    " (exploit code)"
                } else {
                    ""
                }
            ),
            "advisory.publish" => format!(
                "Advisory {} published ({})",
                self.object_id,
                tlp_label(&d["tlp"])
            ),
            "advisory.withdraw" => {
                format!("Advisory {} withdrawn: {}", self.object_id, text("reason"))
            }
            other => other.replace(['.', '_'], " "),
        }
    }
}

fn tlp_label(tlp: &Value) -> String {
    format!("TLP:{}", tlp.as_str().unwrap_or("?"))
}

/// The audit log's entries for `objects`, oldest first; message events only for messages in
/// `visible_messages` (a message to some participants is not announced to the others). The
/// flag says whether an object had more than [`TIMELINE_LIMIT`] entries.
async fn timeline(
    state: &AppState,
    objects: &[(&str, &str)],
    visible_messages: &HashSet<&str>,
) -> AppResult<(Vec<TimelineEvent>, bool)> {
    let mut events = Vec::new();
    let mut truncated = false;
    for &(object_type, object_id) in objects {
        let entries = state
            .store
            .audit_entries(0, TIMELINE_LIMIT + 1, Some((object_type, object_id)))
            .await?;
        truncated |= entries.len() as i64 > TIMELINE_LIMIT;
        for entry in entries.into_iter().take(TIMELINE_LIMIT as usize) {
            let details: Value = serde_json::from_str(&entry.event.details).unwrap_or(Value::Null);
            if entry.event.action == "case.message"
                && !details["message_id"]
                    .as_str()
                    .is_some_and(|id| visible_messages.contains(id))
            {
                continue;
            }
            events.push(TimelineEvent {
                seq: entry.seq,
                at: entry.at,
                action: entry.event.action,
                object_id: entry.event.object_id,
                actor_org: entry.event.actor_org_id,
                details,
            });
        }
    }
    events.sort_by_key(|e| e.seq);
    Ok((events, truncated))
}
