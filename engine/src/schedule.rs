//! When runs are due: cron expressions evaluated in the organization's time
//! zone (the spec's 00/06/12/18 cycle and the daily check at midnight are
//! local times, and stay so across daylight-saving changes).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression {expr:?}: {reason}")]
pub struct ScheduleError {
    pub expr: String,
    pub reason: String,
}

/// A parsed cron expression bound to a time zone.
#[derive(Debug, Clone)]
pub struct LocalSchedule {
    cron: Cron,
    tz: Tz,
}

impl LocalSchedule {
    pub fn parse(expr: &str, tz: Tz) -> Result<LocalSchedule, ScheduleError> {
        let cron =
            Cron::from_str(expr.trim()).map_err(|e| ScheduleError { expr: expr.to_owned(), reason: e.to_string() })?;
        Ok(LocalSchedule { cron, tz })
    }

    /// The most recent slot at or before `now`: the one a scheduler should
    /// be running (it is claimed once per organization, so asking twice is harmless).
    pub fn latest_slot(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.tz);
        self.cron.find_previous_occurrence(&local, true).ok().map(|t| t.with_timezone(&Utc))
    }

    /// The first slot after `now`.
    pub fn next_slot(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.tz);
        self.cron.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const CYCLE: &str = "0 0,6,12,18 * * *";

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn the_six_hour_cycle_runs_at_local_berlin_hours() {
        let s = LocalSchedule::parse(CYCLE, chrono_tz::Europe::Berlin).unwrap();
        // 14:30 Berlin summer time is 12:30 UTC; the last slot was 12:00 Berlin = 10:00 UTC.
        assert_eq!(s.latest_slot(utc(2025, 10, 11, 12, 30)), Some(utc(2025, 10, 11, 10, 0)));
        assert_eq!(s.next_slot(utc(2025, 10, 11, 12, 30)), Some(utc(2025, 10, 11, 16, 0)));
        // In winter Berlin is UTC+1.
        assert_eq!(s.next_slot(utc(2025, 12, 1, 12, 30)), Some(utc(2025, 12, 1, 17, 0)));
    }

    #[test]
    fn a_slot_exactly_now_counts_as_latest() {
        let s = LocalSchedule::parse("0 0 * * *", chrono_tz::UTC).unwrap();
        assert_eq!(s.latest_slot(utc(2025, 10, 11, 0, 0)), Some(utc(2025, 10, 11, 0, 0)));
        assert_eq!(s.next_slot(utc(2025, 10, 11, 0, 0)), Some(utc(2025, 10, 12, 0, 0)));
    }

    #[test]
    fn nonsense_is_an_error_quoting_the_expression() {
        let err = LocalSchedule::parse("every six hours", chrono_tz::UTC).unwrap_err();
        assert_eq!(err.expr, "every six hours");
        assert!(LocalSchedule::parse("61 * * * *", chrono_tz::UTC).is_err());
    }
}
