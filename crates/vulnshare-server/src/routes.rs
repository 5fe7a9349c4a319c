//! The HTTP routes of API v1. Each handler authenticates (through the [`Caller`] extractor),
//! then calls a service or a policy-checked read.

mod accounts;
mod advisories;
mod audit;
mod cases;
pub(crate) mod csaf;
mod cve_services;
mod notifications;
pub(crate) mod obligations;
mod osv;
mod products;
mod regimes;
mod reports;
mod sanctions;
mod subscriptions;
mod system;
pub(crate) mod taxii;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::AppError;
use crate::{AppState, MAX_BODY_BYTES};

/// Every API route as (method, path), for the OpenAPI document and the authorization tests.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/platform/public-key"),
    ("GET", "/api/v1/receipts/verify"),
    ("POST", "/api/v1/receipts/verify"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/organizations"),
    ("POST", "/api/v1/organizations"),
    ("GET", "/api/v1/organizations/{id}"),
    ("GET", "/api/v1/organizations/{id}/users"),
    ("POST", "/api/v1/organizations/{id}/users"),
    ("PATCH", "/api/v1/users/{id}"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"),
    ("GET", "/api/v1/organizations/{id}/products"),
    ("POST", "/api/v1/organizations/{id}/products"),
    ("GET", "/api/v1/products/{id}"),
    ("PUT", "/api/v1/products/{id}"),
    ("GET", "/api/v1/reports"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/reports/{id}"),
    ("PUT", "/api/v1/reports/{id}"),
    ("POST", "/api/v1/reports/{id}/transitions"),
    ("GET", "/api/v1/reports/{id}/receipt"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/regimes"),
    ("POST", "/api/v1/regimes"),
    ("GET", "/api/v1/organizations/{id}/regimes"),
    ("PUT", "/api/v1/organizations/{id}/regimes"),
    ("GET", "/api/v1/organizations/{id}/obligations"),
    ("POST", "/api/v1/upstream-notifications"),
    ("GET", "/api/v1/compliance"),
    ("GET", "/api/v1/violations"),
    ("GET", "/api/v1/organizations/{id}/sanctions"),
    ("POST", "/api/v1/organizations/{id}/sanctions"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/notifications/{id}/read"),
    ("GET", "/api/v1/cases"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{id}"),
    ("POST", "/api/v1/cases/{id}/participants"),
    ("PUT", "/api/v1/cases/{id}/vendors/{org_id}"),
    ("PUT", "/api/v1/cases/{id}/embargo"),
    ("POST", "/api/v1/cases/{id}/early-publication"),
    ("GET", "/api/v1/cases/{id}/messages"),
    ("POST", "/api/v1/cases/{id}/messages"),
    ("POST", "/api/v1/cases/{id}/advisory"),
    ("GET", "/api/v1/cases/{id}/attachments"),
    ("POST", "/api/v1/cases/{id}/attachments"),
    ("GET", "/api/v1/cases/{id}/attachments/{attachment_id}"),
    ("GET", "/api/v1/advisories"),
    ("GET", "/api/v1/advisories/{id}"),
    ("GET", "/api/v1/advisories/{id}/history"),
    ("POST", "/api/v1/advisories/{id}/withdraw"),
    ("GET", "/api/v1/products/{id}/sboms"),
    ("POST", "/api/v1/products/{id}/sboms"),
    ("GET", "/api/v1/products/{id}/sboms/{sbom_id}"),
    ("GET", "/api/v1/organizations/{id}/exposures"),
    ("GET", "/api/v1/subscriptions"),
    ("POST", "/api/v1/subscriptions"),
    ("DELETE", "/api/v1/subscriptions/{id}"),
    ("GET", "/api/v1/subscriptions/{id}/deliveries"),
    ("GET", "/api/v1/advisories/{id}/csaf"),
    ("GET", "/.well-known/csaf/provider-metadata.json"),
    ("GET", "/.well-known/csaf/white/index.txt"),
    ("GET", "/.well-known/csaf/white/changes.csv"),
    ("GET", "/.well-known/csaf/white/csaf-feed-tlp-white.json"),
    ("GET", "/.well-known/csaf/white/{year}/{file}"),
    ("GET", "/.well-known/csaf/openpgp/{file}"),
    ("POST", "/osv/v1/query"),
    ("POST", "/osv/v1/querybatch"),
    ("GET", "/osv/v1/vulns/{id}"),
    ("GET", "/osv/v1/ecosystems/{id}/all.zip"),
    ("GET", "/cve-services/api/health-check"),
    ("GET", "/cve-services/api/cve_count"),
    ("POST", "/cve-services/api/cve-id"),
    ("GET", "/cve-services/api/cve-id"),
    ("GET", "/cve-services/api/cve-id/{id}"),
    ("PUT", "/cve-services/api/cve-id/{id}"),
    ("GET", "/cve-services/api/cve/{id}"),
    ("POST", "/cve-services/api/cve/{id}/cna"),
    ("PUT", "/cve-services/api/cve/{id}/cna"),
    ("POST", "/cve-services/api/cve/{id}/reject"),
    ("PUT", "/cve-services/api/cve/{id}/reject"),
    ("GET", "/cve-services/api/org/{short_name}"),
    ("GET", "/cve-services/api/org/{short_name}/id_quota"),
    ("GET", "/cve-services/api/org/{short_name}/users"),
    ("POST", "/cve-services/api/org/{short_name}/user"),
    ("GET", "/cve-services/api/org/{short_name}/user/{username}"),
    ("PUT", "/cve-services/api/org/{short_name}/user/{username}"),
    (
        "PUT",
        "/cve-services/api/org/{short_name}/user/{username}/reset_secret",
    ),
    ("GET", "/taxii2/"),
    ("GET", "/taxii2/api1/"),
    ("GET", "/taxii2/api1/collections/"),
    ("GET", "/taxii2/api1/collections/{id}/"),
    ("GET", "/taxii2/api1/collections/{id}/objects/"),
    ("POST", "/taxii2/api1/collections/{id}/objects/"),
    ("GET", "/taxii2/api1/collections/{id}/objects/{object_id}/"),
    (
        "DELETE",
        "/taxii2/api1/collections/{id}/objects/{object_id}/",
    ),
    (
        "GET",
        "/taxii2/api1/collections/{id}/objects/{object_id}/versions/",
    ),
    ("GET", "/taxii2/api1/collections/{id}/manifest/"),
    ("GET", "/taxii2/api1/status/{status_id}/"),
    ("GET", "/taxii2/api1/status/{status_id}"),
];

pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(system::health))
        .route("/openapi.json", get(system::openapi))
        .route("/platform/public-key", get(system::public_key))
        .route(
            "/receipts/verify",
            get(system::verify_receipt_query).post(system::verify_receipt_body),
        )
        .route("/auth/token", post(accounts::sign_in))
        .route("/me", get(accounts::me))
        .route(
            "/organizations",
            get(accounts::list_organizations).post(accounts::create_organization),
        )
        .route("/organizations/{id}", get(accounts::get_organization))
        .route(
            "/organizations/{id}/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route("/users/{id}", axum::routing::patch(accounts::update_user))
        .route(
            "/tokens",
            get(accounts::list_tokens).post(accounts::create_token),
        )
        .route(
            "/tokens/{id}",
            axum::routing::delete(accounts::revoke_token),
        )
        .route(
            "/organizations/{id}/products",
            get(products::list).post(products::create),
        )
        .route("/products/{id}", get(products::get).put(products::update))
        .route("/reports", get(reports::list).post(reports::create))
        .route("/reports/{id}", get(reports::get).put(reports::update))
        .route("/reports/{id}/transitions", post(reports::transition))
        .route("/reports/{id}/receipt", get(reports::receipt))
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
        .route("/regimes", get(regimes::list).post(regimes::upload))
        .route(
            "/organizations/{id}/regimes",
            get(regimes::of_organization).put(regimes::choose),
        )
        .route(
            "/organizations/{id}/obligations",
            get(obligations::of_organization),
        )
        .route(
            "/upstream-notifications",
            post(obligations::record_upstream),
        )
        .route("/compliance", get(obligations::platform))
        .route("/violations", get(obligations::violations))
        .route(
            "/organizations/{id}/sanctions",
            get(sanctions::of_organization).post(sanctions::decide),
        )
        .route("/notifications", get(notifications::list))
        .route("/notifications/{id}/read", post(notifications::mark_read))
        .route("/cases", get(cases::list).post(cases::open))
        .route("/cases/{id}", get(cases::get))
        .route("/cases/{id}/participants", post(cases::add_participant))
        .route(
            "/cases/{id}/vendors/{org_id}",
            axum::routing::put(cases::vendor_status),
        )
        .route("/cases/{id}/embargo", axum::routing::put(cases::embargo))
        .route("/cases/{id}/early-publication", post(cases::approve_early))
        .route(
            "/cases/{id}/messages",
            get(cases::messages).post(cases::post_message),
        )
        .route("/cases/{id}/advisory", post(cases::publish))
        .route(
            "/cases/{id}/attachments",
            get(cases::attachments)
                .post(cases::attach)
                .layer(DefaultBodyLimit::max(8 << 20)),
        )
        .route(
            "/cases/{id}/attachments/{attachment_id}",
            get(cases::download),
        )
        .route("/advisories", get(advisories::list))
        .route("/advisories/{id}", get(advisories::get))
        .route("/advisories/{id}/history", get(advisories::history))
        .route("/advisories/{id}/withdraw", post(advisories::withdraw))
        .route("/advisories/{id}/csaf", get(csaf::export))
        .route(
            "/products/{id}/sboms",
            get(advisories::list_sboms)
                .post(advisories::upload_sbom)
                .layer(DefaultBodyLimit::max(crate::service::MAX_SBOM_BYTES)),
        )
        .route("/products/{id}/sboms/{sbom_id}", get(advisories::sbom))
        .route("/organizations/{id}/exposures", get(advisories::exposures))
        .route(
            "/subscriptions",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/subscriptions/{id}",
            axum::routing::delete(subscriptions::delete),
        )
        .route(
            "/subscriptions/{id}/deliveries",
            get(subscriptions::deliveries),
        )
        .fallback(|| async { AppError::NotFound("route") });
    let osv = Router::new()
        .route("/query", post(osv::query))
        .route("/querybatch", post(osv::querybatch))
        .route("/vulns/{id}", get(osv::vuln))
        .route("/ecosystems/{id}/all.zip", get(osv::all_zip))
        .fallback(|| async { AppError::NotFound("route") });
    let cve_services = Router::new()
        .route("/health-check", get(cve_services::health_check))
        .route("/cve_count", get(cve_services::count))
        .route(
            "/cve-id",
            get(cve_services::list_ids).post(cve_services::reserve),
        )
        .route(
            "/cve-id/{id}",
            get(cve_services::show_id).put(cve_services::modify_id),
        )
        .route("/cve/{id}", get(cve_services::show_record))
        .route(
            "/cve/{id}/cna",
            post(cve_services::publish).put(cve_services::update_published),
        )
        .route(
            "/cve/{id}/reject",
            post(cve_services::reject).put(cve_services::update_rejected),
        )
        .route("/org/{short_name}", get(cve_services::org))
        .route("/org/{short_name}/id_quota", get(cve_services::quota))
        .route("/org/{short_name}/users", get(cve_services::users))
        .route("/org/{short_name}/user", post(cve_services::create_user))
        .route(
            "/org/{short_name}/user/{username}",
            get(cve_services::show_user).put(cve_services::update_user),
        )
        .route(
            "/org/{short_name}/user/{username}/reset_secret",
            axum::routing::put(cve_services::reset_secret),
        )
        .fallback(cve_services::not_found);
    Router::new()
        .nest("/api/v1", api)
        .nest("/osv/v1", osv)
        .nest("/cve-services/api", cve_services)
        .route(
            "/.well-known/csaf/provider-metadata.json",
            get(csaf::provider_metadata),
        )
        .route("/.well-known/csaf/white/index.txt", get(csaf::index_txt))
        .route(
            "/.well-known/csaf/white/csaf-feed-tlp-white.json",
            get(csaf::rolie_feed),
        )
        .route(
            "/.well-known/csaf/white/changes.csv",
            get(csaf::changes_csv),
        )
        .route("/.well-known/csaf/white/{year}/{file}", get(csaf::file))
        .route("/.well-known/csaf/openpgp/{file}", get(csaf::openpgp_key))
        .route("/taxii2/", get(taxii::discovery))
        .route("/taxii2/api1/", get(taxii::api_root))
        .route("/taxii2/api1/collections/", get(taxii::collections))
        .route("/taxii2/api1/collections/{id}/", get(taxii::collection))
        .route(
            "/taxii2/api1/collections/{id}/objects/",
            get(taxii::get_objects).post(taxii::add_objects),
        )
        .route(
            "/taxii2/api1/collections/{id}/objects/{object_id}/",
            get(taxii::get_object).delete(taxii::delete_object),
        )
        .route(
            "/taxii2/api1/collections/{id}/objects/{object_id}/versions/",
            get(taxii::versions),
        )
        .route(
            "/taxii2/api1/collections/{id}/manifest/",
            get(taxii::manifest),
        )
        .route("/taxii2/api1/status/{status_id}/", get(taxii::status))
        .route("/taxii2/api1/status/{status_id}", get(taxii::status))
        .route("/taxii2/{*rest}", axum::routing::any(taxii::not_found))
        .merge(crate::web::router())
        .route("/healthz", get(system::health))
        .route("/readyz", get(crate::metrics::ready))
        .route("/metrics", get(crate::metrics::render))
        .fallback(|| async { AppError::NotFound("route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.rate_limits.clone(),
            crate::rate_limit::enforce,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(axum::middleware::from_fn(crate::request::trace))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .with_state(state)
}

/// `error` answered in the dialect of the API `path` belongs to: CVE Services' JSON under
/// `/cve-services/`, a TAXII error message under `/taxii2/`, problem+json everywhere else.
/// For middleware that refuses a request before it reaches a handler.
pub(crate) fn error_for_path(path: &str, error: AppError) -> axum::response::Response {
    use axum::response::IntoResponse;
    if path.starts_with("/cve-services/") {
        crate::service::cve::CveApiError::from(error).into_response()
    } else if path.starts_with("/taxii2/") {
        taxii::error_response(error)
    } else {
        error.into_response()
    }
}

/// Page size bounds shared by listing routes.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, AppError> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=200).contains(&n) => Ok(n),
        Some(_) => Err(AppError::field("limit", "must be between 1 and 200")),
    }
}

/// The OpenAPI summary of each TAXII route (the TAXII 2.1 specification defines the bodies).
pub(crate) fn taxii_operation(
    method: &str,
    path: &str,
) -> (
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
    bool,
) {
    let summary = match (method, path.trim_start_matches("/taxii2/api1")) {
        ("GET", "/taxii2/") => "TAXII 2.1 discovery (public)",
        ("GET", "/") => "TAXII 2.1 API root (public)",
        ("GET", "/collections/") => "TAXII collections the caller may open, one per TLP audience",
        ("GET", "/collections/{id}/") => "One TAXII collection",
        ("GET", "/collections/{id}/objects/") => {
            "STIX objects the caller may read (added_after, match[id|type|version|spec_version], limit, next)"
        }
        ("POST", "/collections/{id}/objects/") => {
            "Add STIX objects (TAXII envelope); each is checked on its own; answers the status"
        }
        ("GET", "/collections/{id}/objects/{object_id}/") => "One STIX object's versions",
        ("DELETE", "/collections/{id}/objects/{object_id}/") => {
            "Delete an object the caller's organization shared"
        }
        ("GET", "/collections/{id}/objects/{object_id}/versions/") => "An object's versions",
        ("GET", "/collections/{id}/manifest/") => "Manifest of the objects the caller may read",
        ("GET", "/status/{status_id}/" | "/status/{status_id}") => "The status of an add",
        _ => "",
    };
    let public = matches!(path, "/taxii2/" | "/taxii2/api1/");
    let status = if method == "POST" { "202" } else { "200" };
    (summary, None, status, None, public)
}
