//! `POST /test-clock/advance`: moves the server's manual clock forward, for end-to-end tests
//! that watch a deadline pass. It exists only when the server was started with
//! `serve --test-clock`, which `vulnshare` refuses unless it listens on a loopback address;
//! otherwise the route answers 404 like any unknown path. Only platform administrators may use
//! it, with the session's CSRF token. After moving the clock it runs one deadline sweep, so
//! what the sweeper would do at the new time is visible at once.

use axum::extract::State;
use axum::response::IntoResponse;
use jiff::SignedDuration;
use serde_json::json;
use vulnshare_core::user::Role;

use super::{PostedForm, WebResult};
use crate::AppState;
use crate::error::AppError;

/// Largest single step: 400 days.
const MAX_STEP_SECS: i64 = 400 * 86_400;

pub(crate) async fn advance(
    State(state): State<AppState>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let Some(clock) = state.web.test_clock.clone() else {
        return Err(AppError::NotFound("route").into());
    };
    if !user.actor().has(Role::PlatformAdmin) {
        return Err(
            AppError::Forbidden("only platform administrators move the test clock".into()).into(),
        );
    }
    let seconds: i64 = form
        .get("seconds")
        .parse()
        .ok()
        .filter(|s| (1..=MAX_STEP_SECS).contains(s))
        .ok_or_else(|| {
            AppError::field(
                "seconds",
                format!("a whole number of seconds from 1 to {MAX_STEP_SECS}"),
            )
        })?;
    clock.advance(SignedDuration::from_secs(seconds));
    let now = state.clock.now();
    let report = crate::sweeper::sweep_once(&state, now).await?;
    tracing::warn!(%now, "test clock advanced");
    Ok(axum::Json(json!({"now": now, "sweep": report})).into_response())
}
