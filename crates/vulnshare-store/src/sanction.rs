//! Sanction decisions table.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::sanction::{SanctionDecision, SanctionKind};

use crate::codec::{from_json, from_opt_ts, from_ts, to_json, ts};
use crate::{Result, Store, StoreError, WriteTx};

const COLUMNS: &str = "id, organization_id, kind, months, reason, violation_ids, decided_by, decided_by_org_id, decided_at, effective_from, effective_until";

fn decision(row: &AnyRow) -> Result<SanctionDecision> {
    let kind: String = row.try_get("kind")?;
    let months: Option<i64> = row.try_get("months")?;
    Ok(SanctionDecision {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        kind: SanctionKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("sanction kind {kind:?}")))?,
        months: months.and_then(|m| u32::try_from(m).ok()),
        reason: row.try_get("reason")?,
        violation_ids: from_json("violation ids", &row.try_get::<String, _>("violation_ids")?)?,
        decided_by: row.try_get("decided_by")?,
        decided_by_org_id: row.try_get("decided_by_org_id")?,
        decided_at: from_ts(row.try_get("decided_at")?)?,
        effective_from: from_ts(row.try_get("effective_from")?)?,
        effective_until: from_opt_ts(row.try_get("effective_until")?)?,
    })
}

/// A fresh decision id (the suspension records it before the decision row is written).
pub fn new_sanction_id() -> String {
    crate::codec::new_id("dec")
}

impl WriteTx {
    /// Records a decision.
    pub async fn insert_sanction(&mut self, d: &SanctionDecision) -> Result<()> {
        sqlx::query(
            "INSERT INTO sanction_decisions (id, organization_id, kind, months, reason, violation_ids, decided_by, decided_by_org_id, decided_at, effective_from, effective_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&d.id)
        .bind(&d.organization_id)
        .bind(d.kind.as_str())
        .bind(d.months.map(i64::from))
        .bind(&d.reason)
        .bind(to_json(&d.violation_ids))
        .bind(&d.decided_by)
        .bind(&d.decided_by_org_id)
        .bind(ts(d.decided_at))
        .bind(ts(d.effective_from))
        .bind(d.effective_until.map(ts))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Claims the review reminder of a suspension that has ended; `false` if already sent.
    pub async fn claim_suspension_review(&mut self, id: &str, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sanction_decisions SET review_notified_at = $1 WHERE id = $2 AND review_notified_at IS NULL",
        )
        .bind(ts(now))
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Reads one decision inside the transaction.
    pub async fn sanction(&mut self, id: &str) -> Result<SanctionDecision> {
        let sql = format!("SELECT {COLUMNS} FROM sanction_decisions WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref()
            .map(decision)
            .transpose()?
            .ok_or(StoreError::NotFound("sanction decision"))
    }
}

impl Store {
    /// The decisions about an organization, newest first.
    pub async fn sanctions_of(&self, org_id: &str) -> Result<Vec<SanctionDecision>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sanction_decisions WHERE organization_id = $1 ORDER BY decided_at DESC, id"
        );
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&self.pool).await?;
        rows.iter().map(decision).collect()
    }

    /// Suspensions that ended at or before `now` and whose review reminder has not gone out.
    pub async fn suspension_review_candidates(&self, now: Timestamp) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM sanction_decisions WHERE kind = 'suspension' AND review_notified_at IS NULL \
             AND effective_until IS NOT NULL AND effective_until <= $1 ORDER BY effective_until LIMIT 500",
        )
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(Into::into))
            .collect()
    }
}
