//! Reports: filing, reading, listing, editing drafts, state transitions and receipts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use vulnshare_core::package::Ecosystem;
use vulnshare_core::report::{ReportContent, ReportKind, ReportState, normalise_alias};
use vulnshare_core::tlp::Tlp;
use vulnshare_store::{ReportFilter, ReportScope};

use super::page_limit;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Query};
use crate::service::{self, Transition};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateQuery {
    #[serde(default)]
    submit: bool,
}

/// `POST /reports[?submit=true]`: files a draft, or submits at once and returns a receipt.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CreateQuery>,
    Json(body): Json<ReportContent>,
) -> AppResult<impl IntoResponse> {
    let filed = service::create_report(&state, &caller.actor, body, q.submit).await?;
    Ok((StatusCode::CREATED, axum::Json(filed)))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let report = service::read_report(&state, &caller.actor, &id).await?;
    let missing = report.content.cn_article_7_missing();
    let cvss = report.content.cvss();
    Ok(axum::Json(json!({
        "report": report,
        "cvss": cvss,
        "cn_article_7_missing": missing,
    })))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ReportContent>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(
        service::update_draft(&state, &caller.actor, &id, body).await?,
    ))
}

pub(crate) async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Transition>,
) -> AppResult<impl IntoResponse> {
    Ok(axum::Json(
        service::transition(&state, &caller.actor, &id, body).await?,
    ))
}

pub(crate) async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let report = service::read_report(&state, &caller.actor, &id).await?;
    if caller.actor.org_id != report.reporter_org_id && !caller.actor.is_staff() {
        return Err(AppError::NotFound("report"));
    }
    let receipt = service::issue_receipt(&state.signing_key, &report).ok_or_else(|| {
        AppError::Conflict(format!(
            "report {id} is a draft: it has no receipt until it is submitted"
        ))
    })?;
    Ok(axum::Json(receipt))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    state: Option<String>,
    kind: Option<String>,
    tlp: Option<String>,
    reporter_org: Option<String>,
    alias: Option<String>,
    ecosystem: Option<String>,
    package: Option<String>,
    q: Option<String>,
    received_from: Option<String>,
    received_until: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

fn parse_time(field: &str, value: Option<&str>) -> AppResult<Option<Timestamp>> {
    value
        .map(|v| {
            v.parse::<Timestamp>()
                .map_err(|e| AppError::field(field, format!("not an RFC 3339 time: {e}")))
        })
        .transpose()
}

/// `GET /reports`: newest first, filtered, paginated with an opaque cursor.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> AppResult<impl IntoResponse> {
    caller
        .actor
        .require_scope(vulnshare_core::token::TokenScope::Read)?;
    let limit = page_limit(q.limit)?;
    let filter = ReportFilter {
        state: q
            .state
            .as_deref()
            .map(|s| {
                ReportState::parse(s)
                    .ok_or_else(|| AppError::field("state", format!("unknown state {s:?}")))
            })
            .transpose()?,
        kind: q
            .kind
            .as_deref()
            .map(|s| {
                ReportKind::parse(s)
                    .ok_or_else(|| AppError::field("kind", format!("unknown kind {s:?}")))
            })
            .transpose()?,
        tlp: q
            .tlp
            .as_deref()
            .map(|s| {
                Tlp::parse(s)
                    .ok_or_else(|| AppError::field("tlp", format!("unknown TLP label {s:?}")))
            })
            .transpose()?,
        reporter_org_id: q.reporter_org.clone(),
        alias: q
            .alias
            .as_deref()
            .map(|a| normalise_alias(a).map_err(|m| AppError::field("alias", m)))
            .transpose()?,
        package: match (&q.ecosystem, &q.package) {
            (Some(e), Some(p)) => {
                let eco = Ecosystem::parse(e).ok_or_else(|| {
                    AppError::field("ecosystem", format!("unknown ecosystem {e:?}"))
                })?;
                Some((eco.as_str().to_owned(), p.clone()))
            }
            (None, None) => None,
            _ => {
                return Err(AppError::field(
                    "package",
                    "give both ecosystem and package",
                ));
            }
        },
        title_contains: q
            .q
            .clone()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.chars().take(200).collect()),
        received_from: parse_time("received_from", q.received_from.as_deref())?,
        received_until: parse_time("received_until", q.received_until.as_deref())?,
    };
    let cursor = q
        .cursor
        .as_deref()
        .map(|c| {
            c.strip_prefix('r')
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| AppError::field("cursor", "not a cursor returned by this API"))
        })
        .transpose()?;
    let scope = if caller.actor.is_staff() {
        ReportScope::Staff {
            own_org: caller.actor.org_id.clone(),
        }
    } else {
        ReportScope::Organization(caller.actor.org_id.clone())
    };
    let page = state.store.reports(&scope, &filter, cursor, limit).await?;
    Ok(axum::Json(json!({
        "items": page.items,
        "next_cursor": page.next_cursor.map(|c| format!("r{c}")),
    })))
}
