//! Password sign-in with lockout and the optional TOTP second factor. The web sign-in form and
//! `POST /api/v1/auth/token` both call [`check_password`], so the lockout holds on every path.

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use totp_rs::{Algorithm, TOTP};
use vulnshare_core::user::User;
use vulnshare_store::{Credentials, LockoutPolicy, StoreError};

use super::audit_event_by;
use crate::AppState;
use crate::auth::{dummy_hash, random_bytes, verify_password};
use crate::error::{AppError, AppResult};

/// Failures on one account within 15 minutes that lock it for 15 minutes.
pub const ACCOUNT_LOCKOUT: LockoutPolicy = LockoutPolicy {
    max_failures: 5,
    window: SignedDuration::from_mins(15),
    lock_for: SignedDuration::from_mins(15),
};

/// Failures from one client address (over any accounts) that lock the address.
pub const ADDRESS_LOCKOUT: LockoutPolicy = LockoutPolicy {
    max_failures: 20,
    window: SignedDuration::from_mins(15),
    lock_for: SignedDuration::from_mins(15),
};

/// A password sign-in attempt.
#[derive(Debug, Clone)]
pub struct PasswordAttempt<'a> {
    /// The e-mail address as typed.
    pub email: &'a str,
    /// The password as typed.
    pub password: &'a str,
    /// The one-time code, for accounts with TOTP.
    pub totp: Option<&'a str>,
    /// The client's address, when known.
    pub client: Option<IpAddr>,
}

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

fn address_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

fn locked_message(until: Timestamp) -> AppError {
    AppError::Locked(format!(
        "too many failed sign-ins: signing in is locked until {} UTC; try again then, or ask an administrator",
        until.strftime("%Y-%m-%d %H:%M")
    ))
}

/// Checks an e-mail address, password and (if enrolled) one-time code. Each failure counts
/// against the account and the client address; past [`ACCOUNT_LOCKOUT`] or
/// [`ADDRESS_LOCKOUT`] further attempts are refused with [`AppError::Locked`] until the lock
/// ends, whether or not the password is right.
pub async fn check_password(
    state: &AppState,
    attempt: PasswordAttempt<'_>,
) -> AppResult<Credentials> {
    let now = state.clock.now();
    let email = attempt.email.trim().to_ascii_lowercase();
    if attempt.password.len() > 1024 {
        return Err(AppError::field("password", "must be at most 1024 bytes"));
    }
    if email.len() > 320 {
        return Err(AppError::field("email", "must be at most 320 bytes"));
    }
    let mut keys = vec![account_key(&email)];
    if let Some(ip) = attempt.client {
        keys.push(address_key(ip));
    }
    for key in &keys {
        if let Some(until) = state.store.sign_in_locked_until(key, now).await? {
            return Err(locked_message(until));
        }
    }
    let found = match state.store.credentials(&email).await {
        Ok(c) => Some(c),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let phc = found
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let password = attempt.password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    let creds = match found {
        Some(c) if ok && !c.user.disabled => c,
        _ => {
            return Err(fail(state, &keys, now, "wrong e-mail address or password").await?);
        }
    };
    if let Some(secret) = state.store.totp_secret(&creds.user.id).await? {
        match attempt.totp.map(str::trim).filter(|c| !c.is_empty()) {
            None => {
                return Err(AppError::Unauthenticated(
                    "this account needs the 6-digit code from its authenticator app",
                ));
            }
            Some(code) if !totp_matches(&secret, code, now) => {
                return Err(fail(state, &keys, now, "wrong one-time code").await?);
            }
            Some(_) => {}
        }
    }
    state.store.clear_sign_in_failures(&keys[0]).await?;
    Ok(creds)
}

/// Counts a failure against every key; the error to answer with.
async fn fail(
    state: &AppState,
    keys: &[String],
    now: Timestamp,
    message: &'static str,
) -> AppResult<AppError> {
    let mut locked = None;
    for (i, key) in keys.iter().enumerate() {
        let policy = if i == 0 {
            ACCOUNT_LOCKOUT
        } else {
            ADDRESS_LOCKOUT
        };
        if let Some(until) = state.store.record_sign_in_failure(key, now, policy).await? {
            tracing::warn!(key = %key, until = %until, "sign-in locked after repeated failures");
            locked = Some(until);
        }
    }
    Ok(match locked {
        Some(until) => locked_message(until),
        None => AppError::Unauthenticated(message),
    })
}

/// The RFC 6238 generator for a base32 secret: SHA-1, 6 digits, 30-second steps, one step of
/// skew either way.
fn totp_for(secret_base32: &str) -> Option<TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .ok()?;
    Some(TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes))
}

/// Whether `code` is the current (or adjacent) one-time code of `secret_base32` at `now`.
pub fn totp_matches(secret_base32: &str, code: &str, now: Timestamp) -> bool {
    let Ok(seconds) = u64::try_from(now.as_second()) else {
        return false;
    };
    code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && totp_for(secret_base32).is_some_and(|t| t.check(code, seconds))
}

/// A fresh 160-bit TOTP secret in base32 (what authenticator apps take).
pub fn new_totp_secret() -> String {
    totp_rs::Secret::Raw(random_bytes()[..20].to_vec())
        .to_encoded()
        .to_string()
}

/// The `otpauth://` URI an authenticator app scans to enrol `secret_base32` for `email`.
pub fn otpauth_uri(secret_base32: &str, email: &str) -> String {
    let label: String = form_urlencoded::byte_serialize(format!("vulnshare:{email}").as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={secret_base32}&issuer=vulnshare&algorithm=SHA1&digits=6&period=30"
    )
}

/// Turns TOTP on for `user` once they prove their app holds `secret_base32` with a valid code.
pub async fn enable_totp(
    state: &AppState,
    user: &User,
    secret_base32: &str,
    code: &str,
) -> AppResult<()> {
    let now = state.clock.now();
    if totp_for(secret_base32).is_none() {
        return Err(AppError::field("secret", "not a base32 TOTP secret"));
    }
    if !totp_matches(secret_base32, code.trim(), now) {
        return Err(AppError::field(
            "code",
            "the code does not match: check the authenticator app's clock and try the next code",
        ));
    }
    let mut tx = state.store.begin_write().await?;
    tx.set_totp_secret(&user.id, secret_base32).await?;
    tx.audit(
        now,
        audit_event_by(
            Some((&user.id, &user.organization_id)),
            "user.totp_enable",
            "user",
            &user.id,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890".
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890".to_vec();
        let totp = TOTP::new_unchecked(Algorithm::SHA1, 8, 1, 30, secret.clone());
        for (time, expected) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(time), expected, "T = {time}");
        }
        // The same secret in base32 through our 6-digit checker: the last six digits.
        let b32 = totp_rs::Secret::Raw(secret).to_encoded().to_string();
        let at = Timestamp::from_second(1_111_111_109).unwrap();
        assert!(totp_matches(&b32, "081804", at));
        assert!(!totp_matches(&b32, "081805", at));
        assert!(!totp_matches(&b32, "81804", at));
        let much_later = Timestamp::from_second(1_111_111_109 + 300).unwrap();
        assert!(!totp_matches(&b32, "081804", much_later));
    }

    #[test]
    fn otpauth_uris_name_the_account_and_issuer() {
        let s = new_totp_secret();
        assert_eq!(s.len(), 32);
        let uri = otpauth_uri(&s, "a+b@example.org");
        assert!(uri.starts_with("otpauth://totp/vulnshare%3Aa%2Bb%40example.org?secret="));
        assert!(uri.contains("&issuer=vulnshare"));
    }
}
