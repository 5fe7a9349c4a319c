//! Signed receipts: proof, checkable offline with the platform's public key, that a report
//! with a given content hash was received at a given server time.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A receipt as handed to the submitter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Format version.
    pub version: u32,
    /// The report.
    pub report_id: String,
    /// SHA-256 of the report content's canonical JSON.
    pub content_hash: String,
    /// The server clock when the submission was committed.
    pub received_at: Timestamp,
    /// Which platform key signed it (hex of the first 8 bytes of SHA-256 of the public key).
    pub key_id: String,
    /// Ed25519 signature over [`Receipt::signed_message`], hex.
    pub signature: String,
}

/// Why a receipt does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Signed by another key.
    #[error("the receipt was signed by key {found}, not by this platform's key {expected}")]
    WrongKey {
        /// Key id in the receipt.
        found: String,
        /// Key id of the key given.
        expected: String,
    },
    /// The signature is malformed.
    #[error("the signature is not 64 bytes of hex")]
    MalformedSignature,
    /// The signature does not match the content.
    #[error("the signature does not match: the receipt was altered or forged")]
    BadSignature,
    /// Unknown format version.
    #[error("unknown receipt version {0}")]
    UnknownVersion(u32),
}

/// The key id of a public key.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

impl Receipt {
    /// The exact bytes that are signed.
    pub fn signed_message(report_id: &str, content_hash: &str, received_at: Timestamp) -> Vec<u8> {
        format!(
            "vulnshare-receipt-v1\n{report_id}\n{content_hash}\n{}\n",
            received_at.as_microsecond()
        )
        .into_bytes()
    }

    /// Issues a receipt signed with `key`.
    pub fn issue(
        key: &SigningKey,
        report_id: &str,
        content_hash: &str,
        received_at: Timestamp,
    ) -> Receipt {
        let signature = key.sign(&Self::signed_message(report_id, content_hash, received_at));
        Receipt {
            version: 1,
            report_id: report_id.to_owned(),
            content_hash: content_hash.to_owned(),
            received_at,
            key_id: key_id(&key.verifying_key()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Verifies the receipt with the platform's public key.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), ReceiptError> {
        if self.version != 1 {
            return Err(ReceiptError::UnknownVersion(self.version));
        }
        let expected = key_id(key);
        if self.key_id != expected {
            return Err(ReceiptError::WrongKey {
                found: self.key_id.clone(),
                expected,
            });
        }
        let bytes: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(ReceiptError::MalformedSignature)?;
        let signature = Signature::from_bytes(&bytes);
        key.verify(
            &Self::signed_message(&self.report_id, &self.content_hash, self.received_at),
            &signature,
        )
        .map_err(|_| ReceiptError::BadSignature)
    }
}

/// Parses a public key from 64 hex characters.
pub fn parse_public_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("a public key is 32 bytes written as 64 hex characters")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SigningKey {
        SigningKey::from_bytes(&[b; 32])
    }

    #[test]
    fn issued_receipts_verify_and_tampering_is_caught() {
        let k = key(1);
        let at: Timestamp = "2021-12-09T08:00:00Z".parse().unwrap();
        let r = Receipt::issue(&k, "VS-2021-00001", "ab", at);
        r.verify(&k.verifying_key()).unwrap();

        let mut later = r.clone();
        later.received_at = "2021-12-10T08:00:00Z".parse().unwrap();
        assert_eq!(
            later.verify(&k.verifying_key()),
            Err(ReceiptError::BadSignature)
        );

        let mut other = r.clone();
        other.content_hash = "cd".into();
        assert_eq!(
            other.verify(&k.verifying_key()),
            Err(ReceiptError::BadSignature)
        );

        assert!(matches!(
            r.verify(&key(2).verifying_key()),
            Err(ReceiptError::WrongKey { .. })
        ));
    }

    #[test]
    fn public_keys_parse_from_hex() {
        let k = key(3).verifying_key();
        assert_eq!(parse_public_key(&hex::encode(k.as_bytes())).unwrap(), k);
        assert!(parse_public_key("abcd").is_err());
    }
}
