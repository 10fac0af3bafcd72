//! The organization's alert rules and alert webhook. Admins only; each
//! change is audited in its transaction. The webhook's secret goes one way:
//! sealed with the connector's key, never read back.

use super::error::parse;
use super::{Caller, OpError, Operations};
use crate::alerting::{RuleForm, RuleKind, RuleSettings};
use crate::calcom::CalcomConnector;
use crate::domain::{AuditAction, BaseUrl};
use crate::secrets::Purpose;
use crate::store::AlertWebhookUpdate;

pub use crate::store::AlertRule;

/// Everything the alert settings show: never the secret itself.
#[derive(Debug)]
pub struct AlertOverview {
    pub rules: Vec<AlertRule>,
    pub time_zone: chrono_tz::Tz,
    pub webhook_url: Option<String>,
    pub has_webhook_secret: bool,
    /// Outgoing webhooks waiting, sent, given up.
    pub webhooks: (i64, i64, i64),
}

/// Shortest webhook secret accepted: receivers check HMACs with it.
const MIN_SECRET: usize = 16;

impl Operations {
    pub async fn alert_overview(&self, caller: Caller) -> Result<AlertOverview, OpError> {
        let caller = caller.admin()?;
        let org = self.store.organization(caller.org).await?;
        let rules = self.store.alert_rules(caller.org).await?;
        let (url, secret) = self.store.alert_webhook(caller.org).await?;
        let webhooks = self.store.alert_webhook_counts(caller.org).await?;
        Ok(AlertOverview {
            rules,
            time_zone: org.time_zone,
            webhook_url: url,
            has_webhook_secret: secret.is_some(),
            webhooks,
        })
    }

    /// Saves one rule as typed; the rule as stored now.
    pub async fn save_alert_rule(&self, caller: Caller, rule: &str, mut form: RuleForm) -> Result<AlertRule, OpError> {
        let caller = caller.admin()?;
        let kind: RuleKind = rule.parse().map_err(|_| OpError::field("rule", "is not one of calsync's alert rules"))?;
        if kind != RuleKind::OpenOver && form.threshold.trim().is_empty() {
            // Only the threshold rule shows the field; the others keep theirs.
            form.threshold = self.store.alert_rule(caller.org, kind).await?.settings.threshold.to_string();
        }
        let settings = RuleSettings::parse(kind, &form).map_err(|(field, why)| OpError::invalid(field, why))?;
        let entry = caller.audit(AuditAction::SettingsAlerts, None, &settings.describe(), self.now());
        let unchanged = AlertWebhookUpdate { url: None, secret_sealed: None };
        self.store.save_alert_rules(caller.org, &[settings], &unchanged, &entry).await?;
        Ok(self.store.alert_rule(caller.org, kind).await?)
    }

    /// Sets where alerts are posted (an empty URL removes the webhook); an
    /// empty secret keeps the stored one, but a new webhook needs one.
    pub async fn save_alert_webhook(
        &self,
        connector: &CalcomConnector,
        caller: Caller,
        url: &str,
        secret: &str,
    ) -> Result<(), OpError> {
        let caller = caller.admin()?;
        let org = caller.org;
        let (_, stored_secret) = self.store.alert_webhook(org).await?;
        let secret = secret.trim();
        let update = if url.trim().is_empty() {
            AlertWebhookUpdate { url: Some(None), secret_sealed: None }
        } else {
            let url = parse("url", BaseUrl::parse(url))?;
            if secret.is_empty() && stored_secret.is_none() {
                return Err(OpError::field("secret", "is needed to sign the webhooks: at least 16 characters"));
            }
            if !secret.is_empty()
                && (secret.len() < MIN_SECRET || secret.len() > 500 || secret.chars().any(char::is_control))
            {
                return Err(OpError::field("secret", "must be 16 to 500 characters without control characters"));
            }
            let sealed = (!secret.is_empty()).then(|| connector.seal(Purpose::AlertWebhookSecret(org), secret));
            AlertWebhookUpdate { url: Some(Some(String::from(url))), secret_sealed: sealed }
        };
        let detail = match &update.url {
            Some(Some(url)) if update.secret_sealed.is_some() => format!("alert webhook {url}, new secret"),
            Some(Some(url)) => format!("alert webhook {url}"),
            _ => "alert webhook removed".to_owned(),
        };
        let entry = caller.audit(AuditAction::SettingsAlertWebhook, None, &detail, self.now());
        self.store.save_alert_rules(org, &[], &update, &entry).await?;
        Ok(())
    }
}
