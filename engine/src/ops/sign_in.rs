//! Signing in and out with an email and a password, and the account a
//! session stands for. Throttled: at most [`MAX_FAILURES`] failed logins per
//! account (email) and per client address within [`window`]; counting by
//! address as well stops one client from trying one password on many
//! accounts. The session itself (cookie, id, expiry) is the web adapter's.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use super::{OpError, Operations};
use crate::domain::{AuditAction, OrgId, UserId};
use crate::store::{normalize_email, NewAuditEntry, Organization, StoreError, User};

pub const MAX_FAILURES: i64 = 5;

pub fn window() -> Duration {
    Duration::minutes(15)
}

/// How a sign-in ended.
#[derive(Debug)]
pub enum SignIn {
    SignedIn(User),
    /// Wrong email or password: the two look the same.
    Refused,
    /// Refused before the password was checked, so a throttled guess learns
    /// nothing; lifts at `retry_at`.
    Throttled {
        retry_at: DateTime<Utc>,
        by_account: bool,
    },
}

/// What a login attempt is counted under.
struct Subjects {
    account: String,
    address: String,
}

impl Subjects {
    fn new(normalized_email: &str, ip: IpAddr) -> Subjects {
        Subjects { account: format!("email:{normalized_email}"), address: format!("ip:{ip}") }
    }
}

impl Operations {
    /// Checks the password of the account `email` names, for a client at
    /// `from`; each outcome is audited for the account it names.
    pub async fn sign_in(&self, email: &str, password: String, from: IpAddr) -> Result<SignIn, OpError> {
        let now = self.now();
        let email = normalize_email(email);
        let subjects = Subjects::new(&email, from);
        if let Some(throttled) = self.throttled(&subjects, now).await? {
            let SignIn::Throttled { by_account, .. } = throttled else { return Ok(throttled) };
            let why = if by_account { "account" } else { "address" };
            self.audit_attempt(&email, AuditAction::AuthThrottled, Some(why), now).await?;
            return Ok(throttled);
        }
        let (user, hash) = match self.store.credentials_by_email(&email).await? {
            Some(c) if !c.user.disabled => (Some(c.user), Some(c.password_hash)),
            _ => (None, None),
        };
        let (true, Some(user)) = (crate::password::verify(password, hash).await, user) else {
            self.store.record_login_failure(&[&subjects.account, &subjects.address], now, now - window()).await?;
            self.audit_attempt(&email, AuditAction::AuthLoginFailed, None, now).await?;
            return Ok(SignIn::Refused);
        };
        // The account's failures only: the address's count stays, or one
        // good account would unlock guessing at all others.
        self.store.clear_login_failures(&subjects.account).await?;
        self.store.record_login(user.org_id, user.id, now).await?;
        audit(&self.store, user.org_id, Some(user.id), AuditAction::AuthLogin, &email, None, now).await;
        Ok(SignIn::SignedIn(user))
    }

    /// Audits the end of a session.
    pub async fn signed_out(&self, org: OrgId, user: UserId) {
        audit(&self.store, org, Some(user), AuditAction::AuthLogout, "", None, self.now()).await;
    }

    /// The account a session names, with its organization; `None` once it
    /// is disabled or gone, which ends the session.
    pub async fn session_account(&self, org: OrgId, user: UserId) -> Result<Option<(User, Organization)>, OpError> {
        let user = match self.store.user(org, user).await {
            Ok(user) if !user.disabled => user,
            Ok(_) | Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let org = self.store.organization(user.org_id).await?;
        Ok(Some((user, org)))
    }

    /// `Some` if either subject has used up its failures in the window.
    async fn throttled(&self, subjects: &Subjects, now: DateTime<Utc>) -> Result<Option<SignIn>, OpError> {
        let since = now - window();
        let mut throttled: Option<(DateTime<Utc>, bool)> = None;
        for (subject, by_account) in [(&subjects.account, true), (&subjects.address, false)] {
            let failures = self.store.login_failures_since(subject, since).await?;
            if failures.count >= MAX_FAILURES {
                // Lifts when the oldest counted failure leaves the window.
                let retry_at = failures.oldest.unwrap_or(now) + window();
                if throttled.is_none_or(|(later, _)| retry_at > later) {
                    throttled = Some((retry_at, by_account));
                }
            }
        }
        Ok(throttled.map(|(retry_at, by_account)| SignIn::Throttled { retry_at, by_account }))
    }

    /// An attempt is audited in the organization of the account it names,
    /// if any (an unknown email has nowhere to go).
    async fn audit_attempt(
        &self,
        email: &str,
        action: AuditAction,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), OpError> {
        if let Some(user) = self.store.user_by_email(email).await? {
            audit(&self.store, user.org_id, Some(user.id), action, email, detail, now).await;
        }
        Ok(())
    }
}

/// Audit failures are logged, not fatal: a full audit table must not lock
/// everyone out.
async fn audit(
    store: &crate::store::Store,
    org: OrgId,
    user: Option<UserId>,
    action: AuditAction,
    target: &str,
    detail: Option<&str>,
    at: DateTime<Utc>,
) {
    let entry = NewAuditEntry {
        user_id: user,
        action,
        target: (!target.is_empty()).then(|| target.to_owned()),
        detail: detail.map(str::to_owned),
        at,
    };
    if let Err(e) = store.audit(org, &entry).await {
        tracing::error!(error = %e, action = action.as_str(), "could not write audit entry");
    }
}
