//! A TAXII 2.1 server under `/taxii2/`: discovery, one API root (`api1`), one collection per
//! TLP audience, objects (get, add, get by id, delete, versions), manifests and the status of
//! each add. What a caller reads follows the same TLP and membership rules as the native API
//! (see [`crate::service::visible_entries`]).

pub(crate) mod protocol;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use vulnshare_formats::stix::{STIX_MEDIA_TYPE, parse_stix_time, stix_time};

use crate::error::AppError;
use crate::extract::{RawBody, parse_json};
use crate::service::{self, Collection, Entry, ObjectFilter, Page, VersionMatch};
use crate::{AppState, MAX_BODY_BYTES};
pub(crate) use protocol::TAXII_MEDIA_TYPE;
use protocol::{TaxiiCaller, TaxiiResult, check_content_type, negotiate, taxii_json};

/// `error` as a TAXII error message, for middleware that refuses a TAXII request.
pub(crate) fn error_response(error: AppError) -> Response {
    use axum::response::IntoResponse;
    protocol::TaxiiError::App(error).into_response()
}

/// The path of the only API root.
pub const API_ROOT: &str = "/taxii2/api1/";

/// Largest page of objects.
const MAX_PAGE: usize = 1000;

/// `scheme://host` of the request, for the absolute URLs of discovery.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(axum::http::header::HOST))
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// `GET /taxii2/`: the server and its API root.
pub(crate) async fn discovery(headers: HeaderMap) -> TaxiiResult<Response> {
    let media = negotiate(&headers, false)?;
    let root = format!("{}{API_ROOT}", origin(&headers));
    let body = json!({
        "title": "vulnshare TAXII server",
        "description": "Advisories, threat reports and members' threat intelligence as STIX 2.1, one collection per TLP audience.",
        "default": root,
        "api_roots": [root],
    });
    Ok(taxii_json(StatusCode::OK, &body, media))
}

/// `GET /taxii2/api1/`: the API root.
pub(crate) async fn api_root(headers: HeaderMap) -> TaxiiResult<Response> {
    let media = negotiate(&headers, false)?;
    let body = json!({
        "title": "vulnshare",
        "description": "Collections by TLP 2.0 label. Sign in with HTTP Basic (e-mail address, API token) or a bearer token.",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": MAX_BODY_BYTES,
    });
    Ok(taxii_json(StatusCode::OK, &body, media))
}

fn collection_resource(c: &Collection, can_write: bool) -> Value {
    json!({
        "id": c.id, "title": c.title, "description": c.description,
        "can_read": true, "can_write": can_write, "media_types": [STIX_MEDIA_TYPE],
    })
}

/// `GET /taxii2/api1/collections/`.
pub(crate) async fn collections(
    State(_): State<AppState>,
    caller: TaxiiCaller,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    let media = negotiate(&headers, false)?;
    let actor = caller.0.as_ref().map(|c| &c.actor);
    let list: Vec<Value> = service::collections_for(actor)
        .into_iter()
        .map(|(c, w)| collection_resource(c, w))
        .collect();
    Ok(taxii_json(
        StatusCode::OK,
        &json!({"collections": list}),
        media,
    ))
}

/// `GET /taxii2/api1/collections/{id}/`.
pub(crate) async fn collection(
    caller: TaxiiCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> TaxiiResult<Response> {
    let media = negotiate(&headers, false)?;
    let actor = caller.0.as_ref().map(|c| &c.actor);
    let c = service::open_collection(actor, &id)?;
    let writable = service::collections_for(actor)
        .into_iter()
        .any(|(o, w)| o.id == c.id && w);
    Ok(taxii_json(
        StatusCode::OK,
        &collection_resource(c, writable),
        media,
    ))
}

/// Reads the TAXII filter parameters; unknown parameters are ignored, as TAXII allows.
fn filter(uri: &Uri) -> TaxiiResult<ObjectFilter> {
    let mut filter = ObjectFilter {
        limit: 100,
        ..ObjectFilter::default()
    };
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "added_after" => {
                filter.added_after = Some(parse_stix_time(&value).ok_or_else(|| {
                    AppError::field(
                        "added_after",
                        "give a UTC timestamp like 2021-12-10T08:00:00.000Z",
                    )
                })?)
            }
            "limit" => {
                let n: usize = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| AppError::field("limit", "must be a positive number"))?;
                filter.limit = n.min(MAX_PAGE);
            }
            "next" => filter.next = Some(value.into_owned()),
            "match[id]" => filter.ids = Some(list(&value)),
            "match[type]" => filter.types = Some(list(&value)),
            "match[spec_version]" => filter.spec_versions = Some(list(&value)),
            "match[version]" => filter.versions = version_match(&value)?,
            _ => {}
        }
    }
    Ok(filter)
}

fn version_match(value: &str) -> TaxiiResult<VersionMatch> {
    let (mut first, mut last, mut exact) = (false, false, Vec::new());
    for v in value.split(',').map(str::trim) {
        match v {
            "all" => return Ok(VersionMatch::All),
            "first" => first = true,
            "last" => last = true,
            other if parse_stix_time(other).is_some() => exact.push(other.to_owned()),
            other => {
                return Err(AppError::field(
                    "match[version]",
                    format!("{other:?} is not all, first, last or a timestamp"),
                )
                .into());
            }
        }
    }
    Ok(VersionMatch::Some { first, last, exact })
}

/// Adds the `X-TAXII-Date-Added-First/Last` headers of a page.
fn with_date_headers(mut response: Response, entries: &[Entry]) -> Response {
    let headers = response.headers_mut();
    for (name, entry) in [
        ("x-taxii-date-added-first", entries.first()),
        ("x-taxii-date-added-last", entries.last()),
    ] {
        if let Some(value) =
            entry.and_then(|e| HeaderValue::from_str(&stix_time(e.date_added)).ok())
        {
            headers.insert(name, value);
        }
    }
    response
}

fn envelope(page: &Page) -> Value {
    let mut body = json!({"more": page.more});
    if let Some(next) = &page.next {
        body["next"] = next.clone().into();
    }
    if !page.entries.is_empty() {
        body["objects"] = page.entries.iter().map(|e| e.document.clone()).collect();
    }
    body
}

async fn page_of(
    state: &AppState,
    caller: &TaxiiCaller,
    id: &str,
    filter: &ObjectFilter,
) -> TaxiiResult<Page> {
    let actor = caller.0.as_ref().map(|c| &c.actor);
    let c = service::open_collection(actor, id)?;
    let entries = service::visible_entries(state, actor, c).await?;
    Ok(service::select(entries, filter)?)
}

/// `GET .../collections/{id}/objects/`.
pub(crate) async fn get_objects(
    State(state): State<AppState>,
    caller: TaxiiCaller,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> TaxiiResult<Response> {
    let media = negotiate(&headers, true)?;
    let page = page_of(&state, &caller, &id, &filter(&uri)?).await?;
    let response = taxii_json(StatusCode::OK, &envelope(&page), media);
    Ok(with_date_headers(response, &page.entries))
}

/// `POST .../collections/{id}/objects/`: every object is checked on its own; the answer is the
/// (already complete) status.
pub(crate) async fn add_objects(
    State(state): State<AppState>,
    caller: TaxiiCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<RawBody, AppError>,
) -> TaxiiResult<Response> {
    let caller = caller.required()?;
    let media = negotiate(&headers, false)?;
    let c = service::open_collection(Some(&caller.actor), &id)?;
    check_content_type(&headers)?;
    let envelope: Value = parse_json(&body?.0)?;
    let status = service::add_objects(&state, &caller.actor, c, envelope).await?;
    Ok(taxii_json(StatusCode::ACCEPTED, &status, media))
}

/// `GET .../collections/{id}/objects/{object_id}/`.
pub(crate) async fn get_object(
    State(state): State<AppState>,
    caller: TaxiiCaller,
    headers: HeaderMap,
    uri: Uri,
    Path((id, object_id)): Path<(String, String)>,
) -> TaxiiResult<Response> {
    let media = negotiate(&headers, true)?;
    let mut filter = filter(&uri)?;
    filter.ids = Some(vec![object_id]);
    let page = page_of(&state, &caller, &id, &filter).await?;
    if page.entries.is_empty() && page.next.is_none() && filter.next.is_none() {
        return Err(AppError::NotFound("object").into());
    }
    let response = taxii_json(StatusCode::OK, &envelope(&page), media);
    Ok(with_date_headers(response, &page.entries))
}

/// `DELETE .../collections/{id}/objects/{object_id}/`: the sharing organization removes its
/// object (`match[version]` picks versions; all by default).
pub(crate) async fn delete_object(
    State(state): State<AppState>,
    caller: TaxiiCaller,
    headers: HeaderMap,
    uri: Uri,
    Path((id, object_id)): Path<(String, String)>,
) -> TaxiiResult<Response> {
    let caller = caller.required()?;
    negotiate(&headers, false)?;
    let c = service::open_collection(Some(&caller.actor), &id)?;
    let versions = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "match[version]")
        .map(|(_, v)| version_match(&v))
        .transpose()?
        .unwrap_or(VersionMatch::All);
    service::delete_object(&state, &caller.actor, c, &object_id, &versions).await?;
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}

/// `GET .../collections/{id}/objects/{object_id}/versions/`.
pub(crate) async fn versions(
    State(state): State<AppState>,
    caller: TaxiiCaller,
    headers: HeaderMap,
    uri: Uri,
    Path((id, object_id)): Path<(String, String)>,
) -> TaxiiResult<Response> {
    let media = negotiate(&headers, false)?;
    let mut filter = filter(&uri)?;
    filter.ids = Some(vec![object_id]);
    filter.versions = VersionMatch::All;
    let page = page_of(&state, &caller, &id, &filter).await?;
    if page.entries.is_empty() && filter.next.is_none() {
        return Err(AppError::NotFound("object").into());
    }
    let mut body = json!({"more": page.more, "versions": page.entries.iter().map(|e| e.version.clone()).collect::<Vec<_>>()});
    if let Some(next) = &page.next {
        body["next"] = next.clone().into();
    }
    let response = taxii_json(StatusCode::OK, &body, media);
    Ok(with_date_headers(response, &page.entries))
}

/// `GET .../collections/{id}/manifest/`.
pub(crate) async fn manifest(
    State(state): State<AppState>,
    caller: TaxiiCaller,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> TaxiiResult<Response> {
    let media = negotiate(&headers, false)?;
    let page = page_of(&state, &caller, &id, &filter(&uri)?).await?;
    let mut body = json!({"more": page.more});
    if let Some(next) = &page.next {
        body["next"] = next.clone().into();
    }
    if !page.entries.is_empty() {
        body["objects"] = page
            .entries
            .iter()
            .map(|e| json!({"id": e.id, "date_added": stix_time(e.date_added), "version": e.version, "media_type": STIX_MEDIA_TYPE}))
            .collect();
    }
    let response = taxii_json(StatusCode::OK, &body, media);
    Ok(with_date_headers(response, &page.entries))
}

/// `GET /taxii2/api1/status/{status_id}/` (also without the final slash, as taxii2-client asks).
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: TaxiiCaller,
    headers: HeaderMap,
    Path(status_id): Path<String>,
) -> TaxiiResult<Response> {
    let caller = caller.required()?;
    let media = negotiate(&headers, false)?;
    let status = service::read_status(&state, &caller.actor, &status_id).await?;
    Ok(taxii_json(StatusCode::OK, &status, media))
}

/// Fallback inside `/taxii2/`: a TAXII 404.
pub(crate) async fn not_found() -> TaxiiResult<Response> {
    Err(AppError::NotFound("TAXII resource").into())
}
