//! Filing, editing and moving reports, and issuing their receipts.

use ed25519_dalek::SigningKey;
use serde::Deserialize;
use serde_json::json;
use vulnshare_core::policy::{Actor, Denied};
use vulnshare_core::receipt::Receipt;
use vulnshare_core::report::{Report, ReportContent, ReportState, check_transition, is_report_id};

use super::audit_event;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// A report with the receipt issued when it was submitted in this request.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Filed {
    /// The report as stored.
    pub report: Report,
    /// The signed receipt, when the report was submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// Files a report as a draft, or submits it at once when `submit` is set (through this node's
/// [`super::SubmissionQueue`], which writes many submissions to one transaction).
pub async fn create_report(
    state: &AppState,
    actor: &Actor,
    content: ReportContent,
    submit: bool,
) -> AppResult<Filed> {
    actor.can_file_reports()?;
    let now = state.clock.now();
    let content = content.validate(now)?;
    if submit {
        content.check_submittable()?;
        let report = state.submissions.submit(state, actor, content).await?;
        let receipt = issue_receipt(&state.signing_key, &report);
        return Ok(Filed { report, receipt });
    }
    let mut tx = state.store.begin_write().await?;
    let report = tx
        .create_report(
            &actor.org_id,
            &actor.user_id,
            &content,
            ReportState::Draft,
            None,
            now,
        )
        .await?;
    audit_created(&mut tx, actor, &report, now).await?;
    tx.commit().await?;
    Ok(Filed {
        report,
        receipt: None,
    })
}

/// Files a report and submits it at once, received at `received_at` (read from the clock under
/// the audit head): stored as submitted (no second write), with what a submission sets off.
pub(super) async fn file_submitted(
    tx: &mut vulnshare_store::WriteTx,
    actor: &Actor,
    content: &ReportContent,
    received_at: jiff::Timestamp,
) -> AppResult<Report> {
    let report = tx
        .create_report(
            &actor.org_id,
            &actor.user_id,
            content,
            ReportState::Submitted,
            Some(received_at),
            received_at,
        )
        .await?;
    audit_created(tx, actor, &report, received_at).await?;
    submitted(tx, actor, &report, received_at).await?;
    Ok(report)
}

async fn audit_created(
    tx: &mut vulnshare_store::WriteTx,
    actor: &Actor,
    report: &Report,
    now: jiff::Timestamp,
) -> AppResult<()> {
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "report.create",
            "report",
            &report.id,
            json!({"title": report.content.title, "content_hash": report.content.content_hash()}),
        ),
    )
    .await?;
    Ok(())
}

/// Sets `received_at` from the server clock as the last act before commit, and audits it.
async fn mark_submitted(
    state: &AppState,
    tx: &mut vulnshare_store::WriteTx,
    actor: &Actor,
    mut report: Report,
) -> AppResult<Report> {
    let received_at = state.clock.now();
    report.state = ReportState::Submitted;
    report.received_at = Some(received_at);
    tx.set_report_state(&report, received_at).await?;
    report.updated_at = received_at;
    submitted(tx, actor, &report, received_at).await?;
    Ok(report)
}

/// Audits a submission and starts what it sets off (duties, correlation).
async fn submitted(
    tx: &mut vulnshare_store::WriteTx,
    actor: &Actor,
    report: &Report,
    received_at: jiff::Timestamp,
) -> AppResult<()> {
    tx.audit(
        received_at,
        audit_event(
            Some(actor),
            "report.submit",
            "report",
            &report.id,
            json!({"content_hash": report.content.content_hash(), "received_at": received_at}),
        ),
    )
    .await?;
    super::on_report_submitted(tx, Some(actor), report, received_at).await
}

/// The receipt of a submitted report. Signatures are deterministic, so re-issuing gives the
/// same receipt every time.
pub fn issue_receipt(key: &SigningKey, report: &Report) -> Option<Receipt> {
    report
        .received_at
        .map(|at| Receipt::issue(key, &report.id, &report.content.content_hash(), at))
}

/// Reads a report the caller may see.
pub async fn read_report(state: &AppState, actor: &Actor, id: &str) -> AppResult<Report> {
    if !is_report_id(id) {
        return Err(AppError::NotFound("report"));
    }
    let report = state.store.report(id).await?;
    check_report_read(state, actor, &report).await?;
    Ok(report)
}

async fn check_report_read(state: &AppState, actor: &Actor, report: &Report) -> AppResult<()> {
    match actor.can_read_report(&report.reporter_org_id, report.state) {
        Ok(()) => Ok(()),
        Err(Denied::Hidden) if report.state != ReportState::Draft => {
            let participant = is_participant(state, actor, report).await?;
            actor.can_read_shared(report.content.tlp, participant)?;
            Ok(())
        }
        Err(denied) => Err(denied.into()),
    }
}

/// Whether the caller may read `report` under the same rules as [`read_report`].
pub(crate) async fn may_read_report(
    state: &AppState,
    actor: &Actor,
    report: &Report,
) -> AppResult<bool> {
    match check_report_read(state, actor, report).await {
        Ok(()) => Ok(true),
        Err(AppError::NotFound(_) | AppError::Forbidden(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the caller's organization takes part in a report: it owns a registered product the
/// report names as affected. (Case participants join this with coordinated disclosure.)
async fn is_participant(state: &AppState, actor: &Actor, report: &Report) -> AppResult<bool> {
    for product_id in report
        .content
        .affected_products
        .iter()
        .filter_map(|p| p.product_id.as_deref())
    {
        match state.store.product(product_id).await {
            Ok(p) if p.organization_id == actor.org_id => return Ok(true),
            Ok(_) | Err(vulnshare_store::StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// Replaces the content of a draft.
pub async fn update_draft(
    state: &AppState,
    actor: &Actor,
    id: &str,
    content: ReportContent,
) -> AppResult<Report> {
    let existing = read_report(state, actor, id).await?;
    actor.can_edit_report(&existing.reporter_org_id)?;
    let now = state.clock.now();
    let content = content.validate(now)?;
    let mut tx = state.store.begin_write().await?;
    let current = tx.report(id).await?;
    if current.state != ReportState::Draft {
        return Err(AppError::Conflict(format!(
            "report {id} is {} and can no longer be edited; its submitted content is what the receipt attests",
            current.state.as_str()
        )));
    }
    tx.update_report_content(id, &content, now).await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "report.update",
            "report",
            id,
            json!({"content_hash": content.content_hash()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Report {
        content,
        updated_at: now,
        ..current
    })
}

/// A request to move a report to another state.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The target state.
    pub to: ReportState,
    /// Why (required for `rejected`).
    #[serde(default)]
    pub reason: Option<String>,
    /// The original report (required for `duplicate`).
    #[serde(default)]
    pub duplicate_of: Option<String>,
}

/// Moves a report through its life cycle; submitting returns a receipt.
pub async fn transition(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: Transition,
) -> AppResult<Filed> {
    let visible = read_report(state, actor, id).await?;
    let now = state.clock.now();
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    if reason.as_ref().is_some_and(|r| r.chars().count() > 5000) {
        return Err(AppError::field("reason", "must be at most 5000 characters"));
    }
    let mut tx = state.store.begin_write().await?;
    // Re-read under the write lock: the state may have moved since the visibility check.
    let mut report = tx.report(id).await?;
    debug_assert_eq!(report.reporter_org_id, visible.reporter_org_id);
    let who = actor.transition_actor(&report.reporter_org_id, report.state)?;
    check_transition(report.state, request.to, who)?;
    match request.to {
        ReportState::Submitted => {
            report.content.check_submittable()?;
            report = mark_submitted(state, &mut tx, actor, report).await?;
            tx.commit().await?;
            let receipt = issue_receipt(&state.signing_key, &report);
            return Ok(Filed { report, receipt });
        }
        ReportState::Rejected => {
            let Some(reason) = reason.clone() else {
                return Err(AppError::field("reason", "a rejection gives its reason"));
            };
            report.rejection_reason = Some(reason);
        }
        ReportState::Duplicate => {
            let original = request
                .duplicate_of
                .as_deref()
                .filter(|d| is_report_id(d))
                .ok_or_else(|| {
                    AppError::field(
                        "duplicate_of",
                        "name the original report, e.g. VS-2021-00001",
                    )
                })?;
            if original == report.id {
                return Err(AppError::field(
                    "duplicate_of",
                    "a report cannot duplicate itself",
                ));
            }
            tx.report(original).await.map_err(|_| {
                AppError::field("duplicate_of", format!("report {original} does not exist"))
            })?;
            report.duplicate_of = Some(original.to_owned());
        }
        _ => {}
    }
    let from = report.state;
    report.state = request.to;
    report.updated_at = now;
    tx.set_report_state(&report, now).await?;
    if report.state == ReportState::FixAvailable {
        super::on_fix_available(&mut tx, Some(actor), &report, now).await?;
    }
    tx.audit(
        now,
        audit_event(Some(actor), "report.transition", "report", &report.id, json!({"from": from, "to": report.state, "reason": reason, "duplicate_of": report.duplicate_of})),
    )
    .await?;
    tx.commit().await?;
    Ok(Filed {
        report,
        receipt: None,
    })
}
