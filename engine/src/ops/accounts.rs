//! Accounts of an organization: list, invite, change a role, disable and
//! enable. Admins only; nobody changes their own role or access (the page
//! would be taken away mid-change; another admin has to do it).

use super::error::parse;
use super::{Caller, OpError, Operations};
use crate::domain::{AccountName, Actor, AuditAction, EmailAddress, EmailPreference, Role, UserId};
use crate::password;

pub use crate::store::User;

/// A new account as typed: each field parsed by its domain type.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub name: AccountName,
    pub email: EmailAddress,
    pub role: Role,
}

impl Invitation {
    pub fn parse(name: &str, email: &str, role: &str) -> Result<Invitation, OpError> {
        Ok(Invitation {
            name: parse("name", AccountName::parse(name))?,
            email: parse("email", EmailAddress::parse(email))?,
            role: parse_role(role)?,
        })
    }
}

pub fn parse_role(raw: &str) -> Result<Role, OpError> {
    raw.trim().parse().map_err(|_| OpError::field("role", "must be admin or viewer"))
}

/// The new account's first password.
pub enum FirstPassword {
    /// Generated here and handed back once (the settings page shows it).
    Generated,
    /// Chosen by whoever creates the account (the command line reads it
    /// from standard input); must meet the password policy.
    Chosen(String),
}

/// The account made, and its password if it was generated.
#[derive(Debug)]
pub struct Invited {
    pub user: User,
    pub password: Option<String>,
}

impl Operations {
    pub async fn users(&self, caller: Caller) -> Result<Vec<User>, OpError> {
        let caller = caller.admin()?;
        Ok(self.store.users(caller.org).await?)
    }

    /// Adds the account and its audit entry in one transaction; an address
    /// already in use is a conflict.
    pub async fn invite(
        &self,
        caller: Caller,
        invitation: Invitation,
        password: FirstPassword,
    ) -> Result<Invited, OpError> {
        let caller = caller.admin()?;
        let (password, generated) = match password {
            FirstPassword::Generated => {
                let generated = password::generate();
                (generated.clone(), Some(generated))
            }
            FirstPassword::Chosen(chosen) => {
                password::check_policy(&chosen).map_err(|e| OpError::field("password", e.to_string()))?;
                (chosen, None)
            }
        };
        let password_hash = password::hash(password).await.map_err(|e| OpError::Internal(Box::new(e)))?;
        let Invitation { name, email, role } = invitation;
        let detail = format!("{email} invited as {}", role.as_str());
        let entry = caller.audit(AuditAction::UserInvite, None, &detail, self.now());
        let new = crate::store::NewUser { email: email.into(), name: name.into(), role, password_hash };
        let user = self.store.invite_user(caller.org, &new, &entry).await?;
        Ok(Invited { user, password: generated })
    }

    pub async fn change_role(&self, caller: Caller, target: UserId, role: Role) -> Result<User, OpError> {
        let caller = caller.admin()?;
        not_yourself(caller, target, "change the role of")?;
        let entry = caller.audit(AuditAction::UserRole, None, &format!("role set to {}", role.as_str()), self.now());
        Ok(self.store.set_user_role(caller.org, target, role, &entry).await?)
    }

    pub async fn set_enabled(&self, caller: Caller, target: UserId, enabled: bool) -> Result<User, OpError> {
        let caller = caller.admin()?;
        not_yourself(caller, target, if enabled { "enable" } else { "disable" })?;
        let (action, detail) = if enabled {
            (AuditAction::UserEnable, "account enabled")
        } else {
            (AuditAction::UserDisable, "account disabled")
        };
        let entry = caller.audit(action, None, detail, self.now());
        Ok(self.store.set_user_disabled(caller.org, target, !enabled, &entry).await?)
    }
}

impl Operations {
    /// Which notifications also reach the signed-in person by email.
    pub async fn email_preference(&self, caller: Caller) -> Result<EmailPreference, OpError> {
        let me = yourself(caller)?;
        Ok(self.store.email_preference(caller.org, me).await?)
    }

    /// Anyone may set their own (viewers too: it changes only their inbox);
    /// audited by the store in the same transaction. Whether it changed.
    pub async fn set_email_preference(&self, caller: Caller, preference: EmailPreference) -> Result<bool, OpError> {
        let me = yourself(caller)?;
        Ok(self.store.set_email_preference(caller.org, me, preference, self.now()).await?)
    }
}

/// The person acting: an email preference is a person's own.
fn yourself(caller: Caller) -> Result<UserId, OpError> {
    caller.actor.user().ok_or(OpError::Forbidden)
}

fn not_yourself(caller: Caller, target: UserId, what: &str) -> Result<(), OpError> {
    match caller.actor {
        Actor::User { id, .. } if id == target => {
            Err(OpError::Conflict(format!("You cannot {what} your own account; ask another admin.")))
        }
        _ => Ok(()),
    }
}
