//! Times as the organization's people read them: in the organization's
//! time zone, German-style ("13.10.2025 10:00") for German locales, ISO-like
//! otherwise. Done on the server, where the time-zone database lives, so
//! the browser bundle stays small and SSR and hydration agree.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// How an organization writes dates and times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalFormat {
    pub time_zone: Tz,
    german: bool,
}

impl LocalFormat {
    pub fn new(time_zone: Tz, locale: &str) -> LocalFormat {
        let german = locale.get(..2).is_some_and(|lang| lang.eq_ignore_ascii_case("de"));
        LocalFormat { time_zone, german }
    }

    fn date_pattern(self) -> &'static str {
        if self.german {
            "%d.%m.%Y"
        } else {
            "%Y-%m-%d"
        }
    }

    /// "13.10.2025 10:00"
    pub fn date_time(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.time_zone).format(&format!("{} %H:%M", self.date_pattern())).to_string()
    }

    /// "13.10.2025 10:00:05": for history, where seconds tell attempts apart.
    pub fn date_time_seconds(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.time_zone).format(&format!("{} %H:%M:%S", self.date_pattern())).to_string()
    }

    /// "13.10.2025 10:00 – 10:45", or both full when the end is another day.
    pub fn range(self, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        let (s, e) = (start.with_timezone(&self.time_zone), end.with_timezone(&self.time_zone));
        if s.date_naive() == e.date_naive() {
            format!("{} – {}", self.date_time(start), e.format("%H:%M"))
        } else {
            format!("{} – {}", self.date_time(start), self.date_time(end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn german_locales_get_german_dates_in_the_org_time_zone() {
        let at = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(LocalFormat::new(berlin, "de-DE").date_time(at), "13.10.2025 10:00");
        assert_eq!(LocalFormat::new(berlin, "en").date_time(at), "2025-10-13 10:00");
        let end = at + chrono::Duration::minutes(45);
        assert_eq!(LocalFormat::new(berlin, "de").range(at, end), "13.10.2025 10:00 – 10:45");
    }
}
