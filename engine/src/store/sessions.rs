//! Rows of the `sessions` table, for the web server's session store.
//!
//! The table is keyed by the SHA-256 of the session id, not the id itself:
//! a copy of the database then holds no cookie anyone could replay.
//! The data is opaque JSON owned by the session layer.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::row::get;
use super::time::to_ms;
use super::{Store, StoreError};

fn key(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

impl Store {
    /// Stores a new session; `false` if the id is taken (the caller picks another).
    pub async fn insert_session(
        &self,
        session_id: &str,
        data: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                .bind(key(session_id))
                .bind(data)
                .bind(to_ms(expires_at))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn upsert_session(
        &self,
        session_id: &str,
        data: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(key(session_id))
        .bind(data)
        .bind(to_ms(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session's data, unless it is missing or expired at `now`.
    pub async fn load_session(&self, session_id: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(key(session_id))
            .bind(to_ms(now))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "data")).transpose()
    }

    pub async fn delete_session(&self, session_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(key(session_id)).execute(&self.pool).await?;
        Ok(())
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(to_ms(now)).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
