//! Obligations end to end: events on the platform (a report submitted, a fix available, an
//! upstream notification recorded) become trigger events for the core engine; the obligations
//! it generates are stored, fulfilled by later events, and checked against third parties'
//! reports of the same vulnerability. Everything runs inside the caller's write transaction,
//! so an obligation never exists without the event (and audit entry) that created it.

use jiff::Timestamp;
use serde_json::json;
use vulnshare_core::awareness::UpstreamNotification;
use vulnshare_core::compliance::{FulfillingEvent, fulfilled_by, missing_content};
use vulnshare_core::obligation::{
    AwarenessProof, NewObligation, Obligation, ObligationStatus, ThirdPartyReport, TriggerEvent,
    Violation, fulfil, generate, violation_from_third_party, violation_of,
};
use vulnshare_core::organization::{Membership, Organization};
use vulnshare_core::policy::Actor;
use vulnshare_core::regime::{Party, Regime, ReportFacts, Trigger};
use vulnshare_core::report::{ExploitationStatus, Report, ReportKind};
use vulnshare_store::{CorrelatedReport, ObligationRecord, VulnerabilityKeys, WriteTx};

use super::audit_event_by;
use super::regime::regimes_for;
use crate::error::AppResult;

/// Who caused a change, for the audit log (`None`: the platform itself).
pub(super) type By<'a> = Option<(&'a str, &'a str)>;

pub(super) fn by(actor: Option<&Actor>) -> By<'_> {
    actor.map(|a| (a.user_id.as_str(), a.org_id.as_str()))
}

/// The roles an organization has towards a vulnerability it reports, by report kind.
pub(super) fn roles_for(kind: ReportKind) -> Vec<Party> {
    match kind {
        ReportKind::OwnProduct | ReportKind::UpstreamComponent => {
            vec![Party::Reporter, Party::AffectedProvider]
        }
        ReportKind::ThirdPartyObservation | ReportKind::Threat => vec![Party::Reporter],
    }
}

pub(super) fn facts_for(
    org: &Organization,
    kind: ReportKind,
    exploitation: ExploitationStatus,
) -> ReportFacts {
    ReportFacts {
        kind: Some(kind),
        exploitation: Some(exploitation),
        country: Some(org.country.clone()),
        incident: Default::default(),
        // Suspended members keep their duties; expelled organizations have none left.
        platform_member: !matches!(org.membership, Membership::Expelled { .. }),
    }
}

/// Stores the obligations `trigger` creates under `regimes`; returns those newly created.
pub(super) async fn create_obligations(
    tx: &mut WriteTx,
    regimes: &[Regime],
    trigger: &TriggerEvent,
    report_id: Option<&str>,
    now: Timestamp,
    who: By<'_>,
) -> AppResult<Vec<Obligation>> {
    store_obligations(tx, &generate(regimes, trigger), report_id, now, who).await
}

/// Stores generated obligations (one statement) with an audit entry each; returns those that
/// were not already on record.
async fn store_obligations(
    tx: &mut WriteTx,
    new: &[NewObligation],
    report_id: Option<&str>,
    now: Timestamp,
    who: By<'_>,
) -> AppResult<Vec<Obligation>> {
    let mut created = Vec::new();
    for (new, ob) in new
        .iter()
        .zip(tx.insert_obligations(new, report_id, now).await?)
    {
        let Some(ob) = ob else { continue };
        tx.audit(
            now,
            audit_event_by(
                who,
                "obligation.create",
                "obligation",
                &ob.id,
                json!({"regime": new.regime_id, "rule": new.rule_id, "party_org": new.party_org,
                       "subject": new.subject, "trigger_at": new.trigger_at, "due_at": new.due_at}),
            ),
        )
        .await?;
        created.push(ob);
    }
    Ok(created)
}

/// Records a violation once per obligation, audits it and tells the organization.
async fn record_violation(
    tx: &mut WriteTx,
    violation: &Violation,
    now: Timestamp,
    who: By<'_>,
) -> AppResult<Option<String>> {
    let Some(id) = tx.insert_violation(violation, now).await? else {
        return Ok(None);
    };
    tx.audit(
        now,
        audit_event_by(
            who,
            "violation.record",
            "violation",
            &id,
            json!({"obligation": violation.obligation_id, "party_org": violation.party_org,
                   "days_late": violation.days_late, "article": violation.article}),
        ),
    )
    .await?;
    tx.notify(
        &violation.party_org,
        None,
        "violation.recorded",
        &id,
        &json!({"obligation_id": violation.obligation_id, "article": violation.article,
                "days_late": violation.days_late, "due_at": violation.due_at}),
        now,
    )
    .await?;
    Ok(Some(id))
}

/// Marks an open obligation met by `by_id` at `at`; a late fulfilment records a violation and
/// a met duty starts the follow-up duties of its regime.
#[allow(clippy::too_many_arguments)]
pub(super) async fn fulfil_obligation(
    tx: &mut WriteTx,
    regimes: &[Regime],
    ob: &Obligation,
    at: Timestamp,
    by_id: &str,
    missing: &[String],
    now: Timestamp,
    who: By<'_>,
) -> AppResult<()> {
    let status = fulfil(ob, at, by_id, missing);
    if status == ob.status {
        return Ok(());
    }
    tx.set_obligation_status(&ob.id, &status, now).await?;
    tx.audit(
        now,
        audit_event_by(
            who,
            "obligation.met",
            "obligation",
            &ob.id,
            json!({"status": status}),
        ),
    )
    .await?;
    let met = Obligation {
        status,
        ..ob.clone()
    };
    if let Some(v) = violation_of(&met, now) {
        record_violation(tx, &v, now, who).await?;
    }
    if let Some(follow_up) = met.follow_up_trigger() {
        create_obligations(tx, regimes, &follow_up, None, now, who).await?;
    }
    Ok(())
}

pub(super) fn is_open(ob: &Obligation) -> bool {
    matches!(
        ob.status,
        ObligationStatus::Pending | ObligationStatus::Overdue
    )
}

/// A report was submitted at `received_at`: its reporter's duties start at `aware_at`, the
/// report fulfils its duty to report to the platform (and the same member's earlier duties
/// about the same vulnerability), and it is checked as third-party evidence against members
/// who knew earlier.
pub(crate) async fn on_report_submitted(
    tx: &mut WriteTx,
    actor: Option<&Actor>,
    report: &Report,
    received_at: Timestamp,
) -> AppResult<()> {
    let who = by(actor);
    let org = tx.organization(&report.reporter_org_id).await?;
    let regimes = regimes_for(tx, &org).await?;
    let trigger = TriggerEvent {
        kind: Trigger::Aware,
        at: report.content.aware_at.unwrap_or(received_at),
        party_org: org.id.clone(),
        roles: roles_for(report.content.kind),
        subject: report.id.clone(),
        facts: facts_for(&org, report.content.kind, report.content.exploitation),
    };
    // Duties the member already has about this vulnerability (from an upstream notification
    // it recorded) are not created twice: this report fulfils those instead.
    let keys = VulnerabilityKeys::of_report(report);
    // Read once: nothing below changes which reports or notifications match.
    let (notifications, others) = if keys.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            tx.upstream_notifications_matching(&keys).await?,
            tx.reports_matching_of_others(&keys, &org.id).await?,
        )
    };
    // The member's duties this report may fulfil: those it has from upstream notifications it
    // recorded about the same vulnerability, then those about the report itself. Reading each
    // subject once is enough: nothing below but fulfilment changes them, and a follow-up duty
    // is about the same subject as the duty it follows, after that subject was read.
    let mut about = Vec::new();
    for n in &notifications {
        if n.organization_id == org.id {
            about.extend(tx.obligations_about(&org.id, &n.id).await?);
        }
    }
    let new: Vec<NewObligation> = generate(&regimes, &trigger)
        .into_iter()
        .filter(|n| {
            !about.iter().any(|r| {
                let terms = &r.obligation.terms;
                terms.regime_id == n.regime_id && terms.rule_id == n.rule_id
            })
        })
        .collect();
    store_obligations(tx, &new, Some(&report.id), received_at, who).await?;
    let about_report = tx.obligations_about(&org.id, &report.id).await?;
    // Someone else reported it between this member's awareness and this report: that is the
    // evidence the member was late, measured to the other report.
    let aware_at = trigger.at;
    if let Some(third) = earliest_after(&others, aware_at, Some(received_at)) {
        let proof = AwarenessProof::MemberAwareAt { at: aware_at };
        breach_in(tx, &about_report, proof, &third, received_at, who).await?;
    }
    about.extend(about_report);
    for rec in about {
        let ob = rec.obligation;
        if is_open(&ob) && fulfilled_by(&ob.terms.rule_id) == Some(FulfillingEvent::PlatformReport)
        {
            let missing = missing_content(&report.content, &ob.terms.required_content);
            fulfil_obligation(
                tx,
                &regimes,
                &ob,
                received_at,
                &report.id,
                &missing,
                received_at,
                who,
            )
            .await?;
        }
    }
    correlate(tx, report, &others, &notifications, received_at, who).await
}

/// A third party's report (`report`, received at `received_at`) of a vulnerability that other
/// members demonstrably knew of earlier: their own reports' `aware_at`, or upstream
/// notifications on record. Each reporting duty they missed becomes a violation.
async fn correlate(
    tx: &mut WriteTx,
    report: &Report,
    others: &[CorrelatedReport],
    notifications: &[UpstreamNotification],
    received_at: Timestamp,
    who: By<'_>,
) -> AppResult<()> {
    let third = ThirdPartyReport {
        report_id: report.id.clone(),
        org: report.reporter_org_id.clone(),
        received_at,
    };
    for other in others {
        let Some(aware) = other.aware_at else {
            continue;
        };
        if aware >= received_at {
            continue;
        }
        let proof = AwarenessProof::MemberAwareAt { at: aware };
        breach_from(
            tx,
            &other.reporter_org_id,
            &other.id,
            proof,
            &third,
            received_at,
            who,
        )
        .await?;
    }
    for n in notifications {
        if n.organization_id == report.reporter_org_id || n.aware_at() >= received_at {
            continue;
        }
        let proof = AwarenessProof::UpstreamNotification {
            notified_org: n.content.notified_org.clone(),
            at: n.content.notified_at,
        };
        breach_from(
            tx,
            &n.organization_id,
            &n.id,
            proof,
            &third,
            received_at,
            who,
        )
        .await?;
    }
    Ok(())
}

/// Checks `org_id`'s reporting duties about `subject` against a third party's report.
async fn breach_from(
    tx: &mut WriteTx,
    org_id: &str,
    subject: &str,
    proof: AwarenessProof,
    third: &ThirdPartyReport,
    now: Timestamp,
    who: By<'_>,
) -> AppResult<()> {
    let about = tx.obligations_about(org_id, subject).await?;
    breach_in(tx, &about, proof, third, now, who).await
}

/// [`breach_from`] over obligations already read.
async fn breach_in(
    tx: &mut WriteTx,
    about: &[ObligationRecord],
    proof: AwarenessProof,
    third: &ThirdPartyReport,
    now: Timestamp,
    who: By<'_>,
) -> AppResult<()> {
    for rec in about {
        let ob = &rec.obligation;
        if fulfilled_by(&ob.terms.rule_id) != Some(FulfillingEvent::PlatformReport) {
            continue;
        }
        if let Some(v) = violation_from_third_party(ob, proof.clone(), third.clone()) {
            record_violation(tx, &v, now, who).await?;
        }
    }
    Ok(())
}

/// A report moved to `fix_available` at `now`: its reporter's duty to fix is met, and
/// follow-up duties such as the CRA final report start where the enabled regimes say so.
pub(crate) async fn on_fix_available(
    tx: &mut WriteTx,
    actor: Option<&Actor>,
    report: &Report,
    now: Timestamp,
) -> AppResult<Vec<Obligation>> {
    let org = tx.organization(&report.reporter_org_id).await?;
    let regimes = regimes_for(tx, &org).await?;
    for rec in tx.obligations_about(&org.id, &report.id).await? {
        let ob = rec.obligation;
        if is_open(&ob) && fulfilled_by(&ob.terms.rule_id) == Some(FulfillingEvent::FixAvailable) {
            fulfil_obligation(tx, &regimes, &ob, now, &report.id, &[], now, by(actor)).await?;
        }
    }
    let trigger = TriggerEvent {
        kind: Trigger::FixAvailable,
        at: now,
        party_org: org.id.clone(),
        roles: roles_for(report.content.kind),
        subject: report.id.clone(),
        facts: facts_for(&org, report.content.kind, report.content.exploitation),
    };
    create_obligations(tx, &regimes, &trigger, Some(&report.id), now, by(actor)).await
}

/// The platform notified `provider_org_id` that `report` affects one of its products (by
/// product or SBOM component match) at `notified_at`: its duties as affected provider start
/// then. Called by product and SBOM matching.
pub async fn on_platform_notified(
    tx: &mut WriteTx,
    provider_org_id: &str,
    report: &Report,
    notified_at: Timestamp,
) -> AppResult<Vec<Obligation>> {
    let org = tx.organization(provider_org_id).await?;
    let regimes = regimes_for(tx, &org).await?;
    let trigger = TriggerEvent {
        kind: Trigger::PlatformNotified,
        at: notified_at,
        party_org: org.id.clone(),
        roles: vec![Party::AffectedProvider, Party::Operator],
        subject: report.id.clone(),
        facts: facts_for(&org, ReportKind::OwnProduct, report.content.exploitation),
    };
    create_obligations(tx, &regimes, &trigger, Some(&report.id), notified_at, None).await
}

/// A member's duties about `subject` start from awareness it proves after others had already
/// reported the vulnerability: the earliest report by another organization received after the
/// member knew (and before `before`, the member's own report) is the third-party evidence, so
/// lateness is measured to it rather than to the member's own, later report.
#[allow(clippy::too_many_arguments)]
pub(super) async fn check_against_earlier_reports(
    tx: &mut WriteTx,
    org_id: &str,
    subject: &str,
    keys: &VulnerabilityKeys,
    proof: AwarenessProof,
    before: Option<Timestamp>,
    now: Timestamp,
    who: By<'_>,
) -> AppResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let others = tx.reports_matching_of_others(keys, org_id).await?;
    breach_from_earliest(tx, org_id, subject, &others, proof, before, now, who).await
}

/// Records `org_id`'s breach about `subject` against the earliest of `others` received after
/// the member knew (`proof`) and before `before`, if any.
#[allow(clippy::too_many_arguments)]
async fn breach_from_earliest(
    tx: &mut WriteTx,
    org_id: &str,
    subject: &str,
    others: &[CorrelatedReport],
    proof: AwarenessProof,
    before: Option<Timestamp>,
    now: Timestamp,
    who: By<'_>,
) -> AppResult<()> {
    if let Some(third) = earliest_after(others, proof.aware_at(), before) {
        breach_from(tx, org_id, subject, proof, &third, now, who).await?;
    }
    Ok(())
}

/// The earliest of `others` received after `aware_at` (and before `before`, if given).
fn earliest_after(
    others: &[CorrelatedReport],
    aware_at: Timestamp,
    before: Option<Timestamp>,
) -> Option<ThirdPartyReport> {
    let mut earliest: Option<ThirdPartyReport> = None;
    for r in others {
        let Some(received) = r.received_at else {
            continue;
        };
        if received <= aware_at || before.is_some_and(|b| received >= b) {
            continue;
        }
        if earliest.as_ref().is_none_or(|e| received < e.received_at) {
            earliest = Some(ThirdPartyReport {
                report_id: r.id.clone(),
                org: r.reporter_org_id.clone(),
                received_at: received,
            });
        }
    }
    earliest
}
