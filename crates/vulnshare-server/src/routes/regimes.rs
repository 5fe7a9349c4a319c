//! Regimes: the catalogue, an organization's choice, and uploading a custom regime.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use vulnshare_core::regime::Regime;
use vulnshare_core::token::TokenScope;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, RawBody};
use crate::service::{self, RegimeChoice, RegimeOrigin, effective_settings};

fn describe(regime: &Regime, origin: RegimeOrigin) -> Value {
    json!({
        "id": regime.id,
        "version": regime.version,
        "name": regime.name,
        "jurisdiction": regime.jurisdiction,
        "effective_from": regime.effective_from,
        "effective_until": regime.effective_until,
        "time_zone": regime.time_zone,
        "origin": origin,
        "rules": regime.rules.iter().map(|r| json!({
            "id": r.id,
            "article": r.article,
            "duty": r.duty,
            "party": r.party,
            "trigger": r.trigger.to_string(),
            "period": r.period.to_string(),
            "clock": r.clock.mode,
            "holiday_calendar": r.clock.calendar.id,
            "time_zone": r.time_zone,
            "required_content": r.required_content,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /regimes`: every regime the platform knows, built-in and uploaded.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<impl IntoResponse> {
    caller.actor.require_scope(TokenScope::Read)?;
    let items: Vec<Value> = service::catalogue(&state.store)
        .await?
        .iter()
        .map(|e| describe(&e.regime, e.origin))
        .collect();
    Ok(axum::Json(json!({"items": items})))
}

/// `POST /regimes`: uploads a regime document; `Content-Type: application/json` for the JSON
/// form, anything else (e.g. `application/toml`) for TOML.
pub(crate) async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> AppResult<impl IntoResponse> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let format = if mime == "application/json" {
        "json"
    } else {
        "toml"
    };
    let source = std::str::from_utf8(&body).map_err(|_| AppError::MalformedBody {
        message: "the regime document must be UTF-8 text".into(),
        field: None,
    })?;
    let regime = service::upload_regime(&state, &caller.actor, format, source).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(describe(&regime, RegimeOrigin::Custom)),
    ))
}

/// `GET /organizations/{id}/regimes`: the regimes an organization is under.
pub(crate) async fn of_organization(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<String>,
) -> AppResult<impl IntoResponse> {
    caller.actor.can_read_obligations(&org_id)?;
    let org = state.store.organization(&org_id).await?;
    let chosen = state.store.regime_settings(&org_id).await?;
    let is_default = chosen.is_none();
    let settings = effective_settings(&org, chosen);
    Ok(axum::Json(json!({
        "organization_id": org.id,
        "regimes": settings.regime_ids,
        "cn_interpretation": settings.cn_interpretation,
        "default": is_default,
        "updated_by": settings.updated_by,
        "updated_at": settings.updated_at,
    })))
}

/// `PUT /organizations/{id}/regimes`: chooses the regimes (platform or organization admins).
pub(crate) async fn choose(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<String>,
    Json(body): Json<RegimeChoice>,
) -> AppResult<impl IntoResponse> {
    let settings = service::choose_regimes(&state, &caller.actor, &org_id, body).await?;
    Ok(axum::Json(json!({
        "organization_id": org_id,
        "regimes": settings.regime_ids,
        "cn_interpretation": settings.cn_interpretation,
        "default": false,
        "updated_by": settings.updated_by,
        "updated_at": settings.updated_at,
    })))
}
