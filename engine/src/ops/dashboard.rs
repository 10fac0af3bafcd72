//! The figures of the dashboard and the metrics page: what the store
//! counts, read at one instant of the operations' clock and scoped to the
//! caller's organization. Viewers see them too; the pages word and format
//! them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::listing::Criteria;
use super::{Caller, OpError, Operations};
use crate::calendar::start_of_day;
use crate::domain::{CalcomHealth, ErrorCode, Members, SyncCounts};
use crate::verify::circuit::Circuits;
use crate::verify::{health, next_cycle::next_cycle};

pub use crate::store::{CallMinute, DurationStats, IssueTally, OldestIssue, Organization, VerificationTally};

/// The dashboard's facts, all read at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardFacts {
    pub org: Organization,
    pub now: DateTime<Utc>,
    /// Appointments per state; a booking only Cal.com has is no
    /// appointment of ours but is counted as orphaned all the same.
    pub counts: SyncCounts,
    /// Open issues: what the review queue lists, as the metrics page counts.
    pub open_reviews: i64,
    pub oldest_review: Option<OldestIssue>,
    /// Open issues that came back after being closed.
    pub regressions: i64,
    pub last_verified: Option<DateTime<Utc>>,
    pub next_check: DateTime<Utc>,
    pub health: CalcomHealth,
    pub last_webhook: Option<DateTime<Utc>>,
    /// Changes found in Cal.com over the last 30 days, and how many of
    /// them a webhook announced.
    pub webhook_coverage: (u64, u64),
    /// Calls to Cal.com per minute over the last hour (minutes without
    /// calls are missing).
    pub calcom_calls: Vec<CallMinute>,
    /// The failed appointments, for "Retry all"'s confirm step.
    pub failed: Members,
}

/// The metrics page's facts over a period ending now.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsFacts {
    pub org: Organization,
    pub verifications: VerificationTally,
    pub durations: DurationStats,
    pub issues: IssueTally,
    /// The last days in the organization's calendar, oldest first.
    pub trend: Vec<DayTally>,
}

/// One calendar day's verifications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayTally {
    pub day: NaiveDate,
    pub verifications: VerificationTally,
}

impl Operations {
    /// The dashboard of the caller's organization. `circuits` is this
    /// process's view of Cal.com, which only the server holds; `failed`
    /// is "Retry all"'s criteria, so that the set confirmed is the one the
    /// retry re-checks.
    pub async fn dashboard(
        &self,
        caller: Caller,
        circuits: &Circuits,
        failed: &Criteria,
    ) -> Result<DashboardFacts, OpError> {
        let store = &self.store;
        let org = store.organization(caller.org).await?;
        let now = self.now();
        let (counts, open_reviews) = self.counts_with_bookings(caller).await?;
        let failed = match counts.failed {
            0 => Members::default(),
            _ => store.appointment_members(org.id, &failed.filter(org.time_zone)).await?,
        };
        Ok(DashboardFacts {
            health: self.calcom_health(&org, circuits, now).await?,
            next_check: next_cycle(&org, now),
            oldest_review: store.oldest_open_issue(org.id).await?,
            regressions: store.count_open_regressions(org.id).await?,
            last_verified: store.last_verification_at(org.id).await?,
            last_webhook: store.last_delivery_at(org.id).await?,
            webhook_coverage: store.coverage_since(org.id, now - Duration::days(30)).await?,
            calcom_calls: store.calcom_calls_since(org.id, now - Duration::minutes(59)).await?,
            counts,
            open_reviews,
            failed,
            org,
            now,
        })
    }

    /// Verification outcomes, durations and issues over the last
    /// `period_days`, and verifications per day over the last `trend_days`.
    pub async fn sync_metrics(
        &self,
        caller: Caller,
        period_days: i64,
        trend_days: i64,
    ) -> Result<MetricsFacts, OpError> {
        let store = &self.store;
        let org = store.organization(caller.org).await?;
        let now = self.now();
        // Up to a second ahead, so what was verified just now counts.
        let (from, to) = (now - Duration::days(period_days), now + Duration::seconds(1));
        let mut trend = Vec::with_capacity(usize::try_from(trend_days).unwrap_or(0));
        for (day, start, end) in last_days(org.time_zone, now, trend_days) {
            trend.push(DayTally { day, verifications: store.verification_tally(org.id, start, end).await? });
        }
        Ok(MetricsFacts {
            verifications: store.verification_tally(org.id, from, to).await?,
            durations: store.verification_durations(org.id, from, to).await?,
            issues: store.issue_tally(org.id, from, to).await?,
            trend,
            org,
        })
    }

    /// Appointments per state with Cal.com-only bookings as orphaned, and
    /// the number of open issues.
    async fn counts_with_bookings(&self, caller: Caller) -> Result<(SyncCounts, i64), OpError> {
        let mut counts = self.store.sync_counts(caller.org).await?;
        let open = self.store.count_open_issues_by_code(caller.org).await?;
        let orphaned = open.iter().find(|(code, _)| *code == ErrorCode::OrphanedCalcom).map_or(0, |(_, n)| *n);
        counts.orphaned_calcom += orphaned;
        Ok((counts, open.iter().map(|(_, n)| n).sum()))
    }

    /// Cal.com's health from the circuit breaker and the last hour's
    /// verifications.
    async fn calcom_health(
        &self,
        org: &Organization,
        circuits: &Circuits,
        now: DateTime<Utc>,
    ) -> Result<CalcomHealth, OpError> {
        let recent =
            self.store.verification_tally(org.id, now - Duration::hours(1), now + Duration::seconds(1)).await?;
        let connected = !org.calcom_base_url.is_empty() && org.has_calcom_api_key;
        Ok(health::assess(connected, circuits.state(org.id), &recent))
    }
}

/// The last `n` calendar days in `tz` ending with today, oldest first,
/// each with its start and end as instants (DST days are 23 or 25 h).
fn last_days(tz: Tz, now: DateTime<Utc>, n: i64) -> Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
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
