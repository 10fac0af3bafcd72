//! Gives each organization its Cal.com client, built from the sealed
//! credentials in the database. Clients are kept per organization so that
//! the key's rate budget is paced across all work for it; a changed
//! connection (new key or base URL) builds a new client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::api_key::ApiKey;
use super::client::{CalcomClient, ClientConfig, SharedBudgetHandle};
use super::pacing::{BoxFuture, RateBudget, SharedBudget, Spacing};
use crate::domain::OrgId;
use crate::secret_key::SecretKey;
use crate::secrets::{open, seal, Purpose, SecretsError};
use crate::store::{CalcomConnection, Organization, Store};
use crate::worker::Connector;

#[derive(Clone)]
pub struct CalcomConnector {
    store: Store,
    key: SecretKey,
    clients: Arc<Mutex<HashMap<OrgId, (CalcomConnection, CalcomClient)>>>,
    configure: Arc<dyn Fn(ClientConfig) -> ClientConfig + Send + Sync>,
}

impl CalcomConnector {
    pub fn new(store: Store, key: SecretKey) -> CalcomConnector {
        CalcomConnector { store, key, clients: Arc::default(), configure: Arc::new(|config| config) }
    }

    /// Adjusts every client's settings (timeouts, budget); for tests and
    /// benchmarks against the simulator.
    pub fn with_config(
        mut self,
        configure: impl Fn(ClientConfig) -> ClientConfig + Send + Sync + 'static,
    ) -> CalcomConnector {
        self.configure = Arc::new(configure);
        self
    }

    /// The organization's client, or `None` when it has no API key (or the
    /// stored one cannot be opened, which is logged without the key).
    pub async fn client(&self, org: OrgId) -> Option<CalcomClient> {
        let connection = self.connection(org).await?;
        self.client_for(org, connection)
    }

    /// The secret a webhook delivery's signature is checked with.
    pub async fn webhook_secret(&self, org: OrgId) -> Option<String> {
        let connection = self.connection(org).await?;
        self.secret_for(org, &connection)
    }

    async fn connection(&self, org: OrgId) -> Option<CalcomConnection> {
        match self.store.calcom_connection(org).await {
            Ok(connection) => Some(connection),
            Err(err) => {
                tracing::error!(org = org.get(), error = %err, "reading the Cal.com connection failed");
                None
            }
        }
    }

    /// The cached client while the connection is unchanged, else a new one.
    fn client_for(&self, org: OrgId, connection: CalcomConnection) -> Option<CalcomClient> {
        if let Some((known, client)) = self.clients.lock().expect("connector lock").get(&org) {
            if *known == connection {
                return Some(client.clone());
            }
        }
        let client = self.build(org, &connection)?;
        self.clients.lock().expect("connector lock").insert(org, (connection, client.clone()));
        Some(client)
    }

    /// Drops the organization's cached client, so the next call builds one
    /// from what is stored now. `client` would notice a changed connection
    /// by itself; forgetting on save also resets pacing learned from the old
    /// key and frees it at once.
    pub fn forget(&self, org: OrgId) {
        self.clients.lock().expect("connector lock").remove(&org);
    }

    /// `secret` sealed with this process's key, for storing (the key never
    /// leaves the connector).
    pub fn seal(&self, purpose: Purpose, secret: &str) -> String {
        seal(&self.key, purpose, secret)
    }

    /// A stored secret opened again; an error when the key changed since it
    /// was sealed.
    pub fn unseal(&self, purpose: Purpose, sealed: &str) -> Result<String, SecretsError> {
        open(&self.key, purpose, sealed)
    }

    fn secret_for(&self, org: OrgId, connection: &CalcomConnection) -> Option<String> {
        let sealed = connection.webhook_secret_sealed.as_deref()?;
        match open(&self.key, Purpose::WebhookSecret(org), sealed) {
            Ok(secret) => Some(secret),
            Err(err) => {
                tracing::error!(org = org.get(), error = %err, "the webhook secret cannot be used");
                None
            }
        }
    }

    fn build(&self, org: OrgId, connection: &CalcomConnection) -> Option<CalcomClient> {
        let sealed = connection.api_key_sealed.as_deref()?;
        let api_key = match open(&self.key, Purpose::CalcomApiKey(org), sealed) {
            Ok(key) => key,
            Err(err) => {
                tracing::error!(org = org.get(), error = %err, "the Cal.com API key cannot be used");
                return None;
            }
        };
        let mut config = ClientConfig::new(connection.base_url.clone(), api_key);
        config.shared_budget = Some(SharedBudgetHandle(Arc::new(StoreBudget::new(
            self.store.clone(),
            org,
            &connection.base_url,
            &config.api_key,
        ))));
        let config = (self.configure)(config);
        match CalcomClient::new(config) {
            Ok(client) => Some(client),
            Err(err) => {
                tracing::error!(org = org.get(), error = %err, "the Cal.com connection is misconfigured");
                None
            }
        }
    }
}

impl Connector for CalcomConnector {
    type Source = CalcomClient;

    async fn connect(&self, org: &Organization) -> Option<CalcomClient> {
        self.client(org.id).await
    }
}

/// The key's budget in the database, shared by every process using it
/// (see `Store::reserve_calcom_call`). The row is named by a hash of the
/// base URL and key: the key itself is never stored in the clear. Each call
/// that takes its place is also counted for the organization's dashboard.
struct StoreBudget {
    store: Store,
    org: OrgId,
    bucket: String,
}

impl StoreBudget {
    fn new(store: Store, org: OrgId, base_url: &str, key: &ApiKey) -> StoreBudget {
        use sha2::{Digest, Sha256};
        let digest =
            Sha256::new().chain_update(base_url.trim_end_matches('/')).chain_update("\n").chain_update(key.expose());
        StoreBudget { store, org, bucket: hex::encode(digest.finalize()) }
    }
}

impl SharedBudget for StoreBudget {
    fn reserve(&self, spacing: Spacing) -> BoxFuture<'_, Result<Option<std::time::Duration>, String>> {
        Box::pin(async move {
            let wait = self
                .store
                .reserve_calcom_call(&self.bucket, spacing.interval, spacing.tolerance)
                .await
                .map_err(|e| e.to_string())?;
            if wait.is_none() {
                // Only a figure for the dashboard: the call goes out regardless.
                if let Err(err) = self.store.count_calcom_call(self.org, chrono::Utc::now()).await {
                    tracing::warn!(org = self.org.get(), error = %err, "a Cal.com call could not be counted");
                }
            }
            Ok(wait)
        })
    }

    fn hold(&self, wait: std::time::Duration) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.store.hold_calcom_calls(&self.bucket, wait).await.map_err(|e| e.to_string()) })
    }

    fn learned(&self, budget: RateBudget) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.store.record_calcom_rate_limit(self.org, budget.per_minute()).await.map_err(|e| e.to_string())
        })
    }
}
