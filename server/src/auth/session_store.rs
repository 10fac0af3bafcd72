//! `tower_sessions::SessionStore` over our `Store`, because the
//! tower-sessions-sqlx-store crate wants a typed pool and we use `AnyPool`.
//! Only the session data and expiry are stored; the id is hashed by the
//! store, so the table holds no usable cookie.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    store: Store,
}

impl DbSessionStore {
    pub fn new(store: Store) -> DbSessionStore {
        DbSessionStore { store }
    }
}

/// What a row's `data` column holds.
#[derive(Serialize, Deserialize)]
struct Stored {
    data: std::collections::HashMap<String, serde_json::Value>,
    expires_ms: i64,
}

fn backend(e: StoreError) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn to_chrono(t: OffsetDateTime) -> DateTime<Utc> {
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn encode(record: &Record) -> session_store::Result<String> {
    let stored = Stored { data: record.data.clone(), expires_ms: to_chrono(record.expiry_date).timestamp_millis() };
    serde_json::to_string(&stored).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit random id colliding is practically impossible, but if it
        // happens, take a fresh one rather than overwrite someone's session.
        loop {
            let data = encode(record)?;
            let expires = to_chrono(record.expiry_date);
            if self.store.insert_session(&record.id.to_string(), &data, expires).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        self.store.upsert_session(&record.id.to_string(), &data, to_chrono(record.expiry_date)).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(text) = self.store.load_session(&id.to_string(), Utc::now()).await.map_err(backend)? else {
            return Ok(None);
        };
        let stored: Stored = serde_json::from_str(&text).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp_nanos(i128::from(stored.expires_ms) * 1_000_000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data: stored.data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete_session(&id.to_string()).await.map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.store.delete_expired_sessions(Utc::now()).await.map(|_| ()).map_err(backend)
    }
}

/// Deletes expired sessions every `period` until `stop` says so. Expired
/// rows are already ignored by `load`; this only keeps the table small.
pub fn spawn_cleanup(
    store: DbSessionStore,
    period: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if let Err(e) = store.delete_expired().await {
                        tracing::warn!(error = %e, "could not delete expired sessions");
                    }
                }
                _ = stop.changed() => break,
            }
        }
    })
}
