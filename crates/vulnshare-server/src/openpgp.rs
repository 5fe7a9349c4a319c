//! The platform's OpenPGP key, which signs the public CSAF documents (CSAF 2.0 requirements 19
//! and 20: a detached `.asc` signature per document, and the public key named in the provider
//! metadata). It is an Ed25519 v4 key, which GnuPG 2.2 and later and the CSAF tools read.

use jiff::Timestamp;
use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, KeyType, SecretKeyParamsBuilder,
    SignedSecretKey, SubpacketConfig,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{Subpacket, SubpacketData};
use pgp::ser::Serialize;
use pgp::types::{KeyDetails, Password};

/// User ID bound to the key; OpenPGP v4 keys need one.
const USER_ID: &str = "vulnshare CSAF provider";

/// A signing operation of the OpenPGP library failed.
#[derive(Debug, thiserror::Error)]
#[error("OpenPGP: {0}")]
pub struct OpenPgpError(#[from] pgp::errors::Error);

/// The OpenPGP key that signs CSAF documents, with its certificate prepared for serving.
#[derive(Debug)]
pub struct OpenPgpKey {
    secret: SignedSecretKey,
    fingerprint: String,
    public_armored: String,
}

impl OpenPgpKey {
    /// Generates a new key, created at `created_at`.
    pub fn generate(created_at: Timestamp) -> Result<OpenPgpKey, OpenPgpError> {
        let params = SecretKeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .primary_user_id(USER_ID.into())
            .created_at(pgp_time(created_at))
            .build()
            .expect("the fixed key parameters are complete");
        OpenPgpKey::new(params.generate(rand_core::OsRng)?)
    }

    /// Reads a key that [`OpenPgpKey::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<OpenPgpKey, OpenPgpError> {
        OpenPgpKey::new(SignedSecretKey::from_bytes(bytes)?)
    }

    fn new(secret: SignedSecretKey) -> Result<OpenPgpKey, OpenPgpError> {
        let fingerprint = format!("{:X}", secret.fingerprint());
        let public_armored = secret
            .to_public_key()
            .to_armored_string(ArmorOptions::default())?;
        Ok(OpenPgpKey {
            secret,
            fingerprint,
            public_armored,
        })
    }

    /// The secret key in binary OpenPGP form (a transferable secret key, unencrypted).
    pub fn to_bytes(&self) -> Result<Vec<u8>, OpenPgpError> {
        Ok(self.secret.to_bytes()?)
    }

    /// The public key (certificate) in binary OpenPGP form.
    pub fn public_bytes(&self) -> Result<Vec<u8>, OpenPgpError> {
        Ok(self.secret.to_public_key().to_bytes()?)
    }

    /// The key's v4 fingerprint, 40 upper-case hex digits.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The ASCII-armored public key (certificate).
    pub fn public_key_armored(&self) -> &str {
        &self.public_armored
    }

    /// An ASCII-armored detached binary signature over exactly `data`, made at `signed_at`.
    pub fn sign_detached(&self, data: &[u8], signed_at: Timestamp) -> Result<String, OpenPgpError> {
        let key = &self.secret.primary_key;
        // The library's default subpackets with the creation time taken from the platform clock.
        let subpackets = SubpacketConfig::UserDefined {
            hashed: vec![
                Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint()))?,
                Subpacket::regular(SubpacketData::SignatureCreationTime(pgp_time(signed_at)))?,
            ],
            unhashed: vec![Subpacket::regular(SubpacketData::IssuerKeyId(
                key.legacy_key_id(),
            ))?],
        };
        let signature = DetachedSignature::sign_binary_data_with_subpackets(
            rand_core::OsRng,
            key,
            &Password::empty(),
            HashAlgorithm::Sha256,
            data,
            subpackets,
        )?;
        Ok(signature.to_armored_string(ArmorOptions::default())?)
    }
}

/// OpenPGP time: whole seconds since 1970 in 32 bits (clamped; vulnshare's clock is never
/// outside that range in practice).
fn pgp_time(at: Timestamp) -> pgp::types::Timestamp {
    pgp::types::Timestamp::from_secs(at.as_second().clamp(0, i64::from(u32::MAX)) as u32)
}

#[cfg(test)]
mod tests {
    use pgp::composed::SignedPublicKey;

    use super::*;

    #[test]
    fn signatures_verify_against_the_public_key_and_only_over_the_signed_bytes() {
        let at: Timestamp = "2021-12-09T08:00:00Z".parse().unwrap();
        let key = OpenPgpKey::generate(at).unwrap();
        let key = OpenPgpKey::from_bytes(&key.to_bytes().unwrap()).unwrap();
        assert_eq!(key.fingerprint().len(), 40);
        let (public, _) = SignedPublicKey::from_string(key.public_key_armored()).unwrap();
        assert_eq!(format!("{:X}", public.fingerprint()), key.fingerprint());
        let armored = key.sign_detached(b"{\"a\": 1}", at).unwrap();
        let (signature, _) = DetachedSignature::from_string(&armored).unwrap();
        signature.verify(&public, b"{\"a\": 1}").unwrap();
        assert!(signature.verify(&public, b"{\"a\": 2}").is_err());
    }
}
