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
    /// The last verification, in the organization's time zone and format.
    pub last_verified: Option<String>,
    /// The next scheduled cycle, formatted, and how far away it is.
    pub next_check: String,
    pub next_check_in_secs: i64,
    pub health: CalcomHealth,
    /// `health` in a sentence (e.g. when an open circuit probes again).
    pub health_detail: String,
    /// Whether the user may act (retry): admins.
    pub can_act: bool,
}

#[server(prefix = "/rpc")]
pub async fn get_dashboard_summary() -> Result<DashboardSummary, AppError> {
    use crate::context::{require_user, server_context};
    use crate::format::LocalFormat;
    use chrono::{Duration, Utc};
    use engine::verify::{health, next_cycle::next_cycle};

    let user = require_user()?;
    let context = server_context()?;
    let store = &context.store;
    let org = store.organization(user.org_id).await?;
    let now = Utc::now();
    let mut counts = store.sync_counts(org.id).await?;
    // A booking only Cal.com has is no appointment of ours: it is an open
    // issue, and the ORPHANED_CALCOM tile counts those.
    counts.orphaned_calcom += store
        .count_open_issues_by_code(org.id)
        .await?
        .into_iter()
        .find(|(code, _)| *code == engine::domain::ErrorCode::OrphanedCalcom)
        .map_or(0, |(_, n)| n);
    let recent = store.verification_tally(org.id, now - Duration::hours(1), now + Duration::seconds(1)).await?;
    let connected = !org.calcom_base_url.is_empty() && org.has_calcom_api_key;
    let health = health::assess(connected, context.circuits.state(org.id), &recent);
    let local = LocalFormat::new(org.time_zone, &org.locale);
    let next = next_cycle(&org, now);
    Ok(DashboardSummary {
        organization: user.org_name.clone(),
        counts,
        last_verified: store.last_verification_at(org.id).await?.map(|at| local.date_time_seconds(at)),
        next_check: local.date_time(next),
        next_check_in_secs: (next - now).num_seconds().max(0),
        health_detail: describe(health, local),
        health,
        can_act: user.role.is_admin(),
    })
}

#[cfg(feature = "ssr")]
fn describe(health: CalcomHealth, local: crate::format::LocalFormat) -> String {
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
