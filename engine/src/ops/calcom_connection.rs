//! An organization's Cal.com connection: where its API answers, the API
//! key and the webhook secret. Secrets go one way: they are sealed with the
//! connector's key before they are stored, and no answer contains them (only
//! whether one is set). Sealing needs the key, so these operations take the
//! process's [`CalcomConnector`], which holds it.

use super::error::parse;
use super::{Caller, OpError, Operations};
use crate::calcom::{CalcomClient, CalcomConnector, CalcomError, ClientConfig};
use crate::domain::{AuditAction, BaseUrl};
use crate::secrets::Purpose;
use crate::store::CalcomConnectionUpdate;

/// What may be shown about a connection: never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSummary {
    pub base_url: String,
    pub has_api_key: bool,
    pub has_webhook_secret: bool,
    /// Where Cal.com should send this organization's webhooks (a path on
    /// this server).
    pub webhook_path: String,
}

/// A connection as entered. An absent secret keeps the stored one.
#[derive(Clone)]
pub struct ConnectionInput {
    pub base_url: BaseUrl,
    pub api_key: Option<Secret>,
    pub webhook_secret: Option<Secret>,
}

impl ConnectionInput {
    /// Empty secret fields mean "keep what is stored".
    pub fn parse(base_url: &str, api_key: &str, webhook_secret: &str) -> Result<ConnectionInput, OpError> {
        Ok(ConnectionInput {
            base_url: parse("base_url", BaseUrl::parse(base_url))?,
            api_key: Secret::entered("api_key", api_key)?,
            webhook_secret: Secret::entered("webhook_secret", webhook_secret)?,
        })
    }
}

/// A secret as typed, trimmed; Debug never shows it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub const RULE: &'static str = "must be at most 500 characters without control characters";

    /// `None` when left empty.
    pub fn entered(field: &'static str, raw: &str) -> Result<Option<Secret>, OpError> {
        let secret = raw.trim();
        if secret.is_empty() {
            return Ok(None);
        }
        if secret.len() > 500 || secret.chars().any(char::is_control) {
            return Err(OpError::field(field, Self::RULE));
        }
        Ok(Some(Secret(secret.to_owned())))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What "test the connection" found.
#[derive(Debug)]
pub enum Probe {
    /// Nothing to test with: no API key entered or stored.
    NoApiKey,
    /// Cal.com's answer to one quick call: how many event types the key
    /// sees, or why it failed.
    Answered(Result<usize, CalcomError>),
}

impl Operations {
    pub async fn calcom_connection(&self, caller: Caller) -> Result<ConnectionSummary, OpError> {
        let caller = caller.admin()?;
        let org = self.store.organization(caller.org).await?;
        let connection = self.store.calcom_connection(caller.org).await?;
        Ok(ConnectionSummary {
            base_url: connection.base_url,
            has_api_key: connection.api_key_sealed.is_some(),
            has_webhook_secret: connection.webhook_secret_sealed.is_some(),
            webhook_path: format!("/webhooks/calcom/{}", org.slug),
        })
    }

    /// Stores the connection, its secrets sealed, with its audit entry in
    /// one transaction; the connector forgets its client so the next call
    /// uses what was saved.
    pub async fn save_calcom_connection(
        &self,
        connector: &CalcomConnector,
        caller: Caller,
        input: ConnectionInput,
    ) -> Result<ConnectionSummary, OpError> {
        let caller = caller.admin()?;
        let org = caller.org;
        let mut changed = vec!["base URL"];
        changed.extend(input.api_key.is_some().then_some("API key"));
        changed.extend(input.webhook_secret.is_some().then_some("webhook secret"));
        let base_url = String::from(input.base_url);
        let update = CalcomConnectionUpdate {
            base_url: Some(base_url.clone()),
            api_key_sealed: input.api_key.map(|k| connector.seal(Purpose::CalcomApiKey(org), &k.0)),
            webhook_secret_sealed: input.webhook_secret.map(|s| connector.seal(Purpose::WebhookSecret(org), &s.0)),
            event_type_id: None,
        };
        // The audit names what was set, never a value.
        let detail = format!("{} saved", changed.join(", "));
        let entry = caller.audit(AuditAction::SettingsCalcom, Some(base_url), &detail, self.now());
        self.store.update_calcom_connection_audited(org, &update, &entry).await?;
        connector.forget(org);
        self.calcom_connection(caller).await
    }

    /// One quick call to Cal.com with what was entered, or else what is
    /// stored; no waiting out rate limits (an admin is watching).
    pub async fn probe_calcom_connection(
        &self,
        connector: &CalcomConnector,
        caller: Caller,
        base_url: &str,
        api_key: &str,
    ) -> Result<Probe, OpError> {
        let caller = caller.admin()?;
        let stored = self.store.calcom_connection(caller.org).await?;
        let base_url = match base_url.trim() {
            "" => stored.base_url,
            typed => parse("base_url", BaseUrl::parse(typed))?.into(),
        };
        let api_key = match Secret::entered("api_key", api_key)? {
            Some(Secret(key)) => key,
            None => match stored.api_key_sealed {
                Some(sealed) => connector.unseal(Purpose::CalcomApiKey(caller.org), &sealed).map_err(|_| {
                    OpError::Conflict(
                        "The stored API key cannot be decrypted (CALSYNC_SECRET_KEY changed?). Enter it again.".into(),
                    )
                })?,
                None => return Ok(Probe::NoApiKey),
            },
        };
        let mut config = ClientConfig::new(base_url, api_key);
        config.connect_timeout = std::time::Duration::from_secs(5);
        config.request_timeout = std::time::Duration::from_secs(10);
        config.max_rate_limit_retries = 0;
        let client = CalcomClient::new(config).map_err(|_| OpError::field("base_url", "is not a usable URL"))?;
        Ok(Probe::Answered(client.event_types().await.map(|types| types.len())))
    }
}
