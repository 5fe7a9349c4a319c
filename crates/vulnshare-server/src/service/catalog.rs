//! The published advisories compiled for matching, kept in memory on each node.
//!
//! Every OSV query and every SBOM upload matches packages against all published advisories.
//! Reading and compiling them per request costs time in proportion to the whole catalog, so
//! each node keeps one compiled copy and reloads it only when the store's advisory generation
//! (raised in the transaction of every advisory change, on any node) differs from the copy's.
//! Whether a caller may read a matched advisory is still decided per request
//! ([`super::AdvisoryReadCheck`]); the cases it needs for that are kept with the copy, read on
//! first use, since a change of a case's participants raises the generation too.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use vulnshare_core::advisory::{Advisory, AdvisoryState};
use vulnshare_core::case::Case;
use vulnshare_core::exposure::AdvisoryIndex;
use vulnshare_core::package::Ecosystem;

use crate::AppState;
use crate::error::AppResult;

/// One compiled copy of the published advisories at a store generation.
#[derive(Debug, Default)]
pub struct AdvisoryCatalog {
    generation: i64,
    advisories: Vec<Advisory>,
    by_id: HashMap<String, usize>,
    index: AdvisoryIndex,
    cases: std::sync::Mutex<HashMap<String, Arc<Case>>>,
}

impl AdvisoryCatalog {
    fn compile(generation: i64, advisories: Vec<Advisory>) -> AdvisoryCatalog {
        let advisories: Vec<Advisory> = advisories
            .into_iter()
            .filter(|a| a.state == AdvisoryState::Published)
            .collect();
        let (index, _) = AdvisoryIndex::build(
            advisories
                .iter()
                .map(|a| (a.id.as_str(), a.affected_packages.as_slice())),
        );
        let by_id = advisories
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        AdvisoryCatalog {
            generation,
            advisories,
            by_id,
            index,
            cases: std::sync::Mutex::default(),
        }
    }

    /// The case `id`, as read since this copy's generation was current.
    pub async fn case(&self, state: &AppState, id: &str) -> AppResult<Arc<Case>> {
        if let Some(case) = self.cases_locked().get(id) {
            return Ok(case.clone());
        }
        let case = Arc::new(state.store.case(id).await?);
        self.cases_locked().insert(id.to_owned(), case.clone());
        Ok(case)
    }

    fn cases_locked(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Case>>> {
        self.cases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The compiled index over the published advisories.
    pub fn index(&self) -> &AdvisoryIndex {
        &self.index
    }

    /// A published advisory by id.
    pub fn get(&self, id: &str) -> Option<&Advisory> {
        self.by_id.get(id).map(|&i| &self.advisories[i])
    }

    /// The published advisories that affect `name` at `version` in `ecosystem`, ordered by id,
    /// whoever may read them.
    pub fn matching(&self, ecosystem: Ecosystem, name: &str, version: &str) -> Vec<&Advisory> {
        self.index
            .advisories_for(ecosystem, name, version)
            .into_iter()
            .filter_map(|id| self.get(id))
            .collect()
    }
}

/// This node's copy of the catalog, reloaded when the store says it is stale.
#[derive(Debug, Clone, Default)]
pub struct CatalogCache {
    current: Arc<std::sync::RwLock<Arc<AdvisoryCatalog>>>,
    // One reload at a time: requests that find the copy stale while another reloads it wait
    // for that reload instead of each reading the whole catalog.
    reload: Arc<Mutex<()>>,
}

impl CatalogCache {
    fn cached(&self) -> Arc<AdvisoryCatalog> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The published advisories as of now: one read of the store's generation, and a reload of
/// the catalog only when it changed since this node's copy. For writers that must see every
/// committed change (an SBOM upload under the audit head).
pub async fn advisory_catalog(state: &AppState) -> AppResult<Arc<AdvisoryCatalog>> {
    let generation = state.store.advisory_catalog_generation().await?;
    advisory_catalog_at(state, generation).await
}

/// The published advisories for a reader: as of the latest change the store's change feed
/// brought (every change this node committed, and other nodes' within about a millisecond of
/// their commit), without a query; as [`advisory_catalog`] while the feed is not live.
pub async fn advisory_catalog_for_reading(state: &AppState) -> AppResult<Arc<AdvisoryCatalog>> {
    match state.store.changes().catalog_generation() {
        Some(generation) => advisory_catalog_at(state, generation).await,
        None => advisory_catalog(state).await,
    }
}

/// The published advisories as of `generation`, a generation this request read from the store
/// (with its token, say): no read of the store when this node's copy is at least that current.
pub async fn advisory_catalog_at(
    state: &AppState,
    generation: i64,
) -> AppResult<Arc<AdvisoryCatalog>> {
    let cache = &state.catalog;
    let cached = cache.cached();
    if cached.generation >= generation {
        return Ok(cached);
    }
    let _reloading = cache.reload.lock().await;
    let cached = cache.cached();
    if cached.generation >= generation {
        return Ok(cached);
    }
    // The generation is read before the advisories: a change committed in between makes the
    // copy newer than its label, so the next request reloads once more, never the reverse.
    let generation = state.store.advisory_catalog_generation().await?;
    let advisories = state.store.published_advisories().await?;
    let fresh = Arc::new(AdvisoryCatalog::compile(generation, advisories));
    *cache
        .current
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh.clone();
    Ok(fresh)
}
