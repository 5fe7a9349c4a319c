//! API tokens: bearer secrets that act for a user, narrowed by scopes, always expiring, and
//! stored only as a hash.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::validation::{Collector, Invalid};

/// Prefix of every token secret, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "vs_";

/// What a token may be used for. Scopes narrow, never widen, the user's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read anything the user may read.
    Read,
    /// Create and change reports and products.
    Write,
    /// Manage organizations, users and tokens, and decide on memberships.
    Admin,
}

impl TokenScope {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
            TokenScope::Admin => "admin",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<TokenScope> {
        match s {
            "read" => Some(TokenScope::Read),
            "write" => Some(TokenScope::Write),
            "admin" => Some(TokenScope::Admin),
            _ => None,
        }
    }
}

/// Encodes scopes for storage.
pub fn scopes_to_string(scopes: &[TokenScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Decodes stored scopes.
pub fn scopes_from_string(s: &str) -> Vec<TokenScope> {
    s.split(',').filter_map(TokenScope::parse).collect()
}

/// Builds the secret shown once to the user from 32 random bytes supplied by the caller.
pub fn secret_from_random(bytes: [u8; 32]) -> String {
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The hash under which a secret is stored and looked up. Secrets carry 256 bits of entropy,
/// so a fast hash is enough; passwords, which do not, use argon2 instead.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `s` has the shape of a token secret (cheap check before any database look-up).
pub fn looks_like_secret(s: &str) -> bool {
    s.len() == TOKEN_PREFIX.len() + 64
        && s.starts_with(TOKEN_PREFIX)
        && s[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
}

/// A token as stored (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Stable identifier (safe to show and log).
    pub id: String,
    /// The user it acts for.
    pub user_id: String,
    /// A label chosen by the user.
    pub name: String,
    /// What it may be used for.
    pub scopes: Vec<TokenScope>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether the token may be used at `now`.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// Longest lifetime a token may be given.
pub const MAX_TOKEN_DAYS: i64 = 366;

/// Input to create a token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A label, e.g. "CI upload".
    pub name: String,
    /// Scopes; defaults to `read` and `write`.
    #[serde(default)]
    pub scopes: Vec<TokenScope>,
    /// Lifetime in days (1 to 366); defaults to 90.
    pub expires_in_days: Option<i64>,
}

/// A validated token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Label.
    pub name: String,
    /// Scopes, sorted and unique.
    pub scopes: Vec<TokenScope>,
    /// Expiry computed from `now`.
    pub expires_at: Timestamp,
}

impl NewToken {
    /// Validates the request at time `now`.
    pub fn validate(self, now: Timestamp) -> Result<TokenRequest, Invalid> {
        let mut c = Collector::default();
        let name = c.text("name", &self.name, 100);
        let mut scopes = if self.scopes.is_empty() {
            vec![TokenScope::Read, TokenScope::Write]
        } else {
            self.scopes
        };
        scopes.sort();
        scopes.dedup();
        let days = self.expires_in_days.unwrap_or(90);
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            c.push(
                "expires_in_days",
                format!("must be between 1 and {MAX_TOKEN_DAYS}"),
            );
        }
        let expires_at = now
            .checked_add(SignedDuration::from_hours(
                24 * days.clamp(1, MAX_TOKEN_DAYS),
            ))
            .unwrap_or(now);
        c.finish(TokenRequest {
            name,
            scopes,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_a_recognisable_shape_and_stable_hash() {
        let s = secret_from_random([7; 32]);
        assert!(looks_like_secret(&s));
        assert!(!looks_like_secret("vs_short"));
        assert!(!looks_like_secret(&s.replace("vs_", "xx_")));
        assert_eq!(hash_secret(&s), hash_secret(&s));
        assert_ne!(hash_secret(&s), hash_secret(&secret_from_random([8; 32])));
    }

    #[test]
    fn expired_or_revoked_tokens_are_unusable() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let req = NewToken {
            name: "ci".into(),
            scopes: vec![],
            expires_in_days: Some(1),
        }
        .validate(now)
        .unwrap();
        let mut t = ApiToken {
            id: "t".into(),
            user_id: "u".into(),
            name: req.name,
            scopes: req.scopes,
            created_at: now,
            expires_at: req.expires_at,
            revoked_at: None,
        };
        assert!(t.is_usable(now));
        assert!(!t.is_usable(t.expires_at));
        t.revoked_at = Some(now);
        assert!(!t.is_usable(now));
    }

    #[test]
    fn lifetime_is_bounded() {
        let now = Timestamp::UNIX_EPOCH;
        for days in [0, -1, 367] {
            let err = NewToken {
                name: "x".into(),
                scopes: vec![],
                expires_in_days: Some(days),
            }
            .validate(now)
            .unwrap_err();
            assert_eq!(err.0[0].field, "expires_in_days");
        }
    }
}
