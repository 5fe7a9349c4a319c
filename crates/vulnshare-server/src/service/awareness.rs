//! Upstream notifications on record: a member says it notified the provider of an upstream
//! product or component. That fulfils its duty to notify upstream without delay and proves
//! when it knew, which starts its reporting clocks if no report of its own did.

use serde::Serialize;
use serde_json::json;
use vulnshare_core::awareness::{NewUpstreamNotification, UpstreamNotification};
use vulnshare_core::compliance::{FulfillingEvent, fulfilled_by};
use vulnshare_core::obligation::{AwarenessProof, Obligation, TriggerEvent};
use vulnshare_core::policy::Actor;
use vulnshare_core::regime::Trigger;
use vulnshare_core::report::{ReportKind, is_report_id};
use vulnshare_store::VulnerabilityKeys;

use super::audit_event_by;
use super::obligation::{
    by, check_against_earlier_reports, create_obligations, facts_for, fulfil_obligation, is_open,
    roles_for,
};
use super::regime::regimes_for;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// An upstream notification on record, with the obligations it created or fulfilled.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamRecorded {
    /// The record.
    pub notification: UpstreamNotification,
    /// The recording member's obligations about it, after this request.
    pub obligations: Vec<Obligation>,
}

/// Records that the caller's organization notified an upstream provider. This proves when it
/// knew (starting its reporting clocks if no report of its own did) and fulfils its duty to
/// notify upstream without delay.
pub async fn record_upstream_notification(
    state: &AppState,
    actor: &Actor,
    body: NewUpstreamNotification,
) -> AppResult<UpstreamRecorded> {
    actor.can_file_reports()?;
    let now = state.clock.now();
    let mut content = body.validate(now)?;
    let mut tx = state.store.begin_write().await?;
    let report = match content.report_id.clone() {
        Some(id) => {
            let found = if is_report_id(&id) {
                tx.report(&id).await.ok()
            } else {
                None
            };
            match found {
                Some(r) if r.reporter_org_id == actor.org_id => Some(r),
                _ => return Err(AppError::NotFound("report")),
            }
        }
        None => None,
    };
    if let Some(r) = &report {
        if content.aliases.is_empty() {
            content.aliases = r.content.aliases.clone();
        }
        if content.packages.is_empty() {
            content.packages = r
                .content
                .affected_packages
                .iter()
                .map(|p| vulnshare_core::awareness::PackageName {
                    ecosystem: p.ecosystem,
                    name: p.name.clone(),
                })
                .collect();
        }
        content.kind = content.kind.or(Some(r.content.kind));
    }
    let who = by(Some(actor));
    let n = tx
        .insert_upstream_notification(&actor.org_id, &content, &actor.user_id, now)
        .await?;
    tx.audit(
        now,
        audit_event_by(
            who,
            "upstream_notification.record",
            "upstream_notification",
            &n.id,
            json!({"notified_org": content.notified_org, "notified_at": content.notified_at,
                   "aware_at": n.aware_at(), "report_id": content.report_id}),
        ),
    )
    .await?;
    let org = tx.organization(&actor.org_id).await?;
    let regimes = regimes_for(&mut tx, &org).await?;
    // A submitted report of the member already carries its clocks; otherwise this record does.
    let subject = match &report {
        Some(r) if r.received_at.is_some() => r.id.clone(),
        _ => {
            let kind = content.kind.unwrap_or(ReportKind::ThirdPartyObservation);
            let trigger = TriggerEvent {
                kind: Trigger::Aware,
                at: n.aware_at(),
                party_org: org.id.clone(),
                roles: roles_for(kind),
                subject: n.id.clone(),
                facts: facts_for(&org, kind, content.exploitation.unwrap_or_default()),
            };
            create_obligations(&mut tx, &regimes, &trigger, None, now, who).await?;
            n.id.clone()
        }
    };
    for rec in tx.obligations_about(&org.id, &subject).await? {
        let ob = rec.obligation;
        if is_open(&ob)
            && fulfilled_by(&ob.terms.rule_id) == Some(FulfillingEvent::UpstreamNotification)
        {
            fulfil_obligation(
                &mut tx,
                &regimes,
                &ob,
                content.notified_at,
                &n.id,
                &[],
                now,
                who,
            )
            .await?;
        }
    }
    if subject == n.id {
        let proof = AwarenessProof::UpstreamNotification {
            notified_org: n.content.notified_org.clone(),
            at: n.content.notified_at,
        };
        let keys = VulnerabilityKeys::of_upstream(&n.content);
        check_against_earlier_reports(&mut tx, &org.id, &n.id, &keys, proof, None, now, who)
            .await?;
    }
    let obligations = tx
        .obligations_about(&org.id, &subject)
        .await?
        .into_iter()
        .map(|r| r.obligation)
        .collect();
    tx.commit().await?;
    Ok(UpstreamRecorded {
        notification: n,
        obligations,
    })
}
