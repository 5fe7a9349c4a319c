//! The regime catalogue (built-in regimes plus operators' uploads), which regimes an
//! organization is under, and uploading a custom regime.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::json;
use vulnshare_core::compliance::{CnInterpretation, default_regimes};
use vulnshare_core::organization::Organization;
use vulnshare_core::policy::Actor;
use vulnshare_core::regime::{Regime, RegimeError, builtin_regimes};
use vulnshare_store::{CustomRegimeSource, RegimeSettings, Store, WriteTx};

use super::audit_event;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// Where a regime in the catalogue comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegimeOrigin {
    /// Compiled into the binary.
    Builtin,
    /// Uploaded by a platform administrator.
    Custom,
}

/// One regime of the catalogue.
#[derive(Debug, Clone)]
pub struct CatalogueEntry {
    /// The parsed regime.
    pub regime: Regime,
    /// Where it comes from.
    pub origin: RegimeOrigin,
}

fn builtins() -> &'static [Regime] {
    static BUILTIN: OnceLock<Vec<Regime>> = OnceLock::new();
    BUILTIN.get_or_init(|| builtin_regimes().expect("built-in regimes parse (tested in core)"))
}

/// Parses an uploaded document in its format.
pub fn parse_regime(format: &str, source: &str) -> Result<Regime, RegimeError> {
    if format == "json" {
        Regime::from_json(source)
    } else {
        Regime::from_toml(source)
    }
}

fn assemble(customs: Vec<CustomRegimeSource>) -> Vec<CatalogueEntry> {
    let mut by_id: BTreeMap<String, CatalogueEntry> = builtins()
        .iter()
        .map(|r| {
            (
                r.id.clone(),
                CatalogueEntry {
                    regime: r.clone(),
                    origin: RegimeOrigin::Builtin,
                },
            )
        })
        .collect();
    // Uploads are oldest first, so the latest upload of an id wins (an amended copy of a
    // built-in regime replaces it).
    for c in customs {
        match parse_regime(&c.format, &c.source) {
            Ok(regime) => {
                by_id.insert(
                    regime.id.clone(),
                    CatalogueEntry {
                        regime,
                        origin: RegimeOrigin::Custom,
                    },
                );
            }
            Err(e) => {
                tracing::warn!(regime = %c.regime_id, version = %c.version, error = %e, "stored regime no longer parses; skipped")
            }
        }
    }
    by_id.into_values().collect()
}

/// The catalogue, read through the store.
pub async fn catalogue(store: &Store) -> AppResult<Vec<CatalogueEntry>> {
    Ok(assemble(store.custom_regimes().await?))
}

/// The catalogue, read inside a write transaction.
pub(crate) async fn catalogue_in(tx: &mut WriteTx) -> AppResult<Vec<CatalogueEntry>> {
    Ok(assemble(tx.custom_regimes().await?))
}

/// The settings in force for `org`: its choice, or the defaults for its country.
pub fn effective_settings(org: &Organization, chosen: Option<RegimeSettings>) -> RegimeSettings {
    chosen.unwrap_or_else(|| RegimeSettings {
        regime_ids: default_regimes(&org.country),
        cn_interpretation: CnInterpretation::default(),
        updated_by: None,
        updated_at: org.created_at,
    })
}

/// The regimes `org` is under, with its CN interpretation applied.
pub(crate) async fn regimes_for(tx: &mut WriteTx, org: &Organization) -> AppResult<Vec<Regime>> {
    let settings = effective_settings(org, tx.regime_settings(&org.id).await?);
    Ok(catalogue_in(tx)
        .await?
        .into_iter()
        .filter(|e| settings.regime_ids.contains(&e.regime.id))
        .map(|e| {
            let mut regime = e.regime;
            settings.cn_interpretation.apply(&mut regime);
            regime
        })
        .collect())
}

/// A request to choose an organization's regimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeChoice {
    /// Regime ids to enable (replaces the current set).
    pub regimes: Vec<String>,
    /// How the CN `2日` clock is read (default `stricter_of`).
    #[serde(default)]
    pub cn_interpretation: Option<CnInterpretation>,
}

/// Replaces the regimes an organization is under.
pub async fn choose_regimes(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    choice: RegimeChoice,
) -> AppResult<RegimeSettings> {
    actor.can_manage_regimes(org_id)?;
    let known = catalogue(&state.store).await?;
    let mut ids: Vec<String> = Vec::new();
    for (i, id) in choice.regimes.iter().enumerate() {
        if !known.iter().any(|e| &e.regime.id == id) {
            return Err(AppError::field(
                format!("regimes[{i}]"),
                format!("unknown regime {id:?}; GET /api/v1/regimes lists the catalogue"),
            ));
        }
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let now = state.clock.now();
    let settings = RegimeSettings {
        regime_ids: ids,
        cn_interpretation: choice.cn_interpretation.unwrap_or_default(),
        updated_by: Some(actor.user_id.clone()),
        updated_at: now,
    };
    let mut tx = state.store.begin_write().await?;
    tx.organization(org_id).await?;
    tx.set_regime_settings(org_id, &settings).await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "regimes.choose",
            "organization",
            org_id,
            json!({"regimes": settings.regime_ids, "cn_interpretation": settings.cn_interpretation}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(settings)
}

/// Validates and stores an uploaded regime document (`format` is `toml` or `json`).
pub async fn upload_regime(
    state: &AppState,
    actor: &Actor,
    format: &str,
    source: &str,
) -> AppResult<Regime> {
    actor.can_upload_regimes()?;
    let regime = parse_regime(format, source).map_err(regime_error)?;
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    tx.insert_custom_regime(&CustomRegimeSource {
        regime_id: regime.id.clone(),
        version: regime.version.clone(),
        format: format.to_owned(),
        source: source.to_owned(),
        uploaded_by: actor.user_id.clone(),
        uploaded_at: now,
    })
    .await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "regime.upload",
            "regime",
            &regime.id,
            json!({"version": regime.version, "format": format, "rules": regime.rules.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(regime)
}

/// A refused regime document as a 422 whose errors name the line (and field) to fix.
fn regime_error(e: RegimeError) -> AppError {
    let errors = match &e {
        RegimeError::Syntax { .. } => vec![vulnshare_core::FieldError {
            field: "source".into(),
            message: e.to_string(),
        }],
        RegimeError::Invalid(issues) => issues
            .iter()
            .map(|i| vulnshare_core::FieldError {
                field: i.field.clone(),
                message: match i.location {
                    Some(at) => format!("{at}: {}", i.problem),
                    None => i.problem.to_string(),
                },
            })
            .collect(),
    };
    AppError::Invalid(errors)
}
