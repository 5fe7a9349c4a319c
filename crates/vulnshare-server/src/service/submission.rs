//! Reports filed and submitted in one request (`POST /reports?submit=true`), written many to a
//! transaction.
//!
//! Every write on the platform holds the audit chain's head until it commits, so writers take
//! turns; a submission's turn was its own transaction: the head lock, the report, its duties,
//! its audit entries, the head's update and a commit flushed to disk. Under load, the requests
//! queued for the head and the platform filed one report per such turn. Here each node has one
//! writer that takes every submission waiting at that moment (up to [`MAX_BATCH`]) and files
//! them in one transaction, one after another in the order they arrived, exactly as each would
//! have been filed alone: its own `received_at` read under the head, its own audit entries and
//! duties. The head is taken once and the commit flushed once for the whole batch. A request
//! still answers only after its report is durable, with its receipt and its duties in place.
//!
//! If anything fails before the commit, the batch is rolled back and each submission is filed
//! again in a transaction of its own, so one bad submission cannot fail the others. If the
//! commit itself fails, nobody can tell whether it took effect; every request in the batch gets
//! the error, as a request filed alone would, and nothing is retried.

use std::sync::{Arc, OnceLock};

use crate::Clock;
use tokio::sync::{mpsc, oneshot};
use vulnshare_core::policy::Actor;
use vulnshare_core::report::{Report, ReportContent};
use vulnshare_store::{Store, WriteTx};

use crate::AppState;
use crate::error::{AppError, AppResult};

/// The most submissions filed in one transaction. Larger batches hold the audit head longer
/// for everyone else; 64 already spreads the head's lock and the commit's flush thin.
pub const MAX_BATCH: usize = 64;

/// Submissions waiting for the writer; past this, requests wait to be queued.
const QUEUE: usize = 1024;

/// This node's submission writer (started by the first submission).
#[derive(Clone, Default)]
pub struct SubmissionQueue {
    sender: Arc<OnceLock<mpsc::Sender<Job>>>,
    stats: Arc<BatchStats>,
}

/// How the writer has grouped submissions so far.
#[derive(Default)]
pub struct BatchStats {
    /// Transactions committed by the writer.
    pub batches: std::sync::atomic::AtomicU64,
    /// Submissions filed in them.
    pub submissions: std::sync::atomic::AtomicU64,
    /// Batches rolled back and filed one by one.
    pub split: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for SubmissionQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmissionQueue")
            .field("started", &self.sender.get().is_some())
            .finish()
    }
}

struct Job {
    actor: Actor,
    content: ReportContent,
    reply: oneshot::Sender<AppResult<Report>>,
}

impl SubmissionQueue {
    /// What the writer has done so far, for `/metrics`.
    pub fn stats(&self) -> &BatchStats {
        &self.stats
    }

    /// Files `content` (validated and submittable) as submitted by `actor`; answers once it is
    /// committed.
    pub(crate) async fn submit(
        &self,
        state: &AppState,
        actor: &Actor,
        content: ReportContent,
    ) -> AppResult<Report> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(write_batches(
                state.store.clone(),
                state.clock.clone(),
                receiver,
                self.stats.clone(),
            ));
            sender
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            actor: actor.clone(),
            content,
            reply,
        };
        sender
            .send(job)
            .await
            .map_err(|_| AppError::Internal("the submission writer has stopped".into()))?;
        answer.await.map_err(|_| {
            AppError::Internal("the submission writer stopped before answering".into())
        })?
    }
}

/// The writer: files whatever is waiting, in batches, until every sender is gone.
async fn write_batches(
    store: Store,
    clock: Arc<dyn Clock>,
    mut receiver: mpsc::Receiver<Job>,
    stats: Arc<BatchStats>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        // The head first, then whatever else arrived while this node waited for it (on
        // several nodes, the other nodes' batches hold it in turn): the batch grows with the
        // wait instead of the queue.
        let tx = store.begin_write().await;
        while jobs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let tx = match tx {
            Ok(tx) => tx,
            Err(e) => {
                answer_all(std::mem::take(&mut jobs), &e.into());
                continue;
            }
        };
        // A batch runs in a task of its own so that a panic in it drops its replies (their
        // requests fail) instead of stopping the writer.
        let batch = tokio::spawn(write_batch(
            store.clone(),
            tx,
            clock.clone(),
            std::mem::take(&mut jobs),
            stats.clone(),
        ));
        if let Err(e) = batch.await {
            tracing::error!(error = %e, "a submission batch failed");
        }
    }
}

/// Files `jobs` in `tx`, which holds the audit head.
async fn write_batch(
    store: Store,
    mut tx: WriteTx,
    clock: Arc<dyn Clock>,
    jobs: Vec<Job>,
    stats: Arc<BatchStats>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let filed = match file_all(&mut tx, &*clock, &jobs).await {
        Ok(filed) => filed,
        Err(e) => {
            drop(tx.rollback().await);
            if jobs.len() == 1 {
                let job = jobs.into_iter().next().expect("one job");
                let _ = job.reply.send(Err(e));
                return;
            }
            stats.split.fetch_add(1, Relaxed);
            return file_one_by_one(&store, &*clock, jobs, &stats).await;
        }
    };
    if let Err(e) = tx.commit().await {
        return answer_all(jobs, &e.into());
    }
    stats.batches.fetch_add(1, Relaxed);
    stats.submissions.fetch_add(jobs.len() as u64, Relaxed);
    for (job, report) in jobs.into_iter().zip(filed) {
        // The requester may have gone; its report stays filed, as a receipt once issued does.
        let _ = job.reply.send(Ok(report));
    }
}

/// Files every job in `tx`, then writes what the batch kept in memory, short of the commit.
async fn file_all(tx: &mut WriteTx, clock: &dyn Clock, jobs: &[Job]) -> AppResult<Vec<Report>> {
    let mut filed = Vec::with_capacity(jobs.len());
    for job in jobs {
        filed.push(file(tx, clock, &job.actor, &job.content).await?);
    }
    tx.write_pending().await?;
    Ok(filed)
}

/// After a failed batch: each submission in a transaction of its own.
async fn file_one_by_one(store: &Store, clock: &dyn Clock, jobs: Vec<Job>, stats: &BatchStats) {
    use std::sync::atomic::Ordering::Relaxed;
    for job in jobs {
        let result = async {
            let mut tx = store.begin_write().await?;
            let report = file(&mut tx, clock, &job.actor, &job.content).await?;
            tx.commit().await?;
            stats.batches.fetch_add(1, Relaxed);
            stats.submissions.fetch_add(1, Relaxed);
            Ok(report)
        }
        .await;
        let _ = job.reply.send(result);
    }
}

/// Gives every request of a batch the error that stopped it (not retried: a failed commit may
/// have committed).
fn answer_all(jobs: Vec<Job>, error: &AppError) {
    tracing::error!(error = %error, source = ?std::error::Error::source(error), submissions = jobs.len(), "a submission batch was not filed");
    for job in jobs {
        let _ = job.reply.send(Err(AppError::Unavailable(
            format!("the submission could not be filed: {error}").into(),
        )));
    }
}

/// Files one submission inside `tx`, which holds the audit head: `received_at` is read from
/// the clock here, so the chain's order is the order of arrival.
async fn file(
    tx: &mut WriteTx,
    clock: &dyn Clock,
    actor: &Actor,
    content: &ReportContent,
) -> AppResult<Report> {
    let received_at = clock.now();
    super::report::file_submitted(tx, actor, content, received_at).await
}
