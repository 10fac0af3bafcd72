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
    use engine::alerting::{RuleForm, RuleKind};
    use engine::ops::alerts::AlertRule;
    use engine::verify::alerts::short_time;

    use super::*;
    use crate::context::{CurrentUser, ServerContext};
    // One admin check for every settings section.
    pub use crate::rpc::settings::server::admin;

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
        let overview = context.ops.alert_overview(user.caller()).await?;
        let (pending, sent, failed) = overview.webhooks;
        Ok(AlertSettings {
            rules: overview.rules.iter().map(|r| line(r, overview.time_zone)).collect(),
            webhook_url: overview.webhook_url.unwrap_or_default(),
            has_webhook_secret: overview.has_webhook_secret,
            webhooks_pending: pending,
            webhooks_sent: sent,
            webhooks_failed: failed,
        })
    }

    pub async fn save_rule(
        context: &ServerContext,
        user: &CurrentUser,
        rule: &str,
        form: RuleForm,
    ) -> Result<RuleLine, AppError> {
        let saved = context.ops.save_alert_rule(user.caller(), rule, form).await?;
        let org = context.ops.organization(user.caller()).await?;
        Ok(line(&saved, org.time_zone))
    }

    pub async fn save_webhook(
        context: &ServerContext,
        user: &CurrentUser,
        url: &str,
        secret: &str,
    ) -> Result<AlertSettings, AppError> {
        context.ops.save_alert_webhook(&context.connector, user.caller(), url, secret).await?;
        settings(context, user).await
    }
}
