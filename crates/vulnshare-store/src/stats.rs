//! Platform-wide counts for monitoring.

use sqlx::Row;

use crate::{Result, Store};

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

    /// Checks that the database answers and the audit head is readable.
    pub async fn ready(&self) -> Result<()> {
        sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }
}
