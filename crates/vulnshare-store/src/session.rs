//! Web UI sessions (stored under the hash of their id, so a database leak reveals no usable
//! session), the failed sign-in counters behind the password lockout, and TOTP secrets.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::{from_ts, ts};
use crate::{Result, Store, StoreError, WriteTx};

/// A signed-in browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// SHA-256 (hex) of the session id held in the cookie.
    pub id_hash: String,
    /// The signed-in user.
    pub user_id: String,
    /// The token every form post of this session must carry.
    pub csrf_token: String,
    /// When the user signed in.
    pub created_at: Timestamp,
    /// When the session was last used.
    pub last_seen_at: Timestamp,
    /// When the session ends, whatever its use.
    pub expires_at: Timestamp,
}

fn session(row: &AnyRow) -> Result<WebSession> {
    Ok(WebSession {
        id_hash: row.try_get("id_hash")?,
        user_id: row.try_get("user_id")?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        last_seen_at: from_ts(row.try_get("last_seen_at")?)?,
        expires_at: from_ts(row.try_get("expires_at")?)?,
    })
}

/// How failed sign-ins lock a key out.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Failures within `window` that lock the key.
    pub max_failures: i64,
    /// How far back failures count.
    pub window: SignedDuration,
    /// How long a locked key stays locked.
    pub lock_for: SignedDuration,
}

impl WriteTx {
    /// Stores a new session.
    pub async fn create_web_session(&mut self, s: &WebSession) -> Result<()> {
        sqlx::query("INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&s.id_hash)
            .bind(&s.user_id)
            .bind(&s.csrf_token)
            .bind(ts(s.created_at))
            .bind(ts(s.last_seen_at))
            .bind(ts(s.expires_at))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Ends a session; ending one that is gone is harmless.
    pub async fn delete_web_session(&mut self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Sets (confirmed enrolment) the user's TOTP secret, in base32.
    pub async fn set_totp_secret(&mut self, user_id: &str, secret: &str) -> Result<()> {
        let done = sqlx::query("UPDATE users SET totp_secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(user_id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    /// Removes the user's TOTP secret and ends all their sessions.
    pub async fn clear_totp_secret(&mut self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET totp_secret = NULL WHERE id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// A session by the hash of its id, if it exists and has not expired at `now`.
    pub async fn web_session(&self, id_hash: &str, now: Timestamp) -> Result<Option<WebSession>> {
        let row = sqlx::query("SELECT id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at FROM web_sessions WHERE id_hash = $1 AND expires_at > $2")
            .bind(id_hash)
            .bind(ts(now))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session).transpose()
    }

    /// Records that a session was used at `now` (not audited: it changes no shared data).
    pub async fn touch_web_session(&self, id_hash: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(ts(now))
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes sessions that expired before `now`; returns how many.
    pub async fn purge_web_sessions(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// When `key` stays locked until, if it is locked at `now`.
    pub async fn sign_in_locked_until(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let row = sqlx::query(
            "SELECT locked_until FROM sign_in_failures WHERE key = $1 AND locked_until > $2",
        )
        .bind(key)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(from_ts(r.try_get("locked_until")?)?)),
            None => Ok(None),
        }
    }

    /// Counts a failed sign-in against `key`; returns when it is locked until if this failure
    /// reached the policy's limit. The counter is one atomic upsert, so several nodes count
    /// together.
    pub async fn record_sign_in_failure(
        &self,
        key: &str,
        now: Timestamp,
        policy: LockoutPolicy,
    ) -> Result<Option<Timestamp>> {
        let window_open = now.checked_sub(policy.window).unwrap_or(now);
        let row = sqlx::query(
            "INSERT INTO sign_in_failures (key, failures, window_start, locked_until) VALUES ($1, 1, $2, NULL) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN sign_in_failures.window_start < $3 THEN 1 ELSE sign_in_failures.failures + 1 END, \
               window_start = CASE WHEN sign_in_failures.window_start < $3 THEN $2 ELSE sign_in_failures.window_start END \
             RETURNING failures",
        )
        .bind(key)
        .bind(ts(now))
        .bind(ts(window_open))
        .fetch_one(&self.pool)
        .await?;
        let failures: i64 = row.try_get("failures")?;
        if failures < policy.max_failures {
            return Ok(None);
        }
        let until = now.checked_add(policy.lock_for).unwrap_or(now);
        // The lock starts a fresh window: after it ends, the next failures count from zero.
        sqlx::query("UPDATE sign_in_failures SET locked_until = $1, failures = 0, window_start = $2 WHERE key = $3")
            .bind(ts(until))
            .bind(ts(now))
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(Some(until))
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user's TOTP secret (base32), if enrolled.
    pub async fn totp_secret(&self, user_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT totp_secret FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        Ok(row.try_get::<Option<String>, _>("totp_secret")?)
    }
}
