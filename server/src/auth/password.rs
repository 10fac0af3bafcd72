//! Checking passwords at login. Hashing and the policy live in the engine
//! (`engine::password`), so server functions can create accounts too.

use std::sync::OnceLock;

pub use engine::password::{check_policy, hash, PasswordError, MIN_LENGTH};

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
