//! Login throttling: at most `MAX_FAILURES` failed logins per account
//! (email) and per client address within `WINDOW`. Counting by address as
//! well stops one client from trying one password on many accounts.

use chrono::{DateTime, Duration, Utc};
use engine::store::{Store, StoreError};

pub const MAX_FAILURES: i64 = 5;

pub fn window() -> Duration {
    Duration::minutes(15)
}

/// What a login attempt is counted under.
pub struct Subjects {
    pub account: String,
    pub address: String,
}

impl Subjects {
    pub fn new(normalized_email: &str, ip: std::net::IpAddr) -> Subjects {
        Subjects { account: format!("email:{normalized_email}"), address: format!("ip:{ip}") }
    }
}

/// Which limit was hit and when it lifts.
pub struct Throttled {
    pub by_account: bool,
    pub retry_at: DateTime<Utc>,
}

/// `Some` if either subject has used up its failures in the window.
pub async fn check(store: &Store, subjects: &Subjects, now: DateTime<Utc>) -> Result<Option<Throttled>, StoreError> {
    let since = now - window();
    let mut throttled: Option<Throttled> = None;
    for (subject, by_account) in [(&subjects.account, true), (&subjects.address, false)] {
        let failures = store.login_failures_since(subject, since).await?;
        if failures.count >= MAX_FAILURES {
            // Lifts when the oldest counted failure leaves the window.
            let retry_at = failures.oldest.unwrap_or(now) + window();
            if throttled.as_ref().is_none_or(|t| retry_at > t.retry_at) {
                throttled = Some(Throttled { by_account, retry_at });
            }
        }
    }
    Ok(throttled)
}

pub async fn record_failure(store: &Store, subjects: &Subjects, now: DateTime<Utc>) -> Result<(), StoreError> {
    store.record_login_failure(&[&subjects.account, &subjects.address], now, now - window()).await
}

/// A successful login clears the account's failures only: the address's
/// count stays, or one good account would unlock guessing at all others.
pub async fn record_success(store: &Store, subjects: &Subjects) -> Result<(), StoreError> {
    store.clear_login_failures(&subjects.account).await
}
