//! Browser sessions: signing in and out, the session cookie, the CSRF token of every form, and
//! TOTP enrolment.

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use maud::html;
use serde::Deserialize;
use serde_json::json;
use vulnshare_core::policy::Actor;
use vulnshare_core::token::{TokenScope, hash_secret};
use vulnshare_store::WebSession;

use super::{Page, WebError, WebResult};
use crate::AppState;
use crate::auth::{Caller, ClientAddress, random_bytes};
use crate::error::AppError;
use crate::service::{self, PasswordAttempt};

/// Cookie names with the `__Host-` prefix: the browser keeps them to this exact host, path `/`,
/// and only over HTTPS.
const SESSION_COOKIE: &str = "__Host-vulnshare-session";
const SIGN_IN_COOKIE: &str = "__Host-vulnshare-signin";
/// Names used with `insecure_cookies` (plain HTTP on loopback), where `__Host-` cannot be set.
const SESSION_COOKIE_PLAIN: &str = "vulnshare-session";
const SIGN_IN_COOKIE_PLAIN: &str = "vulnshare-signin";
/// The browser's IANA time zone, set by app.js; only changes how times are shown.
const TZ_COOKIE: &str = "vulnshare-tz";

/// A session ends this long after sign-in, whatever its use.
const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
/// A session unused this long ends.
const SESSION_IDLE: SignedDuration = SignedDuration::from_hours(2);
/// Last-use times are written at most this often.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_mins(5);

fn cookie_names(state: &AppState) -> (&'static str, &'static str) {
    if state.web.insecure_cookies {
        (SESSION_COOKIE_PLAIN, SIGN_IN_COOKIE_PLAIN)
    } else {
        (SESSION_COOKIE, SIGN_IN_COOKIE)
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure unless configured off.
fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if !state.web.insecure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).expect("cookie names and hex values are valid header text")
}

/// The value of cookie `name` in the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The signed-in user of a page request.
#[derive(Debug, Clone)]
pub(crate) struct WebUser {
    /// The user as the API's policy sees them.
    pub caller: Caller,
    /// The session's CSRF token, for the forms the page renders.
    pub csrf: String,
    /// The zone to show times in.
    pub tz: TimeZone,
}

impl WebUser {
    /// The policy actor.
    pub fn actor(&self) -> &Actor {
        &self.caller.actor
    }
}

/// The browser's time zone from its cookie, UTC if unset or unknown.
fn browser_zone(headers: &HeaderMap) -> TimeZone {
    cookie(headers, TZ_COOKIE)
        .map(|v| v.replace("%2F", "/"))
        .filter(|v| v.len() <= 64)
        .and_then(|v| TimeZone::get(&v).ok())
        .unwrap_or(TimeZone::UTC)
}

async fn session_user(parts: &Parts, state: &AppState) -> Result<Option<WebUser>, AppError> {
    let (session_cookie, _) = cookie_names(state);
    let Some(id) = cookie(&parts.headers, session_cookie) else {
        return Ok(None);
    };
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let now = state.clock.now();
    let id_hash = hash_secret(id);
    let Some(session) = state.store.web_session(&id_hash, now).await? else {
        return Ok(None);
    };
    if now.duration_since(session.last_seen_at) > SESSION_IDLE {
        return Ok(None);
    }
    let user = state.store.user(&session.user_id).await?;
    if user.disabled {
        return Ok(None);
    }
    if now.duration_since(session.last_seen_at) > TOUCH_EVERY {
        state.store.touch_web_session(&id_hash, now).await?;
    }
    let organization = state.store.organization(&user.organization_id).await?;
    let actor = Actor {
        user_id: user.id.clone(),
        org_id: organization.id.clone(),
        org_kind: organization.kind,
        membership_active: organization.membership.is_active(),
        roles: user.roles.clone(),
        // A password (and TOTP) sign-in grants what the user's roles allow, like a token with
        // every scope; the roles and membership still decide everything.
        scopes: vec![TokenScope::Read, TokenScope::Write, TokenScope::Admin],
    };
    Ok(Some(WebUser {
        caller: Caller {
            actor,
            user,
            organization,
            token_id: format!("session:{}", &id_hash[..12]),
            catalog_generation: None,
        },
        csrf: session.csrf_token,
        tz: browser_zone(&parts.headers),
    }))
}

/// Refuses form posts from other sites even before the CSRF token is looked at.
fn same_origin(parts: &Parts) -> Result<(), AppError> {
    if parts.method == Method::GET || parts.method == Method::HEAD {
        return Ok(());
    }
    let cross = parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site" || v == "same-site");
    if cross {
        return Err(AppError::Forbidden(
            "form posts from other sites are refused".into(),
        ));
    }
    Ok(())
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        same_origin(parts)?;
        match session_user(parts, state).await? {
            Some(u) => Ok(u),
            None => Err(WebError::SignIn {
                next: if parts.method == Method::GET {
                    parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_else(|| "/dashboard".into())
                } else {
                    "/dashboard".into()
                },
            }),
        }
    }
}

/// The signed-in user, if any (public pages).
#[derive(Debug, Clone)]
pub(crate) struct MaybeWebUser(pub Option<WebUser>);

impl OptionalFromRequestParts<AppState> for WebUser {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, WebError> {
        same_origin(parts)?;
        Ok(session_user(parts, state).await?)
    }
}

impl FromRequestParts<AppState> for MaybeWebUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        same_origin(parts)?;
        Ok(MaybeWebUser(session_user(parts, state).await?))
    }
}

/// A posted form (application/x-www-form-urlencoded) as its fields in order.
#[derive(Debug, Default)]
pub(crate) struct WebForm(pub Vec<(String, String)>);

/// Most fields a form may have.
const MAX_FORM_FIELDS: usize = 2_000;

impl WebForm {
    /// The first value of `name`, trimmed; empty if absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .collect()
    }

    /// Refuses the post unless it carries the session's CSRF token (field `csrf`, or the
    /// `X-CSRF-Token` header htmx sends).
    pub(super) fn check_csrf(&self, user: &WebUser, headers: &HeaderMap) -> Result<(), AppError> {
        let sent = Some(self.get("csrf"))
            .filter(|s| !s.is_empty())
            .or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()))
            .unwrap_or("");
        if same_secret(sent, &user.csrf) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "the form's security token is missing or stale: reload the page and try again"
                    .into(),
            ))
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for WebForm {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(AppError::MalformedBody {
                message: "send the form as application/x-www-form-urlencoded".into(),
                field: None,
            });
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::TooLarge(crate::MAX_BODY_BYTES))?;
        let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes)
            .take(MAX_FORM_FIELDS + 1)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if fields.len() > MAX_FORM_FIELDS {
            return Err(AppError::MalformedBody {
                message: format!("a form may have at most {MAX_FORM_FIELDS} fields"),
                field: None,
            });
        }
        Ok(WebForm(fields))
    }
}

/// A form the signed-in user posted, with its CSRF token already checked: every web POST
/// handler takes this extractor (last, as it reads the body), so none can forget the check.
pub(crate) struct PostedForm {
    /// Who posted it.
    pub user: WebUser,
    /// The fields.
    pub form: WebForm,
    /// The request's headers.
    pub headers: HeaderMap,
}

impl axum::extract::FromRequest<AppState> for PostedForm {
    type Rejection = WebError;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let user =
            <WebUser as FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let form =
            WebForm::from_request(axum::extract::Request::from_parts(parts, body), state).await?;
        form.check_csrf(&user, &headers)?;
        Ok(PostedForm {
            user,
            form,
            headers,
        })
    }
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/dashboard"
    }
}

fn sign_in_form(next: &str, token: &str, email: &str, problem: Option<&str>) -> maud::Markup {
    html! {
        h1 { "Sign in" }
        @if let Some(p) = problem {
            p.problem role="alert" id="sign-in-problem" { (p) }
        }
        form.stack method="post" action="/sign-in" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label for="email" { "E-mail address" }
            input id="email" name="email" type="email" autocomplete="username" required value=(email);
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            label for="totp" { "One-time code " span.hint { "(only if your account uses an authenticator app)" } }
            input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6";
            button type="submit" { "Sign in" }
        }
        p.hint { "Five wrong attempts lock the account for 15 minutes." }
    }
}

/// `GET /sign-in`: the form, with a fresh sign-in CSRF cookie.
pub(crate) async fn sign_in_page(
    State(state): State<AppState>,
    user: Option<WebUser>,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref().unwrap_or("/dashboard")).to_owned();
    if user.is_some() {
        return Redirect::to(&next).into_response();
    }
    let token = hex::encode(random_bytes());
    let mut response = Page::new("Sign in")
        .body(sign_in_form(&next, &token, "", None))
        .render(None);
    let (_, sign_in_cookie) = cookie_names(&state);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, sign_in_cookie, &token, Some(3600)),
    );
    response
}

/// `POST /sign-in`: checks the password (with lockout) and starts a session.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    form: WebForm,
) -> WebResult {
    let (session_cookie, sign_in_cookie) = cookie_names(&state);
    let next = safe_next(form.get("next")).to_owned();
    let expected = cookie(&headers, sign_in_cookie).unwrap_or("");
    if expected.is_empty() || !same_secret(form.get("csrf"), expected) {
        return Err(AppError::Forbidden(
            "the sign-in form expired or was not sent from this site: reload it and try again"
                .into(),
        )
        .into());
    }
    let attempt = PasswordAttempt {
        email: form.get("email"),
        password: form
            .0
            .iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.as_str())
            .unwrap_or(""),
        totp: Some(form.get("totp")).filter(|t| !t.is_empty()),
        client: client.0,
    };
    let creds = match service::check_password(&state, attempt).await {
        Ok(c) => c,
        Err(e @ (AppError::Unauthenticated(_) | AppError::Locked(_) | AppError::Invalid(_))) => {
            let (status, _, _) = e.parts();
            let mut response = Page::new("Sign in")
                .body(sign_in_form(
                    &next,
                    expected,
                    form.get("email"),
                    Some(&e.detail()),
                ))
                .render(None);
            *response.status_mut() = status;
            return Ok(response);
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.clock.now();
    let id = hex::encode(random_bytes());
    let session = WebSession {
        id_hash: hash_secret(&id),
        user_id: creds.user.id.clone(),
        csrf_token: hex::encode(random_bytes()),
        created_at: now,
        last_seen_at: now,
        expires_at: now + SESSION_LIFETIME,
    };
    let mut tx = state.store.begin_write().await?;
    tx.create_web_session(&session).await?;
    tx.audit(
        now,
        service::audit_event_by(
            Some((&creds.user.id, &creds.user.organization_id)),
            "session.sign_in",
            "user",
            &creds.user.id,
            json!({"client": client.0.map(|ip| ip.to_string())}),
        ),
    )
    .await?;
    tx.commit().await?;
    let mut response = Redirect::to(&next).into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            &state,
            session_cookie,
            &id,
            Some(SESSION_LIFETIME.as_secs()),
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&state, sign_in_cookie, "", Some(0)),
    );
    Ok(response)
}

/// `POST /sign-out`: ends the session (CSRF-checked, so no other site can sign you out).
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    PostedForm { user, headers, .. }: PostedForm,
) -> WebResult {
    let (session_cookie, _) = cookie_names(&state);
    if let Some(id) = cookie(&headers, session_cookie) {
        let now = state.clock.now();
        let mut tx = state.store.begin_write().await?;
        tx.delete_web_session(&hash_secret(id)).await?;
        tx.audit(
            now,
            service::audit_event(
                Some(user.actor()),
                "session.sign_out",
                "user",
                &user.caller.user.id,
                json!({}),
            ),
        )
        .await?;
        tx.commit().await?;
    }
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, session_cookie, "", Some(0)),
    );
    Ok(response)
}

/// `GET /account/totp`: enrolment with a fresh secret and its otpauth URI.
pub(crate) async fn totp_page(State(state): State<AppState>, user: WebUser) -> WebResult {
    let enrolled = state
        .store
        .totp_secret(&user.caller.user.id)
        .await?
        .is_some();
    let secret = service::new_totp_secret();
    Ok(totp_view(&user, enrolled, &secret, None))
}

fn totp_view(user: &WebUser, enrolled: bool, secret: &str, problem: Option<&str>) -> Response {
    let uri = service::otpauth_uri(secret, &user.caller.user.email);
    Page::new("Two-step sign-in")
        .body(html! {
            h1 { "Two-step sign-in (TOTP)" }
            @if enrolled {
                p.ok role="status" { "Your account asks for a one-time code at every sign-in. Enrolling again replaces the old authenticator." }
            }
            @if let Some(p) = problem { p.problem role="alert" { (p) } }
            p { "Add this account to an authenticator app (RFC 6238: SHA-1, 6 digits, 30 seconds), then type the code it shows." }
            dl {
                dt { "Secret" } dd { code id="totp-secret" { (secret) } }
                dt { "otpauth URI" } dd { code.wrap id="totp-uri" { (uri) } }
            }
            form.stack method="post" action="/account/totp" {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="secret" value=(secret);
                label for="code" { "Code from the app" }
                input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required;
                button type="submit" { "Turn on two-step sign-in" }
            }
        })
        .render(Some(user))
}

/// `POST /account/totp`: confirms enrolment with a valid code.
pub(crate) async fn totp_enable(
    State(state): State<AppState>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let secret = form.get("secret");
    match service::enable_totp(&state, &user.caller.user, secret, form.get("code")).await {
        Ok(()) => Ok(Redirect::to("/account/totp").into_response()),
        Err(AppError::Invalid(errors)) => {
            let message: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
            let mut r = totp_view(&user, false, secret, Some(&message.join("; ")));
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
