//! Password hashing (argon2 via `password-auth`) and the first password of
//! an invited account. Hashing is deliberately slow, so it runs on the
//! blocking pool, never on the async workers. Logins are checked with
//! [`verify`] by `ops::sign_in`.

use std::sync::OnceLock;

use rand::Rng;

pub const MIN_LENGTH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("hashing was interrupted")]
    Interrupted,
}

pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

pub async fn hash(password: String) -> Result<String, PasswordError> {
    check_policy(&password)?;
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .map_err(|_| PasswordError::Interrupted)
}

/// Checks `password` against `hash`; with no hash (unknown email) it checks
/// against a dummy so both cases take the same time and nobody can tell
/// from the delay whether an account exists.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    let known = hash.is_some();
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        password_auth::verify_password(password, &hash).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| password_auth::generate_hash("not the password of anyone"))
}

/// Letters and digits without the look-alikes (0/O, 1/l/I), because an admin
/// reads it out or copies it by hand to the person invited.
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random first password: 20 characters × log2(57) ≈ 116 bits.
pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..20).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let a = generate();
        assert_eq!(a.len(), 20);
        assert!(check_policy(&a).is_ok());
        assert_ne!(a, generate());
    }
}
