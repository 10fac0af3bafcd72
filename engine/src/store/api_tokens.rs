//! Per-organization REST API tokens. Only the SHA-256 of a token is stored
//! (see `crate::api_token`); the token itself is returned once, at creation.
//! Creating and revoking are audited in the same transaction.

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;

use super::audit::{self, NewAuditEntry};
use super::row::get;
use super::time::{from_ms, opt_from_ms, to_ms};
use super::{Store, StoreError};
use crate::api_token;
use crate::domain::{ApiTokenId, AuditAction, OrgId, TokenName, UserId};

/// A token as lists show it: never its hash, never the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub org_id: OrgId,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly created token with its secret. Debug hides the secret so it
/// cannot end up in logs by accident.
#[derive(Clone)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken").field("token", &self.token).field("secret", &"***").finish()
    }
}

/// `last_used_at` is a hint for admins, not an access log: writing it at most
/// once a minute keeps busy clients from turning every read into a write.
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

const COLUMNS: &str = "id, org_id, name, token_prefix, created_by, created_at, last_used_at, revoked_at";

fn from_row(row: &AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: ApiTokenId(get(row, "id")?),
        org_id: OrgId(get(row, "org_id")?),
        name: get(row, "name")?,
        prefix: get(row, "token_prefix")?,
        created_by: get::<Option<i64>>(row, "created_by")?.map(UserId),
        created_at: from_ms(get(row, "created_at")?),
        last_used_at: opt_from_ms(get(row, "last_used_at")?),
        revoked_at: opt_from_ms(get(row, "revoked_at")?),
    })
}

impl Store {
    /// Creates a token named `name` for `org`; the returned secret is the
    /// only copy there will ever be.
    pub async fn create_api_token(
        &self,
        org: OrgId,
        name: &TokenName,
        created_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, StoreError> {
        let secret = api_token::generate();
        let prefix = api_token::display_prefix(&secret);
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (org_id, name, token_hash, token_prefix, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(org.get())
        .bind(name.as_str())
        .bind(api_token::hash(&secret))
        .bind(&prefix)
        .bind(created_by.map(UserId::get))
        .bind(to_ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let id = ApiTokenId(get(&row, "id")?);
        let entry = NewAuditEntry {
            user_id: created_by,
            action: AuditAction::ApiTokenCreate,
            target: Some(format!("api_token:{id}")),
            detail: Some(format!("token {name:?} ({prefix}…) created")),
            at: now,
        };
        audit::insert(&mut *tx, org, &entry).await?;
        tx.commit().await?;
        let token = ApiToken {
            id,
            org_id: org,
            name: name.as_str().to_owned(),
            prefix,
            created_by,
            created_at: from_ms(to_ms(now)),
            last_used_at: None,
            revoked_at: None,
        };
        Ok(IssuedToken { token, secret })
    }

    /// The live token whose secret is `secret`, noting that it was used.
    /// `None` for unknown, malformed and revoked tokens alike, so callers
    /// cannot tell them apart (and neither can an attacker).
    pub async fn authenticate_api_token(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiToken>, StoreError> {
        if !api_token::is_well_formed(secret) {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL");
        let row = sqlx::query(&sql).bind(api_token::hash(secret)).fetch_optional(&self.pool).await?;
        let Some(mut token) = row.as_ref().map(from_row).transpose()? else { return Ok(None) };
        let stale = token.last_used_at.is_none_or(|at| now - at >= LAST_USED_RESOLUTION);
        if stale {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(to_ms(now))
                .bind(token.id.get())
                .execute(&self.pool)
                .await?;
            token.last_used_at = Some(from_ms(to_ms(now)));
        }
        Ok(Some(token))
    }

    /// All of the organization's tokens, revoked ones included, oldest first.
    pub async fn api_tokens(&self, org: OrgId) -> Result<Vec<ApiToken>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE org_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(org.get()).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Revokes a token of `org` at once. Another organization's token is
    /// `NotFound`, like one that never existed; revoking twice is a `Conflict`.
    pub async fn revoke_api_token(
        &self,
        org: OrgId,
        id: ApiTokenId,
        by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.get()).bind(id.get()).fetch_optional(&mut *tx).await?;
        let token = row.as_ref().map(from_row).transpose()?.ok_or(StoreError::NotFound("API token"))?;
        let done =
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL")
                .bind(to_ms(now))
                .bind(org.get())
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("API token {id} is already revoked")));
        }
        let entry = NewAuditEntry {
            user_id: by,
            action: AuditAction::ApiTokenRevoke,
            target: Some(format!("api_token:{id}")),
            detail: Some(format!("token {:?} ({}…) revoked", token.name, token.prefix)),
            at: now,
        };
        audit::insert(&mut *tx, org, &entry).await?;
        tx.commit().await?;
        Ok(ApiToken { revoked_at: Some(from_ms(to_ms(now))), ..token })
    }
}
