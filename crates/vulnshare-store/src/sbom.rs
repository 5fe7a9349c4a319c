//! SBOMs uploaded per product version, their components, and exposures found by matching
//! them against advisories.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::package::Ecosystem;

use crate::codec::{from_ts, insert_rows_sql, ts};
use crate::{Result, Store, StoreError, WriteTx};

/// Rows per multi-row insert of SBOM components (6 parameters each).
const COMPONENTS_PER_INSERT: usize = 500;

/// One component of an uploaded SBOM, in vulnshare's package terms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredComponent {
    /// Position in the SBOM.
    pub position: i64,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Package name (Maven: `group:artifact`).
    pub name: String,
    /// Version.
    pub version: String,
    /// The purl as given.
    pub purl: Option<String>,
}

/// An uploaded SBOM's record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SbomRecord {
    /// Identifier.
    pub id: String,
    /// The product.
    pub product_id: String,
    /// The owning organization.
    pub organization_id: String,
    /// The product version it describes.
    pub product_version: String,
    /// `cyclonedx` or `spdx`.
    pub format: String,
    /// Format version.
    pub spec_version: String,
    /// How many components were stored.
    pub component_count: i64,
    /// When.
    pub uploaded_at: Timestamp,
}

/// A recorded exposure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExposureRecord {
    /// The advisory.
    pub advisory_id: String,
    /// The SBOM.
    pub sbom_id: String,
    /// The exposed organization.
    pub organization_id: String,
    /// The product.
    pub product_id: String,
    /// Its version.
    pub product_version: String,
    /// Component ecosystem.
    pub ecosystem: String,
    /// Component name.
    pub name: String,
    /// Component version.
    pub version: String,
    /// When it was found.
    pub created_at: Timestamp,
}

impl ExposureRecord {
    /// The exposure of `sbom`'s `component` to `advisory_id`, found at `now`.
    pub fn new(
        advisory_id: &str,
        sbom: &SbomRecord,
        component: &StoredComponent,
        now: Timestamp,
    ) -> ExposureRecord {
        ExposureRecord {
            advisory_id: advisory_id.to_owned(),
            sbom_id: sbom.id.clone(),
            organization_id: sbom.organization_id.clone(),
            product_id: sbom.product_id.clone(),
            product_version: sbom.product_version.clone(),
            ecosystem: component.ecosystem.as_str().to_owned(),
            name: component.name.clone(),
            version: component.version.clone(),
            created_at: now,
        }
    }
}

impl crate::UnlockedWriteTx {
    /// Stores an SBOM and its (package-identified) components: new rows under a new id, so
    /// this needs no audit head yet; the upload's audit entry follows once it is locked.
    pub async fn save_sbom(
        &mut self,
        record: &SbomRecord,
        components: &[StoredComponent],
        uploaded_by: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sboms (id, product_id, organization_id, product_version, format, spec_version, component_count, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&record.id)
        .bind(&record.product_id)
        .bind(&record.organization_id)
        .bind(&record.product_version)
        .bind(&record.format)
        .bind(&record.spec_version)
        .bind(record.component_count)
        .bind(uploaded_by)
        .bind(ts(record.uploaded_at))
        .execute(self.conn())
        .await?;
        // Many rows per statement: an SBOM of thousands of components is a handful of round
        // trips, not thousands.
        for chunk in components.chunks(COMPONENTS_PER_INSERT) {
            let sql = insert_rows_sql(
                "sbom_components (sbom_id, position, ecosystem, name, version, purl)",
                chunk.len(),
                &[false; 6],
            );
            let mut query = sqlx::query(&sql);
            for c in chunk {
                query = query
                    .bind(&record.id)
                    .bind(c.position)
                    .bind(c.ecosystem.as_str())
                    .bind(&c.name)
                    .bind(&c.version)
                    .bind(c.purl.as_deref());
            }
            query.execute(self.conn()).await?;
        }
        Ok(())
    }
}

impl WriteTx {
    /// Records an exposure; returns false when it was already known (so notifications go out
    /// once per exposure).
    pub async fn add_exposure(&mut self, e: &ExposureRecord, position: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO exposures (advisory_id, sbom_id, position, organization_id, product_id, product_version, ecosystem, name, version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (advisory_id, sbom_id, position) DO NOTHING",
        )
        .bind(&e.advisory_id)
        .bind(&e.sbom_id)
        .bind(position)
        .bind(&e.organization_id)
        .bind(&e.product_id)
        .bind(&e.product_version)
        .bind(&e.ecosystem)
        .bind(&e.name)
        .bind(&e.version)
        .bind(ts(e.created_at))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

pub(crate) fn sbom_record(row: &AnyRow) -> Result<SbomRecord> {
    Ok(SbomRecord {
        id: row.try_get("id")?,
        product_id: row.try_get("product_id")?,
        organization_id: row.try_get("organization_id")?,
        product_version: row.try_get("product_version")?,
        format: row.try_get("format")?,
        spec_version: row.try_get("spec_version")?,
        component_count: row.try_get("component_count")?,
        uploaded_at: from_ts(row.try_get("uploaded_at")?)?,
    })
}

pub(crate) fn stored_component(row: &AnyRow) -> Result<StoredComponent> {
    let eco: String = row.try_get("ecosystem")?;
    Ok(StoredComponent {
        position: row.try_get("position")?,
        ecosystem: Ecosystem::parse(&eco)
            .ok_or_else(|| StoreError::Corrupt(format!("ecosystem {eco:?}")))?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        purl: row.try_get("purl")?,
    })
}

/// A new SBOM id. Ids are time-ordered (UUID version 7), so a new SBOM's components land at
/// the end of each package's run in the `(ecosystem, name, sbom_id, position)` index, on pages
/// the uploads before it just touched, instead of anywhere in a run of millions.
pub fn new_sbom_id() -> String {
    format!("sbom_{}", uuid::Uuid::now_v7().simple())
}

impl Store {
    /// The SBOMs of a product, newest first.
    pub async fn sboms_of_product(&self, product_id: &str) -> Result<Vec<SbomRecord>> {
        let rows = sqlx::query("SELECT id, product_id, organization_id, product_version, format, spec_version, component_count, uploaded_at FROM sboms WHERE product_id = $1 ORDER BY uploaded_at DESC, id LIMIT 1000")
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sbom_record).collect()
    }

    /// One SBOM's record and its stored components, in document order.
    pub async fn sbom(&self, id: &str) -> Result<(SbomRecord, Vec<StoredComponent>)> {
        let record = sqlx::query("SELECT id, product_id, organization_id, product_version, format, spec_version, component_count, uploaded_at FROM sboms WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("sbom"))?;
        let rows = sqlx::query("SELECT position, ecosystem, name, version, purl FROM sbom_components WHERE sbom_id = $1 ORDER BY position")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        Ok((
            sbom_record(&record)?,
            rows.iter().map(stored_component).collect::<Result<_>>()?,
        ))
    }

    /// The exposures of an organization, newest first.
    pub async fn exposures_of(&self, org_id: &str) -> Result<Vec<ExposureRecord>> {
        let rows = sqlx::query(
            "SELECT advisory_id, sbom_id, organization_id, product_id, product_version, ecosystem, name, version, created_at FROM exposures WHERE organization_id = $1 ORDER BY created_at DESC, advisory_id LIMIT 10000",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ExposureRecord {
                    advisory_id: row.try_get("advisory_id")?,
                    sbom_id: row.try_get("sbom_id")?,
                    organization_id: row.try_get("organization_id")?,
                    product_id: row.try_get("product_id")?,
                    product_version: row.try_get("product_version")?,
                    ecosystem: row.try_get("ecosystem")?,
                    name: row.try_get("name")?,
                    version: row.try_get("version")?,
                    created_at: from_ts(row.try_get("created_at")?)?,
                })
            })
            .collect()
    }
}
