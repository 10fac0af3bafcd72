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
    use chrono::{Duration, Utc};

    let user = require_user()?;
    let store = server_context()?.store;
    let org = store.organization(user.org_id).await?;
    let now = Utc::now();
    let from = now - Duration::days(PERIOD_DAYS);
    let tally = store.verification_tally(org.id, from, now + Duration::seconds(1)).await?;
    let durations = store.verification_durations(org.id, from, now + Duration::seconds(1)).await?;
    let issues = store.issue_tally(org.id, from, now + Duration::seconds(1)).await?;
    let german = org.locale.get(..2).is_some_and(|l| l.eq_ignore_ascii_case("de"));
    let mut trend = Vec::with_capacity(TREND_DAYS as usize);
    for (day, start, end) in server::last_days(org.time_zone, now, TREND_DAYS) {
        let t = store.verification_tally(org.id, start, end).await?;
        trend.push(TrendDay {
            weekday: day.format("%a").to_string(),
            date: if german { day.format("%d.%m.").to_string() } else { day.format("%m-%d").to_string() },
            verifications: t.total,
            synced: t.synced,
        });
    }
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

#[cfg(feature = "ssr")]
pub mod server {
    use chrono::{DateTime, Duration, NaiveDate, Utc};
    use chrono_tz::Tz;
    use engine::calendar::start_of_day;

    /// The last `n` calendar days in `tz` ending with today, oldest first,
    /// each with its start and end as instants (DST days are 23 or 25 h).
    pub fn last_days(tz: Tz, now: DateTime<Utc>, n: i64) -> Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
        let today = now.with_timezone(&tz).date_naive();
        (0..n)
            .rev()
            .filter_map(|back| {
                let day = today - Duration::days(back);
                Some((day, start_of_day(day, tz)?, start_of_day(day.succ_opt()?, tz)?))
            })
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use chrono::TimeZone;

        #[test]
        fn days_follow_the_time_zone_including_dst() {
            let berlin = chrono_tz::Europe::Berlin;
            // Monday 2025-10-27, 00:30 in Berlin (23:30 UTC the day before).
            let now = Utc.with_ymd_and_hms(2025, 10, 26, 23, 30, 0).unwrap();
            let days = last_days(berlin, now, 7);
            assert_eq!(days.len(), 7);
            assert_eq!(days[6].0, NaiveDate::from_ymd_opt(2025, 10, 27).unwrap());
            // Sunday 26 October had 25 hours (end of summer time).
            let (_, start, end) = days[5];
            assert_eq!(end - start, Duration::hours(25));
            assert_eq!(start, Utc.with_ymd_and_hms(2025, 10, 25, 22, 0, 0).unwrap());
        }
    }
}
