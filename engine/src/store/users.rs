//! Accounts (admins and viewers). The password hash is read only by
//! `password_hash_by_email`, for the login check; `User` never carries it,
//! so no `Debug` or `Serialize` of a user can leak it.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

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
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::from);
        match result {
            Ok(row) => self.user(org, UserId(get(&row, "id")?)).await,
            Err(e) if e.is_unique_violation() => Err(StoreError::Conflict(format!("a user with email {email:?} exists"))),
            Err(e) => Err(e),
        }
    }

    /// The account with this id in this organization; another
    /// organization's account is `NotFound`, as if it did not exist.
    pub async fn user(&self, org: OrgId, id: UserId) -> Result<User, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.get()).bind(id.get()).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("user"))
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
}
