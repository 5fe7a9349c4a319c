//! Publishing advisories from cases (through the publication gates), reading them under TLP,
//! withdrawing them, and matching them against every uploaded SBOM.

use serde::Deserialize;
use serde_json::json;
use vulnshare_core::advisory::{
    Advisory, AdvisoryState, NewAdvisory, PublishedAttachment, assemble,
};
use vulnshare_core::case::CaseState;
use vulnshare_core::gate::{AttachmentFlags, PublicationRequest, check_publication};
use vulnshare_core::policy::{Actor, Denied};
use vulnshare_core::sharing::{advisory_read_without_case, can_coordinate, can_read_advisory};

use super::audit_event;
use super::case::{fix_available, read_case};
use super::matching::MatchingProgress;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// Publishes the case's advisory, after every publication gate passes; then matches it against
/// every uploaded SBOM (see [`super::matching`]): for a moment in this request, the rest in the
/// background.
pub async fn publish(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    new: NewAdvisory,
) -> AppResult<(Advisory, MatchingProgress)> {
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
    tx.start_matching(&advisory.id, now).await?;
    crate::outbox::on_advisory_published(state, &mut tx, &advisory).await?;
    tx.commit().await?;
    let progress = super::matching::match_after_publication(state, &advisory.id).await;
    Ok((advisory, progress))
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
