//! Regulator decisions: warning, suspension for N months, expulsion, reinstatement. The new
//! membership takes effect in the same transaction, so the member's next request is already
//! judged under it.

use serde_json::json;
use vulnshare_core::policy::Actor;
use vulnshare_core::sanction::{SanctionDecision, SanctionError, SanctionRequest};
use vulnshare_store::new_sanction_id;

use super::audit_event;
use crate::AppState;
use crate::error::{AppError, AppResult};

impl From<SanctionError> for AppError {
    fn from(e: SanctionError) -> Self {
        match e {
            SanctionError::Reason => AppError::field("reason", e.to_string()),
            SanctionError::Months => AppError::field("months", e.to_string()),
            SanctionError::NothingToReinstate | SanctionError::Expelled => {
                AppError::Conflict(e.to_string())
            }
        }
    }
}

/// Records a regulator's decision about `org_id` and applies it to the membership.
pub async fn decide_sanction(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    request: SanctionRequest,
) -> AppResult<SanctionDecision> {
    actor.can_decide_sanctions()?;
    let known = state.store.violations(Some(org_id)).await?;
    for (i, id) in request.violation_ids.iter().enumerate() {
        if !known.iter().any(|v| &v.id == id) {
            return Err(AppError::field(
                format!("violation_ids[{i}]"),
                format!("{id:?} is not a violation of this organization"),
            ));
        }
    }
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    let org = tx.organization(org_id).await?;
    let id = new_sanction_id();
    let (membership, until) = request.apply(&org.membership, now, &id)?;
    let decision = SanctionDecision {
        id,
        organization_id: org.id.clone(),
        kind: request.kind,
        months: request.months,
        reason: request.reason.trim().to_owned(),
        violation_ids: request.violation_ids.clone(),
        decided_by: actor.user_id.clone(),
        decided_by_org_id: actor.org_id.clone(),
        decided_at: now,
        effective_from: now,
        effective_until: until,
    };
    if membership != org.membership {
        tx.set_membership(&org.id, &membership).await?;
    }
    tx.insert_sanction(&decision).await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "sanction.decide",
            "organization",
            &org.id,
            json!({"decision": decision.id, "kind": decision.kind, "months": decision.months,
                   "reason": decision.reason, "violations": decision.violation_ids,
                   "membership": membership.status(), "until": until}),
        ),
    )
    .await?;
    tx.notify(
        &org.id,
        None,
        "sanction.decided",
        &decision.id,
        &json!({"kind": decision.kind, "months": decision.months, "reason": decision.reason, "until": until}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(decision)
}
