//! Organizations table.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::organization::{Membership, NewOrganization, Organization, OrganizationKind};

use crate::codec::{fetch_by_id, from_json, from_ts, new_id, to_json, ts};
use crate::{Result, Store, StoreError, WriteTx};

const COLUMNS: &str = "id, name, kind, country, membership, created_at";

fn organization(row: &AnyRow) -> Result<Organization> {
    let id: String = row.try_get("id")?;
    from_joined_row(row, &id, "name", "created_at")
}

/// An organization read from a join: `kind`, `country` and `membership` under their own
/// names, the name and creation time under the given aliases.
pub(crate) fn from_joined_row(
    row: &AnyRow,
    id: &str,
    name_column: &str,
    created_at_column: &str,
) -> Result<Organization> {
    let kind: String = row.try_get("kind")?;
    Ok(Organization {
        id: id.to_owned(),
        name: row.try_get(name_column)?,
        kind: OrganizationKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("organization kind {kind:?}")))?,
        country: row.try_get("country")?,
        membership: from_json("membership", &row.try_get::<String, _>("membership")?)?,
        created_at: from_ts(row.try_get(created_at_column)?)?,
    })
}

impl WriteTx {
    /// Creates an organization with active membership.
    pub async fn create_organization(
        &mut self,
        new: &NewOrganization,
        now: Timestamp,
    ) -> Result<Organization> {
        let org = Organization {
            id: new_id("org"),
            name: new.name.clone(),
            kind: new.kind,
            country: new.country.clone(),
            membership: Membership::Active,
            created_at: now,
        };
        sqlx::query("INSERT INTO organizations (id, name, kind, country, membership, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.kind.as_str())
            .bind(&org.country)
            .bind(to_json(&org.membership))
            .bind(ts(now))
            .execute(self.conn())
            .await
            .map_err(|e| StoreError::conflict_on_unique(e, || format!("an organization named {:?} already exists", org.name)))?;
        Ok(org)
    }

    /// Replaces an organization's membership state.
    pub async fn set_membership(&mut self, org_id: &str, membership: &Membership) -> Result<()> {
        self.credentials_changed();
        self.remembered.organizations.remove(org_id);
        let done = sqlx::query("UPDATE organizations SET membership = $1 WHERE id = $2")
            .bind(to_json(membership))
            .bind(org_id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("organization"));
        }
        Ok(())
    }

    /// Reads an organization inside the transaction.
    pub async fn organization(&mut self, id: &str) -> Result<Organization> {
        if let Some(known) = self.remembered.organizations.get(id) {
            return Ok(known.clone());
        }
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
        let found = fetch_by_id(self.conn(), &sql, id, "organization", organization).await?;
        self.remembered
            .organizations
            .insert(id.to_owned(), found.clone());
        Ok(found)
    }
}

impl Store {
    /// Reads an organization.
    pub async fn organization(&self, id: &str) -> Result<Organization> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
        fetch_by_id(&self.pool, &sql, id, "organization", organization).await
    }

    /// Finds an organization by its exact name.
    pub async fn organization_by_name(&self, name: &str) -> Result<Organization> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE name = $1");
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(organization)
            .transpose()?
            .ok_or(StoreError::NotFound("organization"))
    }

    /// Lists organizations by name, at most `limit` after the name `after`.
    pub async fn organizations(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Organization>> {
        let sql =
            format!("SELECT {COLUMNS} FROM organizations WHERE name > $1 ORDER BY name LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(organization).collect()
    }

    /// How many organizations exist (used to detect an empty platform).
    pub async fn organization_count(&self) -> Result<i64> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM organizations")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(n)
    }
}
