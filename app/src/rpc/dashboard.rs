//! The dashboard's figures: appointments per state, when verification last
//! ran and runs next, and Cal.com's health. Also "retry all failed".

use engine::domain::{CalcomHealth, SyncCounts};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the dashboard shows: the signed-in user's organization only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSummary {
    pub organization: String,
    pub counts: SyncCounts,
    /// Open issues: what the review queue lists (appointments and Cal.com-only
    /// bookings), the same figure the metrics page counts.
    pub open_reviews: i64,
    /// How long the oldest of them has waited ("3 d"), if any.
    pub oldest_review: Option<String>,
    /// The last verification, in the organization's time zone and format.
    pub last_verified: Option<String>,
    /// The next scheduled cycle, formatted, and how far away it is.
    pub next_check: String,
    pub next_check_in_secs: i64,
    pub health: CalcomHealth,
    /// `health` in a sentence (e.g. when an open circuit probes again).
    pub health_detail: String,
    /// Webhook health in a sentence: the last delivery received, and what
    /// share of the changes calsync found in Cal.com a webhook announced.
    pub webhooks: String,
    /// Whether the user may act (retry): admins.
    pub can_act: bool,
}

#[server(prefix = "/rpc")]
pub async fn get_dashboard_summary() -> Result<DashboardSummary, AppError> {
    use crate::context::{require_user, server_context};
    use chrono::{Duration, Utc};
    use engine::format::LocalFormat;
    use engine::verify::{health, next_cycle::next_cycle};

    let user = require_user()?;
    let context = server_context()?;
    let store = &context.store;
    let org = store.organization(user.org_id).await?;
    let now = Utc::now();
    let mut counts = store.sync_counts(org.id).await?;
    // A booking only Cal.com has is no appointment of ours: it is an open
    // issue, and the ORPHANED_CALCOM tile counts those.
    let open = store.count_open_issues_by_code(org.id).await?;
    counts.orphaned_calcom +=
        open.iter().find(|(code, _)| *code == engine::domain::ErrorCode::OrphanedCalcom).map_or(0, |(_, n)| *n);
    let open_reviews = open.iter().map(|(_, n)| n).sum();
    let recent = store.verification_tally(org.id, now - Duration::hours(1), now + Duration::seconds(1)).await?;
    let connected = !org.calcom_base_url.is_empty() && org.has_calcom_api_key;
    let health = health::assess(connected, context.circuits.state(org.id), &recent);
    let local = LocalFormat::new(org.time_zone, &org.locale);
    let next = next_cycle(&org, now);
    Ok(DashboardSummary {
        organization: user.org_name.clone(),
        counts,
        open_reviews,
        oldest_review: store.oldest_open_issue(org.id).await?.map(|at| crate::rpc::triage::server::age(at, now)),
        last_verified: store.last_verification_at(org.id).await?.map(|at| local.date_time_seconds(at)),
        next_check: local.date_time(next),
        next_check_in_secs: (next - now).num_seconds().max(0),
        health_detail: describe(health, local),
        webhooks: webhook_sentence(
            store.last_delivery_at(org.id).await?,
            store.coverage_since(org.id, now - Duration::days(30)).await?,
            local,
        ),
        health,
        can_act: user.role.is_admin(),
    })
}

/// "Last delivery 01.12.2026 14:02:10 · webhooks announced 9 of 10 changes
/// found in Cal.com in the last 30 days (90 %)".
#[cfg(feature = "ssr")]
fn webhook_sentence(
    last: Option<chrono::DateTime<chrono::Utc>>,
    (changes, announced): (u64, u64),
    local: engine::format::LocalFormat,
) -> String {
    let last = match last {
        Some(at) => format!("Last webhook delivery {}", local.date_time_seconds(at)),
        None => "No webhook delivery received yet".to_owned(),
    };
    if changes == 0 {
        return format!("{last} · no changes found in Cal.com in the last 30 days");
    }
    let share = announced.min(changes) * 100 / changes;
    format!(
        "{last} · webhooks announced {announced} of {changes} changes found in Cal.com in the last 30 days ({share} %)"
    )
}

#[cfg(feature = "ssr")]
fn describe(health: CalcomHealth, local: engine::format::LocalFormat) -> String {
    match health {
        CalcomHealth::NotConnected => "Set the Cal.com base URL and API key in Settings.".to_owned(),
        CalcomHealth::Healthy => "Cal.com answers normally.".to_owned(),
        CalcomHealth::Degraded { recent_errors } => {
            format!("{recent_errors} verification(s) in the last hour could not reach Cal.com; they are retried automatically.")
        }
        CalcomHealth::CircuitOpen { until } => {
            format!(
                "Calls to Cal.com are paused after repeated failures; the next probe is at {}.",
                local.date_time_seconds(until)
            )
        }
        CalcomHealth::BadApiKey => "Cal.com refuses the API key. Enter a valid key in Settings.".to_owned(),
    }
}

/// Queues a fresh verification for every appointment whose verification
/// failed (admins). Each one is audited in its history like a single retry.
#[server(prefix = "/rpc")]
pub async fn retry_all_failed() -> Result<crate::rpc::appointments::BulkOutcome, AppError> {
    use crate::rpc::appointments::AppointmentQuery;
    use engine::domain::SyncStatus;

    let query = AppointmentQuery { state: Some(SyncStatus::Failed), ..AppointmentQuery::default() };
    crate::rpc::appointments::server::retry_matching(&query).await
}
