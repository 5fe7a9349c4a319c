//! SBOM upload per product version, and matching each new SBOM against every published
//! advisory.

use serde_json::json;
use vulnshare_core::exposure::ComponentRef;
use vulnshare_core::policy::Actor;
use vulnshare_formats::sbom::{SbomFormat, SbomLimits, parse_sbom};
use vulnshare_store::{ExposureRecord, SbomRecord, StoredComponent, new_sbom_id};

use super::audit_event;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// Largest SBOM accepted, in bytes.
pub const MAX_SBOM_BYTES: usize = 32 << 20;

/// What an upload produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Uploaded {
    /// The stored SBOM.
    pub sbom: SbomRecord,
    /// Components without a purl vulnshare can match (kept out of matching).
    pub unmatched_components: usize,
    /// Exposures found against published advisories.
    pub exposures: Vec<ExposureRecord>,
}

/// Stores a CycloneDX or SPDX JSON SBOM for `product_id` at `product_version`, then matches it
/// against every published advisory; an exposure found has the consequences it has when the
/// advisory is published after the SBOM ([`super::matching`]).
pub async fn upload(
    state: &AppState,
    actor: &Actor,
    product_id: &str,
    product_version: &str,
    body: &[u8],
) -> AppResult<Uploaded> {
    let product = state
        .store
        .product(product_id)
        .await
        .map_err(|_| AppError::NotFound("product"))?;
    actor.can_read_products(&product.organization_id)?;
    actor.can_write_products(&product.organization_id)?;
    let mut c = vulnshare_core::validation::Collector::default();
    let product_version = c.text("version", product_version, 100);
    c.finish(())?;
    let limits = SbomLimits {
        max_bytes: MAX_SBOM_BYTES,
        ..SbomLimits::default()
    };
    let sbom = parse_sbom(body, &limits).map_err(|e| match e {
        vulnshare_formats::FormatError::Syntax { path, message, .. }
        | vulnshare_formats::FormatError::Invalid { path, message, .. } => {
            AppError::field(path, message)
        }
        other => AppError::MalformedBody {
            message: other.to_string(),
            field: None,
        },
    })?;
    let mut components = Vec::new();
    for (i, comp) in sbom.components.iter().enumerate() {
        if let Some((ecosystem, name, version)) = comp.purl_parts() {
            components.push(StoredComponent {
                position: i as i64,
                ecosystem,
                name,
                version,
                purl: comp.purl.clone(),
            });
        }
    }
    let now = state.clock.now();
    let record = SbomRecord {
        id: new_sbom_id(),
        product_id: product.id.clone(),
        organization_id: product.organization_id.clone(),
        product_version,
        format: match sbom.format {
            SbomFormat::CycloneDx => "cyclonedx",
            SbomFormat::Spdx => "spdx",
        }
        .into(),
        spec_version: sbom.spec_version.clone(),
        component_count: components.len() as i64,
        uploaded_at: now,
    };

    // The components are written before the audit chain's head is taken, so other writers do
    // not wait for thousands of rows; the matching comes after it is taken: an advisory
    // published meanwhile has either committed (and is in the catalog read now) or is still
    // waiting for the head and matches this SBOM itself once this commits.
    let mut unlocked = state.store.begin_write_unlocked().await?;
    unlocked
        .save_sbom(&record, &components, &actor.user_id)
        .await?;
    let mut tx = unlocked.lock().await?;
    let catalog = super::advisory_catalog(state).await?;
    let refs: Vec<ComponentRef<'_>> = components
        .iter()
        .map(|c| ComponentRef {
            ecosystem: c.ecosystem,
            name: &c.name,
            version: &c.version,
        })
        .collect();
    let matches = catalog.index().match_components(&refs);

    tx.audit(now, audit_event(Some(actor), "sbom.upload", "sbom", &record.id, json!({"product_id": product.id, "version": record.product_version, "components": components.len()})))
        .await?;
    let mut exposures = Vec::new();
    let mut exposed_to = std::collections::BTreeSet::new();
    for m in matches {
        let comp = &components[m.component];
        let e = ExposureRecord::new(&m.advisory_id, &record, comp, now);
        if tx.add_exposure(&e, comp.position).await? {
            if let Some(advisory) = catalog.get(&e.advisory_id) {
                let detail = json!({"product_id": e.product_id, "product_version": e.product_version, "component": format!("{}@{}", e.name, e.version)});
                crate::outbox::on_exposure(
                    state,
                    &mut tx,
                    &e.organization_id,
                    &e.product_id,
                    advisory,
                    detail,
                )
                .await?;
                exposed_to.insert(advisory.id.clone());
            }
            exposures.push(e);
        }
    }
    // As when an advisory is published against the SBOMs already stored: the member is
    // notified once per advisory, its duties start and it joins the advisory's case.
    for advisory_id in exposed_to {
        if let Some(advisory) = catalog.get(&advisory_id) {
            let org = std::collections::BTreeSet::from([record.organization_id.clone()]);
            super::matching::exposed_organizations_join(state, &mut tx, advisory, org, now).await?;
        }
    }
    tx.commit().await?;
    Ok(Uploaded {
        unmatched_components: sbom.components.len() - components.len(),
        sbom: record,
        exposures,
    })
}
