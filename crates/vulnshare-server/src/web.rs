//! The server-rendered web UI. Every page calls the same services and policy checks as the
//! API (a signed-in browser session stands for the user exactly as a token with all scopes
//! does), renders HTML with maud, and works without JavaScript for reading; the vendored htmx
//! and a few lines of our own script only add draft autosave and live countdowns.
//!
//! Sessions live in the database (see `vulnshare_store::WebSession`) so any node can serve
//! any request; every form post carries the session's CSRF token.

mod admin;
mod advisories;
mod assets;
mod audit;
mod cases;
mod dashboard;
mod layout;
mod regulator;
mod reports;
mod sboms;
mod session;
mod test_clock;
mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::error::AppError;
use crate::{AppState, ManualClock};

pub(crate) use layout::{Page, fmt_time};
pub(crate) use session::{MaybeWebUser, PostedForm, WebForm, WebUser};

/// How the web UI is set up on this server.
#[derive(Clone, Default)]
pub struct WebConfig {
    /// Send cookies without `Secure` under a plain name (`vulnshare-session` instead of
    /// `__Host-vulnshare-session`). Only for a server on a loopback address without TLS.
    pub insecure_cookies: bool,
    /// The manual clock behind `POST /test-clock/advance`; only `serve --test-clock` sets it,
    /// and only on a loopback address.
    pub test_clock: Option<Arc<ManualClock>>,
}

/// Every web UI route as (method, path), for the authorization tests.
pub const WEB_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("POST", "/sign-out"),
    ("GET", "/account/totp"),
    ("POST", "/account/totp"),
    ("GET", "/account/tokens"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{id}/revoke"),
    ("GET", "/dashboard"),
    ("GET", "/reports/new"),
    ("POST", "/reports/new"),
    ("GET", "/reports/{id}"),
    ("POST", "/reports/{id}"),
    ("POST", "/reports/{id}/autosave"),
    ("GET", "/advisories"),
    ("GET", "/advisories/{id}"),
    ("GET", "/cases"),
    ("GET", "/cases/{id}"),
    ("POST", "/cases/{id}/messages"),
    ("POST", "/cases/{id}/advisory"),
    ("GET", "/sboms"),
    ("POST", "/sboms"),
    ("GET", "/regulator"),
    ("POST", "/regulator/sanctions"),
    ("GET", "/admin"),
    ("POST", "/admin/organizations"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{id}/status"),
    ("POST", "/admin/regimes"),
    ("GET", "/audit"),
    ("POST", "/test-clock/advance"),
];

/// The web UI's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route(
            "/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/sign-out", post(session::sign_out))
        .route(
            "/account/totp",
            get(session::totp_page).post(session::totp_enable),
        )
        .route("/account/tokens", get(tokens::page).post(tokens::create))
        .route("/account/tokens/{id}/revoke", post(tokens::revoke))
        .route("/dashboard", get(dashboard::page))
        .route("/reports/new", get(reports::new_page).post(reports::create))
        .route("/reports/{id}", get(reports::page).post(reports::save))
        .route("/reports/{id}/autosave", post(reports::autosave))
        .route("/advisories", get(advisories::list))
        .route("/advisories/{id}", get(advisories::page))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::page))
        .route("/cases/{id}/messages", post(cases::post_message))
        .route("/cases/{id}/advisory", post(cases::publish))
        .route(
            "/sboms",
            get(sboms::page)
                .post(sboms::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::service::MAX_SBOM_BYTES + (64 << 10),
                )),
        )
        .route("/regulator", get(regulator::console))
        .route("/regulator/sanctions", post(regulator::decide))
        .route("/admin", get(admin::page))
        .route("/admin/organizations", post(admin::create_organization))
        .route("/admin/users", post(admin::create_user))
        .route("/admin/users/{id}/status", post(admin::set_user_status))
        .route("/admin/regimes", post(admin::choose_regimes))
        .route("/audit", get(audit::page))
        .route("/test-clock/advance", post(test_clock::advance))
        .route("/static/htmx.min.js", get(assets::htmx))
        .route("/static/app.js", get(assets::app_js))
        .route("/static/app.css", get(assets::app_css))
}

/// A failed page: sends the browser to sign in, or shows the problem as an HTML page with the
/// API's status code and message.
#[derive(Debug)]
pub(crate) enum WebError {
    /// No valid session: sign in, then come back to `next`.
    SignIn {
        /// The path to return to.
        next: String,
    },
    /// Anything else.
    App(AppError),
}

impl<E: Into<AppError>> From<E> for WebError {
    fn from(e: E) -> Self {
        WebError::App(e.into())
    }
}

/// Result alias for page handlers.
pub(crate) type WebResult<T = Response> = Result<T, WebError>;

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn { next } => {
                let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Redirect::to(&format!("/sign-in?next={next}")).into_response()
            }
            WebError::App(e) => {
                let (status, _, title) = e.parts();
                let detail = e.detail();
                let mut response = Page::new(title)
                    .body(maud::html! {
                        h1 { (title) }
                        p.problem role="alert" { (detail) }
                        p { a href="/dashboard" { "Back to the dashboard" } }
                    })
                    .render(None);
                *response.status_mut() = status;
                response
            }
        }
    }
}
