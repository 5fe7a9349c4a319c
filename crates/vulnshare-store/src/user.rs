//! Users and their API tokens.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::organization::Organization;
use vulnshare_core::token::{ApiToken, TokenRequest, scopes_from_string, scopes_to_string};
use vulnshare_core::user::{NewUser, User, roles_from_string, roles_to_string};

use crate::codec::{fetch_by_id, from_opt_ts, from_ts, new_id, ts};
use crate::{Result, Store, StoreError, WriteTx};

const USER_COLUMNS: &str = "id, organization_id, email, display_name, roles, disabled, created_at";
const TOKEN_COLUMNS: &str = "id, user_id, name, scopes, created_at, expires_at, revoked_at";

fn user(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        roles: roles_from_string(&row.try_get::<String, _>("roles")?),
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: from_ts(row.try_get("created_at")?)?,
    })
}

fn token(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        scopes: scopes_from_string(&row.try_get::<String, _>("scopes")?),
        created_at: from_ts(row.try_get("created_at")?)?,
        expires_at: from_ts(row.try_get("expires_at")?)?,
        revoked_at: from_opt_ts(row.try_get("revoked_at")?)?,
    })
}

/// A user with the stored password hash, for signing in.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The user.
    pub user: User,
    /// The argon2 PHC string.
    pub password_hash: String,
}

/// Everything needed to authorise a request made with a token.
#[derive(Debug, Clone)]
pub struct TokenActor {
    /// The token.
    pub token: ApiToken,
    /// Its user.
    pub user: User,
    /// The user's organization.
    pub organization: Organization,
    /// The advisory catalog's generation, read in the same statement (see
    /// [`Store::advisory_catalog_generation`]): a request that authenticates needs no second
    /// round trip to learn whether its node's compiled catalog is current.
    pub catalog_generation: i64,
}

impl WriteTx {
    /// Creates a user in `org_id` with an already hashed password.
    pub async fn create_user(
        &mut self,
        org_id: &str,
        new: &NewUser,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<User> {
        let u = User {
            id: new_id("usr"),
            organization_id: org_id.to_owned(),
            email: new.email.clone(),
            display_name: new.display_name.clone(),
            roles: new.roles.clone(),
            disabled: false,
            created_at: now,
        };
        sqlx::query("INSERT INTO users (id, organization_id, email, display_name, password_hash, roles, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)")
            .bind(&u.id)
            .bind(&u.organization_id)
            .bind(&u.email)
            .bind(&u.display_name)
            .bind(password_hash)
            .bind(roles_to_string(&u.roles))
            .bind(ts(now))
            .execute(self.conn())
            .await
            .map_err(|e| StoreError::conflict_on_unique(e, || format!("a user with e-mail {} already exists", u.email)))?;
        Ok(u)
    }

    /// Enables or disables a user; disabling also revokes all of the user's tokens.
    pub async fn set_user_disabled(
        &mut self,
        user_id: &str,
        disabled: bool,
        now: Timestamp,
    ) -> Result<()> {
        self.credentials_changed();
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(user_id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        if disabled {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(ts(now))
            .bind(user_id)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Replaces a user's display name and roles.
    pub async fn set_user_profile(
        &mut self,
        user_id: &str,
        display_name: &str,
        roles: &[vulnshare_core::user::Role],
    ) -> Result<()> {
        self.credentials_changed();
        let done = sqlx::query("UPDATE users SET display_name = $1, roles = $2 WHERE id = $3")
            .bind(display_name)
            .bind(roles_to_string(roles))
            .bind(user_id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    /// Stores a new token under the hash of its secret.
    pub async fn create_token(
        &mut self,
        user_id: &str,
        request: &TokenRequest,
        secret_hash: &str,
        now: Timestamp,
    ) -> Result<ApiToken> {
        let t = ApiToken {
            id: new_id("tok"),
            user_id: user_id.to_owned(),
            name: request.name.clone(),
            scopes: request.scopes.clone(),
            created_at: now,
            expires_at: request.expires_at,
            revoked_at: None,
        };
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&t.id)
            .bind(&t.user_id)
            .bind(&t.name)
            .bind(secret_hash)
            .bind(scopes_to_string(&t.scopes))
            .bind(ts(now))
            .bind(ts(t.expires_at))
            .execute(self.conn())
            .await?;
        Ok(t)
    }

    /// Revokes a token of `user_id`; revoking twice is harmless.
    pub async fn revoke_token(
        &mut self,
        user_id: &str,
        token_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.credentials_changed();
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND user_id = $3")
            .bind(ts(now))
            .bind(token_id)
            .bind(user_id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("token"));
        }
        Ok(())
    }
}

impl Store {
    /// Reads a user.
    pub async fn user(&self, id: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        fetch_by_id(&self.pool, &sql, id, "user", user).await
    }

    /// The users of an organization, by e-mail.
    pub async fn users_of(&self, org_id: &str) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE organization_id = $1 ORDER BY email LIMIT 1000"
        );
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&self.pool).await?;
        rows.iter().map(user).collect()
    }

    /// A user's credentials by e-mail (already normalised to lower case).
    pub async fn credentials(&self, email: &str) -> Result<Credentials> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        Ok(Credentials {
            user: user(&row)?,
            password_hash: row.try_get("password_hash")?,
        })
    }

    /// A user's tokens, newest first.
    pub async fn tokens_of(&self, user_id: &str) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1000"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token).collect()
    }

    /// Looks a token up by the hash of its secret, with its user and organization, in one
    /// query: every authenticated request makes it, so it is one round trip, not three.
    pub async fn token_actor(&self, secret_hash: &str) -> Result<TokenActor> {
        let row = sqlx::query(
            "SELECT t.id AS t_id, t.user_id, t.name AS t_name, t.scopes, t.created_at AS t_created_at, t.expires_at, t.revoked_at, \
                    u.organization_id, u.email, u.display_name, u.roles, u.disabled, u.created_at AS u_created_at, \
                    o.name AS o_name, o.kind, o.country, o.membership, o.created_at AS o_created_at, \
                    COALESCE((SELECT generation FROM advisory_catalog WHERE id = 1), 0) AS catalog_generation \
             FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organizations o ON o.id = u.organization_id \
             WHERE t.token_hash = $1",
        )
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("token"))?;
        let token = ApiToken {
            id: row.try_get("t_id")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("t_name")?,
            scopes: scopes_from_string(&row.try_get::<String, _>("scopes")?),
            created_at: from_ts(row.try_get("t_created_at")?)?,
            expires_at: from_ts(row.try_get("expires_at")?)?,
            revoked_at: from_opt_ts(row.try_get("revoked_at")?)?,
        };
        let user = User {
            id: token.user_id.clone(),
            organization_id: row.try_get("organization_id")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            roles: roles_from_string(&row.try_get::<String, _>("roles")?),
            disabled: row.try_get::<i64, _>("disabled")? != 0,
            created_at: from_ts(row.try_get("u_created_at")?)?,
        };
        let organization = crate::organization::from_joined_row(
            &row,
            &user.organization_id,
            "o_name",
            "o_created_at",
        )?;
        Ok(TokenActor {
            token,
            user,
            organization,
            catalog_generation: row.try_get("catalog_generation")?,
        })
    }
}
