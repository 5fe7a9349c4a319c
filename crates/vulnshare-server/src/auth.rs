//! Authentication: bearer API tokens for every API call, passwords (argon2) to obtain them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use vulnshare_core::organization::Organization;
use vulnshare_core::policy::Actor;
use vulnshare_core::token::{hash_secret, looks_like_secret};
use vulnshare_core::user::User;
use vulnshare_store::{ChangeFeed, StoreError, TokenActor};

use crate::AppState;
use crate::error::AppError;

/// 32 bytes from the operating system's random source.
pub fn random_bytes() -> [u8; 32] {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    buf
}

/// Hashes a password with argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt_bytes = random_bytes();
    let salt = SaltString::encode_b64(&salt_bytes[..16])
        .map_err(|e| AppError::Internal(e.to_string().into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string().into()))
}

/// Checks a password against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that unknown e-mail addresses
/// take as long to refuse as wrong passwords.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("vulnshare timing equaliser").unwrap_or_default())
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who, for policy checks.
    pub actor: Actor,
    /// The user.
    pub user: User,
    /// The user's organization.
    pub organization: Organization,
    /// The token used.
    pub token_id: String,
    /// The advisory catalog's generation when it was read with the token (see
    /// [`crate::service::advisory_catalog_at`]); `None` for a web session.
    pub catalog_generation: Option<i64>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(AppError::Unauthenticated(
                "send an API token as Authorization: Bearer vs_…",
            ))?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|s| looks_like_secret(s))
            .ok_or(AppError::Unauthenticated(
                "the Authorization header must be Bearer followed by a vs_ token",
            ))?;
        caller_from_secret(state, secret).await
    }
}

/// Token checks by the hash of the secret, with the change-feed epoch they were read under.
type CheckedTokens = HashMap<String, (u64, Arc<TokenActor>)>;

/// Most token checks a node keeps in memory; when full, it starts again empty.
const TOKEN_CACHE_ENTRIES: usize = 8192;

/// Token checks this node made while the store's change feed was live, by the hash of the
/// secret: a request with a token checked before needs no query, as long as no token, user or
/// organization changed since (on any node: [`vulnshare_store::ChangeFeed`]). Expiry is
/// checked on every request; unknown secrets are never kept.
#[derive(Debug, Clone, Default)]
pub struct TokenCache {
    entries: Arc<Mutex<CheckedTokens>>,
    answered: Arc<[AtomicU64; 2]>,
}

impl TokenCache {
    /// How many token checks this node answered from memory and how many from the store.
    pub fn answered(&self) -> (u64, u64) {
        (
            self.answered[0].load(Ordering::Relaxed),
            self.answered[1].load(Ordering::Relaxed),
        )
    }

    fn get(&self, secret_hash: &str, feed: &ChangeFeed) -> Option<Arc<TokenActor>> {
        let entries = self.locked();
        let (epoch, found) = entries.get(secret_hash)?;
        feed.still_current(*epoch).then(|| found.clone())
    }

    fn put(&self, secret_hash: String, epoch: u64, found: Arc<TokenActor>) {
        let mut entries = self.locked();
        if entries.len() >= TOKEN_CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(secret_hash, (epoch, found));
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, CheckedTokens> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The caller an API token secret stands for, if the token is valid and usable now.
pub(crate) async fn caller_from_secret(state: &AppState, secret: &str) -> Result<Caller, AppError> {
    let secret_hash = hash_secret(secret);
    let feed = state.store.changes();
    let (found, catalog_generation) = match state.tokens.get(&secret_hash, feed) {
        Some(found) => {
            state.tokens.answered[0].fetch_add(1, Ordering::Relaxed);
            (found, feed.catalog_generation())
        }
        None => {
            state.tokens.answered[1].fetch_add(1, Ordering::Relaxed);
            // The epoch is read before the store: a change committed meanwhile raises it,
            // and what is read now is then not trusted for the next request.
            let epoch = feed.auth_epoch();
            let found = match state.store.token_actor(&secret_hash).await {
                Ok(found) => Arc::new(found),
                Err(StoreError::NotFound(_)) => {
                    return Err(AppError::Unauthenticated("the token is not valid"));
                }
                Err(e) => return Err(e.into()),
            };
            if feed.is_live() {
                state.tokens.put(secret_hash, epoch, found.clone());
            }
            let generation = found.catalog_generation;
            (found, Some(generation))
        }
    };
    if !found.token.is_usable(state.clock.now()) {
        return Err(AppError::Unauthenticated(
            "the token has expired or was revoked",
        ));
    }
    if found.user.disabled {
        return Err(AppError::Unauthenticated("the account is disabled"));
    }
    let actor = Actor {
        user_id: found.user.id.clone(),
        org_id: found.organization.id.clone(),
        org_kind: found.organization.kind,
        membership_active: found.organization.membership.is_active(),
        roles: found.user.roles.clone(),
        scopes: found.token.scopes.clone(),
    };
    Ok(Caller {
        actor,
        user: found.user.clone(),
        organization: found.organization.clone(),
        token_id: found.token.id.clone(),
        catalog_generation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("anything", "not a phc string"));
    }
}

/// A caller who may be anonymous: no `Authorization` header gives `None`; a header that is
/// present must hold a valid token.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(MaybeCaller(None));
        }
        Caller::from_request_parts(parts, state)
            .await
            .map(|c| MaybeCaller(Some(c)))
    }
}

/// The client's IP address as the listener saw it (`None` when the router runs without
/// connection info, as in tests that call it directly). Proxy headers are not trusted.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
