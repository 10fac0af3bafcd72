//! The organization's days: when a local date begins, as an instant.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The first instant of `day` in `tz`. Where a DST change skips midnight
/// (some zones spring forward at 00:00), the day begins at its first valid
/// local time, an hour later.
pub fn start_of_day(day: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    let midnight = day.and_hms_opt(0, 0, 0)?;
    tz.from_local_datetime(&midnight)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(midnight + Duration::hours(1))).earliest())
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_day_begins_at_local_midnight() {
        let start = start_of_day(date("2026-12-06"), chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(start.to_rfc3339(), "2026-12-05T23:00:00+00:00");
    }

    #[test]
    fn a_midnight_that_dst_skips_begins_the_day_an_hour_later() {
        // Chile springs forward at 00:00: 2026-09-06 has no 00:00 in Santiago.
        let start = start_of_day(date("2026-09-06"), chrono_tz::America::Santiago).unwrap();
        assert_eq!(start.with_timezone(&chrono_tz::America::Santiago).format("%H:%M").to_string(), "01:00");
    }
}
