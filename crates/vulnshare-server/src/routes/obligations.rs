//! Compliance views: an organization's obligations with countdowns, the platform-wide view
//! for the regulator (overdue list, on-time rate, median lateness), violations, and recording
//! an upstream notification. Lists export as JSON or CSV (`?format=csv`).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use vulnshare_core::awareness::NewUpstreamNotification;
use vulnshare_core::compliance::{countdown, summarize};
use vulnshare_core::obligation::{Obligation, ObligationStatus, evaluate};
use vulnshare_store::ObligationRecord;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Query};
use crate::service;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    format: Option<String>,
    status: Option<String>,
}

/// Whether the caller asked for CSV.
fn wants_csv(format: Option<&str>) -> AppResult<bool> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(AppError::field(
            "format",
            format!("unknown format {other:?}; use json or csv"),
        )),
    }
}

fn csv_cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // Cells starting with a formula character are prefixed so spreadsheets show them as text.
    let text = if text.starts_with(['=', '+', '-', '@']) && value.is_string() {
        format!("'{text}")
    } else {
        text
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Renders rows (JSON objects) as CSV with the given columns.
fn csv(columns: &[&str], rows: &[Value], filename: &str) -> Response {
    let mut out = columns.join(",");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = columns.iter().map(|c| csv_cell(&row[*c])).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        out,
    )
        .into_response()
}

const OBLIGATION_COLUMNS: &[&str] = &[
    "id",
    "party_org",
    "regime_id",
    "regime_version",
    "rule_id",
    "article",
    "subject",
    "state",
    "trigger_at",
    "due_at",
    "due_at_local",
    "seconds_remaining",
    "days_late",
    "missing_content",
];

/// The status to show at `now`: the stored one, except that a pending obligation past its
/// deadline shows as overdue before the sweeper gets to it.
pub(crate) fn status_at(ob: &Obligation, now: Timestamp) -> ObligationStatus {
    match &ob.status {
        ObligationStatus::Pending => evaluate(ob, now),
        other => other.clone(),
    }
}

/// One obligation as the views show it: the record, its state at `now`, countdown and checklist.
pub(crate) fn obligation_row(rec: &ObligationRecord, now: Timestamp) -> Value {
    let ob = &rec.obligation;
    let current = status_at(ob, now);
    let state = match &current {
        ObligationStatus::Pending => "pending",
        ObligationStatus::Met { .. } => "met",
        ObligationStatus::Overdue => "overdue",
        ObligationStatus::Waived { .. } => "waived",
    };
    let days_late = match &current {
        ObligationStatus::Met { days_late, .. } => *days_late,
        ObligationStatus::Overdue => ob.days_late_at(now),
        _ => None,
    };
    let missing: Vec<String> = ob
        .checklist()
        .into_iter()
        .filter(|c| !c.present)
        .map(|c| c.item)
        .collect();
    let mut row = serde_json::to_value(rec).unwrap_or_default();
    let c = countdown(ob, now);
    row["state"] = json!(state);
    row["seconds_remaining"] = json!(c.seconds_remaining);
    row["due_at_local"] = json!(c.due_at_local);
    row["last_day_local"] = json!(c.last_day_local);
    row["days_late"] = json!(days_late);
    row["checklist"] = json!(ob.checklist());
    row["missing_content"] = if matches!(current, ObligationStatus::Met { .. }) {
        json!(missing.join(";"))
    } else {
        json!(ob.terms.required_content.join(";"))
    };
    row
}

/// `GET /organizations/{id}/obligations`: the organization's obligations with countdowns.
pub(crate) async fn of_organization(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<String>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    caller.actor.can_read_obligations(&org_id)?;
    let csv_out = wants_csv(q.format.as_deref())?;
    if q.status
        .as_deref()
        .is_some_and(|s| !["pending", "met", "overdue", "waived"].contains(&s))
    {
        return Err(AppError::field(
            "status",
            "use pending, met, overdue or waived",
        ));
    }
    state.store.organization(&org_id).await?;
    let now = state.clock.now();
    let rows: Vec<Value> = state
        .store
        .obligations_of(&org_id, q.status.as_deref())
        .await?
        .iter()
        .map(|r| obligation_row(r, now))
        .collect();
    if csv_out {
        return Ok(csv(OBLIGATION_COLUMNS, &rows, "obligations.csv"));
    }
    Ok(axum::Json(json!({"now": now, "items": rows})).into_response())
}

const COMPLIANCE_COLUMNS: &[&str] = &[
    "organization_id",
    "organization_name",
    "with_deadline",
    "met_on_time",
    "met_late",
    "overdue",
    "pending",
    "waived",
    "on_time_rate",
    "median_lateness_secs",
];

/// `GET /compliance`: the regulator's platform-wide view.
pub(crate) async fn platform(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    caller.actor.can_read_compliance()?;
    let csv_out = wants_csv(q.format.as_deref())?;
    if q.status.is_some() {
        return Err(AppError::field("status", "not a filter of this view"));
    }
    let now = state.clock.now();
    let records = state.store.all_obligations().await?;
    let obligations: Vec<_> = records.iter().map(|r| r.obligation.clone()).collect();
    let mut names = BTreeMap::new();
    let mut organizations = Vec::new();
    for entry in summarize(&obligations, now) {
        let name = state
            .store
            .organization(&entry.organization_id)
            .await
            .map(|o| o.name)
            .unwrap_or_default();
        names.insert(entry.organization_id.clone(), name.clone());
        let mut row = serde_json::to_value(&entry).unwrap_or_default();
        row["organization_name"] = json!(name);
        organizations.push(row);
    }
    if csv_out {
        return Ok(csv(COMPLIANCE_COLUMNS, &organizations, "compliance.csv"));
    }
    let overdue: Vec<Value> = records
        .iter()
        .filter(|r| status_at(&r.obligation, now) == ObligationStatus::Overdue)
        .map(|r| {
            let mut row = obligation_row(r, now);
            row["party_org_name"] = json!(names.get(&r.obligation.terms.party_org));
            row
        })
        .collect();
    Ok(
        axum::Json(json!({"now": now, "organizations": organizations, "overdue": overdue}))
            .into_response(),
    )
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ViolationQuery {
    organization: Option<String>,
    format: Option<String>,
}

const VIOLATION_COLUMNS: &[&str] = &[
    "id",
    "party_org",
    "regime_id",
    "rule_id",
    "article",
    "subject",
    "due_at",
    "measured_at",
    "days_late",
    "evidence_kind",
    "recorded_at",
];

/// `GET /violations`: recorded violations (regulator).
pub(crate) async fn violations(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ViolationQuery>,
) -> AppResult<Response> {
    caller.actor.can_read_compliance()?;
    let csv_out = wants_csv(q.format.as_deref())?;
    let items: Vec<Value> = state
        .store
        .violations(q.organization.as_deref())
        .await?
        .iter()
        .map(|v| {
            let mut row = serde_json::to_value(v).unwrap_or_default();
            row["evidence_kind"] = row["evidence"]["kind"].clone();
            row
        })
        .collect();
    if csv_out {
        return Ok(csv(VIOLATION_COLUMNS, &items, "violations.csv"));
    }
    Ok(axum::Json(json!({"items": items})).into_response())
}

/// `POST /upstream-notifications`: records that the caller's organization notified an
/// upstream provider.
pub(crate) async fn record_upstream(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewUpstreamNotification>,
) -> AppResult<impl IntoResponse> {
    let recorded = service::record_upstream_notification(&state, &caller.actor, body).await?;
    Ok((StatusCode::CREATED, axum::Json(recorded)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell(&json!("a,b")), "\"a,b\"");
        assert_eq!(csv_cell(&json!("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell(&json!("=cmd()")), "'=cmd()");
        assert_eq!(csv_cell(&json!(-3)), "-3");
        assert_eq!(csv_cell(&Value::Null), "");
    }
}
