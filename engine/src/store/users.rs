//! Accounts (admins and viewers). The password hash is read only by
//! `password_hash_by_email`, for the login check; `User` never carries it,
//! so no `Debug` or `Serialize` of a user can leak it.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

use super::audit::{self, NewAuditEntry};
use super::row::{get, parse};
use super::time::{from_ms, opt_from_ms, to_ms};
use super::{Store, StoreError};
use crate::domain::{OrgId, Role, UserId};

/// A new account. The caller hashes the password (argon2) before it gets here.
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What the login check needs: the account and its stored hash. Debug hides
/// the hash.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// How a page names an account whose id no longer resolves.
pub const FORMER_USER: &str = "a former user";

/// The name of account `id` among `users` (already loaded for the page),
/// or [`FORMER_USER`].
pub fn name_among(users: &[User], id: UserId) -> &str {
    users.iter().find(|u| u.id == id).map_or(FORMER_USER, |u| u.name.as_str())
}

const COLUMNS: &str = "id, org_id, email, name, role, disabled_at, last_login_at, created_at";

/// Emails are compared case-insensitively: stored and looked up lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn from_row(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(get(row, "id")?),
        org_id: OrgId(get(row, "org_id")?),
        email: get(row, "email")?,
        name: get(row, "name")?,
        role: parse(row, "role")?,
        disabled: get::<Option<i64>>(row, "disabled_at")?.is_some(),
        last_login_at: opt_from_ms(get(row, "last_login_at")?),
        created_at: from_ms(get(row, "created_at")?),
    })
}

impl Store {
    /// Creates an account; an email already in use (in any organization:
    /// logins are by email alone) is a `Conflict`.
    pub async fn create_user(&self, org: OrgId, new: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError> {
        let id = insert_user(&self.pool, org, new, now).await?;
        self.user(org, id).await
    }

    /// The account with this id in this organization; another
    /// organization's account is `NotFound`, as if it did not exist.
    pub async fn user(&self, org: OrgId, id: UserId) -> Result<User, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.get()).bind(id.get()).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("user"))
    }

    /// The name history and run pages show for an account. Accounts are
    /// not deleted today, but a stale id must not break a page, so an
    /// unknown one reads [`FORMER_USER`].
    pub async fn user_name(&self, org: OrgId, id: UserId) -> Result<String, StoreError> {
        match self.user(org, id).await {
            Ok(user) => Ok(user.name),
            Err(StoreError::NotFound(_)) => Ok(FORMER_USER.into()),
            Err(err) => Err(err),
        }
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(&sql).bind(normalize_email(email)).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The account and its password hash, for checking a login.
    pub async fn credentials_by_email(&self, email: &str) -> Result<Option<Credentials>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = $1");
        let row = sqlx::query(&sql).bind(normalize_email(email)).fetch_optional(&self.pool).await?;
        match row {
            Some(row) => Ok(Some(Credentials { user: from_row(&row)?, password_hash: get(&row, "password_hash")? })),
            None => Ok(None),
        }
    }

    pub async fn users(&self, org: OrgId) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 ORDER BY name, id");
        let rows = sqlx::query(&sql).bind(org.get()).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn record_login(&self, org: OrgId, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET last_login_at = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.get())
            .bind(id.get())
            .bind(to_ms(at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Creates an account and its audit entry in one transaction (an admin
    /// inviting someone); the same `Conflict` as `create_user` for a taken email.
    pub async fn invite_user(&self, org: OrgId, new: &NewUser, entry: &NewAuditEntry) -> Result<User, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_user(&mut *tx, org, new, entry.at).await?;
        let entry = NewAuditEntry { target: Some(format!("user:{id}")), ..entry.clone() };
        audit::insert(&mut *tx, org, &entry).await?;
        tx.commit().await?;
        self.user(org, id).await
    }

    /// Changes an account's role. Demoting the last active admin is a
    /// `Conflict`: nobody could change settings or accounts any more.
    pub async fn set_user_role(
        &self,
        org: OrgId,
        id: UserId,
        role: Role,
        entry: &NewAuditEntry,
    ) -> Result<User, StoreError> {
        let guard = if role == Role::Admin { "1 = 1" } else { KEEPS_AN_ADMIN };
        let sql = format!("UPDATE users SET role = $3 WHERE org_id = $1 AND id = $2 AND ({guard})");
        let query = sqlx::query(&sql).bind(org.get()).bind(id.get()).bind(role.as_str());
        self.guarded_user_update(org, id, query, role != Role::Admin, entry).await
    }

    /// Disables (`true`) or re-enables an account. A disabled account cannot
    /// log in and its sessions stop working on their next request. Disabling
    /// the last active admin is a `Conflict`.
    pub async fn set_user_disabled(
        &self,
        org: OrgId,
        id: UserId,
        disabled: bool,
        entry: &NewAuditEntry,
    ) -> Result<User, StoreError> {
        let guard = if disabled { KEEPS_AN_ADMIN } else { "1 = 1" };
        let sql = format!("UPDATE users SET disabled_at = $3 WHERE org_id = $1 AND id = $2 AND ({guard})");
        let at = disabled.then(|| to_ms(entry.at));
        let query = sqlx::query(&sql).bind(org.get()).bind(id.get()).bind(at);
        self.guarded_user_update(org, id, query, disabled, entry).await
    }

    /// Runs one guarded `UPDATE` and its audit entry in a transaction. The
    /// guard is part of the statement (not a read before it), so the check
    /// and the write cannot be split by another request on SQLite; on
    /// PostgreSQL two admins demoting each other at the same instant could
    /// still both pass, which we accept for an admin-only, human-speed action.
    async fn guarded_user_update<'q>(
        &self,
        org: OrgId,
        id: UserId,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        removes_admin: bool,
        entry: &NewAuditEntry,
    ) -> Result<User, StoreError> {
        let before = self.user(org, id).await?;
        let mut tx = self.begin_write().await?;
        let done = query.execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            let last_admin = removes_admin && before.role == Role::Admin && !before.disabled;
            return Err(if last_admin {
                StoreError::Conflict(format!("{} is the last active admin of the organization", before.name))
            } else {
                StoreError::NotFound("user")
            });
        }
        let entry = NewAuditEntry { target: Some(format!("user:{id}")), ..entry.clone() };
        audit::insert(&mut *tx, org, &entry).await?;
        tx.commit().await?;
        self.user(org, id).await
    }
}

/// True unless the change would leave the organization without an active
/// admin: either the account is not an active admin, or another one exists.
const KEEPS_AN_ADMIN: &str = "role <> 'admin' OR disabled_at IS NOT NULL OR EXISTS (\
    SELECT 1 FROM users other WHERE other.org_id = $1 AND other.id <> $2 \
    AND other.role = 'admin' AND other.disabled_at IS NULL)";

/// Adds an account on any executor (the pool, or a transaction that also
/// writes its audit entry). A taken email is a `Conflict`.
async fn insert_user<'e, E>(exec: E, org: OrgId, new: &NewUser, now: DateTime<Utc>) -> Result<UserId, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let email = normalize_email(&new.email);
    let result = sqlx::query(
        "INSERT INTO users (org_id, email, name, role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(org.get())
    .bind(&email)
    .bind(new.name.trim())
    .bind(new.role.as_str())
    .bind(&new.password_hash)
    .bind(to_ms(now))
    .fetch_one(exec)
    .await
    .map_err(StoreError::from);
    match result {
        Ok(row) => Ok(UserId(get(&row, "id")?)),
        Err(e) if e.is_unique_violation() => Err(StoreError::Conflict(format!("a user with email {email:?} exists"))),
        Err(e) => Err(e),
    }
}
