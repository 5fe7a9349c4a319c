//! The vulnshare HTTP server: the REST API under `/api/v1` with problem+json errors and an
//! OpenAPI document, token authentication, and the application services that both the API and
//! the `vulnshare admin` commands use.
//!
//! The server is stateless: all state is in the [`Store`], so any number of nodes can share one
//! PostgreSQL database.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod auth;
pub mod clock;
pub mod demo;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod openpgp;
pub mod outbox;
pub mod rate_limit;
pub mod request;
pub(crate) mod routes;
pub use routes::ROUTES;
pub mod service;
pub mod sweeper;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use ed25519_dalek::SigningKey;
use tokio::net::TcpListener;
use vulnshare_store::Store;

pub use clock::{Clock, ManualClock, SystemClock};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of every request handler.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The source of server time.
    pub clock: Arc<dyn Clock>,
    /// The key that signs receipts.
    pub signing_key: Arc<SigningKey>,
    /// The OpenPGP key that signs the public CSAF documents.
    pub openpgp_key: Arc<openpgp::OpenPgpKey>,
    /// The SMTP relay for e-mail subscriptions, if configured.
    pub mailer: Option<Arc<outbox::Mailer>>,
    /// This node's request metrics.
    pub metrics: metrics::Metrics,
    /// How the web UI is set up.
    pub web: web::WebConfig,
    /// This node's rate limits per client address and per credential.
    pub rate_limits: rate_limit::RateLimits,
    /// This node's compiled copy of the published advisories.
    pub catalog: service::CatalogCache,
    /// How a publication's matching against the stored SBOMs is run.
    pub matching: service::MatchingConfig,
    /// The matchings a task on this node is carrying on.
    pub matching_tasks: service::MatchingTasks,
    /// This node's token checks, trusted while the store's change feed says nothing changed.
    pub tokens: auth::TokenCache,
    /// This node's writer of reports submitted as they are filed.
    pub submissions: service::SubmissionQueue,
}

impl AppState {
    /// Builds the state, loading (or creating on first start) the platform's signing keys.
    pub async fn new(
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Result<AppState, vulnshare_store::StoreError> {
        let secret = store
            .signing_key_secret(
                || {
                    let secret = auth::random_bytes();
                    let key = SigningKey::from_bytes(&secret);
                    let public = key.verifying_key().to_bytes();
                    (
                        secret,
                        public,
                        vulnshare_core::receipt::key_id(&key.verifying_key()),
                    )
                },
                clock.now(),
            )
            .await?;
        let openpgp_secret = store
            .openpgp_secret_key(
                || {
                    let key = openpgp::OpenPgpKey::generate(clock.now())
                        .expect("generating an Ed25519 key with fixed parameters succeeds");
                    let secret = key.to_bytes().expect("a new key serializes");
                    let public = key.public_bytes().expect("a new key serializes");
                    (key.fingerprint().to_owned(), secret, public)
                },
                clock.now(),
            )
            .await?;
        let openpgp_key = openpgp::OpenPgpKey::from_bytes(&openpgp_secret).map_err(|e| {
            vulnshare_store::StoreError::Corrupt(format!("the stored OpenPGP key: {e}"))
        })?;
        Ok(AppState {
            store,
            clock,
            signing_key: Arc::new(SigningKey::from_bytes(&secret)),
            openpgp_key: Arc::new(openpgp_key),
            mailer: None,
            metrics: metrics::Metrics::default(),
            web: web::WebConfig::default(),
            rate_limits: rate_limit::RateLimits::default(),
            catalog: service::CatalogCache::default(),
            matching: service::MatchingConfig::default(),
            matching_tasks: service::MatchingTasks::default(),
            tokens: auth::TokenCache::default(),
            submissions: service::SubmissionQueue::default(),
        })
    }
}

impl AppState {
    /// Sets up the web UI (cookies, test clock).
    pub fn with_web(mut self, web: web::WebConfig) -> AppState {
        self.web = web;
        self
    }

    /// Sends e-mail subscriptions through `mailer`.
    pub fn with_mailer(mut self, mailer: outbox::Mailer) -> AppState {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Enforces `config` instead of the default rate limits.
    pub fn with_rate_limits(mut self, config: rate_limit::RateLimitConfig) -> AppState {
        self.rate_limits = rate_limit::RateLimits::new(config);
        self
    }
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    routes::router(state)
}

/// Serves `router(state)` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address feeds the per-address rate limit.
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
