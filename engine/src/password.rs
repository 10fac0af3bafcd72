//! Password hashing (argon2 via `password-auth`) and the first password of
//! an invited account. Hashing is deliberately slow, so it runs on the
//! blocking pool, never on the async workers. Checking a login stays in the
//! server (`server::auth::password::verify`).

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
