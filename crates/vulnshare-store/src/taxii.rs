//! STIX objects posted to TAXII collections, and the status of each post.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::tlp::Tlp;

use crate::codec::{from_json, from_ts, ts};
use crate::{Result, Store, StoreError, WriteTx};

/// One stored version of a posted STIX object.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxiiObject {
    /// The collection holding it.
    pub collection_id: String,
    /// The STIX id, `type--uuid`.
    pub object_id: String,
    /// The version: `modified`, else `created`, else the time it was added.
    pub version: String,
    /// The STIX type.
    pub object_type: String,
    /// Always `2.1` today.
    pub spec_version: String,
    /// The collection's label when it was posted.
    pub tlp: Tlp,
    /// The organization that posted it.
    pub owner_org_id: String,
    /// The user who posted it.
    pub posted_by: String,
    /// When the server added it.
    pub date_added: Timestamp,
    /// The object as posted.
    pub document: serde_json::Value,
}

fn object_row(row: &AnyRow) -> Result<TaxiiObject> {
    let tlp: String = row.try_get("tlp")?;
    Ok(TaxiiObject {
        collection_id: row.try_get("collection_id")?,
        object_id: row.try_get("object_id")?,
        version: row.try_get("version")?,
        object_type: row.try_get("object_type")?,
        spec_version: row.try_get("spec_version")?,
        tlp: Tlp::parse(&tlp).ok_or_else(|| StoreError::Corrupt(format!("TLP label {tlp:?}")))?,
        owner_org_id: row.try_get("owner_org_id")?,
        posted_by: row.try_get("posted_by")?,
        date_added: from_ts(row.try_get("date_added")?)?,
        document: from_json("STIX object", &row.try_get::<String, _>("document")?)?,
    })
}

const COLUMNS: &str = "collection_id, object_id, version, object_type, spec_version, tlp, owner_org_id, posted_by, date_added, document";

impl WriteTx {
    /// Stores a version of a posted object; `false` when that exact version is already there
    /// (posting the same version twice is not an error in TAXII).
    pub async fn add_taxii_object(&mut self, o: &TaxiiObject) -> Result<bool> {
        let done = sqlx::query(&format!(
            "INSERT INTO taxii_objects ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (collection_id, object_id, version) DO NOTHING"
        ))
        .bind(&o.collection_id)
        .bind(&o.object_id)
        .bind(&o.version)
        .bind(&o.object_type)
        .bind(&o.spec_version)
        .bind(o.tlp.as_str())
        .bind(&o.owner_org_id)
        .bind(&o.posted_by)
        .bind(ts(o.date_added))
        .bind(o.document.to_string())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The organization owning any version of `object_id` in any collection, if stored: a
    /// STIX id belongs to whoever first posted it.
    pub async fn taxii_object_owner(&mut self, object_id: &str) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT owner_org_id FROM taxii_objects WHERE object_id = $1 LIMIT 1")
                .bind(object_id)
                .fetch_optional(self.conn())
                .await?;
        row.map(|r| r.try_get("owner_org_id").map_err(Into::into))
            .transpose()
    }

    /// Deletes the given versions (all when `versions` is `None`) of an object in a
    /// collection; returns how many rows went.
    pub async fn delete_taxii_object(
        &mut self,
        collection_id: &str,
        object_id: &str,
        versions: Option<&[String]>,
    ) -> Result<u64> {
        let mut deleted = 0;
        match versions {
            None => {
                deleted += sqlx::query(
                    "DELETE FROM taxii_objects WHERE collection_id = $1 AND object_id = $2",
                )
                .bind(collection_id)
                .bind(object_id)
                .execute(self.conn())
                .await?
                .rows_affected();
            }
            Some(versions) => {
                for v in versions {
                    deleted += sqlx::query("DELETE FROM taxii_objects WHERE collection_id = $1 AND object_id = $2 AND version = $3")
                        .bind(collection_id)
                        .bind(object_id)
                        .bind(v)
                        .execute(self.conn())
                        .await?
                        .rows_affected();
                }
            }
        }
        Ok(deleted)
    }

    /// Stores the status resource of a post.
    pub async fn save_taxii_status(
        &mut self,
        id: &str,
        collection_id: &str,
        owner_org_id: &str,
        requested_at: Timestamp,
        document: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query("INSERT INTO taxii_status (id, collection_id, owner_org_id, requested_at, document) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(collection_id)
            .bind(owner_org_id)
            .bind(ts(requested_at))
            .bind(document.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Every stored object version of a collection, oldest addition first (callers filter by
    /// visibility).
    pub async fn taxii_objects(&self, collection_id: &str) -> Result<Vec<TaxiiObject>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM taxii_objects WHERE collection_id = $1 ORDER BY date_added, object_id, version"
        ))
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(object_row).collect()
    }

    /// A post's status resource and the organization that made the post.
    pub async fn taxii_status(&self, id: &str) -> Result<(String, serde_json::Value)> {
        let row = sqlx::query("SELECT owner_org_id, document FROM taxii_status WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("status"))?;
        Ok((
            row.try_get("owner_org_id")?,
            from_json("TAXII status", &row.try_get::<String, _>("document")?)?,
        ))
    }
}
