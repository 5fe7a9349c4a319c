//! Where the matching of each published advisory against the stored SBOMs has got to.

use jiff::Timestamp;
use sqlx::Row;
use vulnshare_core::package::Ecosystem;

use crate::codec::{from_opt_ts, from_ts, ts};
use crate::sbom::{SbomRecord, StoredComponent, sbom_record};
use crate::{Result, Store, WriteTx};

/// How far the matching of one advisory has got: components are matched per affected package
/// (by its index in the advisory), in (SBOM number, position) order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchingCursor {
    /// The advisory.
    pub advisory_id: String,
    /// The affected package being matched.
    pub package_index: i64,
    /// The number of the last SBOM matched of that package (`-1`: none yet). SBOMs are
    /// numbered in upload order; the number is internal to the platform.
    pub after_sbom_number: i64,
    /// The last component position matched in that SBOM (`-1`: none yet).
    pub after_position: i64,
    /// Exposures recorded so far.
    pub exposures: i64,
    /// Batches committed so far.
    pub batches: i64,
    /// When the advisory was published.
    pub started_at: Timestamp,
    /// When the last batch found nothing left (`None`: still running).
    pub finished_at: Option<Timestamp>,
}

/// A page of components of one package, in (SBOM number, position) order.
#[derive(Debug, Clone, Default)]
pub struct ComponentPage {
    /// Each component with its SBOM's record.
    pub components: Vec<(SbomRecord, StoredComponent)>,
    /// The number of the last component's SBOM (unset when the page is empty).
    pub last_sbom_number: i64,
}

const COLUMNS: &str = "advisory_id, package_index, after_sbom_number, after_position, exposures, batches, started_at, finished_at";

fn cursor_row(row: &sqlx::any::AnyRow) -> Result<MatchingCursor> {
    Ok(MatchingCursor {
        advisory_id: row.try_get("advisory_id")?,
        package_index: row.try_get("package_index")?,
        after_sbom_number: row.try_get("after_sbom_number")?,
        after_position: row.try_get("after_position")?,
        exposures: row.try_get("exposures")?,
        batches: row.try_get("batches")?,
        started_at: from_ts(row.try_get("started_at")?)?,
        finished_at: from_opt_ts(row.try_get("finished_at")?)?,
    })
}

impl WriteTx {
    /// Records that `advisory_id` is to be matched against every stored SBOM, from the start.
    pub async fn start_matching(&mut self, advisory_id: &str, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO advisory_matching (advisory_id, package_index, after_sbom_number, after_position, exposures, batches, started_at) \
             VALUES ($1, 0, -1, -1, 0, 0, $2)",
        )
        .bind(advisory_id)
        .bind(ts(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The cursor of an unfinished matching, as of this transaction (which holds the audit
    /// head, so no other batch moves it until this one ends).
    pub async fn unfinished_matching(
        &mut self,
        advisory_id: &str,
    ) -> Result<Option<MatchingCursor>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM advisory_matching WHERE advisory_id = $1 AND finished_at IS NULL"
        );
        sqlx::query(&sql)
            .bind(advisory_id)
            .fetch_optional(self.conn())
            .await?
            .as_ref()
            .map(cursor_row)
            .transpose()
    }

    /// At most `limit` components named `name` in `ecosystem` after (`after_sbom_number`,
    /// `after_position`), in that order, with their SBOMs' records.
    pub async fn components_named_after(
        &mut self,
        ecosystem: Ecosystem,
        name: &str,
        after_sbom_number: i64,
        after_position: i64,
        limit: i64,
    ) -> Result<ComponentPage> {
        let rows = sqlx::query(
            "SELECT s.id, s.product_id, s.organization_id, s.product_version, s.format, s.spec_version, s.component_count, s.uploaded_at, \
                    c.sbom_number, c.position, c.version, c.purl \
             FROM sbom_components c JOIN sboms s ON s.number = c.sbom_number \
             WHERE c.package_id = (SELECT id FROM component_packages WHERE ecosystem = $1 AND name = $2) \
               AND (c.sbom_number, c.position) > ($3, $4) \
             ORDER BY c.sbom_number, c.position LIMIT $5",
        )
        .bind(ecosystem.as_str())
        .bind(name)
        .bind(after_sbom_number)
        .bind(after_position)
        .bind(limit)
        .fetch_all(self.conn())
        .await?;
        let mut page = ComponentPage::default();
        for row in &rows {
            page.last_sbom_number = row.try_get("sbom_number")?;
            let component = StoredComponent {
                position: row.try_get("position")?,
                ecosystem,
                name: name.to_owned(),
                version: row.try_get("version")?,
                purl: row.try_get("purl")?,
            };
            page.components.push((sbom_record(row)?, component));
        }
        Ok(page)
    }

    /// Moves the cursor after a batch that recorded `new_exposures`; `finished_at` ends it.
    pub async fn advance_matching(
        &mut self,
        cursor: &MatchingCursor,
        new_exposures: i64,
        finished_at: Option<Timestamp>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE advisory_matching SET package_index = $2, after_sbom_number = $3, after_position = $4, \
                    exposures = exposures + $5, batches = batches + 1, finished_at = $6 \
             WHERE advisory_id = $1",
        )
        .bind(&cursor.advisory_id)
        .bind(cursor.package_index)
        .bind(cursor.after_sbom_number)
        .bind(cursor.after_position)
        .bind(new_exposures)
        .bind(finished_at.map(ts))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// The advisories whose matching is unfinished, oldest first, at most `limit`.
    pub async fn unfinished_matchings(&self, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT advisory_id FROM advisory_matching WHERE finished_at IS NULL ORDER BY started_at, advisory_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("advisory_id").map_err(Into::into))
            .collect()
    }

    /// The matching of one advisory, finished or not (`None`: it was published before
    /// matching was recorded, or does not exist).
    pub async fn matching(&self, advisory_id: &str) -> Result<Option<MatchingCursor>> {
        let sql = format!("SELECT {COLUMNS} FROM advisory_matching WHERE advisory_id = $1");
        sqlx::query(&sql)
            .bind(advisory_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(cursor_row)
            .transpose()
    }
}
