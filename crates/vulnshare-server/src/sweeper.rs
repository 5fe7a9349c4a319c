//! The deadline sweeper: a background job that marks obligations overdue once their deadline
//! passes, sends reminders before and at the deadline, reminds the regulator to review a
//! suspension that has ended, and continues advisory matchings left unfinished.
//!
//! Several server nodes may sweep the same database at once. Every change is a conditional
//! update (`... WHERE status = 'pending'`, `... WHERE notified_due_at IS NULL`) inside its own
//! write transaction; a sweeper acts (audits, notifies) only when its update changed the row,
//! and rolls back otherwise, so each transition and each reminder happens exactly once.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;
use tokio::task::JoinHandle;
use tracing::Instrument;
use vulnshare_store::{Reminder, StoreError};

use crate::AppState;
use crate::service::audit_event_by;

/// How the sweeper runs.
#[derive(Debug, Clone)]
pub struct SweeperConfig {
    /// Time between sweeps (obligations turn overdue at most this long after their deadline).
    pub interval: Duration,
    /// How long before a deadline the "deadline approaching" reminder goes out.
    pub remind_before: SignedDuration,
    /// Most rows handled per kind and sweep.
    pub batch: i64,
}

impl Default for SweeperConfig {
    fn default() -> SweeperConfig {
        SweeperConfig {
            interval: Duration::from_secs(15),
            remind_before: SignedDuration::from_hours(12),
            batch: 500,
        }
    }
}

/// What one sweep did; each list holds the ids this sweeper changed (not another node).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Obligations marked overdue.
    pub overdue: Vec<String>,
    /// Obligations whose "deadline approaching" reminder was sent.
    pub early_reminders: Vec<String>,
    /// Obligations whose "deadline reached" reminder was sent.
    pub due_reminders: Vec<String>,
    /// Suspensions whose end-of-suspension review reminder was sent.
    pub suspension_reviews: Vec<String>,
}

/// One sweep at `now` with the default settings.
pub async fn sweep_once(state: &AppState, now: Timestamp) -> Result<SweepReport, StoreError> {
    sweep_with(state, now, &SweeperConfig::default()).await
}

/// One sweep at `now`.
pub async fn sweep_with(
    state: &AppState,
    now: Timestamp,
    config: &SweeperConfig,
) -> Result<SweepReport, StoreError> {
    let store = &state.store;
    let mut report = SweepReport::default();

    for id in store.overdue_candidates(now, config.batch).await? {
        let mut tx = store.begin_write().await?;
        if !tx.mark_overdue(&id, now).await? {
            tx.rollback().await?;
            continue;
        }
        let rec = tx.obligation(&id).await?;
        tx.audit(
            now,
            audit_event_by(
                None,
                "obligation.overdue",
                "obligation",
                &id,
                json!({"party_org": rec.obligation.terms.party_org, "due_at": rec.obligation.terms.due_at}),
            ),
        )
        .await?;
        tx.commit().await?;
        report.overdue.push(id);
    }

    for (which, kind, ids) in [
        (
            Reminder::Before,
            "obligation.due_soon",
            store
                .early_reminder_candidates(now, config.remind_before, config.batch)
                .await?,
        ),
        (
            Reminder::Due,
            "obligation.due",
            store.due_reminder_candidates(now, config.batch).await?,
        ),
    ] {
        for id in ids {
            let mut tx = store.begin_write().await?;
            if !tx.claim_reminder(&id, which, now).await? {
                tx.rollback().await?;
                continue;
            }
            let ob = tx.obligation(&id).await?.obligation;
            let payload = json!({
                "obligation_id": ob.id, "regime": ob.terms.regime_id, "article": ob.terms.article,
                "duty": ob.terms.duty, "subject": ob.terms.subject, "due_at": ob.terms.due_at,
                "due_at_local": ob.terms.due_at.and_then(|d| jiff::tz::TimeZone::get(&ob.terms.time_zone).ok().map(|z| d.to_zoned(z).to_string())),
            });
            tx.notify(&ob.terms.party_org, None, kind, &id, &payload, now)
                .await?;
            tx.audit(
                now,
                audit_event_by(
                    None,
                    "notification.send",
                    "obligation",
                    &id,
                    json!({"kind": kind, "to": ob.terms.party_org}),
                ),
            )
            .await?;
            tx.commit().await?;
            match which {
                Reminder::Before => report.early_reminders.push(id),
                Reminder::Due => report.due_reminders.push(id),
            }
        }
    }

    for id in store.suspension_review_candidates(now).await? {
        let mut tx = store.begin_write().await?;
        if !tx.claim_suspension_review(&id, now).await? {
            tx.rollback().await?;
            continue;
        }
        let decision = tx.sanction(&id).await?;
        let payload = json!({
            "decision_id": decision.id, "organization_id": decision.organization_id,
            "until": decision.effective_until, "reason": decision.reason,
            "action": "review the suspension and decide a reinstatement (or a further sanction)",
        });
        tx.notify(
            &decision.decided_by_org_id,
            Some(&decision.decided_by),
            "suspension.review_due",
            &id,
            &payload,
            now,
        )
        .await?;
        tx.notify(
            &decision.organization_id,
            None,
            "suspension.ended",
            &id,
            &payload,
            now,
        )
        .await?;
        tx.audit(
            now,
            audit_event_by(
                None,
                "sanction.review_due",
                "organization",
                &decision.organization_id,
                json!({"decision": id}),
            ),
        )
        .await?;
        tx.commit().await?;
        report.suspension_reviews.push(id);
    }
    Ok(report)
}

/// Starts the sweeper as a background task that runs until the task is aborted, reading `now`
/// from the state's clock before each sweep.
pub fn spawn(state: AppState, config: SweeperConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(config.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = state.clock.now();
            let span = tracing::info_span!("sweep", %now);
            let swept = sweep_with(&state, now, &config).instrument(span).await;
            if swept.is_ok() {
                state.metrics.sweep_finished(now);
            }
            match swept {
                Ok(r) if r == SweepReport::default() => {}
                Ok(r) => tracing::info!(
                    overdue = r.overdue.len(),
                    early_reminders = r.early_reminders.len(),
                    due_reminders = r.due_reminders.len(),
                    suspension_reviews = r.suspension_reviews.len(),
                    "sweep"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "sweep failed; retrying at the next interval")
                }
            }
            // Matchings another node left unfinished (it crashed, say); batches of several
            // runners take turns on the same cursor, so this never matches twice.
            match crate::service::continue_matchings(&state, config.interval / 2).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(finished = n, "advisory matchings finished"),
                Err(e) => {
                    tracing::error!(error = %e, "matching failed; retrying at the next interval")
                }
            }
        }
    })
}
