//! Publishing advisories from cases (through the publication gates), reading them under TLP,
//! withdrawing them, and matching them against every uploaded SBOM.

use serde::Deserialize;
use serde_json::json;
use vulnshare_core::advisory::{
    Advisory, AdvisoryState, NewAdvisory, PublishedAttachment, assemble,
};
use vulnshare_core::case::CaseState;
use vulnshare_core::exposure::AdvisoryIndex;
use vulnshare_core::gate::{AttachmentFlags, PublicationRequest, check_publication};
use vulnshare_core::policy::{Actor, Denied};
use vulnshare_core::sharing::{advisory_read_without_case, can_coordinate, can_read_advisory};
use vulnshare_store::{ExposureRecord, WriteTx};

use super::audit_event;
use super::case::{fix_available, read_case};
use crate::AppState;
use crate::error::{AppError, AppResult};

/// Publishes the case's advisory, after every publication gate passes; then finds every
/// uploaded SBOM it affects.
pub async fn publish(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    new: NewAdvisory,
) -> AppResult<(Advisory, usize)> {
    let case = read_case(state, actor, case_id).await?;
    can_coordinate(actor, &case)?;
    let new = new.validate()?;
    let now = state.clock.now();
    let fix = fix_available(state, &case).await?;
    let case_attachments = state.store.attachments_of(&case.id).await?;
    let mut published_attachments = Vec::new();
    let mut flags = Vec::new();
    for (i, id) in new.attachments.iter().enumerate() {
        let a = case_attachments
            .iter()
            .find(|a| &a.id == id)
            .ok_or_else(|| {
                AppError::field(
                    format!("attachments[{i}]"),
                    "not an attachment of this case",
                )
            })?;
        flags.push(AttachmentFlags {
            name: a.name.clone(),
            exploit_code: a.exploit_code,
        });
        published_attachments.push(PublishedAttachment {
            id: a.id.clone(),
            name: a.name.clone(),
            sha256: a.sha256.clone(),
        });
    }
    let gate = PublicationRequest {
        now,
        tlp: new.tlp,
        fix_available: fix,
        remediation: new.remediation.as_deref(),
        attachments: &flags,
        embargo: case.embargo.as_ref(),
        regulator_approved_early: case.early_publication_approved_at.is_some(),
        restricted_until: case.restricted_until,
    };
    if let Err(refusals) = check_publication(&gate) {
        return Err(AppError::Conflict(format!(
            "publication refused: {}",
            refusals
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let mut reports = Vec::new();
    for id in &case.report_ids {
        reports.push(state.store.report(id).await?);
    }
    let contents: Vec<_> = reports.iter().map(|r| &r.content).collect();
    let mut tx = state.store.begin_write().await?;
    let id = tx.next_advisory_id(now).await?;
    let mut advisory = assemble(&id, &case.id, new, &contents, now);
    advisory.attachments = published_attachments;
    tx.save_advisory(&advisory, Some(&actor.user_id), "published")
        .await?;
    tx.set_case_state(&case.id, CaseState::Published, now)
        .await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "advisory.publish",
            "advisory",
            &id,
            json!({"case_id": case.id, "tlp": advisory.tlp}),
        ),
    )
    .await?;
    let exposed = match_advisory(state, &mut tx, &advisory, reports.first()).await?;
    crate::outbox::on_advisory_published(state, &mut tx, &advisory).await?;
    tx.commit().await?;
    Ok((advisory, exposed))
}

/// Records exposures of `advisory` in every uploaded SBOM, notifying each exposed organization
/// once and starting its duties as an affected provider; returns how many exposures were new.
pub(crate) async fn match_advisory(
    state: &AppState,
    tx: &mut WriteTx,
    advisory: &Advisory,
    report: Option<&vulnshare_core::report::Report>,
) -> AppResult<usize> {
    let (index, _skipped) =
        AdvisoryIndex::build([(advisory.id.as_str(), advisory.affected_packages.as_slice())]);
    let now = state.clock.now();
    let mut new_exposures = 0;
    let mut notified = std::collections::BTreeSet::new();
    for package in &advisory.affected_packages {
        for (sbom, component) in state
            .store
            .components_named(package.ecosystem, &package.name)
            .await?
        {
            if index
                .advisories_for(component.ecosystem, &component.name, &component.version)
                .is_empty()
            {
                continue;
            }
            let record = ExposureRecord {
                advisory_id: advisory.id.clone(),
                sbom_id: sbom.id.clone(),
                organization_id: sbom.organization_id.clone(),
                product_id: sbom.product_id.clone(),
                product_version: sbom.product_version.clone(),
                ecosystem: component.ecosystem.as_str().to_owned(),
                name: component.name.clone(),
                version: component.version.clone(),
                created_at: now,
            };
            if tx.add_exposure(&record, component.position).await? {
                new_exposures += 1;
                notified.insert(sbom.organization_id.clone());
                let detail = json!({"product_id": record.product_id, "product_version": record.product_version, "component": format!("{}@{}", record.name, record.version)});
                crate::outbox::on_exposure(
                    state,
                    tx,
                    &record.organization_id,
                    &record.product_id,
                    advisory,
                    detail,
                )
                .await?;
            }
        }
    }
    for org_id in notified {
        let payload = json!({"advisory_id": advisory.id, "summary": advisory.summary, "aliases": advisory.aliases});
        if tx
            .notify(
                &org_id,
                None,
                "advisory.exposure",
                &advisory.id,
                &payload,
                now,
            )
            .await?
        {
            if let Some(r) = report {
                super::on_platform_notified(tx, &org_id, r, now).await?;
            }
            // The exposed organization takes part in the case as a vendor, so that it can
            // read the (non-public) advisory and state its status.
            let participant = vulnshare_core::case::Participant {
                org_id: org_id.clone(),
                role: vulnshare_core::case::ParticipantRole::Vendor,
                named_users: vec![],
                tracking_id: None,
                joined_at: now,
            };
            let case = state.store.case(&advisory.case_id).await?;
            if !case.is_participant(&org_id) {
                tx.upsert_participant(&advisory.case_id, &participant)
                    .await?;
                for v in &case.report_ids {
                    tx.upsert_vendor_response(
                        &advisory.case_id,
                        &vulnshare_core::case::VendorResponse::awaiting(&org_id, v),
                    )
                    .await?;
                }
            }
        }
    }
    Ok(new_exposures)
}

/// Reads an advisory the caller (or an anonymous visitor, for TLP:CLEAR) may see.
pub async fn read_advisory(
    state: &AppState,
    actor: Option<&Actor>,
    id: &str,
) -> AppResult<Advisory> {
    let advisory = state
        .store
        .advisory(id)
        .await
        .map_err(|_| AppError::NotFound("advisory"))?;
    let case = state.store.case(&advisory.case_id).await?;
    can_read_advisory(actor, &advisory, &case).map_err(|d| match d {
        Denied::Hidden => AppError::NotFound("advisory"),
        other => other.into(),
    })?;
    Ok(advisory)
}

/// The advisories the caller may see, newest first, at most `limit` of them. The store is read
/// in pages until `limit` readable ones are found or none are left, so advisories the caller
/// may not read never hide older ones it may.
pub async fn list_advisories(
    state: &AppState,
    actor: Option<&Actor>,
    limit: i64,
) -> AppResult<Vec<Advisory>> {
    const PAGE: i64 = 500;
    let mut out = Vec::new();
    let mut check = AdvisoryReadCheck::new(state, actor);
    let mut offset = 0;
    loop {
        let page = state.store.advisories(PAGE, offset).await?;
        let last = (page.len() as i64) < PAGE;
        offset += PAGE;
        for a in page {
            if check.may_read(&a).await? {
                out.push(a);
                if out.len() as i64 >= limit {
                    return Ok(out);
                }
            }
        }
        if last {
            return Ok(out);
        }
    }
}

/// Decides which advisories one caller may read, reading each advisory's case at most once
/// (and not at all for TLP:CLEAR, which everyone may read).
pub struct AdvisoryReadCheck<'a> {
    state: &'a AppState,
    actor: Option<&'a Actor>,
    catalog: Option<&'a super::AdvisoryCatalog>,
    cases: std::collections::HashMap<String, std::sync::Arc<vulnshare_core::case::Case>>,
}

impl<'a> AdvisoryReadCheck<'a> {
    /// A check for `actor` (`None`: an anonymous caller, who reads TLP:CLEAR only).
    pub fn new(state: &'a AppState, actor: Option<&'a Actor>) -> AdvisoryReadCheck<'a> {
        AdvisoryReadCheck {
            state,
            actor,
            catalog: None,
            cases: std::collections::HashMap::new(),
        }
    }

    /// The same check, taking cases from `catalog`'s copies where it has them.
    pub fn with_catalog(mut self, catalog: &'a super::AdvisoryCatalog) -> AdvisoryReadCheck<'a> {
        self.catalog = Some(catalog);
        self
    }

    /// Whether the caller may read `a`, by the same rules as [`read_advisory`].
    pub async fn may_read(&mut self, a: &Advisory) -> AppResult<bool> {
        if let Some(decided) = advisory_read_without_case(self.actor, a) {
            return Ok(decided.is_ok());
        }
        if !self.cases.contains_key(&a.case_id) {
            let case = match self.catalog {
                Some(catalog) => catalog.case(self.state, &a.case_id).await?,
                None => std::sync::Arc::new(self.state.store.case(&a.case_id).await?),
            };
            self.cases.insert(a.case_id.clone(), case);
        }
        Ok(can_read_advisory(self.actor, a, &self.cases[&a.case_id]).is_ok())
    }
}

/// A withdrawal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Why.
    pub reason: String,
}

/// Withdraws an advisory (a new version, marked withdrawn, with the reason).
pub async fn withdraw(
    state: &AppState,
    actor: &Actor,
    id: &str,
    w: Withdrawal,
) -> AppResult<Advisory> {
    let mut advisory = read_advisory(state, Some(actor), id).await?;
    let case = state.store.case(&advisory.case_id).await?;
    can_coordinate(actor, &case)?;
    let mut c = vulnshare_core::validation::Collector::default();
    let reason = c.text("reason", &w.reason, 5000);
    c.finish(())?;
    if advisory.state == AdvisoryState::Withdrawn {
        return Err(AppError::Conflict(format!(
            "advisory {id} is already withdrawn"
        )));
    }
    let now = state.clock.now();
    advisory.state = AdvisoryState::Withdrawn;
    advisory.withdrawn_reason = Some(reason);
    advisory.version += 1;
    advisory.updated_at = now;
    let mut tx = state.store.begin_write().await?;
    tx.save_advisory(&advisory, Some(&actor.user_id), "withdrawn")
        .await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "advisory.withdraw",
            "advisory",
            id,
            json!({"reason": advisory.withdrawn_reason}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(advisory)
}
