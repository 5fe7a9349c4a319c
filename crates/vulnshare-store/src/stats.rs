//! Platform-wide counts for monitoring.

use jiff::Timestamp;
use sqlx::Row;

use crate::codec::{from_opt_ts, ts};
use crate::{Result, Store};

/// How far the background jobs are behind, platform-wide.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// The deadline of the oldest obligation still pending although its deadline has passed:
    /// the deadline sweeper has not marked it overdue yet.
    pub oldest_unswept_due_at: Option<Timestamp>,
    /// Outbox deliveries waiting to be sent whose (next) attempt time has come.
    pub outbox_due: i64,
    /// When the oldest of those became due.
    pub outbox_oldest_due_at: Option<Timestamp>,
}

/// Which counts to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gauge {
    /// Obligations by status.
    Obligations,
    /// Outbox deliveries by state.
    Outbox,
    /// Reports by state.
    Reports,
}

impl Store {
    /// Counts per status/state of `gauge`.
    pub async fn gauge(&self, gauge: Gauge) -> Result<Vec<(String, i64)>> {
        let sql = match gauge {
            Gauge::Obligations => {
                "SELECT status, COUNT(*) FROM obligations GROUP BY status ORDER BY status"
            }
            Gauge::Outbox => "SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state",
            Gauge::Reports => "SELECT state, COUNT(*) FROM reports GROUP BY state ORDER BY state",
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect()
    }

    /// The background jobs' backlog at `now`.
    pub async fn backlog(&self, now: Timestamp) -> Result<Backlog> {
        let sweep = sqlx::query(
            "SELECT MIN(due_at) FROM obligations WHERE status = 'pending' AND due_at IS NOT NULL AND due_at <= $1",
        )
        .bind(ts(now))
        .fetch_one(&self.pool)
        .await?;
        let outbox = sqlx::query(
            "SELECT COUNT(*), MIN(next_attempt_at) FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1",
        )
        .bind(ts(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(Backlog {
            oldest_unswept_due_at: from_opt_ts(sweep.try_get::<Option<i64>, _>(0)?)?,
            outbox_due: outbox.try_get::<i64, _>(0)?,
            outbox_oldest_due_at: from_opt_ts(outbox.try_get::<Option<i64>, _>(1)?)?,
        })
    }

    /// Checks that the database answers and the audit head is readable.
    pub async fn ready(&self) -> Result<()> {
        sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }
}
