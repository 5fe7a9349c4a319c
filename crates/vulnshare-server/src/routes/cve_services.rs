//! A CVE Services-compatible API (the subset the `cve` client of cvelib uses) under
//! `/cve-services/api/`: reserve and list CVE ids, publish, update and reject records, show the
//! CNA's organization, quota and users, and reset API keys.
//!
//! Authentication is CVE Services' own: `CVE-API-ORG` (the CNA's short name), `CVE-API-USER`
//! (the username, a platform user's e-mail) and `CVE-API-KEY` (one of that user's platform API
//! tokens, stored hashed like every token). Errors are `{"error": CODE, "message": …}` with the
//! real service's codes and statuses, not problem+json, because its clients read them.

mod org;

pub(crate) use org::{create_user, org, quota, reset_secret, show_user, update_user, users};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::cve::CveState;
use vulnshare_core::policy::Actor;
use vulnshare_core::token::{hash_secret, looks_like_secret};
use vulnshare_store::{CveIdFilter, StoreError, StoredCveId};

use crate::AppState;
use crate::error::AppError;
use crate::extract::RawBody;
use crate::service::cve::{
    self as cve, CnaActor, CveApiError, CveResult, RecordKind, ReserveRequest,
};

/// Ids per page of `GET /cve-id`, as CVE Services.
pub const PAGE_SIZE: i64 = 500;

/// The authentication headers.
const ORG_HEADER: &str = "cve-api-org";
const USER_HEADER: &str = "cve-api-user";
const KEY_HEADER: &str = "cve-api-key";

impl IntoResponse for CveApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = %cause, "CVE Services request failed");
        }
        let mut body = json!({"error": self.code, "message": self.message});
        if let Some(details) = self.details {
            body["details"] = details;
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(body)).into_response()
    }
}

fn unauthorized() -> CveApiError {
    CveApiError::new(
        401,
        "UNAUTHORIZED",
        "Unauthorized: CVE-API-ORG, CVE-API-USER and CVE-API-KEY must name an active API key of a user of that CNA",
    )
}

/// A caller authenticated by CVE Services' headers.
pub(crate) struct CveCaller(pub CnaActor);

/// A caller who may be anonymous (no CVE-API-* header at all); headers that are sent must be
/// valid.
pub(crate) struct MaybeCveCaller(pub Option<CnaActor>);

async fn authenticate(headers: &HeaderMap, state: &AppState) -> CveResult<CnaActor> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (Some(org), Some(username), Some(key)) =
        (get(ORG_HEADER), get(USER_HEADER), get(KEY_HEADER))
    else {
        return Err(unauthorized());
    };
    if !looks_like_secret(key) {
        return Err(unauthorized());
    }
    let found = match state.store.token_actor(&hash_secret(key)).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => return Err(unauthorized()),
        Err(e) => return Err(e.into()),
    };
    if !found.token.is_usable(state.clock.now())
        || found.user.disabled
        || !found.user.email.eq_ignore_ascii_case(username)
    {
        return Err(unauthorized());
    }
    let cna = match state.store.cna_by_short_name(org).await {
        Ok(cna) if cna.organization_id == found.organization.id => cna,
        Ok(_) | Err(StoreError::NotFound(_)) => return Err(unauthorized()),
        Err(e) => return Err(e.into()),
    };
    let actor = Actor {
        user_id: found.user.id.clone(),
        org_id: found.organization.id.clone(),
        org_kind: found.organization.kind,
        membership_active: found.organization.membership.is_active(),
        roles: found.user.roles.clone(),
        scopes: found.token.scopes.clone(),
    };
    Ok(CnaActor {
        actor,
        user: found.user,
        cna,
    })
}

impl FromRequestParts<AppState> for CveCaller {
    type Rejection = CveApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(&parts.headers, state).await.map(CveCaller)
    }
}

impl FromRequestParts<AppState> for MaybeCveCaller {
    type Rejection = CveApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if [ORG_HEADER, USER_HEADER, KEY_HEADER]
            .iter()
            .all(|h| parts.headers.get(*h).is_none())
        {
            return Ok(MaybeCveCaller(None));
        }
        authenticate(&parts.headers, state)
            .await
            .map(|c| MaybeCveCaller(Some(c)))
    }
}

/// Query parameters as (lower-cased name, value) pairs; CVE Services matches names without
/// regard to case.
pub(crate) struct RawQuery(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for RawQuery {
    type Rejection = CveApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(RawQuery(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
                .collect(),
        ))
    }
}

impl RawQuery {
    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` parsed as a number.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> CveResult<Option<T>> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| CveApiError::bad_input(name, "must be a whole number"))
            })
            .transpose()
    }

    /// `name` parsed as a time: RFC 3339, or a date-time without offset taken as UTC.
    pub fn time(&self, name: &str) -> CveResult<Option<Timestamp>> {
        self.get(name)
            .map(|v| {
                v.parse::<Timestamp>()
                    .ok()
                    .or_else(|| {
                        v.parse::<jiff::civil::DateTime>()
                            .ok()
                            .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
                            .map(|z| z.timestamp())
                    })
                    .ok_or_else(|| {
                        CveApiError::bad_input(name, "must be a time like 2024-01-31T12:00:00Z")
                    })
            })
            .transpose()
    }
}

/// Times as CVE Services writes them (millisecond precision, `Z`).
pub(crate) fn time(t: Timestamp) -> String {
    format!(
        "{}.{:03}Z",
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        t.subsec_millisecond()
    )
}

/// A CVE id as its owner sees it.
fn owner_view(id: &StoredCveId) -> Value {
    json!({
        "cve_id": id.cve_id,
        "cve_year": id.cve_year.to_string(),
        "state": id.state.as_str(),
        "owning_cna": id.owning_short_name,
        "requested_by": {"cna": id.requested_by_short_name, "user": id.requested_by_username},
        "reserved": time(id.reserved_at),
        "time": {"created": time(id.reserved_at), "modified": time(id.updated_at)},
    })
}

/// A published or rejected CVE id as everyone else sees it.
fn public_view(id: &StoredCveId) -> Value {
    json!({
        "cve_id": id.cve_id,
        "cve_year": id.cve_year.to_string(),
        "state": id.state.as_str(),
        "owning_cna": id.owning_short_name,
    })
}

fn parse_body(bytes: &Bytes) -> CveResult<Value> {
    crate::extract::parse_json::<Value>(bytes).map_err(CveApiError::from)
}

/// `GET /health-check`.
pub(crate) async fn health_check(State(state): State<AppState>) -> CveResult<impl IntoResponse> {
    state.store.ping().await?;
    Ok(axum::Json(json!({})))
}

/// `POST /cve-id?amount=&cve_year=&short_name=&batch_type=`.
pub(crate) async fn reserve(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    query: RawQuery,
) -> CveResult<impl IntoResponse> {
    let request = ReserveRequest {
        amount: query.number("amount")?,
        cve_year: query.number("cve_year")?,
        short_name: query.get("short_name").map(str::to_owned),
        batch_type: query.get("batch_type").map(str::to_owned),
    };
    let (ids, remaining) = cve::reserve(&state.store, &caller, request, state.clock.now()).await?;
    let mut response = axum::Json(json!({
        "cve_ids": ids.iter().map(|id| json!({
            "cve_id": id.cve_id,
            "cve_year": id.cve_year.to_string(),
            "state": id.state.as_str(),
            "owning_cna": id.owning_short_name,
            "requested_by": {"cna": id.requested_by_short_name, "user": id.requested_by_username},
            "reserved": time(id.reserved_at),
        })).collect::<Vec<_>>(),
        "meta": {"remaining_quota": remaining},
    }))
    .into_response();
    response
        .headers_mut()
        .insert("cve-api-remaining-quota", HeaderValue::from(remaining));
    Ok(response)
}

/// `GET /cve-id?state=&cve_id_year=&time_reserved.lt=&time_reserved.gt=&time_modified.lt=&time_modified.gt=&page=`:
/// the caller's ids, 500 a page; paging fields appear only when there is more than one page's
/// worth, and `nextPage` is `null` on the last page.
pub(crate) async fn list_ids(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    query: RawQuery,
) -> CveResult<impl IntoResponse> {
    // The caller's own CNA always passes; this checks the key's read scope.
    cve::own_cna(&caller, &caller.cna.short_name)?;
    let state_filter = query
        .get("state")
        .map(|s| {
            CveState::parse(&s.to_ascii_uppercase()).ok_or_else(|| {
                CveApiError::bad_input("state", "must be RESERVED, PUBLISHED or REJECTED")
            })
        })
        .transpose()?;
    let filter = CveIdFilter {
        owning_org_id: caller.cna.organization_id.clone(),
        state: state_filter,
        year: query.number("cve_id_year")?,
        reserved_before: query.time("time_reserved.lt")?,
        reserved_after: query.time("time_reserved.gt")?,
        modified_before: query.time("time_modified.lt")?,
        modified_after: query.time("time_modified.gt")?,
    };
    let page: i64 = query.number("page")?.unwrap_or(1);
    if page < 1 {
        return Err(CveApiError::bad_input("page", "pages are numbered from 1"));
    }
    let (ids, total) = state
        .store
        .cve_ids(&filter, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        .await?;
    let mut body = json!({"cve_ids": ids.iter().map(owner_view).collect::<Vec<_>>()});
    if total >= PAGE_SIZE {
        let page_count = (total + PAGE_SIZE - 1) / PAGE_SIZE;
        body["totalCount"] = json!(total);
        body["itemsPerPage"] = json!(PAGE_SIZE);
        body["pageCount"] = json!(page_count);
        body["currentPage"] = json!(page);
        body["prevPage"] = if page > 1 {
            json!(page - 1)
        } else {
            Value::Null
        };
        body["nextPage"] = if page < page_count {
            json!(page + 1)
        } else {
            Value::Null
        };
    }
    Ok(axum::Json(body))
}

/// `GET /cve-id/{id}`: the owner sees everything; others (and anonymous callers) see published
/// and rejected ids only, without who reserved them.
pub(crate) async fn show_id(
    State(state): State<AppState>,
    MaybeCveCaller(caller): MaybeCveCaller,
    Path(id): Path<String>,
) -> CveResult<impl IntoResponse> {
    let (found, owner) = cve::read_id(&state.store, caller.as_ref(), &id).await?;
    Ok(axum::Json(if owner {
        owner_view(&found)
    } else {
        public_view(&found)
    }))
}

/// `PUT /cve-id/{id}?state=REJECTED|RESERVED`: reject (or un-reject) an id without a record;
/// `PUT /cve-id/{id}?org=SHORT_NAME`: transfer it to another CNA.
pub(crate) async fn modify_id(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(id): Path<String>,
    query: RawQuery,
) -> CveResult<impl IntoResponse> {
    if let Some(to) = query.get("org") {
        if query.get("state").is_some() {
            return Err(CveApiError::bad_input(
                "org",
                "transfer an id or change its state, not both at once",
            ));
        }
        let updated = cve::transfer(&state.store, &caller, &id, to, state.clock.now()).await?;
        return Ok(axum::Json(json!({
            "message": format!("{id} was successfully updated."),
            "updated": owner_view(&updated),
        })));
    }
    let Some(to) = query.get("state") else {
        return Err(CveApiError::bad_input(
            "state",
            "give the new state: REJECTED or RESERVED",
        ));
    };
    let updated = cve::set_id_state(&state.store, &caller, &id, to, state.clock.now()).await?;
    Ok(axum::Json(json!({
        "message": format!("{id} was successfully updated."),
        "updated": owner_view(&updated),
    })))
}

/// `GET /cve_count?state=PUBLISHED|REJECTED`: how many records there are across every CNA
/// (both states without `state`). RESERVED ids are not counted: they are the CNAs' own business.
pub(crate) async fn count(
    State(state): State<AppState>,
    query: RawQuery,
) -> CveResult<impl IntoResponse> {
    let states = match query.get("state").map(|s| s.to_ascii_uppercase()) {
        None => vec![CveState::Published, CveState::Rejected],
        Some(s) => match CveState::parse(&s) {
            Some(st @ (CveState::Published | CveState::Rejected)) => vec![st],
            _ => {
                return Err(CveApiError::bad_input(
                    "state",
                    "only PUBLISHED and REJECTED records can be counted",
                ));
            }
        },
    };
    let mut total = 0;
    for st in states {
        total += state.store.cve_count(st).await?;
    }
    Ok(axum::Json(json!({"totalCount": total})))
}

/// `GET /cve/{id}`: the full record of a published or rejected id.
pub(crate) async fn show_record(
    State(state): State<AppState>,
    MaybeCveCaller(caller): MaybeCveCaller,
    Path(id): Path<String>,
) -> CveResult<impl IntoResponse> {
    let dne = || {
        CveApiError::new(
            404,
            "CVE_RECORD_DNE",
            "The cve record for the cve id does not exist.",
        )
    };
    let found = match cve::read_id(&state.store, caller.as_ref(), &id).await {
        Ok((found, _)) => found,
        Err(e) if e.status == 404 => return Err(dne()),
        Err(e) => return Err(e),
    };
    let record = cve::record_of(&state.store, &found)
        .await?
        .ok_or_else(dne)?;
    Ok(axum::Json(record))
}

async fn put_record(
    state: &AppState,
    caller: &CnaActor,
    id: &str,
    kind: RecordKind,
    update: bool,
    body: &Bytes,
) -> CveResult<Response> {
    let body = parse_body(body)?;
    let record = cve::put_record(
        &state.store,
        caller,
        id,
        kind,
        update,
        body,
        state.clock.now(),
    )
    .await?;
    let (key, verb) = if update {
        ("updated", "updated")
    } else {
        ("created", "created")
    };
    Ok(axum::Json(json!({
        key: record,
        "message": format!("{id} record was successfully {verb}."),
    }))
    .into_response())
}

/// `POST /cve/{id}/cna`: publish a record for a reserved (or rejected) id.
pub(crate) async fn publish(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(id): Path<String>,
    body: Result<RawBody, AppError>,
) -> CveResult<Response> {
    put_record(&state, &caller, &id, RecordKind::Published, false, &body?.0).await
}

/// `PUT /cve/{id}/cna`: replace the CNA container of a published record.
pub(crate) async fn update_published(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(id): Path<String>,
    body: Result<RawBody, AppError>,
) -> CveResult<Response> {
    put_record(&state, &caller, &id, RecordKind::Published, true, &body?.0).await
}

/// `POST /cve/{id}/reject`: reject a reserved or published id with a record.
pub(crate) async fn reject(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(id): Path<String>,
    body: Result<RawBody, AppError>,
) -> CveResult<Response> {
    put_record(&state, &caller, &id, RecordKind::Rejected, false, &body?.0).await
}

/// `PUT /cve/{id}/reject`: replace the record of a rejected id.
pub(crate) async fn update_rejected(
    State(state): State<AppState>,
    CveCaller(caller): CveCaller,
    Path(id): Path<String>,
    body: Result<RawBody, AppError>,
) -> CveResult<Response> {
    put_record(&state, &caller, &id, RecordKind::Rejected, true, &body?.0).await
}

/// Unknown paths under `/cve-services/api/`.
pub(crate) async fn not_found() -> CveApiError {
    CveApiError::new(404, "NOT_FOUND", "404: resource not found")
}
