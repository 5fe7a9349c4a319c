//! The users of a CNA as CVE Services manages them: listing, creating (with an API key),
//! renaming, (de)activating, granting ADMIN and replacing API keys. Users are platform users of
//! the CNA's organization; API keys are platform API tokens named [`CVE_KEY_NAME`].

use jiff::Timestamp;
use serde_json::json;
use vulnshare_core::token::{NewToken, TokenScope, hash_secret, secret_from_random};
use vulnshare_core::user::{NewUser, Role, User};
use vulnshare_store::{Store, StoreError};

use super::{CnaActor, CveApiError, CveResult, own_cna};
use crate::auth::random_bytes;
use crate::error::AppError;
use crate::service::{audit_event, create_user, set_user_disabled};

/// Name of the platform API tokens that serve as CVE Services API keys.
pub const CVE_KEY_NAME: &str = "cve-services";
/// Lifetime of an API key issued through CVE Services, in days.
pub const CVE_KEY_DAYS: i64 = 366;

/// A user of the caller's CNA by username (e-mail).
pub async fn cna_user(
    store: &Store,
    caller: &CnaActor,
    short_name: &str,
    username: &str,
) -> CveResult<User> {
    let cna = own_cna(caller, short_name)?;
    let user = match store
        .credentials(&username.trim().to_ascii_lowercase())
        .await
    {
        Ok(c) if c.user.organization_id == cna.organization_id => c.user,
        Ok(_) | Err(StoreError::NotFound(_)) => {
            return Err(CveApiError::new(
                404,
                "USER_DNE",
                format!("The user '{username}' does not exist in '{short_name}'."),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(user)
}

/// A new user as CVE Services describes one.
#[derive(Debug, Clone, Default)]
pub struct NewCnaUser {
    /// The username: an e-mail address here.
    pub username: String,
    /// First name.
    pub first: String,
    /// Last name.
    pub last: String,
    /// Whether the user gets the ADMIN role.
    pub admin: bool,
}

/// Display name from CVE Services' first and last names (the username when both are empty).
pub fn display_name(first: &str, last: &str, username: &str) -> String {
    let name = format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_owned();
    if name.is_empty() {
        username.to_owned()
    } else {
        name
    }
}

/// Creates a user in the caller's CNA with an API key; returns the user and the key (shown once).
pub async fn create_cna_user(
    store: &Store,
    caller: &CnaActor,
    short_name: &str,
    new: NewCnaUser,
    now: Timestamp,
) -> CveResult<(User, String)> {
    let cna = own_cna(caller, short_name)?.clone();
    caller.require_admin()?;
    // The user signs in to the platform only after an administrator sets a password; the
    // random one here is never shown.
    let password = hex::encode(random_bytes());
    let roles = if new.admin {
        vec![Role::Member, Role::OrgAdmin]
    } else {
        vec![Role::Member]
    };
    let user = create_user(
        store,
        Some(&caller.actor),
        &cna.organization_id,
        NewUser {
            display_name: display_name(&new.first, &new.last, &new.username),
            email: new.username,
            password,
            roles,
        },
        now,
    )
    .await?;
    let secret = issue_key(store, caller, &user, now).await?;
    Ok((user, secret))
}

/// Issues a new API key for `user`, revoking the previous CVE Services keys.
async fn issue_key(
    store: &Store,
    caller: &CnaActor,
    user: &User,
    now: Timestamp,
) -> CveResult<String> {
    let mut scopes = vec![TokenScope::Read, TokenScope::Write];
    if user.has(Role::OrgAdmin) {
        scopes.push(TokenScope::Admin);
    }
    let request = NewToken {
        name: CVE_KEY_NAME.into(),
        scopes,
        expires_in_days: Some(CVE_KEY_DAYS),
    }
    .validate(now)
    .map_err(AppError::from)?;
    let secret = secret_from_random(random_bytes());
    let mut tx = store.begin_write().await?;
    let revoked = tx.revoke_tokens_named(&user.id, CVE_KEY_NAME, now).await?;
    let token = tx
        .create_token(&user.id, &request, &hash_secret(&secret), now)
        .await?;
    tx.audit(
        now,
        audit_event(
            Some(&caller.actor),
            "token.create",
            "token",
            &token.id,
            json!({"name": token.name, "scopes": token.scopes, "expires_at": token.expires_at, "for_user": user.id, "revoked_previous": revoked}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Replaces a user's API key: the user themself or an administrator of the CNA.
pub async fn reset_secret(
    store: &Store,
    caller: &CnaActor,
    short_name: &str,
    username: &str,
    now: Timestamp,
) -> CveResult<String> {
    let user = cna_user(store, caller, short_name, username).await?;
    if user.id == caller.user.id {
        caller.require(TokenScope::Write)?;
    } else {
        caller.require_admin()?;
    }
    issue_key(store, caller, &user, now).await
}

/// Changes to a user, from CVE Services' query parameters.
#[derive(Debug, Clone, Default)]
pub struct CnaUserUpdate {
    /// `active`.
    pub active: Option<bool>,
    /// `name.first`.
    pub first: Option<String>,
    /// `name.last`.
    pub last: Option<String>,
    /// `active_roles.add=ADMIN`.
    pub add_admin: bool,
    /// `active_roles.remove=ADMIN`.
    pub remove_admin: bool,
}

/// Updates a user of the caller's CNA. Users may change their own name; everything else
/// needs the ADMIN role.
pub async fn update_cna_user(
    store: &Store,
    caller: &CnaActor,
    short_name: &str,
    username: &str,
    update: CnaUserUpdate,
    now: Timestamp,
) -> CveResult<User> {
    let user = cna_user(store, caller, short_name, username).await?;
    let only_name = update.active.is_none() && !update.add_admin && !update.remove_admin;
    if only_name && user.id == caller.user.id {
        caller.require(TokenScope::Write)?;
    } else {
        caller.require_admin()?;
    }
    let mut user = user;
    if let Some(active) = update.active
        && active == user.disabled
    {
        user = set_user_disabled(store, &caller.actor, &user.id, !active, now).await?;
    }
    if update.first.is_some() || update.last.is_some() || update.add_admin || update.remove_admin {
        let (old_first, old_last) = user
            .display_name
            .split_once(' ')
            .unwrap_or((user.display_name.as_str(), ""));
        let first = update.first.clone().unwrap_or_else(|| old_first.to_owned());
        let last = update.last.clone().unwrap_or_else(|| old_last.to_owned());
        let name = display_name(&first, &last, &user.email);
        if name.chars().count() > 200 {
            return Err(CveApiError::bad_input(
                "name",
                "must be at most 200 characters",
            ));
        }
        let mut roles = user.roles.clone();
        if update.add_admin && !roles.contains(&Role::OrgAdmin) {
            roles.push(Role::OrgAdmin);
        }
        if update.remove_admin {
            if user.id == caller.user.id {
                return Err(CveApiError::new(
                    403,
                    "FORBIDDEN",
                    "you cannot remove your own ADMIN role",
                ));
            }
            roles.retain(|r| *r != Role::OrgAdmin);
        }
        roles.sort();
        let mut tx = store.begin_write().await?;
        tx.set_user_profile(&user.id, &name, &roles).await?;
        tx.audit(
            now,
            audit_event(
                Some(&caller.actor),
                "user.update",
                "user",
                &user.id,
                json!({"display_name": name, "roles": roles}),
            ),
        )
        .await?;
        tx.commit().await?;
        user.display_name = name;
        user.roles = roles;
    }
    Ok(user)
}
