//! The settings page's alert rules and alert webhook. Admin-only, the
//! admin's own organization, every change audited. The webhook's secret
//! goes one way: it may be entered, never read back.

use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One rule as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleLine {
    /// `engine::alerting::RuleKind`'s name ("open_over").
    pub rule: String,
    pub label: String,
    pub enabled: bool,
    pub uses_threshold: bool,
    pub threshold: u32,
    pub throttle_minutes: u32,
    pub by_email: bool,
    pub by_webhook: bool,
    /// "Alerting since 03.12 10:00", or "Quiet".
    pub state: String,
    /// Events held back for the next digest.
    pub held: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSettings {
    pub rules: Vec<RuleLine>,
    pub webhook_url: String,
    pub has_webhook_secret: bool,
    /// Outgoing webhooks waiting, sent, given up.
    pub webhooks_pending: i64,
    pub webhooks_sent: i64,
    pub webhooks_failed: i64,
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_alert_settings() -> Result<AlertSettings, AppError> {
    let (context, user) = server::admin()?;
    server::settings(&context, &user).await
}

/// Saves one rule (its own form on the page). Unchecked boxes send nothing.
#[server(prefix = "/rpc", output = Postcard)]
pub async fn save_alert_rule(
    rule: String,
    #[server(default)] enabled: String,
    #[server(default)] threshold: String,
    throttle_minutes: String,
    #[server(default)] by_email: String,
    #[server(default)] by_webhook: String,
) -> Result<RuleLine, AppError> {
    let (context, user) = server::admin()?;
    let form = engine::alerting::RuleForm { enabled, threshold, throttle_minutes, by_email, by_webhook };
    server::save_rule(&context, &user, &rule, form).await
}

/// Sets where alerts are posted; an empty URL removes the webhook.
#[server(prefix = "/rpc", output = Postcard)]
pub async fn save_alert_webhook(url: String, #[server(default)] secret: String) -> Result<AlertSettings, AppError> {
    let (context, user) = server::admin()?;
    server::save_webhook(&context, &user, &url, &secret).await
}

#[cfg(feature = "ssr")]
mod server {
    use engine::alerting::{RuleForm, RuleKind, RuleSettings};
    use engine::domain::{AuditAction, BaseUrl};
    use engine::secrets::{seal, Purpose};
    use engine::store::{AlertRule, AlertWebhookUpdate};
    use engine::verify::alerts::short_time;

    use super::*;
    use crate::context::{CurrentUser, ServerContext};
    // One admin check and one audit entry shape for every settings section.
    pub use crate::rpc::settings::server::admin;
    use crate::rpc::settings::server::entry;

    fn line(rule: &AlertRule, tz: chrono_tz::Tz) -> RuleLine {
        let s = rule.settings;
        RuleLine {
            rule: s.kind.as_str().to_owned(),
            label: s.kind.label().to_owned(),
            enabled: s.enabled,
            uses_threshold: s.kind == RuleKind::OpenOver,
            threshold: s.threshold,
            throttle_minutes: s.throttle_minutes,
            by_email: s.by_email,
            by_webhook: s.by_webhook,
            state: match rule.firing_since {
                Some(at) if s.enabled => format!("Alerting since {}", short_time(at, tz)),
                _ => "Quiet".to_owned(),
            },
            held: rule.held,
        }
    }

    pub async fn settings(context: &ServerContext, user: &CurrentUser) -> Result<AlertSettings, AppError> {
        let org = context.store.organization(user.org_id).await?;
        let rules = context.store.alert_rules(user.org_id).await?;
        let (url, secret) = context.store.alert_webhook(user.org_id).await?;
        let (pending, sent, failed) = context.store.alert_webhook_counts(user.org_id).await?;
        Ok(AlertSettings {
            rules: rules.iter().map(|r| line(r, org.time_zone)).collect(),
            webhook_url: url.unwrap_or_default(),
            has_webhook_secret: secret.is_some(),
            webhooks_pending: pending,
            webhooks_sent: sent,
            webhooks_failed: failed,
        })
    }

    pub async fn save_rule(
        context: &ServerContext,
        user: &CurrentUser,
        rule: &str,
        mut form: RuleForm,
    ) -> Result<RuleLine, AppError> {
        let kind: RuleKind =
            rule.parse().map_err(|_| AppError::invalid("rule", "is not one of calsync's alert rules"))?;
        if kind != RuleKind::OpenOver && form.threshold.trim().is_empty() {
            // Only the threshold rule shows the field; the others keep theirs.
            form.threshold = context.store.alert_rule(user.org_id, kind).await?.settings.threshold.to_string();
        }
        let settings = RuleSettings::parse(kind, &form).map_err(|(field, why)| AppError::invalid(field, why.rule))?;
        let audit = entry(user, AuditAction::SettingsAlerts, None, settings.describe());
        let unchanged = AlertWebhookUpdate { url: None, secret_sealed: None };
        context.store.save_alert_rules(user.org_id, &[settings], &unchanged, &audit).await?;
        let org = context.store.organization(user.org_id).await?;
        Ok(line(&context.store.alert_rule(user.org_id, kind).await?, org.time_zone))
    }

    /// Shortest secret accepted: receivers check HMACs with it.
    const MIN_SECRET: usize = 16;

    pub async fn save_webhook(
        context: &ServerContext,
        user: &CurrentUser,
        url: &str,
        secret: &str,
    ) -> Result<AlertSettings, AppError> {
        let org = user.org_id;
        let (_, stored_secret) = context.store.alert_webhook(org).await?;
        let secret = secret.trim();
        let update = if url.trim().is_empty() {
            AlertWebhookUpdate { url: Some(None), secret_sealed: None }
        } else {
            let url = BaseUrl::parse(url).map_err(|e| AppError::invalid("url", e.rule))?;
            if secret.is_empty() && stored_secret.is_none() {
                return Err(AppError::invalid("secret", "is needed to sign the webhooks: at least 16 characters"));
            }
            if !secret.is_empty()
                && (secret.len() < MIN_SECRET || secret.len() > 500 || secret.chars().any(char::is_control))
            {
                return Err(AppError::invalid("secret", "must be 16 to 500 characters without control characters"));
            }
            let sealed =
                (!secret.is_empty()).then(|| seal(&context.secret_key, Purpose::AlertWebhookSecret(org), secret));
            AlertWebhookUpdate { url: Some(Some(String::from(url))), secret_sealed: sealed }
        };
        let detail = match &update.url {
            Some(Some(url)) if update.secret_sealed.is_some() => format!("alert webhook {url}, new secret"),
            Some(Some(url)) => format!("alert webhook {url}"),
            _ => "alert webhook removed".to_owned(),
        };
        context
            .store
            .save_alert_rules(org, &[], &update, &entry(user, AuditAction::SettingsAlertWebhook, None, detail))
            .await?;
        settings(context, user).await
    }
}
