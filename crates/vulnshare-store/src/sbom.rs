//! SBOMs uploaded per product version, their components, and exposures found by matching
//! them against advisories.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::package::Ecosystem;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::codec::{from_ts, insert_rows_sql, ts};
use crate::{Backend, Result, Store, StoreError, WriteTx};

/// Rows per multi-row insert of SBOM components (5 parameters each).
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
        // The number orders SBOMs for matching and names them in component rows. PostgreSQL
        // draws it from a sequence (uploads insert concurrently); SQLite has one writer at a
        // time, so the highest number plus one is free.
        let number = match self.backend {
            Backend::Postgres => "nextval('sbom_numbers')",
            Backend::Sqlite => "(SELECT COALESCE(MAX(number), 0) + 1 FROM sboms)",
        };
        let number: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO sboms (id, product_id, organization_id, product_version, format, spec_version, component_count, uploaded_by, uploaded_at, number) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {number}) RETURNING number"
        ))
        .bind(&record.id)
        .bind(&record.product_id)
        .bind(&record.organization_id)
        .bind(&record.product_version)
        .bind(&record.format)
        .bind(&record.spec_version)
        .bind(record.component_count)
        .bind(uploaded_by)
        .bind(ts(record.uploaded_at))
        .fetch_one(self.conn())
        .await?;
        let packages = self.package_ids(components).await?;
        // Many rows per statement: an SBOM of thousands of components is a handful of round
        // trips, not thousands.
        for chunk in components.chunks(COMPONENTS_PER_INSERT) {
            let sql = insert_rows_sql(
                "sbom_components (sbom_number, position, package_id, version, purl)",
                chunk.len(),
                &[false; 5],
            );
            let mut query = sqlx::query(&sql);
            for c in chunk {
                let package = packages
                    .get(&(c.ecosystem, c.name.clone()))
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("no package id for {}", c.name)))?;
                query = query
                    .bind(number)
                    .bind(c.position)
                    .bind(package)
                    .bind(&c.version)
                    .bind(c.purl.as_deref());
            }
            query.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// The id of every package among `components`, adding the packages not stored yet.
    async fn package_ids(
        &mut self,
        components: &[StoredComponent],
    ) -> Result<HashMap<PackageKey, i64>> {
        let mut wanted: Vec<PackageKey> = components
            .iter()
            .map(|c| (c.ecosystem, c.name.clone()))
            .collect();
        wanted.sort_unstable_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
        wanted.dedup();
        let mut ids = HashMap::with_capacity(wanted.len());
        wanted.retain(|key| match self.packages.get(key) {
            Some(id) => {
                ids.insert(key.clone(), id);
                false
            }
            None => true,
        });
        if wanted.is_empty() {
            return Ok(ids);
        }
        // Nothing in this transaction has added packages yet, so what this reads is committed
        // and may be remembered for every later upload.
        let stored = self.read_package_ids(&wanted).await?;
        self.packages.remember(&stored);
        wanted.retain(|key| !stored.contains_key(key));
        ids.extend(stored);
        if wanted.is_empty() {
            return Ok(ids);
        }
        // In one order for every upload (sorted above), so two uploads adding the same new
        // packages wait for each other instead of deadlocking. A package another upload is
        // adding is left to it and read back once that upload commits. What this transaction
        // adds is not remembered: it may yet roll back.
        for chunk in wanted.chunks(PACKAGES_PER_STATEMENT) {
            let sql = format!(
                "{} ON CONFLICT (ecosystem, name) DO NOTHING",
                insert_rows_sql(
                    "component_packages (ecosystem, name)",
                    chunk.len(),
                    &[false; 2]
                )
            );
            let mut query = sqlx::query(&sql);
            for (ecosystem, name) in chunk {
                query = query.bind(ecosystem.as_str()).bind(name);
            }
            query.execute(self.conn()).await?;
        }
        let added = self.read_package_ids(&wanted).await?;
        if added.len() != wanted.len() {
            return Err(StoreError::Corrupt(format!(
                "{} of {} new component packages could not be read back",
                wanted.len() - added.len(),
                wanted.len()
            )));
        }
        ids.extend(added);
        Ok(ids)
    }

    /// The stored ids of `keys` (sorted), as far as they are stored.
    async fn read_package_ids(&mut self, keys: &[PackageKey]) -> Result<HashMap<PackageKey, i64>> {
        let mut found = HashMap::with_capacity(keys.len());
        for group in keys.chunk_by(|a, b| a.0 == b.0) {
            let ecosystem = group[0].0;
            for chunk in group.chunks(PACKAGES_PER_STATEMENT) {
                let names = (2..chunk.len() + 2)
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT id, name FROM component_packages WHERE ecosystem = $1 AND name IN ({names})"
                );
                let mut query = sqlx::query(&sql).bind(ecosystem.as_str());
                for (_, name) in chunk {
                    query = query.bind(name);
                }
                for row in query.fetch_all(self.conn()).await? {
                    found.insert((ecosystem, row.try_get("name")?), row.try_get("id")?);
                }
            }
        }
        Ok(found)
    }
}

/// A component package: its ecosystem and name.
type PackageKey = (Ecosystem, String);

/// Component packages per statement when they are added or looked up.
const PACKAGES_PER_STATEMENT: usize = 500;

/// Most package ids a store remembers; past it, it forgets them all and starts again, so an
/// SBOM stream of ever new names costs lookups, not memory.
const REMEMBERED_PACKAGES: usize = 500_000;

/// The ids of component packages that are committed, shared by every transaction of a store:
/// a package's id never changes once committed, so most uploads look none up.
#[derive(Debug, Clone, Default)]
pub(crate) struct PackageIds(Arc<Mutex<HashMap<PackageKey, i64>>>);

impl PackageIds {
    fn get(&self, key: &PackageKey) -> Option<i64> {
        self.lock().get(key).copied()
    }

    fn remember(&self, ids: &HashMap<PackageKey, i64>) {
        let mut known = self.lock();
        if known.len() + ids.len() > REMEMBERED_PACKAGES {
            known.clear();
        }
        known.extend(ids.iter().map(|(k, v)| (k.clone(), *v)));
    }

    /// Forgets every id (a restore replaced the packages).
    pub(crate) fn forget_all(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PackageKey, i64>> {
        // The map holds no invariant a panicking holder could break half-way.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

/// A new SBOM id. Ids are time-ordered (UUID version 7), so the `sboms` primary key grows at
/// its end. (Components name their SBOM by its number, which grows the same way.)
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
        let record = sqlx::query("SELECT id, product_id, organization_id, product_version, format, spec_version, component_count, uploaded_at, number FROM sboms WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("sbom"))?;
        let number: i64 = record.try_get("number")?;
        let rows = sqlx::query(
            "SELECT c.position, p.ecosystem, p.name, c.version, c.purl \
             FROM sbom_components c JOIN component_packages p ON p.id = c.package_id \
             WHERE c.sbom_number = $1 ORDER BY c.position",
        )
        .bind(number)
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
