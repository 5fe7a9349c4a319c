//! Advisories with their version history.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::advisory::{Advisory, advisory_id};

use crate::codec::{fetch_by_id, from_json, ts};
use crate::{Result, Store, WriteTx};

fn advisory_row(row: &AnyRow) -> Result<Advisory> {
    from_json("advisory", &row.try_get::<String, _>("document")?)
}

impl WriteTx {
    /// Allocates the next advisory id for the year of `now`.
    pub async fn next_advisory_id(&mut self, now: Timestamp) -> Result<String> {
        let year = now.to_zoned(jiff::tz::TimeZone::UTC).year();
        let n: i64 = sqlx::query(
            "INSERT INTO advisory_counters (year, last) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last = advisory_counters.last + 1 RETURNING last",
        )
        .bind(i64::from(year))
        .fetch_one(self.conn())
        .await?
        .try_get("last")?;
        Ok(advisory_id(year, n))
    }

    /// Stores a new advisory, or a new version of one (keeping every earlier version).
    pub async fn save_advisory(
        &mut self,
        a: &Advisory,
        changed_by: Option<&str>,
        change: &str,
    ) -> Result<()> {
        let document = serde_json::to_string(a).expect("advisories serialize");
        let state = match a.state {
            vulnshare_core::advisory::AdvisoryState::Published => "published",
            vulnshare_core::advisory::AdvisoryState::Withdrawn => "withdrawn",
        };
        sqlx::query(
            "INSERT INTO advisories (id, case_id, version, tlp, state, document, published_at, updated_at, withdrawn_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, tlp = excluded.tlp, state = excluded.state, document = excluded.document, updated_at = excluded.updated_at, withdrawn_reason = excluded.withdrawn_reason",
        )
        .bind(&a.id)
        .bind(&a.case_id)
        .bind(a.version)
        .bind(a.tlp.as_str())
        .bind(state)
        .bind(&document)
        .bind(ts(a.published_at))
        .bind(ts(a.updated_at))
        .bind(a.withdrawn_reason.as_deref())
        .execute(self.conn())
        .await?;
        sqlx::query("INSERT INTO advisory_versions (advisory_id, version, document, changed_by, changed_at, change) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&a.id)
            .bind(a.version)
            .bind(&document)
            .bind(changed_by)
            .bind(ts(a.updated_at))
            .bind(change)
            .execute(self.conn())
            .await?;
        self.advisory_catalog_changed();
        Ok(())
    }

    /// Raises the advisory catalog's generation when this transaction commits: an advisory
    /// changed, or who takes part in a case (and so who may read its advisories).
    pub(crate) fn advisory_catalog_changed(&mut self) {
        self.catalog_changed = true;
    }
}

/// Raises the advisory catalog's generation, in the committing transaction `conn`; returns
/// the new generation.
pub(crate) async fn raise_catalog_generation(conn: &mut sqlx::AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO advisory_catalog (id, generation) VALUES (1, 1) \
         ON CONFLICT (id) DO UPDATE SET generation = advisory_catalog.generation + 1 \
         RETURNING generation",
    )
    .fetch_one(conn)
    .await?)
}

/// One entry of an advisory's history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdvisoryVersion {
    /// Revision.
    pub version: i64,
    /// What changed.
    pub change: String,
    /// When.
    pub changed_at: Timestamp,
    /// The document as it was.
    pub document: Advisory,
}

impl Store {
    /// Reads the current version of an advisory.
    pub async fn advisory(&self, id: &str) -> Result<Advisory> {
        fetch_by_id(
            &self.pool,
            "SELECT document FROM advisories WHERE id = $1",
            id,
            "advisory",
            advisory_row,
        )
        .await
    }

    /// Every advisory, newest first (callers filter by visibility).
    pub async fn advisories(&self, limit: i64, offset: i64) -> Result<Vec<Advisory>> {
        let rows = sqlx::query(
            "SELECT document FROM advisories ORDER BY published_at DESC, id DESC LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(advisory_row).collect()
    }

    /// How many times advisories, or the participants of cases, have changed: every new
    /// advisory, version or participant raises it, in the same transaction. Caches of the
    /// published advisories and of who may read them compare it to know they are stale.
    pub async fn advisory_catalog_generation(&self) -> Result<i64> {
        let generation: Option<i64> =
            sqlx::query_scalar("SELECT generation FROM advisory_catalog WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(generation.unwrap_or(0))
    }

    /// Every published (not withdrawn) advisory, for exposure matching.
    pub async fn published_advisories(&self) -> Result<Vec<Advisory>> {
        let rows =
            sqlx::query("SELECT document FROM advisories WHERE state = 'published' ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(advisory_row).collect()
    }

    /// The advisories of a case.
    pub async fn advisories_of_case(&self, case_id: &str) -> Result<Vec<Advisory>> {
        let rows = sqlx::query("SELECT document FROM advisories WHERE case_id = $1 ORDER BY id")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(advisory_row).collect()
    }

    /// An advisory's history, oldest first.
    pub async fn advisory_history(&self, id: &str) -> Result<Vec<AdvisoryVersion>> {
        let rows = sqlx::query("SELECT version, change, changed_at, document FROM advisory_versions WHERE advisory_id = $1 ORDER BY version")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AdvisoryVersion {
                    version: row.try_get("version")?,
                    change: row.try_get("change")?,
                    changed_at: crate::codec::from_ts(row.try_get("changed_at")?)?,
                    document: advisory_row(row)?,
                })
            })
            .collect()
    }
}
