//! The admin settings page: the Cal.com connection, schedules and time
//! zone, accounts and API tokens. Every function is admin-only (a viewer
//! gets a 403 and nothing changes) and acts on the signed-in admin's own
//! organization. Secrets go one way: an admin may enter them, no response
//! ever contains them (only whether one is set). Every change is audited.
//!
//! Arguments are flat strings where the user types them, so a bad value is
//! a field error in words rather than a deserialization failure.

use engine::domain::Role;
use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How far back and ahead the comprehensive check may look, in days.
pub const DAYS_BACK: std::ops::RangeInclusive<i64> = 1..=365;
pub const DAYS_AHEAD: std::ops::RangeInclusive<i64> = 1..=730;
pub use engine::domain::ACK_REMINDER_HOURS as REMINDER_HOURS;

/// The review queue's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSettings {
    pub ack_reminder_hours: i64,
}

/// What the page shows about the Cal.com connection: never the secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalcomSettings {
    pub base_url: String,
    pub has_api_key: bool,
    pub has_webhook_secret: bool,
    /// Where Cal.com should send webhooks (path on this server).
    pub webhook_path: String,
}

/// The answer of "Test connection".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConnectionTest {
    /// Cal.com answered and accepted the key.
    Ok { event_types: usize },
    /// 401/403: the key is wrong, revoked or lacks permission.
    BadApiKey { status: u16 },
    /// No answer: DNS, refused connection, TLS, timeout.
    Unreachable { reason: String },
    /// Cal.com answered with an error (or something unexpected).
    Failed { status: Option<u16>, message: String },
    /// Nothing to test with: no API key entered or stored.
    NoApiKey,
}

impl ConnectionTest {
    pub fn is_ok(&self) -> bool {
        matches!(self, ConnectionTest::Ok { .. })
    }

    pub fn message(&self) -> String {
        match self {
            ConnectionTest::Ok { event_types } => {
                format!("Connected: Cal.com accepted the API key ({event_types} event types).")
            }
            ConnectionTest::BadApiKey { status } => format!("Bad API key: Cal.com refused it (HTTP {status})."),
            ConnectionTest::Unreachable { reason } => format!("Cal.com could not be reached: {reason}"),
            ConnectionTest::Failed { status: Some(status), message } => {
                format!("Cal.com answered with an error (HTTP {status}): {message}")
            }
            ConnectionTest::Failed { status: None, message } => format!("Unexpected answer from Cal.com: {message}"),
            ConnectionTest::NoApiKey => "No API key is stored or entered.".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSettings {
    pub time_zone: String,
    pub cycle_cron: String,
    pub comprehensive_cron: String,
    pub window_days_back: i64,
    pub window_days_ahead: i64,
    /// The next three runs of each, in the organization's time zone.
    pub next_cycle: Vec<String>,
    pub next_comprehensive: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserLine {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created: String,
    /// The signed-in admin: the page offers no action that would lock them out.
    pub is_me: bool,
}

/// A new account and its first password, shown to the admin once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invited {
    pub user: UserLine,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

/// A new token with its secret, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: TokenLine,
    pub secret: String,
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_calcom_settings() -> Result<CalcomSettings, AppError> {
    let (context, user) = server::admin()?;
    server::calcom_settings(&context, &user).await
}

/// Empty secret fields keep the stored values (they are write-only).
#[server(prefix = "/rpc", output = Postcard)]
pub async fn save_calcom_settings(
    base_url: String,
    api_key: String,
    webhook_secret: String,
) -> Result<CalcomSettings, AppError> {
    let (context, user) = server::admin()?;
    server::save_calcom(&context, &user, &base_url, &api_key, &webhook_secret).await
}

/// One call to Cal.com with what was entered, or else what is stored.
#[server(prefix = "/rpc", output = Postcard)]
pub async fn test_calcom_connection(base_url: String, api_key: String) -> Result<ConnectionTest, AppError> {
    let (context, user) = server::admin()?;
    server::test_connection(&context, &user, &base_url, &api_key).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_schedule_settings() -> Result<ScheduleSettings, AppError> {
    let (context, user) = server::admin()?;
    let org = context.store.organization(user.org_id).await?;
    Ok(server::schedule_settings(&org))
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn save_schedule_settings(
    time_zone: String,
    cycle_cron: String,
    comprehensive_cron: String,
    window_days_back: String,
    window_days_ahead: String,
) -> Result<ScheduleSettings, AppError> {
    let (context, user) = server::admin()?;
    let form = server::ScheduleForm { time_zone, cycle_cron, comprehensive_cron, window_days_back, window_days_ahead };
    server::save_schedule(&context, &user, &form).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_queue_settings() -> Result<QueueSettings, AppError> {
    let (context, user) = server::admin()?;
    let org = context.store.organization(user.org_id).await?;
    Ok(QueueSettings { ack_reminder_hours: org.ack_reminder_hours })
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn save_queue_settings(ack_reminder_hours: String) -> Result<QueueSettings, AppError> {
    let (context, user) = server::admin()?;
    server::save_queue(&context, &user, &ack_reminder_hours).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn list_users() -> Result<Vec<UserLine>, AppError> {
    let (context, user) = server::admin()?;
    server::users(&context, &user).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn invite_user(name: String, email: String, role: String) -> Result<Invited, AppError> {
    let (context, user) = server::admin()?;
    server::invite(&context, &user, &name, &email, &role).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn change_user_role(user_id: i64, role: String) -> Result<UserLine, AppError> {
    let (context, user) = server::admin()?;
    server::change_role(&context, &user, user_id, &role).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn set_user_enabled(user_id: i64, enabled: bool) -> Result<UserLine, AppError> {
    let (context, user) = server::admin()?;
    server::set_enabled(&context, &user, user_id, enabled).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn list_api_tokens() -> Result<Vec<TokenLine>, AppError> {
    let (context, user) = server::admin()?;
    server::tokens(&context, &user).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn create_api_token(name: String) -> Result<CreatedToken, AppError> {
    let (context, user) = server::admin()?;
    server::create_token(&context, &user, &name).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn revoke_api_token(id: i64) -> Result<TokenLine, AppError> {
    let (context, user) = server::admin()?;
    server::revoke_token(&context, &user, id).await
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use chrono::{DateTime, Utc};
    use chrono_tz::Tz;
    use engine::calcom::{CalcomClient, CalcomError, ClientConfig};
    use engine::domain::{AccountName, ApiTokenId, AuditAction, BaseUrl, EmailAddress, UserId};
    use engine::schedule::LocalSchedule;
    use engine::secrets::{open, seal, Purpose};
    use engine::store::{ApiToken, CalcomConnectionUpdate, NewAuditEntry, NewUser, Organization, ScheduleUpdate, User};

    use super::*;
    use crate::context::{require_admin, server_context, CurrentUser, ServerContext};
    use engine::format::LocalFormat;

    pub fn admin() -> Result<(ServerContext, CurrentUser), AppError> {
        let user = require_admin()?;
        Ok((server_context()?, user))
    }

    fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::invalid(field, message)
    }

    pub(crate) fn entry(
        user: &CurrentUser,
        action: AuditAction,
        target: Option<String>,
        detail: String,
    ) -> NewAuditEntry {
        NewAuditEntry { user_id: Some(user.user_id), action, target, detail: Some(detail), at: Utc::now() }
    }

    async fn local(context: &ServerContext, user: &CurrentUser) -> Result<LocalFormat, AppError> {
        let org = context.store.organization(user.org_id).await?;
        Ok(org.local_format())
    }

    // --- Cal.com connection ---

    pub async fn calcom_settings(context: &ServerContext, user: &CurrentUser) -> Result<CalcomSettings, AppError> {
        let org = context.store.organization(user.org_id).await?;
        let connection = context.store.calcom_connection(user.org_id).await?;
        Ok(CalcomSettings {
            base_url: connection.base_url,
            has_api_key: connection.api_key_sealed.is_some(),
            has_webhook_secret: connection.webhook_secret_sealed.is_some(),
            webhook_path: format!("/webhooks/calcom/{}", org.slug),
        })
    }

    /// The same rule as the command line's `--base-url` (`engine::domain::BaseUrl`).
    fn check_base_url(raw: &str) -> Result<String, AppError> {
        BaseUrl::parse(raw).map(String::from).map_err(|e| invalid("base_url", e.rule))
    }

    /// A secret as typed: `None` when left empty (keep the stored one).
    fn entered(secret: &str, field: &str) -> Result<Option<String>, AppError> {
        let secret = secret.trim();
        if secret.is_empty() {
            return Ok(None);
        }
        if secret.len() > 500 || secret.chars().any(char::is_control) {
            return Err(invalid(field, "must be at most 500 characters without control characters"));
        }
        Ok(Some(secret.to_owned()))
    }

    pub async fn save_calcom(
        context: &ServerContext,
        user: &CurrentUser,
        base_url: &str,
        api_key: &str,
        webhook_secret: &str,
    ) -> Result<CalcomSettings, AppError> {
        let base_url = check_base_url(base_url)?;
        let api_key = entered(api_key, "api_key")?;
        let webhook_secret = entered(webhook_secret, "webhook_secret")?;
        let org = user.org_id;
        let key = &context.secret_key;
        let mut changed = vec!["base URL"];
        changed.extend(api_key.is_some().then_some("API key"));
        changed.extend(webhook_secret.is_some().then_some("webhook secret"));
        let update = CalcomConnectionUpdate {
            base_url: Some(base_url.clone()),
            api_key_sealed: api_key.map(|k| seal(key, Purpose::CalcomApiKey(org), &k)),
            webhook_secret_sealed: webhook_secret.map(|s| seal(key, Purpose::WebhookSecret(org), &s)),
            event_type_id: None,
        };
        // The audit names what was set, never a value.
        let audit = entry(user, AuditAction::SettingsCalcom, Some(base_url), format!("{} saved", changed.join(", ")));
        context.store.update_calcom_connection_audited(org, &update, &audit).await?;
        context.connector.forget(org);
        calcom_settings(context, user).await
    }

    pub async fn test_connection(
        context: &ServerContext,
        user: &CurrentUser,
        base_url: &str,
        api_key: &str,
    ) -> Result<ConnectionTest, AppError> {
        let stored = context.store.calcom_connection(user.org_id).await?;
        let base_url = if base_url.trim().is_empty() { stored.base_url } else { check_base_url(base_url)? };
        let api_key = match entered(api_key, "api_key")? {
            Some(key) => key,
            None => match stored.api_key_sealed {
                Some(sealed) => {
                    open(&context.secret_key, Purpose::CalcomApiKey(user.org_id), &sealed).map_err(|_| {
                        AppError::conflict(
                            "The stored API key cannot be decrypted (CALSYNC_SECRET_KEY changed?). Enter it again.",
                        )
                    })?
                }
                None => return Ok(ConnectionTest::NoApiKey),
            },
        };
        // One quick call, no waiting out rate limits: an admin is watching.
        let mut config = ClientConfig::new(base_url, api_key);
        config.connect_timeout = std::time::Duration::from_secs(5);
        config.request_timeout = std::time::Duration::from_secs(10);
        config.max_rate_limit_retries = 0;
        let client = CalcomClient::new(config).map_err(|_| invalid("base_url", "is not a usable URL"))?;
        Ok(match client.event_types().await {
            Ok(types) => ConnectionTest::Ok { event_types: types.len() },
            Err(err) => classify(err),
        })
    }

    fn classify(err: CalcomError) -> ConnectionTest {
        // Cal.com's own words, shortened; they never contain our key.
        let short = |m: String| m.chars().take(200).collect::<String>();
        match err {
            CalcomError::Unauthorized { status, .. } => ConnectionTest::BadApiKey { status },
            CalcomError::Timeout => ConnectionTest::Unreachable { reason: "no answer in time".into() },
            CalcomError::Network(reason) => ConnectionTest::Unreachable { reason: short(reason) },
            CalcomError::Server { status, message } | CalcomError::BadRequest { status, message } => {
                ConnectionTest::Failed { status: Some(status), message: short(message) }
            }
            CalcomError::NotFound { message } => ConnectionTest::Failed { status: Some(404), message: short(message) },
            CalcomError::RateLimited { .. } => ConnectionTest::Failed {
                status: Some(429),
                message: "rate limit exceeded, try again in a minute".into(),
            },
            CalcomError::Malformed(message) | CalcomError::Config(message) => {
                ConnectionTest::Failed { status: None, message: short(message) }
            }
        }
    }

    // --- Schedules and time zone ---

    /// The next `n` runs of `cron` after `now`, formatted; empty if it never runs.
    fn next_runs(cron: &str, local: LocalFormat, now: DateTime<Utc>, n: usize) -> Vec<String> {
        let Ok(schedule) = LocalSchedule::parse(cron, local.time_zone) else { return Vec::new() };
        std::iter::successors(schedule.next_slot(now), |&t| schedule.next_slot(t))
            .take(n)
            .map(|t| local.date_time(t))
            .collect()
    }

    pub fn schedule_settings(org: &Organization) -> ScheduleSettings {
        let local = org.local_format();
        let now = Utc::now();
        ScheduleSettings {
            time_zone: org.time_zone.name().to_owned(),
            next_cycle: next_runs(&org.cycle_cron, local, now, 3),
            next_comprehensive: next_runs(&org.comprehensive_cron, local, now, 3),
            cycle_cron: org.cycle_cron.clone(),
            comprehensive_cron: org.comprehensive_cron.clone(),
            window_days_back: org.window_days_back,
            window_days_ahead: org.window_days_ahead,
        }
    }

    pub struct ScheduleForm {
        pub time_zone: String,
        pub cycle_cron: String,
        pub comprehensive_cron: String,
        pub window_days_back: String,
        pub window_days_ahead: String,
    }

    fn check_cron(field: &str, cron: &str, tz: Tz) -> Result<String, AppError> {
        let cron = cron.split_whitespace().collect::<Vec<_>>().join(" ");
        let schedule = LocalSchedule::parse(&cron, tz).map_err(|e| invalid(field, e.reason))?;
        // A valid expression that never fires (31 February) would silently stop the runs.
        schedule.next_slot(Utc::now()).ok_or_else(|| invalid(field, "never runs"))?;
        Ok(cron)
    }

    fn check_number(field: &str, raw: &str, range: std::ops::RangeInclusive<i64>) -> Result<i64, AppError> {
        let message = || format!("must be a whole number from {} to {}", range.start(), range.end());
        let number: i64 = raw.trim().parse().map_err(|_| invalid(field, message()))?;
        range.contains(&number).then_some(number).ok_or_else(|| invalid(field, message()))
    }

    fn check_schedule(form: &ScheduleForm) -> Result<ScheduleUpdate, AppError> {
        let time_zone: Tz = form
            .time_zone
            .trim()
            .parse()
            .map_err(|_| invalid("time_zone", "unknown time zone; use an IANA name like Europe/Berlin"))?;
        Ok(ScheduleUpdate {
            cycle_cron: check_cron("cycle_cron", &form.cycle_cron, time_zone)?,
            comprehensive_cron: check_cron("comprehensive_cron", &form.comprehensive_cron, time_zone)?,
            window_days_back: check_number("window_days_back", &form.window_days_back, DAYS_BACK)?,
            window_days_ahead: check_number("window_days_ahead", &form.window_days_ahead, DAYS_AHEAD)?,
            time_zone,
        })
    }

    pub async fn save_schedule(
        context: &ServerContext,
        user: &CurrentUser,
        form: &ScheduleForm,
    ) -> Result<ScheduleSettings, AppError> {
        let update = check_schedule(form)?;
        let detail = format!(
            "time zone {}, cycle {:?}, comprehensive {:?}, window {} days back / {} ahead",
            update.time_zone.name(),
            update.cycle_cron,
            update.comprehensive_cron,
            update.window_days_back,
            update.window_days_ahead
        );
        let audit = entry(user, AuditAction::SettingsSchedule, None, detail);
        context.store.update_schedule(user.org_id, &update, &audit).await?;
        let org = context.store.organization(user.org_id).await?;
        Ok(schedule_settings(&org))
    }

    // --- Review queue ---

    pub async fn save_queue(context: &ServerContext, user: &CurrentUser, raw: &str) -> Result<QueueSettings, AppError> {
        let hours = check_number("ack_reminder_hours", raw, REMINDER_HOURS)?;
        let detail = match hours {
            0 => "reminders of acknowledged issues off".to_owned(),
            h => format!("remind of acknowledged issues still open after {h} h"),
        };
        let audit = entry(user, AuditAction::SettingsQueue, None, detail);
        context.store.update_ack_reminder(user.org_id, hours, &audit).await?;
        Ok(QueueSettings { ack_reminder_hours: hours })
    }

    // --- Users ---

    fn user_line(u: User, me: &CurrentUser, local: LocalFormat) -> UserLine {
        UserLine {
            id: u.id.get(),
            is_me: u.id == me.user_id,
            name: u.name,
            email: u.email,
            role: u.role,
            disabled: u.disabled,
            created: local.date_time(u.created_at),
        }
    }

    pub async fn users(context: &ServerContext, user: &CurrentUser) -> Result<Vec<UserLine>, AppError> {
        let local = local(context, user).await?;
        let users = context.store.users(user.org_id).await?;
        Ok(users.into_iter().map(|u| user_line(u, user, local)).collect())
    }

    fn check_role(raw: &str) -> Result<Role, AppError> {
        raw.trim().parse().map_err(|_| invalid("role", "must be admin or viewer"))
    }

    /// The same rule as the command line's `--email` (`engine::domain::EmailAddress`).
    fn check_email(raw: &str) -> Result<String, AppError> {
        EmailAddress::parse(raw).map(String::from).map_err(|e| invalid("email", e.rule))
    }

    pub async fn invite(
        context: &ServerContext,
        user: &CurrentUser,
        name: &str,
        email: &str,
        role: &str,
    ) -> Result<Invited, AppError> {
        let name: String = AccountName::parse(name).map_err(|e| invalid("name", e.rule))?.into();
        let email = check_email(email)?;
        let role = check_role(role)?;
        let password = engine::password::generate();
        let password_hash = engine::password::hash(password.clone()).await.map_err(|e| {
            tracing::error!(error = %e, "hashing an invited user's password failed");
            AppError::Internal.with_status()
        })?;
        let new = NewUser { email: email.clone(), name, role, password_hash };
        let audit = entry(user, AuditAction::UserInvite, None, format!("{email} invited as {}", role.as_str()));
        let created = context.store.invite_user(user.org_id, &new, &audit).await?;
        let local = local(context, user).await?;
        Ok(Invited { user: user_line(created, user, local), password })
    }

    /// Changing your own role or disabling yourself would take this page
    /// away from you mid-change; another admin has to do it.
    fn not_yourself(user: &CurrentUser, target: UserId, what: &str) -> Result<(), AppError> {
        if user.user_id == target {
            return Err(AppError::conflict(format!("You cannot {what} your own account; ask another admin.")));
        }
        Ok(())
    }

    pub async fn change_role(
        context: &ServerContext,
        user: &CurrentUser,
        id: i64,
        role: &str,
    ) -> Result<UserLine, AppError> {
        let role = check_role(role)?;
        let target = UserId(id);
        not_yourself(user, target, "change the role of")?;
        let audit = entry(user, AuditAction::UserRole, None, format!("role set to {}", role.as_str()));
        let changed = context.store.set_user_role(user.org_id, target, role, &audit).await?;
        Ok(user_line(changed, user, local(context, user).await?))
    }

    pub async fn set_enabled(
        context: &ServerContext,
        user: &CurrentUser,
        id: i64,
        enabled: bool,
    ) -> Result<UserLine, AppError> {
        let target = UserId(id);
        not_yourself(user, target, if enabled { "enable" } else { "disable" })?;
        let (action, detail) = if enabled {
            (AuditAction::UserEnable, "account enabled")
        } else {
            (AuditAction::UserDisable, "account disabled")
        };
        let audit = entry(user, action, None, detail.to_owned());
        let changed = context.store.set_user_disabled(user.org_id, target, !enabled, &audit).await?;
        Ok(user_line(changed, user, local(context, user).await?))
    }

    // --- API tokens ---

    fn token_line(t: ApiToken, local: LocalFormat) -> TokenLine {
        TokenLine {
            id: t.id.get(),
            name: t.name,
            prefix: t.prefix,
            created: local.date_time(t.created_at),
            last_used: t.last_used_at.map(|at| local.date_time(at)),
            revoked: t.revoked_at.map(|at| local.date_time(at)),
        }
    }

    pub async fn tokens(context: &ServerContext, user: &CurrentUser) -> Result<Vec<TokenLine>, AppError> {
        let local = local(context, user).await?;
        let tokens = context.store.api_tokens(user.org_id).await?;
        // Newest first: the one just created is where the admin looks.
        Ok(tokens.into_iter().rev().map(|t| token_line(t, local)).collect())
    }

    pub async fn create_token(
        context: &ServerContext,
        user: &CurrentUser,
        name: &str,
    ) -> Result<CreatedToken, AppError> {
        let issued = context.store.create_api_token(user.org_id, name, Some(user.user_id), Utc::now()).await.map_err(
            |e| match e {
                engine::store::StoreError::Invalid(message) => invalid("name", message),
                other => other.into(),
            },
        )?;
        let local = local(context, user).await?;
        Ok(CreatedToken { token: token_line(issued.token, local), secret: issued.secret })
    }

    pub async fn revoke_token(context: &ServerContext, user: &CurrentUser, id: i64) -> Result<TokenLine, AppError> {
        let revoked =
            context.store.revoke_api_token(user.org_id, ApiTokenId(id), Some(user.user_id), Utc::now()).await?;
        Ok(token_line(revoked, local(context, user).await?))
    }
}
