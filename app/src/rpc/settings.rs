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

pub use engine::domain::ACK_REMINDER_HOURS as REMINDER_HOURS;
/// How far back and ahead the comprehensive check may look, in days.
pub use engine::domain::{WINDOW_DAYS_AHEAD as DAYS_AHEAD, WINDOW_DAYS_BACK as DAYS_BACK};

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
    server::schedule(&context, &user).await
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
    let form = engine::ops::schedules::ScheduleForm {
        time_zone: &time_zone,
        cycle_cron: &cycle_cron,
        comprehensive_cron: &comprehensive_cron,
        window_days_back: &window_days_back,
        window_days_ahead: &window_days_ahead,
    };
    server::save_schedule(&context, &user, form).await
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_queue_settings() -> Result<QueueSettings, AppError> {
    let (context, user) = server::admin()?;
    server::queue(&context, &user).await
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
    //! Each function parses nothing itself and decides nothing: it calls
    //! the operation (`engine::ops`, the same the command line calls) and
    //! shapes the answer for the page, times in the organization's zone.

    use chrono::{DateTime, Utc};
    use engine::calcom::CalcomError;
    use engine::domain::{ApiTokenId, UserId};
    use engine::ops::accounts::{FirstPassword, Invitation, User};
    use engine::ops::api_tokens::ApiToken;
    use engine::ops::calcom_connection::{ConnectionInput, ConnectionSummary, Probe};
    use engine::ops::organizations::Organization;
    use engine::ops::schedules::ScheduleForm;
    use engine::schedule::LocalSchedule;

    use super::*;
    use crate::context::{require_admin, server_context, CurrentUser, ServerContext};
    use engine::format::LocalFormat;

    pub fn admin() -> Result<(ServerContext, CurrentUser), AppError> {
        let user = require_admin()?;
        Ok((server_context()?, user))
    }

    async fn local(context: &ServerContext, user: &CurrentUser) -> Result<LocalFormat, AppError> {
        Ok(context.ops.organization(user.caller()).await?.local_format())
    }

    // --- Cal.com connection ---

    fn calcom_answer(summary: ConnectionSummary) -> CalcomSettings {
        let ConnectionSummary { base_url, has_api_key, has_webhook_secret, webhook_path } = summary;
        CalcomSettings { base_url, has_api_key, has_webhook_secret, webhook_path }
    }

    pub async fn calcom_settings(context: &ServerContext, user: &CurrentUser) -> Result<CalcomSettings, AppError> {
        Ok(calcom_answer(context.ops.calcom_connection(user.caller()).await?))
    }

    pub async fn save_calcom(
        context: &ServerContext,
        user: &CurrentUser,
        base_url: &str,
        api_key: &str,
        webhook_secret: &str,
    ) -> Result<CalcomSettings, AppError> {
        let input = ConnectionInput::parse(base_url, api_key, webhook_secret)?;
        Ok(calcom_answer(context.ops.save_calcom_connection(&context.connector, user.caller(), input).await?))
    }

    pub async fn test_connection(
        context: &ServerContext,
        user: &CurrentUser,
        base_url: &str,
        api_key: &str,
    ) -> Result<ConnectionTest, AppError> {
        let probe = context.ops.probe_calcom_connection(&context.connector, user.caller(), base_url, api_key).await?;
        Ok(match probe {
            Probe::NoApiKey => ConnectionTest::NoApiKey,
            Probe::Answered(Ok(event_types)) => ConnectionTest::Ok { event_types },
            Probe::Answered(Err(err)) => classify(err),
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

    pub async fn schedule(context: &ServerContext, user: &CurrentUser) -> Result<ScheduleSettings, AppError> {
        Ok(schedule_settings(&context.ops.organization(user.caller()).await?))
    }

    pub async fn save_schedule(
        context: &ServerContext,
        user: &CurrentUser,
        form: ScheduleForm<'_>,
    ) -> Result<ScheduleSettings, AppError> {
        let org = context.ops.save_schedule(user.caller(), form.parse()?).await?;
        Ok(schedule_settings(&org))
    }

    // --- Review queue ---

    pub async fn queue(context: &ServerContext, user: &CurrentUser) -> Result<QueueSettings, AppError> {
        let org = context.ops.organization(user.caller()).await?;
        Ok(QueueSettings { ack_reminder_hours: org.ack_reminder_hours })
    }

    pub async fn save_queue(context: &ServerContext, user: &CurrentUser, raw: &str) -> Result<QueueSettings, AppError> {
        Ok(QueueSettings { ack_reminder_hours: context.ops.save_ack_reminder(user.caller(), raw).await? })
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
        let users = context.ops.users(user.caller()).await?;
        Ok(users.into_iter().map(|u| user_line(u, user, local)).collect())
    }

    pub async fn invite(
        context: &ServerContext,
        user: &CurrentUser,
        name: &str,
        email: &str,
        role: &str,
    ) -> Result<Invited, AppError> {
        let invitation = Invitation::parse(name, email, role)?;
        let invited = context.ops.invite(user.caller(), invitation, FirstPassword::Generated).await?;
        let local = local(context, user).await?;
        let password = invited.password.unwrap_or_default();
        Ok(Invited { user: user_line(invited.user, user, local), password })
    }

    pub async fn change_role(
        context: &ServerContext,
        user: &CurrentUser,
        id: i64,
        role: &str,
    ) -> Result<UserLine, AppError> {
        let role = engine::ops::accounts::parse_role(role)?;
        let changed = context.ops.change_role(user.caller(), UserId(id), role).await?;
        Ok(user_line(changed, user, local(context, user).await?))
    }

    pub async fn set_enabled(
        context: &ServerContext,
        user: &CurrentUser,
        id: i64,
        enabled: bool,
    ) -> Result<UserLine, AppError> {
        let changed = context.ops.set_enabled(user.caller(), UserId(id), enabled).await?;
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
        let tokens = context.ops.api_tokens(user.caller()).await?;
        // Newest first: the one just created is where the admin looks.
        Ok(tokens.into_iter().rev().map(|t| token_line(t, local)).collect())
    }

    pub async fn create_token(
        context: &ServerContext,
        user: &CurrentUser,
        name: &str,
    ) -> Result<CreatedToken, AppError> {
        let issued = context.ops.create_api_token(user.caller(), name).await?;
        let local = local(context, user).await?;
        Ok(CreatedToken { token: token_line(issued.token, local), secret: issued.secret })
    }

    pub async fn revoke_token(context: &ServerContext, user: &CurrentUser, id: i64) -> Result<TokenLine, AppError> {
        let revoked = context.ops.revoke_api_token(user.caller(), ApiTokenId(id)).await?;
        Ok(token_line(revoked, local(context, user).await?))
    }
}
