//! The regulator's console: platform-wide compliance (on-time rate per organization, the
//! overdue list), reports over time as a server-drawn SVG chart, violations and sanction
//! decisions (suspensions and reinstatements among them).

use std::collections::BTreeMap;

use axum::extract::State;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use maud::{Markup, html};
use vulnshare_core::compliance::summarize;
use vulnshare_core::obligation::ObligationStatus;
use vulnshare_store::{ReportFilter, ReportScope};

use super::dashboard::obligation_table;
use super::{Page, PostedForm, WebResult, WebUser, fmt_time};
use crate::AppState;
use crate::routes::obligations::{obligation_row, status_at};

/// Most reports counted for the chart (pages of 200).
const CHART_REPORT_LIMIT: usize = 20_000;
/// Months shown in the chart.
const CHART_MONTHS: usize = 12;

pub(crate) async fn console(State(state): State<AppState>, user: WebUser) -> WebResult {
    user.actor().can_read_compliance()?;
    let now = state.clock.now();
    let records = state.store.all_obligations().await?;
    let obligations: Vec<_> = records.iter().map(|r| r.obligation.clone()).collect();
    let summary = summarize(&obligations, now);
    let orgs = state.store.organizations(None, 200).await?;
    let names: BTreeMap<String, String> = orgs
        .iter()
        .map(|o| (o.id.clone(), o.name.clone()))
        .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let overdue: Vec<_> = records
        .iter()
        .filter(|r| status_at(&r.obligation, now) == ObligationStatus::Overdue)
        .map(|r| {
            let mut row = obligation_row(r, now);
            row["subject"] = serde_json::json!(format!(
                "{} — {}",
                name(&r.obligation.terms.party_org),
                r.obligation.terms.subject
            ));
            row
        })
        .collect();
    let violations = state.store.violations(None).await?;
    let mut sanctions = Vec::new();
    for o in &orgs {
        sanctions.extend(state.store.sanctions_of(&o.id).await?);
    }
    sanctions.sort_by_key(|s| std::cmp::Reverse(s.decided_at));
    let received = received_times(&state).await?;
    let body = html! {
        h1 { "Regulator console" }
        p.muted { "Platform-wide, at " (fmt_time(now, &user.tz)) ". CSV: "
            a href="/api/v1/compliance?format=csv" { "compliance" } ", " a href="/api/v1/violations?format=csv" { "violations" } " (API token)." }
        h2 { "Reports received per month" }
        (monthly_chart(&received, now, &user.tz))
        h2 { "On-time rate per organization" }
        div.table-wrap { table id="compliance-table" {
            thead { tr { th { "Organization" } th { "With deadline" } th { "On time" } th { "Late" } th { "Overdue" } th { "Pending" } th { "On-time rate" } } }
            tbody { @for e in &summary { tr {
                td { (name(&e.organization_id)) }
                td { (e.with_deadline) } td { (e.met_on_time) } td { (e.met_late) }
                td.overdue[e.overdue > 0] { (e.overdue) } td { (e.pending) }
                td { @if let Some(r) = e.on_time_rate { (format!("{:.0} %", r * 100.0)) } @else { "—" } }
            } } }
        } }
        h2 id="overdue" { "Overdue (" (overdue.len()) ")" }
        (obligation_table(&overdue, now, &user))
        h2 { "Violations (" (violations.len()) ")" }
        @if violations.is_empty() { p.muted { "None recorded." } } @else {
            div.table-wrap { table id="violation-table" {
                thead { tr { th { "Organization" } th { "Rule" } th { "Subject" } th { "Due" } th { "Days late" } th { "Recorded" } } }
                tbody { @for v in &violations { tr {
                    td { (name(&v.violation.party_org)) }
                    td { (v.violation.regime_id) " " (v.violation.article) }
                    td { (v.violation.subject) }
                    td { (fmt_time(v.violation.due_at, &user.tz)) }
                    td.overdue { (v.violation.days_late) }
                    td { (fmt_time(v.recorded_at, &user.tz)) }
                } } }
            } }
        }
        h2 { "Sanction decisions, suspensions and reinstatements" }
        @if sanctions.is_empty() { p.muted { "No decisions yet." } } @else {
            div.table-wrap { table id="sanction-table" {
                thead { tr { th { "Organization" } th { "Decision" } th { "From" } th { "Until" } th { "Reason" } } }
                tbody { @for s in &sanctions { tr {
                    td { (name(&s.organization_id)) }
                    td { (s.kind.as_str()) @if let Some(m) = s.months { " (" (m) " months)" } }
                    td { (fmt_time(s.effective_from, &user.tz)) }
                    td { @if let Some(u) = s.effective_until { (fmt_time(u, &user.tz)) } @else { "—" } }
                    td { (s.reason) }
                } } }
            } }
        }
        h2 { "Decide a sanction" }
        form.stack method="post" action="/regulator/sanctions" id="sanction-form" {
            input type="hidden" name="csrf" value=(user.csrf);
            label for="sanction-org" { "Organization" }
            select id="sanction-org" name="org" { @for o in &orgs { option value=(o.id) { (o.name) } } }
            label for="sanction-kind" { "Decision" }
            select id="sanction-kind" name="kind" {
                option value="warning" { "Warning" } option value="suspension" { "Suspension" }
                option value="reinstatement" { "Reinstatement" } option value="expulsion" { "Expulsion" }
            }
            label for="sanction-months" { "Months (suspension)" }
            input id="sanction-months" name="months" type="number" min="1" max="60";
            label for="sanction-reason" { "Reason" }
            textarea id="sanction-reason" name="reason" required {}
            button type="submit" { "Record the decision" }
        }
        h2 { "Memberships" }
        ul { @for o in &orgs { li { (o.name) ": " (format!("{:?}", o.membership).split(['{', ' ', '(']).next().unwrap_or("").to_lowercase()) } } }
    };
    Ok(Page::new("Regulator console")
        .body(body)
        .render(Some(&user)))
}

/// When every submitted report was received (newest first, bounded).
async fn received_times(state: &AppState) -> Result<Vec<Timestamp>, crate::error::AppError> {
    let scope = ReportScope::Staff {
        own_org: String::new(),
    };
    let mut cursor = None;
    let mut out = Vec::new();
    loop {
        let page = state
            .store
            .reports(&scope, &ReportFilter::default(), cursor, 200)
            .await?;
        out.extend(page.items.iter().filter_map(|r| r.received_at));
        match page.next_cursor {
            Some(c) if out.len() < CHART_REPORT_LIMIT => cursor = Some(c),
            _ => break,
        }
    }
    Ok(out)
}

/// Counts per calendar month (in `tz`) for the last [`CHART_MONTHS`] months up to `now`.
pub(crate) fn monthly_counts(
    times: &[Timestamp],
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<(String, usize)> {
    let current = now.to_zoned(tz.clone());
    let mut months: Vec<(i16, i8)> = Vec::new();
    let (mut y, mut m) = (current.year(), current.month());
    for _ in 0..CHART_MONTHS {
        months.push((y, m));
        (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    }
    months.reverse();
    months
        .iter()
        .map(|&(y, m)| {
            let n = times
                .iter()
                .filter(|t| {
                    let z = t.to_zoned(tz.clone());
                    z.year() == y && z.month() == m
                })
                .count();
            (format!("{y}-{m:02}"), n)
        })
        .collect()
}

/// A bar chart as inline SVG (presentation attributes only, so the page's CSP needs no inline
/// styles), with a text table for screen readers.
fn monthly_chart(times: &[Timestamp], now: Timestamp, tz: &TimeZone) -> Markup {
    let counts = monthly_counts(times, now, tz);
    let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let (w, h, pad, bar) = (
        640.0_f64,
        220.0_f64,
        30.0_f64,
        640.0_f64 / CHART_MONTHS as f64,
    );
    html! {
        figure {
            svg.chart id="reports-chart" viewBox={ "0 0 " (w) " " (h + 40.0) } role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg" {
                title id="chart-title" { "Reports received per month, last " (CHART_MONTHS) " months" }
                line x1="0" y1=(h) x2=(w) y2=(h) stroke="#444" stroke-width="1" {}
                @for (i, (label, n)) in counts.iter().enumerate() {
                    @let bh = (*n as f64 / max as f64) * (h - pad);
                    @let x = i as f64 * bar + 6.0;
                    rect.bar x=(x) y=(h - bh) width=(bar - 12.0) height=(bh) fill="#0b4f9c" {
                        title { (label) ": " (n) }
                    }
                    text x=(x + (bar - 12.0) / 2.0) y=(h - bh - 4.0) text-anchor="middle" font-size="12" fill="#111" { (n) }
                    text x=(x + (bar - 12.0) / 2.0) y=(h + 16.0) text-anchor="middle" font-size="10" fill="#111" { (&label[2..]) }
                }
            }
            figcaption.muted { "Months in " (tz.iana_name().unwrap_or("UTC")) "." }
        }
        details { summary { "Chart data" } table { thead { tr { th { "Month" } th { "Reports" } } }
            tbody { @for (label, n) in &counts { tr { td { (label) } td { (n) } } } } } }
    }
}

/// `POST /regulator/sanctions`: the regulator's decision, through the same service as
/// `POST /api/v1/organizations/{id}/sanctions`.
pub(crate) async fn decide(
    State(state): State<AppState>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let months = match form.get("months") {
        "" => None,
        m => Some(
            m.parse::<u32>()
                .map_err(|_| crate::error::AppError::field("months", "a whole number of months"))?,
        ),
    };
    let request: vulnshare_core::sanction::SanctionRequest =
        serde_json::from_value(serde_json::json!({
            "kind": form.get("kind"), "months": months, "reason": form.get("reason"),
        }))
        .map_err(|e| crate::error::AppError::field("kind", e.to_string()))?;
    crate::service::decide_sanction(&state, user.actor(), form.get("org"), request).await?;
    Ok(axum::response::IntoResponse::into_response(
        axum::response::Redirect::to("/regulator"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_counted_in_the_viewers_zone() {
        let now: Timestamp = "2021-12-09T08:00:00Z".parse().unwrap();
        let times: Vec<Timestamp> = [
            "2021-11-30T17:00:00Z",
            "2021-12-01T01:00:00Z",
            "2020-12-31T00:00:00Z",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let utc = monthly_counts(&times, now, &TimeZone::UTC);
        assert_eq!(utc.len(), 12);
        assert_eq!(utc[11], ("2021-12".into(), 1));
        assert_eq!(utc[10], ("2021-11".into(), 1));
        assert_eq!(
            utc[0],
            ("2021-01".into(), 0),
            "December 2020 is out of range"
        );
        let shanghai = monthly_counts(&times, now, &TimeZone::get("Asia/Shanghai").unwrap());
        assert_eq!(
            shanghai[11],
            ("2021-12".into(), 2),
            "17:00 UTC on Nov 30 is Dec 1 in Shanghai"
        );
    }
}
