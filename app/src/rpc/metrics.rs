//! The metrics page (seed "Key Metrics Dashboard"): the last 30 days of
//! verification outcomes, durations, issues and reviews, and a 7-day trend.

use leptos::prelude::*;
use leptos::server_fn::codec::Postcard;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const PERIOD_DAYS: i64 = 30;
pub const TREND_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendDay {
    /// "Mon"
    pub weekday: String,
    /// "13.10." or "10-13"
    pub date: String,
    pub verifications: i64,
    pub synced: i64,
}

impl TrendDay {
    pub fn success_percent(&self) -> Option<f64> {
        percent(self.synced, self.verifications)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncMetrics {
    pub verifications: i64,
    pub synced: i64,
    /// Verification durations, in milliseconds; `None` without verifications.
    pub avg_ms: Option<i64>,
    pub max_ms: Option<i64>,
    pub min_ms: Option<i64>,
    pub issues_opened: i64,
    pub issues_resolved: i64,
    pub reviews_pending: i64,
    pub reviews_resolved: i64,
    /// Oldest day first.
    pub trend: Vec<TrendDay>,
}

impl SyncMetrics {
    pub fn success_percent(&self) -> Option<f64> {
        percent(self.synced, self.verifications)
    }

    pub fn resolved_percent(&self) -> Option<f64> {
        percent(self.issues_resolved, self.issues_opened)
    }
}

pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// "850 ms" below a second, "2.3 s" above.
pub fn duration_label(ms: Option<i64>) -> String {
    match ms {
        None => "–".to_owned(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) => format!("{:.1} s", ms as f64 / 1000.0),
    }
}

#[server(prefix = "/rpc", output = Postcard)]
pub async fn get_sync_metrics() -> Result<SyncMetrics, AppError> {
    use crate::context::{require_user, server_context};

    let user = require_user()?;
    let facts = server_context()?.ops.sync_metrics(user.caller(), PERIOD_DAYS, TREND_DAYS).await?;
    let german = facts.org.locale.get(..2).is_some_and(|l| l.eq_ignore_ascii_case("de"));
    let trend = facts
        .trend
        .iter()
        .map(|t| TrendDay {
            weekday: t.day.format("%a").to_string(),
            date: if german { t.day.format("%d.%m.").to_string() } else { t.day.format("%m-%d").to_string() },
            verifications: t.verifications.total,
            synced: t.verifications.synced,
        })
        .collect();
    let (tally, durations, issues) = (facts.verifications, facts.durations, facts.issues);
    Ok(SyncMetrics {
        verifications: tally.total,
        synced: tally.synced,
        avg_ms: durations.avg_ms,
        max_ms: durations.max_ms,
        min_ms: durations.min_ms,
        issues_opened: issues.opened,
        issues_resolved: issues.resolved,
        reviews_pending: issues.open_now,
        reviews_resolved: issues.resolved_by_people,
        trend,
    })
}
