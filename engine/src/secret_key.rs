//! The installation's master key (`CALSYNC_SECRET_KEY`): seals the secrets
//! calsync keeps (Cal.com credentials, the alert webhook's signing secret)
//! at rest. Sessions do not need it: their cookie is only a random id. It
//! never appears in Debug output.

/// 32 random bytes, given as 64 hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretKeyError {
    #[error(
        "must be 64 hexadecimal characters (32 bytes), got {0} characters; generate one with `openssl rand -hex 32`"
    )]
    Length(usize),
    #[error("must contain only hexadecimal characters 0-9 a-f")]
    NotHex,
}

impl SecretKey {
    pub fn parse(text: &str) -> Result<SecretKey, SecretKeyError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(SecretKeyError::Length(text.chars().count()));
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in text.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).map_err(|_| SecretKeyError::NotHex)?;
            bytes[i] = u8::from_str_radix(hex, 16).map_err(|_| SecretKeyError::NotHex)?;
        }
        Ok(SecretKey(bytes))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_hides_itself() {
        let key = SecretKey::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(key.as_bytes(), &[0xab; 32]);
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }

    #[test]
    fn rejects_wrong_length_and_non_hex() {
        assert_eq!(SecretKey::parse("abc"), Err(SecretKeyError::Length(3)));
        assert_eq!(SecretKey::parse(&"zz".repeat(32)), Err(SecretKeyError::NotHex));
        assert_eq!(SecretKey::parse(&"é".repeat(32)), Err(SecretKeyError::NotHex), "64 bytes, but not hex");
    }
}
