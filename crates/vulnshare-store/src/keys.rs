//! The platform's receipt-signing key, kept in the database so that every server node signs
//! with the same key.

use jiff::Timestamp;
use sqlx::Row;

use crate::codec::ts;
use crate::{Result, Store, StoreError};

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
            sqlx::query("SELECT secret_hex FROM signing_keys ORDER BY created_at, key_id LIMIT 1")
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
}
