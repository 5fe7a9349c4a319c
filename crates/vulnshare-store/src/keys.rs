//! The platform's signing keys, kept in the database so that every server node signs with the
//! same keys: the Ed25519 receipt key, and the OpenPGP key of the CSAF provider, whose row's
//! `key_id` is `openpgp:` and its fingerprint.

use jiff::Timestamp;
use sqlx::Row;

use crate::codec::ts;
use crate::{Result, Store, StoreError};

/// `key_id` prefix of the OpenPGP key's row; receipt key ids are plain hex, so never match it.
const OPENPGP_KEY_ID_PREFIX: &str = "openpgp:";

impl Store {
    /// Returns the current signing key's secret bytes, storing `generate()`'s output first if
    /// the platform has none yet. Concurrent first starts agree on one key.
    pub async fn signing_key_secret(
        &self,
        generate: impl FnOnce() -> ([u8; 32], [u8; 32], String),
        now: Timestamp,
    ) -> Result<[u8; 32]> {
        if let Some(secret) = self.current_signing_secret().await? {
            return Ok(secret);
        }
        let (secret, public, key_id) = generate();
        sqlx::query("INSERT INTO signing_keys (key_id, secret_hex, public_hex, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO NOTHING")
            .bind(&key_id)
            .bind(hex::encode(secret))
            .bind(hex::encode(public))
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        self.current_signing_secret()
            .await?
            .ok_or(StoreError::NotFound("signing key"))
    }

    async fn current_signing_secret(&self) -> Result<Option<[u8; 32]>> {
        let row =
            sqlx::query("SELECT secret_hex FROM signing_keys WHERE key_id NOT LIKE $1 ORDER BY created_at, key_id LIMIT 1")
                .bind(format!("{OPENPGP_KEY_ID_PREFIX}%"))
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let hex: String = row.try_get("secret_hex")?;
        let bytes: [u8; 32] = hex::decode(&hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| StoreError::Corrupt("signing key is not 32 bytes of hex".into()))?;
        Ok(Some(bytes))
    }

    /// Returns the CSAF provider's OpenPGP secret key (binary OpenPGP, as the server wrote it),
    /// storing `generate()`'s `(fingerprint, secret key, public key)` first if the platform has
    /// none yet. Concurrent first starts agree on one key.
    pub async fn openpgp_secret_key(
        &self,
        generate: impl FnOnce() -> (String, Vec<u8>, Vec<u8>),
        now: Timestamp,
    ) -> Result<Vec<u8>> {
        if let Some(secret) = self.current_openpgp_secret().await? {
            return Ok(secret);
        }
        let (fingerprint, secret, public) = generate();
        sqlx::query("INSERT INTO signing_keys (key_id, secret_hex, public_hex, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO NOTHING")
            .bind(format!("{OPENPGP_KEY_ID_PREFIX}{fingerprint}"))
            .bind(hex::encode(secret))
            .bind(hex::encode(public))
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        self.current_openpgp_secret()
            .await?
            .ok_or(StoreError::NotFound("OpenPGP key"))
    }

    async fn current_openpgp_secret(&self) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT secret_hex FROM signing_keys WHERE key_id LIKE $1 ORDER BY created_at, key_id LIMIT 1")
            .bind(format!("{OPENPGP_KEY_ID_PREFIX}%"))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let hex: String = row.try_get("secret_hex")?;
        let bytes =
            hex::decode(&hex).map_err(|_| StoreError::Corrupt("OpenPGP key is not hex".into()))?;
        Ok(Some(bytes))
    }
}
