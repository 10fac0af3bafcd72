//! The dashboard's figures: appointments per state, when verification last
//! ran and runs next, and Cal.com's health. Also "retry all failed".

use engine::domain::{CalcomHealth, Members, SyncCounts};
use leptos::prelude::*;
use leptos::server_fn::codec::{Json, Postcard};
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
    /// The oldest of them, if any: how long it has waited and where it is.
    pub oldest_review: Option<OldestReview>,
    /// How many of them came back after being closed (regressions).
    pub regressions: i64,
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
    /// Calls to Cal.com over the last hour against the key's limit.
    pub api_budget: ApiBudget,
    /// Whether the user may act (retry): admins.
    pub can_act: bool,
    /// The failed appointments, for "Retry all"'s confirm step to send back.
    pub failed: Members,
}

/// The open review that has waited longest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OldestReview {
    /// "3 d".
    pub age: String,
    /// Its appointment's review page, or a Cal.com-only booking's row in
    /// the review queue.
    pub href: String,
}

/// The organization's calls to Cal.com per minute over the last hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiBudget {
    /// Sixty minutes, oldest first; the last is the current minute so far.
    pub per_minute: Vec<u32>,
    /// The key's limit per minute: as Cal.com's answers stated it, or
    /// Cal.com's default before any answer did.
    pub limit: u32,
    pub peak: u32,
    pub total: u32,
    /// The figures in a sentence.
    pub summary: String,
}

/// Where the dashboard's figure for the key's limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLimit {
    /// Cal.com's `X-RateLimit-Limit` headers stated it (per minute).
    Stated(u32),
    /// No answer has stated it yet: Cal.com's default.
    Default(u32),
}

impl ApiBudget {
    /// Sixty minutes ending with `now`'s from the counted minutes (oldest
    /// first; minutes without calls are missing).
    pub fn from_minutes(
        counted: &[(chrono::DateTime<chrono::Utc>, i64)],
        now: chrono::DateTime<chrono::Utc>,
        limit: KeyLimit,
    ) -> ApiBudget {
        let (limit, source) = match limit {
            KeyLimit::Stated(limit) => (limit, "as Cal.com states it"),
            KeyLimit::Default(limit) => (limit, "Cal.com's default; no answer has stated this key's limit yet"),
        };
        let minute = |t: chrono::DateTime<chrono::Utc>| t.timestamp().div_euclid(60);
        let current = minute(now);
        let mut per_minute = vec![0u32; 60];
        for (at, calls) in counted {
            let back = current - minute(*at);
            if (0..60).contains(&back) {
                per_minute[59 - back as usize] += u32::try_from(*calls).unwrap_or(u32::MAX);
            }
        }
        let peak = per_minute.iter().copied().max().unwrap_or(0);
        let total = per_minute.iter().sum();
        let summary = match total {
            0 => format!("No calls to Cal.com in the last hour; the key may make {limit} a minute ({source})."),
            _ => format!(
                "{total} calls to Cal.com in the last hour; the busiest minute used {peak} of the key's {limit} ({} %; {source}).",
                u64::from(peak) * 100 / u64::from(limit.max(1))
            ),
        };
        ApiBudget { per_minute, limit, peak, total, summary }
    }
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_dashboard_summary() -> Result<DashboardSummary, AppError> {
    use crate::context::{require_user, server_context};
    use crate::rpc::appointments::server::criteria;

    let user = require_user()?;
    let context = server_context()?;
    let facts = context.ops.dashboard(user.caller(), &context.circuits, &criteria(&failed())).await?;
    let (org, now) = (&facts.org, facts.now);
    let local = org.local_format();
    Ok(DashboardSummary {
        organization: user.org_name.clone(),
        counts: facts.counts,
        open_reviews: facts.open_reviews,
        oldest_review: facts.oldest_review.map(|oldest| OldestReview {
            age: crate::rpc::triage::server::age(oldest.opened_at, now),
            href: match oldest.appointment {
                Some(appointment) => format!("/appointments/{appointment}"),
                None => format!("/review#issue-{}", oldest.id),
            },
        }),
        regressions: facts.regressions,
        last_verified: facts.last_verified.map(|at| local.date_time_seconds(at)),
        next_check: local.date_time(facts.next_check),
        next_check_in_secs: (facts.next_check - now).num_seconds().max(0),
        health_detail: describe(facts.health, local),
        webhooks: webhook_sentence(facts.last_webhook, facts.webhook_coverage, local),
        health: facts.health,
        api_budget: api_budget(&facts.calcom_calls, org.calcom_rate_limit, now),
        can_act: user.role.is_admin(),
        failed: facts.failed,
    })
}

/// The chart of the last hour's calls against the key's limit, or
/// Cal.com's default while no answer has stated one.
#[cfg(feature = "ssr")]
fn api_budget(
    minutes: &[engine::ops::dashboard::CallMinute],
    stated: Option<u32>,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiBudget {
    let counted: Vec<_> = minutes.iter().map(|m| (m.minute, m.calls)).collect();
    let limit = match stated {
        Some(stated) => KeyLimit::Stated(stated),
        None => KeyLimit::Default(engine::calcom::RateBudget::default().limit),
    };
    ApiBudget::from_minutes(&counted, now, limit)
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
/// failed (admins), if they are still the `expected` set the admin
/// confirmed, as a background run (see `retry_all_matching`). Each one is
/// audited in its history like a single retry.
#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn retry_all_failed(expected: Members) -> Result<crate::rpc::appointments::BulkStarted, AppError> {
    crate::rpc::appointments::server::retry_matching(&failed(), expected).await
}

/// What "Retry all" of the failed appointments will ask of Cal.com, in
/// words, for its confirm step.
#[server(prefix = "/rpc", input = Json, output = Postcard)]
pub async fn plan_retry_failed() -> Result<String, AppError> {
    crate::rpc::appointments::server::plan_matching(&failed()).await
}

/// The failed appointments, the filter of the dashboard's "Retry all".
#[cfg(feature = "ssr")]
fn failed() -> crate::rpc::appointments::AppointmentQuery {
    let state = Some(engine::domain::SyncStatus::Failed);
    crate::rpc::appointments::AppointmentQuery { state, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::{ApiBudget, KeyLimit};
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn the_api_budget_places_each_minute_and_reads_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 14, 30, 20).unwrap();
        let ago = |minutes: i64| now - Duration::minutes(minutes);
        let counted = [(ago(75), 500), (ago(59), 3), (ago(1), 90), (ago(0), 6)];
        let budget = ApiBudget::from_minutes(&counted, now, KeyLimit::Stated(120));
        assert_eq!(budget.per_minute.len(), 60);
        assert_eq!((budget.per_minute[0], budget.per_minute[58], budget.per_minute[59]), (3, 90, 6));
        assert_eq!((budget.peak, budget.total), (90, 99), "the minute of an hour and a quarter ago is left out");
        assert_eq!(
            budget.summary,
            "99 calls to Cal.com in the last hour; the busiest minute used 90 of the key's 120 (75 %; as Cal.com states it)."
        );
        assert_eq!(
            ApiBudget::from_minutes(&[], now, KeyLimit::Default(120)).summary,
            "No calls to Cal.com in the last hour; the key may make 120 a minute \
             (Cal.com's default; no answer has stated this key's limit yet)."
        );
        let custom = ApiBudget::from_minutes(&counted, now, KeyLimit::Stated(30));
        assert_eq!((custom.limit, custom.peak), (30, 90), "a custom limit is the chart's top, not 120");
    }
}
