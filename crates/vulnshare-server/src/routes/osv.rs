//! An osv.dev-compatible API over the platform's published advisories, under the same TLP and
//! membership rules as the native API: `POST /osv/v1/query`, `POST /osv/v1/querybatch` (with
//! `?full=true` for full records), `GET /osv/v1/vulns/{id}`, and per-ecosystem `all.zip`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use vulnshare_core::advisory::{Advisory, AdvisoryState};
use vulnshare_core::package::Ecosystem;
use vulnshare_formats::osv::{advisory_to_osv, write_ecosystem_zip};
use vulnshare_formats::sbom::Component;

use crate::AppState;
use crate::auth::MaybeCaller;
use crate::error::{AppError, AppResult};
use crate::extract::{AnyJson, Query};
use crate::service;

/// Most queries in one batch (as osv.dev).
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, Deserialize)]
pub(crate) struct OsvPackage {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    ecosystem: Option<String>,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OsvQuery {
    #[serde(default)]
    package: Option<OsvPackage>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Batch {
    queries: Vec<OsvQuery>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatchOptions {
    #[serde(default)]
    full: bool,
}

/// The advisories the caller may read, every one (for `all.zip`).
async fn visible(state: &AppState, caller: &MaybeCaller) -> AppResult<Vec<Advisory>> {
    let actor = caller.0.as_ref().map(|c| &c.actor);
    Ok(service::list_advisories(state, actor, i64::MAX)
        .await?
        .into_iter()
        .filter(|a| a.state == AdvisoryState::Published)
        .collect())
}

/// For each target, the published advisories that match it and that the caller may read,
/// newest first. Packages are matched against this node's compiled catalog first, so only
/// the matching advisories' cases are read to decide access.
async fn matching(
    state: &AppState,
    caller: &MaybeCaller,
    targets: &[(Ecosystem, String, String)],
) -> AppResult<Vec<Vec<Advisory>>> {
    let catalog = match caller.0.as_ref().and_then(|c| c.catalog_generation) {
        // The token's read brought the generation along: no second round trip.
        Some(generation) => service::advisory_catalog_at(state, generation).await?,
        None => service::advisory_catalog_for_reading(state).await?,
    };
    let mut check = service::AdvisoryReadCheck::new(state, caller.0.as_ref().map(|c| &c.actor))
        .with_catalog(&catalog);
    let mut out = Vec::with_capacity(targets.len());
    for (eco, name, version) in targets {
        let mut found = Vec::new();
        for a in catalog.matching(*eco, name, version) {
            if check.may_read(a).await? {
                found.push(a.clone());
            }
        }
        found.sort_by(|a, b| (b.published_at, &b.id).cmp(&(a.published_at, &a.id)));
        out.push(found);
    }
    Ok(out)
}

/// The (ecosystem, name, version) a query asks about, or why it cannot be answered.
fn target(q: &OsvQuery, at: &str) -> AppResult<(Ecosystem, String, String)> {
    if q.commit.is_some() {
        return Err(AppError::field(
            format!("{at}commit"),
            "commit queries are not supported; query by package and version",
        ));
    }
    if q.page_token.is_some() {
        return Err(AppError::field(
            format!("{at}page_token"),
            "results are never paged here; omit page_token",
        ));
    }
    let Some(p) = &q.package else {
        return Err(AppError::field(
            format!("{at}package"),
            "give package {name, ecosystem} or package {purl}",
        ));
    };
    if let Some(purl) = &p.purl {
        let component = Component {
            name: String::new(),
            version: q.version.clone(),
            purl: Some(purl.clone()),
            group: None,
            hashes: vec![],
            bom_ref: None,
            scope: None,
        };
        return component.purl_parts().ok_or_else(|| {
            AppError::field(
                format!("{at}package.purl"),
                "not a package URL of a supported ecosystem, or no version given",
            )
        });
    }
    let eco_name = p.ecosystem.as_deref().unwrap_or_default();
    let ecosystem = Ecosystem::parse(eco_name).ok_or_else(|| {
        AppError::field(
            format!("{at}package.ecosystem"),
            format!("unknown or unsupported ecosystem {eco_name:?}"),
        )
    })?;
    let name = p
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| AppError::field(format!("{at}package.name"), "give the package name"))?;
    let version = q
        .version
        .clone()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| AppError::field(format!("{at}version"), "give the version to check"))?;
    Ok((ecosystem, name, version))
}

/// `POST /osv/v1/query`.
pub(crate) async fn query(
    State(state): State<AppState>,
    caller: MaybeCaller,
    AnyJson(q): AnyJson<OsvQuery>,
) -> AppResult<impl IntoResponse> {
    let t = target(&q, "")?;
    let found = matching(&state, &caller, &[t]).await?;
    let vulns: Vec<Value> = found
        .iter()
        .flatten()
        .map(|a| json!(advisory_to_osv(a)))
        .collect();
    // osv.dev answers an empty object when nothing matches.
    Ok(axum::Json(if vulns.is_empty() {
        json!({})
    } else {
        json!({"vulns": vulns})
    }))
}

/// `POST /osv/v1/querybatch[?full=true]`.
pub(crate) async fn querybatch(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Query(options): Query<BatchOptions>,
    AnyJson(batch): AnyJson<Batch>,
) -> AppResult<impl IntoResponse> {
    if batch.queries.len() > MAX_BATCH {
        return Err(AppError::field(
            "queries",
            format!("at most {MAX_BATCH} queries per batch"),
        ));
    }
    let targets = batch
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| target(q, &format!("queries[{i}].")))
        .collect::<AppResult<Vec<_>>>()?;
    let results: Vec<Value> = matching(&state, &caller, &targets)
        .await?
        .into_iter()
        .map(|found| {
            if found.is_empty() {
                json!({})
            } else if options.full {
                json!({"vulns": found.iter().map(advisory_to_osv).collect::<Vec<_>>()})
            } else {
                json!({"vulns": found.iter().map(|a| json!({"id": a.id, "modified": a.updated_at})).collect::<Vec<_>>()})
            }
        })
        .collect();
    Ok(axum::Json(json!({"results": results})))
}

/// `GET /osv/v1/vulns/{id}`.
pub(crate) async fn vuln(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let a = service::read_advisory(&state, caller.0.as_ref().map(|c| &c.actor), &id).await?;
    Ok(axum::Json(advisory_to_osv(&a)))
}

/// `GET /osv/v1/ecosystems/{ecosystem}/all.zip`: every visible advisory affecting the
/// ecosystem, one `<id>.json` per record, for offline use.
pub(crate) async fn all_zip(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(ecosystem): Path<String>,
) -> AppResult<impl IntoResponse> {
    let eco = Ecosystem::parse(&ecosystem).ok_or_else(|| AppError::NotFound("ecosystem"))?;
    let records: Vec<_> = visible(&state, &caller)
        .await?
        .iter()
        .filter(|a| a.affected_packages.iter().any(|p| p.ecosystem == eco))
        .map(advisory_to_osv)
        .collect();
    let buf = write_ecosystem_zip(&records, std::io::Cursor::new(Vec::new()))
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok((
        [(header::CONTENT_TYPE, "application/zip")],
        buf.into_inner(),
    ))
}
