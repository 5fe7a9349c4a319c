//! Regime settings per organization, and custom regimes uploaded by operators (kept as their
//! source text and parsed by core whenever they are used).

use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vulnshare_core::compliance::CnInterpretation;

use crate::codec::{from_json, from_ts, to_json, ts};
use crate::{Result, Store, StoreError, WriteTx};

/// The regimes an organization has chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegimeSettings {
    /// Enabled regime ids.
    pub regime_ids: Vec<String>,
    /// How the CN `2日` clock is read.
    pub cn_interpretation: CnInterpretation,
    /// Who chose last.
    pub updated_by: Option<String>,
    /// When.
    pub updated_at: Timestamp,
}

/// A custom regime as uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomRegimeSource {
    /// The regime id the document declares.
    pub regime_id: String,
    /// Its version.
    pub version: String,
    /// `toml` or `json`.
    pub format: String,
    /// The document text.
    pub source: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: Timestamp,
}

async fn settings(conn: &mut AnyConnection, org_id: &str) -> Result<Option<RegimeSettings>> {
    let row = sqlx::query(
        "SELECT regime_ids, cn_interpretation, updated_by, updated_at FROM organization_regimes WHERE organization_id = $1",
    )
    .bind(org_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let cn: String = row.try_get("cn_interpretation")?;
        Ok(RegimeSettings {
            regime_ids: from_json("regime ids", &row.try_get::<String, _>("regime_ids")?)?,
            cn_interpretation: CnInterpretation::parse(&cn)
                .ok_or_else(|| StoreError::Corrupt(format!("CN interpretation {cn:?}")))?,
            updated_by: row.try_get("updated_by")?,
            updated_at: from_ts(row.try_get("updated_at")?)?,
        })
    })
    .transpose()
}

fn custom(row: &AnyRow) -> Result<CustomRegimeSource> {
    Ok(CustomRegimeSource {
        regime_id: row.try_get("regime_id")?,
        version: row.try_get("version")?,
        format: row.try_get("format")?,
        source: row.try_get("source")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at: from_ts(row.try_get("uploaded_at")?)?,
    })
}

async fn customs(conn: &mut AnyConnection) -> Result<Vec<CustomRegimeSource>> {
    let rows = sqlx::query(
        "SELECT regime_id, version, format, source, uploaded_by, uploaded_at FROM custom_regimes ORDER BY uploaded_at, regime_id, version",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(custom).collect()
}

impl WriteTx {
    /// Replaces an organization's regime choice.
    pub async fn set_regime_settings(
        &mut self,
        org_id: &str,
        settings: &RegimeSettings,
    ) -> Result<()> {
        self.remembered.regime_settings.remove(org_id);
        sqlx::query(
            "INSERT INTO organization_regimes (organization_id, regime_ids, cn_interpretation, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (organization_id) DO UPDATE SET regime_ids = excluded.regime_ids, cn_interpretation = excluded.cn_interpretation, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(org_id)
        .bind(to_json(&settings.regime_ids))
        .bind(settings.cn_interpretation.as_str())
        .bind(settings.updated_by.as_deref())
        .bind(ts(settings.updated_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// An organization's regime choice, `None` if it never chose (defaults apply).
    pub async fn regime_settings(&mut self, org_id: &str) -> Result<Option<RegimeSettings>> {
        if let Some(known) = self.remembered.regime_settings.get(org_id) {
            return Ok(known.clone());
        }
        let found = settings(self.conn(), org_id).await?;
        self.remembered
            .regime_settings
            .insert(org_id.to_owned(), found.clone());
        Ok(found)
    }

    /// Stores an uploaded regime; refuses a second upload of the same id and version.
    pub async fn insert_custom_regime(&mut self, regime: &CustomRegimeSource) -> Result<()> {
        self.remembered.custom_regimes = None;
        sqlx::query(
            "INSERT INTO custom_regimes (regime_id, version, format, source, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&regime.regime_id)
        .bind(&regime.version)
        .bind(&regime.format)
        .bind(&regime.source)
        .bind(&regime.uploaded_by)
        .bind(ts(regime.uploaded_at))
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!(
                    "regime {} version {} is already on record; give the amended document a new version",
                    regime.regime_id, regime.version
                )
            })
        })?;
        Ok(())
    }

    /// Every uploaded regime, oldest first.
    pub async fn custom_regimes(&mut self) -> Result<Vec<CustomRegimeSource>> {
        if let Some(known) = &self.remembered.custom_regimes {
            return Ok(known.clone());
        }
        let found = customs(self.conn()).await?;
        self.remembered.custom_regimes = Some(found.clone());
        Ok(found)
    }
}

impl Store {
    /// An organization's regime choice, `None` if it never chose (defaults apply).
    pub async fn regime_settings(&self, org_id: &str) -> Result<Option<RegimeSettings>> {
        let mut conn = self.pool.acquire().await?;
        settings(&mut conn, org_id).await
    }

    /// Every uploaded regime, oldest first.
    pub async fn custom_regimes(&self) -> Result<Vec<CustomRegimeSource>> {
        let mut conn = self.pool.acquire().await?;
        customs(&mut conn).await
    }
}
