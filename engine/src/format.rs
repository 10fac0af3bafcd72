//! Times as the organization's people read them: in the organization's
//! time zone, German-style ("13.10.2025 10:00") for German locales, ISO-like
//! otherwise. Done on the server, where the time-zone database lives, so
//! the browser bundle stays small and SSR and hydration agree; the engine
//! writes its findings ("Cal.com has 12:00, we have 11:00") with it too.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::verify::compare::Difference;

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

    /// "13.10.2025"
    pub fn date(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.time_zone).format(self.date_pattern()).to_string()
    }

    /// "10:00"
    pub fn time(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.time_zone).format("%H:%M").to_string()
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

/// The "s" of "3 appointments", empty for one.
pub fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A verification's differences as one sentence for the review page, the
/// notification and the email: "Differs from Cal.com: start: Cal.com has
/// 12:00, we have 11:00 (03.12.2026)". The differences keep their wire
/// values (RFC 3339) for the technical details; instants are rewritten here.
pub fn describe_differences(diffs: &[Difference], local: LocalFormat) -> String {
    let parts: Vec<String> = diffs.iter().map(|d| describe_difference(d, local)).collect();
    format!("Differs from Cal.com: {}", parts.join("; "))
}

fn describe_difference(d: &Difference, local: LocalFormat) -> String {
    let instant = |text: &str| DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc));
    let field = match d.field.as_str() {
        "attendee_email" => "customer email",
        other => other,
    };
    match (instant(&d.calcom), instant(&d.ours)) {
        (Some(theirs), Some(ours)) if local.date(theirs) == local.date(ours) => {
            format!("{field}: Cal.com has {}, we have {} ({})", local.time(theirs), local.time(ours), local.date(ours))
        }
        (Some(theirs), Some(ours)) => {
            format!("{field}: Cal.com has {}, we have {}", local.date_time(theirs), local.date_time(ours))
        }
        _ => format!("{field}: Cal.com has {}, we have {}", shown(&d.calcom), shown(&d.ours)),
    }
}

fn shown(value: &str) -> &str {
    if value.is_empty() {
        "nothing"
    } else {
        value
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

    #[test]
    fn differences_read_in_local_time_with_cal_coms_side_first() {
        let diff = |field: &str, ours: &str, calcom: &str| Difference {
            field: field.into(),
            ours: ours.into(),
            calcom: calcom.into(),
        };
        let local = LocalFormat::new(chrono_tz::Europe::Berlin, "de-DE");
        let moved = diff("start", "2026-12-03T10:00:00+00:00", "2026-12-03T11:00:00+00:00");
        assert_eq!(
            describe_differences(&[moved], local),
            "Differs from Cal.com: start: Cal.com has 12:00, we have 11:00 (03.12.2026)"
        );
        let other_day = diff("end", "2026-12-03T10:00:00+00:00", "2026-12-04T10:00:00+00:00");
        let status = diff("status", "scheduled", "cancelled");
        let email = diff("attendee_email", "a@example.com", "");
        assert_eq!(
            describe_differences(&[other_day, status, email], LocalFormat::new(chrono_tz::UTC, "en")),
            "Differs from Cal.com: end: Cal.com has 2026-12-04 10:00, we have 2026-12-03 10:00; \
             status: Cal.com has cancelled, we have scheduled; customer email: Cal.com has nothing, we have a@example.com"
        );
    }
}
