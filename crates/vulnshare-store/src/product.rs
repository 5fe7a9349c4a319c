//! Products table.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::product::{NewProduct, Product};

use crate::codec::{fetch_by_id, from_json, from_ts, new_id, to_json, ts};
use crate::{Result, Store, StoreError, WriteTx};

const COLUMNS: &str = "id, organization_id, name, model, versions, created_at";

fn product(row: &AnyRow) -> Result<Product> {
    Ok(Product {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        name: row.try_get("name")?,
        model: row.try_get("model")?,
        versions: from_json("product versions", &row.try_get::<String, _>("versions")?)?,
        created_at: from_ts(row.try_get("created_at")?)?,
    })
}

impl WriteTx {
    /// Registers a product for `org_id`.
    pub async fn create_product(
        &mut self,
        org_id: &str,
        new: &NewProduct,
        now: Timestamp,
    ) -> Result<Product> {
        let p = Product {
            id: new_id("prd"),
            organization_id: org_id.to_owned(),
            name: new.name.clone(),
            model: new.model.clone(),
            versions: new.versions.clone(),
            created_at: now,
        };
        sqlx::query("INSERT INTO products (id, organization_id, name, model, versions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)")
            .bind(&p.id)
            .bind(&p.organization_id)
            .bind(&p.name)
            .bind(p.model.as_deref())
            .bind(to_json(&p.versions))
            .bind(ts(now))
            .execute(self.conn())
            .await?;
        Ok(p)
    }

    /// Replaces a product's name, model and versions.
    pub async fn update_product(
        &mut self,
        id: &str,
        new: &NewProduct,
        now: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE products SET name = $1, model = $2, versions = $3, updated_at = $4 WHERE id = $5")
            .bind(&new.name)
            .bind(new.model.as_deref())
            .bind(to_json(&new.versions))
            .bind(ts(now))
            .bind(id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("product"));
        }
        Ok(())
    }
}

impl Store {
    /// Reads a product.
    pub async fn product(&self, id: &str) -> Result<Product> {
        let sql = format!("SELECT {COLUMNS} FROM products WHERE id = $1");
        fetch_by_id(&self.pool, &sql, id, "product", product).await
    }

    /// The products of an organization, by name.
    pub async fn products_of(&self, org_id: &str) -> Result<Vec<Product>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM products WHERE organization_id = $1 ORDER BY name, id LIMIT 10000"
        );
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&self.pool).await?;
        rows.iter().map(product).collect()
    }
}
