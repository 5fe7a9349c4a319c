//! Advisories (public ones readable without a token), SBOM uploads and exposures.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::page_limit;
use crate::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Query};
use crate::service::{self, Withdrawal};
use vulnshare_formats::sbom::export::{self, ExportComponent, ExportSubject};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    limit: Option<i64>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<ListQuery>,
) -> AppResult<impl IntoResponse> {
    let limit = page_limit(q.limit)?;
    let items = service::list_advisories(&state, caller.as_ref().map(|c| &c.actor), limit).await?;
    Ok(axum::Json(json!({"items": items})))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(
        service::read_advisory(&state, caller.as_ref().map(|c| &c.actor), &id).await?,
    ))
}

pub(crate) async fn history(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    service::read_advisory(&state, caller.as_ref().map(|c| &c.actor), &id).await?;
    Ok(axum::Json(
        json!({"items": state.store.advisory_history(&id).await?}),
    ))
}

pub(crate) async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Withdrawal>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(
        service::withdraw(&state, &caller.actor, &id, body).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadQuery {
    version: String,
}

/// `POST /products/{id}/sboms?version=V` with a CycloneDX or SPDX JSON body.
pub(crate) async fn upload_sbom(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> AppResult<impl IntoResponse> {
    let body = body.map_err(|_| AppError::TooLarge(service::MAX_SBOM_BYTES))?;
    let uploaded = service::upload(&state, &caller.actor, &id, &q.version, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(uploaded)))
}

pub(crate) async fn list_sboms(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let product = state
        .store
        .product(&id)
        .await
        .map_err(|_| AppError::NotFound("product"))?;
    caller.actor.can_read_products(&product.organization_id)?;
    Ok(axum::Json(
        json!({"items": state.store.sboms_of_product(&id).await?}),
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct SbomQuery {
    format: Option<String>,
}

/// `GET /products/{id}/sboms/{sbom_id}`: the stored SBOM (record and components) as JSON, or
/// with `?format=cyclonedx|spdx` exported as a CycloneDX 1.6 or SPDX 2.3 document.
pub(crate) async fn sbom(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, sbom_id)): Path<(String, String)>,
    Query(q): Query<SbomQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let product = state
        .store
        .product(&id)
        .await
        .map_err(|_| AppError::NotFound("product"))?;
    caller.actor.can_read_products(&product.organization_id)?;
    let (record, components) = match state.store.sbom(&sbom_id).await {
        Ok(found) if found.0.product_id == product.id => found,
        Ok(_) | Err(vulnshare_store::StoreError::NotFound(_)) => {
            return Err(AppError::NotFound("sbom"));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(format) = q.format else {
        return Ok(axum::Json(json!({"sbom": record, "components": components})).into_response());
    };
    let organization = state.store.organization(&record.organization_id).await?;
    let base = super::csaf::base_url(&headers);
    let subject = ExportSubject {
        sbom_id: &record.id,
        product: &product.name,
        product_version: &record.product_version,
        supplier: &organization.name,
        created: state.clock.now(),
        base_url: &base,
    };
    let exported: Vec<ExportComponent> = components
        .into_iter()
        .map(|c| ExportComponent {
            name: c.name,
            version: c.version,
            purl: c.purl,
        })
        .collect();
    let (document, content_type) = match format.as_str() {
        "cyclonedx" => (
            export::to_cyclonedx(&subject, &exported),
            "application/vnd.cyclonedx+json; version=1.6",
        ),
        "spdx" => (
            export::to_spdx(&subject, &exported),
            "application/spdx+json",
        ),
        _ => return Err(AppError::field("format", "must be cyclonedx or spdx")),
    };
    Ok(([(header::CONTENT_TYPE, content_type)], axum::Json(document)).into_response())
}

pub(crate) async fn exposures(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<String>,
) -> AppResult<impl IntoResponse> {
    caller.actor.can_read_products(&org_id)?;
    Ok(axum::Json(
        json!({"items": state.store.exposures_of(&org_id).await?}),
    ))
}
