//! The shape of a REST API token: how one is made, recognised and hashed.
//! The store keeps only the hash, so a leaked database does not leak tokens.

use rand::Rng;
use sha2::{Digest, Sha256};

/// Every token starts with this, so secret scanners and people can tell a
/// calsync key from other strings.
pub const PREFIX: &str = "csk_";
/// Random characters after the prefix: 40 × 6 bits = 240 bits of entropy.
pub const RANDOM_LEN: usize = 40;
/// How much of the token is kept in clear to tell tokens apart in lists:
/// the prefix and 8 random characters (the other 32 stay secret).
pub const DISPLAY_LEN: usize = PREFIX.len() + 8;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A fresh token from the thread-local CSPRNG (seeded from the OS).
pub fn generate() -> String {
    let mut rng = rand::rng();
    let mut token = String::with_capacity(PREFIX.len() + RANDOM_LEN);
    token.push_str(PREFIX);
    for _ in 0..RANDOM_LEN {
        token.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
    }
    token
}

/// Whether `text` has the shape of a token, checked before any database
/// lookup so that garbage never costs a query.
pub fn is_well_formed(text: &str) -> bool {
    text.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.len() == RANDOM_LEN && rest.bytes().all(|b| ALPHABET.contains(&b)))
}

/// The stored form: hex SHA-256. A plain fast hash is enough here (unlike
/// passwords) because the token is 240 random bits: there is nothing to
/// guess, so slowing down guessing buys nothing and would slow every request.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The part shown in lists and logs.
pub fn display_prefix(token: &str) -> String {
    token.chars().take(DISPLAY_LEN).collect()
}

/// The token from an `Authorization` header value (`Bearer csk_…`; the
/// scheme is case-insensitive per RFC 9110), if it has the right shape.
pub fn from_authorization(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && is_well_formed(token)).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let a = generate();
        let b = generate();
        assert!(a.starts_with("csk_") && a.len() == 44, "{a}");
        assert!(is_well_formed(&a) && is_well_formed(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let good = generate();
        for bad in [
            String::new(),
            "csk_".into(),
            good[..43].to_owned(),
            format!("{good}x"),
            good.replacen("csk_", "sk_x", 1),
            format!("csk_{}", "!".repeat(40)),
            format!("csk_{}", "é".repeat(20)),
        ] {
            assert!(!is_well_formed(&bad), "{bad:?}");
        }
    }

    #[test]
    fn hash_is_hex_sha256_and_stable() {
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let t = generate();
        assert_eq!(hash(&t), hash(&t));
        assert_ne!(hash(&t), hash(&generate()));
    }

    #[test]
    fn display_prefix_keeps_most_of_the_secret_hidden() {
        let t = generate();
        let shown = display_prefix(&t);
        assert_eq!(shown.len(), 12);
        assert!(t.starts_with(&shown));
    }

    #[test]
    fn bearer_header_parsing() {
        let t = generate();
        assert_eq!(from_authorization(&format!("Bearer {t}")), Some(t.as_str()));
        assert_eq!(from_authorization(&format!("bearer  {t} ")), Some(t.as_str()));
        assert_eq!(from_authorization(&format!("Basic {t}")), None);
        assert_eq!(from_authorization(&t), None);
        assert_eq!(from_authorization("Bearer csk_short"), None);
        assert_eq!(from_authorization(""), None);
    }
}
