//! The signed-in user's own API tokens: list, issue (the secret is shown once, on the page
//! that answers the post, never in a URL or a log) and revoke.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use vulnshare_core::token::{NewToken, TokenScope};

use super::{Page, PostedForm, WebResult, WebUser, fmt_time};
use crate::AppState;
use crate::error::AppError;
use crate::service::{self, IssuedToken, TokenIssuer};

/// The lifetimes offered, in days.
const LIFETIMES: [i64; 4] = [7, 30, 90, 365];

/// `GET /account/tokens`.
pub(crate) async fn page(State(state): State<AppState>, user: WebUser) -> WebResult {
    Ok(view(&state, &user, None).await?)
}

async fn view(
    state: &AppState,
    user: &WebUser,
    issued: Option<&IssuedToken>,
) -> Result<Response, AppError> {
    let tokens = state.store.tokens_of(&user.caller.user.id).await?;
    let now = state.clock.now();
    let body = html! {
        h1 { "API tokens" }
        @if let Some(t) = issued {
            section id="new-token" aria-live="polite" {
                p.ok { "Token " strong { (t.token.name) } " issued. Copy the secret now: it is shown only this once." }
                p.secret id="token-secret" { (t.secret) }
                p.muted { "Send it as " code { "Authorization: Bearer …" } "." }
            }
        }
        div.table-wrap { table id="token-table" {
            thead { tr { th { "Name" } th { "Scopes" } th { "Expires" } th { "State" } th { span.visually-hidden { "Action" } } } }
            tbody { @for t in &tokens {
                @let usable = t.revoked_at.is_none() && t.expires_at > now;
                tr data-token=(t.id) {
                    td { (t.name) }
                    td { (t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) }
                    td { (fmt_time(t.expires_at, &user.tz)) }
                    td.token-state { @if t.revoked_at.is_some() { "revoked" } @else if t.expires_at <= now { "expired" } @else { "usable" } }
                    td { @if usable {
                        form method="post" action={ "/account/tokens/" (t.id) "/revoke" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            button type="submit" aria-label={ "Revoke " (t.name) } { "Revoke" }
                        }
                    } }
                }
            } }
        } }
        h2 { "New token" }
        form.stack method="post" action="/account/tokens" id="new-token-form" {
            input type="hidden" name="csrf" value=(user.csrf);
            label for="token-name" { "Token name" }
            input id="token-name" name="name" required maxlength="100";
            fieldset {
                legend { "Scopes" }
                @for s in [TokenScope::Read, TokenScope::Write, TokenScope::Admin] {
                    label { input type="checkbox" name="scope" value=(s.as_str()) checked[s == TokenScope::Read]; " " (s.as_str()) }
                }
            }
            label for="token-days" { "Expires after" }
            select id="token-days" name="expires_in_days" {
                @for d in LIFETIMES { option value=(d) selected[d == 90] { (d) " days" } }
            }
            button type="submit" { "Issue token" }
        }
    };
    Ok(Page::new("API tokens").body(body).render(Some(user)))
}

/// `POST /account/tokens`: issues a token and shows its secret once.
pub(crate) async fn create(
    State(state): State<AppState>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let mut scopes = Vec::new();
    for name in form.all("scope") {
        scopes.push(
            TokenScope::parse(name)
                .ok_or_else(|| AppError::field("scopes", "read, write or admin"))?,
        );
    }
    let days: i64 = form
        .get("expires_in_days")
        .parse()
        .map_err(|_| AppError::field("expires_in_days", "a whole number of days"))?;
    let issued = service::create_token(
        &state.store,
        TokenIssuer::Token(user.actor()),
        &user.caller.user,
        NewToken {
            name: form.get("name").to_owned(),
            scopes,
            expires_in_days: Some(days),
        },
        state.clock.now(),
    )
    .await?;
    let mut response = view(&state, &user, Some(&issued)).await?;
    // The secret is on this page only: no cache may keep it.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `POST /account/tokens/{id}/revoke`.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PostedForm { user, .. }: PostedForm,
) -> WebResult {
    service::revoke_token(&state.store, user.actor(), &id, state.clock.now()).await?;
    Ok(Redirect::to("/account/tokens").into_response())
}
