//! Organizations, users, tokens and products.

use jiff::Timestamp;
use serde_json::json;
use vulnshare_core::organization::{NewOrganization, Organization};
use vulnshare_core::policy::Actor;
use vulnshare_core::product::{NewProduct, Product};
use vulnshare_core::token::{ApiToken, NewToken, hash_secret, secret_from_random};
use vulnshare_core::user::{NewUser, User};
use vulnshare_store::Store;

use super::{audit_event, audit_event_by};
use crate::auth::{hash_password, random_bytes};
use crate::error::{AppError, AppResult};

/// Creates an organization. `actor` must be a platform administrator; `None` is the operator
/// on the server host (`vulnshare admin`).
pub async fn create_organization(
    store: &Store,
    actor: Option<&Actor>,
    new: NewOrganization,
    now: Timestamp,
) -> AppResult<Organization> {
    if let Some(a) = actor {
        a.can_manage_organizations()?;
    }
    let new = new.validate()?;
    let mut tx = store.begin_write().await?;
    let org = tx.create_organization(&new, now).await?;
    tx.audit(
        now,
        audit_event(
            actor,
            "organization.create",
            "organization",
            &org.id,
            json!({"name": org.name, "kind": org.kind, "country": org.country}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

/// Creates a user in `org_id`.
pub async fn create_user(
    store: &Store,
    actor: Option<&Actor>,
    org_id: &str,
    new: NewUser,
    now: Timestamp,
) -> AppResult<User> {
    if let Some(a) = actor {
        a.can_manage_users(org_id)?;
        for role in &new.roles {
            a.can_grant(*role)?;
        }
    }
    let org = store.organization(org_id).await?;
    let new = new.validate(org.kind)?;
    // Hash outside the transaction: it is deliberately slow and must not hold the write lock.
    let password = new.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))??;
    let mut tx = store.begin_write().await?;
    let user = tx.create_user(org_id, &new, &password_hash, now).await?;
    tx.audit(
        now,
        audit_event(
            actor,
            "user.create",
            "user",
            &user.id,
            json!({"organization_id": org_id, "email": user.email, "roles": user.roles}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Enables or disables a user of the caller's organization.
pub async fn set_user_disabled(
    store: &Store,
    actor: &Actor,
    user_id: &str,
    disabled: bool,
    now: Timestamp,
) -> AppResult<User> {
    let user = store.user(user_id).await?;
    actor.can_manage_users(&user.organization_id)?;
    if user.id == actor.user_id && disabled {
        return Err(AppError::Conflict(
            "you cannot disable your own account".into(),
        ));
    }
    let mut tx = store.begin_write().await?;
    tx.set_user_disabled(user_id, disabled, now).await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            "user",
            user_id,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(User { disabled, ..user })
}

/// A token with its secret, which is shown once and never stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssuedToken {
    /// The stored token.
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret to send as `Authorization: Bearer …`.
    pub secret: String,
}

/// Who asks for a new token.
#[derive(Debug, Clone, Copy)]
pub enum TokenIssuer<'a> {
    /// The user, through an existing token (which must have the admin scope).
    Token(&'a Actor),
    /// The user, having just signed in with a password.
    SignIn,
    /// The operator on the server host (`vulnshare admin create-token`).
    Operator,
}

/// Issues a token for `user`.
pub async fn create_token(
    store: &Store,
    issuer: TokenIssuer<'_>,
    user: &User,
    new: NewToken,
    now: Timestamp,
) -> AppResult<IssuedToken> {
    if let TokenIssuer::Token(a) = issuer {
        a.require_scope(vulnshare_core::token::TokenScope::Admin)?;
    }
    let request = new.validate(now)?;
    let secret = secret_from_random(random_bytes());
    let mut tx = store.begin_write().await?;
    let token = tx
        .create_token(&user.id, &request, &hash_secret(&secret), now)
        .await?;
    let by = match issuer {
        TokenIssuer::Operator => None,
        _ => Some((user.id.as_str(), user.organization_id.as_str())),
    };
    tx.audit(
        now,
        audit_event_by(
            by,
            "token.create",
            "token",
            &token.id,
            json!({"name": token.name, "scopes": token.scopes, "expires_at": token.expires_at}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedToken { token, secret })
}

/// Revokes one of the caller's own tokens.
pub async fn revoke_token(
    store: &Store,
    actor: &Actor,
    token_id: &str,
    now: Timestamp,
) -> AppResult<()> {
    let mut tx = store.begin_write().await?;
    tx.revoke_token(&actor.user_id, token_id, now).await?;
    tx.audit(
        now,
        audit_event(Some(actor), "token.revoke", "token", token_id, json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Registers a product for the caller's organization.
pub async fn create_product(
    store: &Store,
    actor: &Actor,
    org_id: &str,
    new: NewProduct,
    now: Timestamp,
) -> AppResult<Product> {
    actor.can_write_products(org_id)?;
    let new = new.validate()?;
    let mut tx = store.begin_write().await?;
    let product = tx.create_product(org_id, &new, now).await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "product.create",
            "product",
            &product.id,
            json!({"name": product.name}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(product)
}

/// Replaces a product's name, model and versions.
pub async fn update_product(
    store: &Store,
    actor: &Actor,
    product_id: &str,
    new: NewProduct,
    now: Timestamp,
) -> AppResult<Product> {
    let existing = store.product(product_id).await?;
    actor.can_read_products(&existing.organization_id)?;
    actor.can_write_products(&existing.organization_id)?;
    let new = new.validate()?;
    let mut tx = store.begin_write().await?;
    tx.update_product(product_id, &new, now).await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "product.update",
            "product",
            product_id,
            json!({"name": new.name, "versions": new.versions}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Product {
        name: new.name,
        model: new.model,
        versions: new.versions,
        ..existing
    })
}
