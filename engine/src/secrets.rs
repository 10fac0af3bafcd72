//! Credentials at rest (Cal.com API keys, webhook secrets), sealed with
//! `CALSYNC_SECRET_KEY` so a copy of the database alone reveals nothing.
//!
//! Each sealed value is bound to what it is for (`Purpose`): a ciphertext
//! copied into another organization's row or another column fails to open
//! instead of silently becoming that organization's key.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::domain::OrgId;
use crate::secret_key::SecretKey;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

/// Which secret of which organization a sealed value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    CalcomApiKey(OrgId),
    WebhookSecret(OrgId),
    /// The secret outgoing alert webhooks are signed with.
    AlertWebhookSecret(OrgId),
}

impl Purpose {
    fn associated_data(self) -> String {
        match self {
            Purpose::CalcomApiKey(org) => format!("calcom_api_key/{}", org.get()),
            Purpose::WebhookSecret(org) => format!("calcom_webhook_secret/{}", org.get()),
            Purpose::AlertWebhookSecret(org) => format!("alert_webhook_secret/{}", org.get()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// Wrong `CALSYNC_SECRET_KEY`, a value moved between rows, or tampering.
    #[error("a stored secret cannot be decrypted: CALSYNC_SECRET_KEY differs from the one it was saved with, or the value was altered")]
    CannotOpen,
}

/// Encrypts `plain` for `purpose`: `v1:` + hex(nonce ‖ ciphertext ‖ tag).
pub fn seal(key: &SecretKey, purpose: Purpose, plain: &str) -> String {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_bytes()));
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    let aad = purpose.associated_data();
    let sealed = cipher
        .encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
        .expect("ChaCha20-Poly1305 encryption cannot fail for in-memory input");
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    format!("{VERSION}:{}", hex::encode(bytes))
}

/// Decrypts a value made by [`seal`] for the same purpose and key.
pub fn open(key: &SecretKey, purpose: Purpose, sealed: &str) -> Result<String, SecretsError> {
    let body = sealed.strip_prefix("v1:").ok_or(SecretsError::CannotOpen)?;
    let bytes = hex::decode(body).map_err(|_| SecretsError::CannotOpen)?;
    if bytes.len() < NONCE_LEN {
        return Err(SecretsError::CannotOpen);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_bytes()));
    let aad = purpose.associated_data();
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: aad.as_bytes() })
        .map_err(|_| SecretsError::CannotOpen)?;
    String::from_utf8(plain).map_err(|_| SecretsError::CannotOpen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_bytes([byte; 32])
    }

    #[test]
    fn round_trips_and_never_contains_the_plain_text() {
        let purpose = Purpose::CalcomApiKey(OrgId(1));
        let sealed = seal(&key(1), purpose, "cal_live_abc123");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("cal_live_abc123"));
        assert_eq!(open(&key(1), purpose, &sealed).unwrap(), "cal_live_abc123");
        assert_ne!(sealed, seal(&key(1), purpose, "cal_live_abc123"), "fresh nonce each time");
    }

    #[test]
    fn refuses_another_key_another_row_another_column_or_tampering() {
        let sealed = seal(&key(1), Purpose::CalcomApiKey(OrgId(1)), "k");
        assert_eq!(open(&key(2), Purpose::CalcomApiKey(OrgId(1)), &sealed), Err(SecretsError::CannotOpen));
        assert_eq!(open(&key(1), Purpose::CalcomApiKey(OrgId(2)), &sealed), Err(SecretsError::CannotOpen));
        assert_eq!(open(&key(1), Purpose::WebhookSecret(OrgId(1)), &sealed), Err(SecretsError::CannotOpen));
        let mut tampered = sealed.clone();
        let last = if tampered.ends_with('0') { "1" } else { "0" };
        tampered.replace_range(tampered.len() - 1.., last);
        assert_eq!(open(&key(1), Purpose::CalcomApiKey(OrgId(1)), &tampered), Err(SecretsError::CannotOpen));
        assert_eq!(open(&key(1), Purpose::CalcomApiKey(OrgId(1)), "garbage"), Err(SecretsError::CannotOpen));
    }
}
