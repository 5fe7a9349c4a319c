//! Matching a published advisory against every stored SBOM, in batches.
//!
//! On the day an advisory exposes thousands of members, recording every exposure, notification
//! and duty in the publishing transaction would hold the audit chain's head (and so every other
//! write on the platform) for as long as that takes. Publication records only where matching
//! starts; each batch then matches at most [`MATCH_BATCH`] stored components in its own short
//! write transaction, which also moves the cursor. The publishing request runs batches for a
//! moment (a small platform is done by the time it answers), then a task on its node carries
//! on, and every node's sweeper continues unfinished matchings (after a crash, say). Batches of
//! different runners take the head in turn and each continues from the cursor the last one
//! committed, so no component is matched twice; exposures are unique per (advisory, SBOM,
//! position) in any case.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use vulnshare_core::advisory::{Advisory, AdvisoryState};
use vulnshare_core::case::{Participant, ParticipantRole, VendorResponse};
use vulnshare_core::exposure::AdvisoryIndex;
use vulnshare_store::{ExposureRecord, SbomRecord, StoredComponent, WriteTx};

use super::audit_event_by;
use crate::AppState;
use crate::error::AppResult;

/// Stored components matched per batch (each may expose another member, whose notification,
/// duties and case participation are written in the same transaction). Every other write
/// waits while a batch holds the audit head: on the Log4Shell day each of these components is
/// an exposure of a member not yet notified. With 32, a draft written beside the matching of
/// 10,000 exposed members among 100,000 waited at most 181 ms (bench/log4shell-day).
pub const MATCH_BATCH: i64 = 32;

/// How a publication's matching is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchingConfig {
    /// How long the publishing request matches (at least one batch) before it answers.
    pub publish_budget: Duration,
    /// Whether a task on the publishing node carries on at once; otherwise the sweepers do.
    pub continue_in_background: bool,
}

impl Default for MatchingConfig {
    fn default() -> MatchingConfig {
        MatchingConfig {
            publish_budget: Duration::from_millis(200),
            continue_in_background: true,
        }
    }
}

/// The advisories whose matching a task on this node is carrying on. This node's sweeper leaves
/// those alone: a second runner on the same node would only make every other writer wait for
/// two batches in turn instead of one. (Runners on other nodes still take turns with it.)
#[derive(Debug, Clone, Default)]
pub struct MatchingTasks(Arc<Mutex<HashSet<String>>>);

impl MatchingTasks {
    fn running(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a task on this node is carrying on `advisory_id`'s matching.
    pub fn contains(&self, advisory_id: &str) -> bool {
        self.running().contains(advisory_id)
    }

    /// Records a task for `advisory_id`, until the returned guard is dropped; `None` when one
    /// is already running.
    pub fn start(&self, advisory_id: &str) -> Option<MatchingTask> {
        self.running()
            .insert(advisory_id.to_owned())
            .then(|| MatchingTask {
                tasks: self.clone(),
                advisory_id: advisory_id.to_owned(),
            })
    }
}

/// A task's entry in [`MatchingTasks`], removed when the task ends however it ends.
#[derive(Debug)]
pub struct MatchingTask {
    tasks: MatchingTasks,
    advisory_id: String,
}

impl Drop for MatchingTask {
    fn drop(&mut self) {
        self.tasks.running().remove(&self.advisory_id);
    }
}

/// Where an advisory's matching stands after some batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MatchingProgress {
    /// Exposures the batches run here recorded.
    pub new_exposures: usize,
    /// Whether every stored SBOM has been matched.
    pub complete: bool,
}

/// Runs batches of `advisory_id`'s matching until none is left, or until `deadline`.
pub async fn run_matching(
    state: &AppState,
    advisory_id: &str,
    deadline: Option<Instant>,
) -> AppResult<MatchingProgress> {
    let mut progress = MatchingProgress::default();
    loop {
        match match_batch(state, advisory_id).await? {
            None => {
                progress.complete = true;
                return Ok(progress);
            }
            Some(batch) => {
                progress.new_exposures += batch.new_exposures;
                if batch.finished {
                    progress.complete = true;
                    return Ok(progress);
                }
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(progress);
        }
    }
}

/// Matches for the configured moment, then leaves the rest to a task on this node (or to the
/// sweepers). A failure here does not undo the publication: the task or a sweeper carries on.
pub(crate) async fn match_after_publication(
    state: &AppState,
    advisory_id: &str,
) -> MatchingProgress {
    let deadline = Instant::now() + state.matching.publish_budget;
    match run_matching(state, advisory_id, Some(deadline)).await {
        Ok(progress) if progress.complete => progress,
        Ok(progress) => {
            spawn_matching(state, advisory_id);
            progress
        }
        Err(e) => {
            tracing::warn!(advisory = advisory_id, error = %e, "matching interrupted; a task continues it");
            spawn_matching(state, advisory_id);
            MatchingProgress::default()
        }
    }
}

fn spawn_matching(state: &AppState, advisory_id: &str) {
    if !state.matching.continue_in_background {
        return;
    }
    let Some(task) = state.matching_tasks.start(advisory_id) else {
        return;
    };
    let state = state.clone();
    let advisory_id = advisory_id.to_owned();
    tokio::spawn(async move {
        let _task = task;
        if let Err(e) = run_matching(&state, &advisory_id, None).await {
            tracing::error!(advisory = advisory_id, error = %e, "matching failed; the sweeper continues it");
        }
    });
}

/// Continues every unfinished matching (oldest first) that no task on this node is carrying on,
/// for at most `budget`; returns how many finished. Every node's sweeper calls it.
pub async fn continue_matchings(state: &AppState, budget: Duration) -> AppResult<usize> {
    let deadline = Instant::now() + budget;
    let mut finished = 0;
    for id in state.store.unfinished_matchings(16).await? {
        if state.matching_tasks.contains(&id) {
            continue;
        }
        if run_matching(state, &id, Some(deadline)).await?.complete {
            finished += 1;
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    Ok(finished)
}

struct Batch {
    new_exposures: usize,
    finished: bool,
}

/// One batch in one write transaction; `None` when the matching is finished (by another
/// runner, perhaps) or was never started.
async fn match_batch(state: &AppState, advisory_id: &str) -> AppResult<Option<Batch>> {
    let mut tx = state.store.begin_write().await?;
    // Read under the head: no other batch moves the cursor until this one commits.
    let Some(mut cursor) = tx.unfinished_matching(advisory_id).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let now = state.clock.now();
    let advisory = state.store.advisory(advisory_id).await?;
    let mut page = Vec::new();
    // A withdrawn advisory exposes nobody any more: its matching just ends.
    if advisory.state == AdvisoryState::Published {
        while let Some(package) = usize::try_from(cursor.package_index)
            .ok()
            .and_then(|i| advisory.affected_packages.get(i))
        {
            let found = tx
                .components_named_after(
                    package.ecosystem,
                    &package.name,
                    cursor.after_sbom_number,
                    cursor.after_position,
                    MATCH_BATCH,
                )
                .await?;
            page = found.components;
            if (page.len() as i64) < MATCH_BATCH {
                cursor.package_index += 1;
                cursor.after_sbom_number = -1;
                cursor.after_position = -1;
            } else if let Some((_, component)) = page.last() {
                cursor.after_sbom_number = found.last_sbom_number;
                cursor.after_position = component.position;
            }
            if !page.is_empty() {
                break;
            }
        }
    }
    let finished = advisory.state != AdvisoryState::Published
        || usize::try_from(cursor.package_index)
            .is_ok_and(|i| i >= advisory.affected_packages.len());
    let new_exposures = record_exposures(state, &mut tx, &advisory, &page, now).await?;
    tx.advance_matching(&cursor, new_exposures as i64, finished.then_some(now))
        .await?;
    if finished {
        tx.audit(
            now,
            audit_event_by(
                None,
                "advisory.matched",
                "advisory",
                advisory_id,
                json!({"exposures": cursor.exposures + new_exposures as i64, "batches": cursor.batches + 1, "started_at": cursor.started_at}),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(Batch {
        new_exposures,
        finished,
    }))
}

/// Records the exposures among `page`, notifying each newly exposed organization once,
/// starting its duties as an affected provider and making it a vendor in the case; returns how
/// many exposures were new.
async fn record_exposures(
    state: &AppState,
    tx: &mut WriteTx,
    advisory: &Advisory,
    page: &[(SbomRecord, StoredComponent)],
    now: jiff::Timestamp,
) -> AppResult<usize> {
    if page.is_empty() {
        return Ok(0);
    }
    let (index, _skipped) =
        AdvisoryIndex::build([(advisory.id.as_str(), advisory.affected_packages.as_slice())]);
    let mut new_exposures = 0;
    let mut notified = BTreeSet::new();
    for (sbom, component) in page {
        if index
            .advisories_for(component.ecosystem, &component.name, &component.version)
            .is_empty()
        {
            continue;
        }
        let record = ExposureRecord::new(&advisory.id, sbom, component, now);
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
    exposed_organizations_join(state, tx, advisory, notified, now).await?;
    Ok(new_exposures)
}

/// What follows for each organization found exposed to `advisory` (on publication or on a
/// later SBOM upload alike): one notification, and with that first notification its duties as
/// an affected provider and a vendor's place in the advisory's case.
pub(super) async fn exposed_organizations_join(
    state: &AppState,
    tx: &mut WriteTx,
    advisory: &Advisory,
    notified: BTreeSet<String>,
    now: jiff::Timestamp,
) -> AppResult<()> {
    if notified.is_empty() {
        return Ok(());
    }
    // Read under the head: nobody else changes the case's reports meanwhile. The case itself
    // is not read: on the day it may have thousands of participants, and each batch would read
    // them all again.
    let report_ids = tx.case_report_ids(&advisory.case_id).await?;
    let report = match report_ids.first() {
        Some(id) => Some(state.store.report(id).await?),
        None => None,
    };
    let payload = json!({"advisory_id": advisory.id, "summary": advisory.summary, "aliases": advisory.aliases});
    for org_id in notified {
        if !tx
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
            continue;
        }
        if let Some(r) = &report {
            super::on_platform_notified(tx, &org_id, r, now).await?;
        }
        // The exposed organization takes part in the case as a vendor, so that it can read
        // the (non-public) advisory and state its status.
        let participant = Participant {
            org_id: org_id.clone(),
            role: ParticipantRole::Vendor,
            named_users: vec![],
            tracking_id: None,
            joined_at: now,
        };
        if tx
            .add_participant_if_absent(&advisory.case_id, &participant)
            .await?
        {
            for v in &report_ids {
                tx.upsert_vendor_response(&advisory.case_id, &VendorResponse::awaiting(&org_id, v))
                    .await?;
            }
        }
    }
    Ok(())
}
