//! The demo's two logins. A password is generated, stored only as its
//! argon2 hash, and handed back once, on the start that created it.

use chrono::Utc;
use engine::domain::{AuditAction, Role};
use engine::store::{NewAuditEntry, NewUser, Organization, Store};

use super::DemoError;
use engine::password;

/// The demo admin, who also acts in the seeded history.
pub const ADMIN_EMAIL: &str = "admin@demo.calsync.test";

const PEOPLE: [(&str, &str, Role); 2] =
    [(ADMIN_EMAIL, "Demo Admin", Role::Admin), ("viewer@demo.calsync.test", "Demo Viewer", Role::Viewer)];

pub struct Account {
    pub email: String,
    pub role: Role,
    /// Only when this start created the account.
    pub password: Option<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("email", &self.email).field("role", &self.role).finish_non_exhaustive()
    }
}

pub async fn ensure(store: &Store, org: &Organization) -> Result<Vec<Account>, DemoError> {
    let mut accounts = Vec::new();
    for (email, name, role) in PEOPLE {
        if store.user_by_email(email).await?.is_some() {
            accounts.push(Account { email: email.into(), role, password: None });
            continue;
        }
        // A v4 UUID: 122 random bits as 32 hex characters,: well past the 10-character policy.
        let plain = uuid::Uuid::new_v4().simple().to_string();
        let password_hash = password::hash(plain.clone()).await?;
        let new = NewUser { email: email.into(), name: name.into(), role, password_hash };
        let entry = NewAuditEntry {
            user_id: None,
            action: AuditAction::UserInvite,
            target: None,
            detail: Some(format!("{email} created as {} by calsync demo", role.as_str())),
            at: Utc::now(),
        };
        store.invite_user(org.id, &new, &entry).await?;
        accounts.push(Account { email: email.into(), role, password: Some(plain) });
    }
    Ok(accounts)
}
