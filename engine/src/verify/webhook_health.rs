//! Webhook health, which no webhook dashboard can tell by itself: calsync
//! knows when a cycle found changes in Cal.com that no webhook announced.
//! When that keeps happening, or nothing has arrived for a long time while
//! bookings changed, the admins get one notification saying so and how to
//! fix it; it clears when deliveries arrive again. Pure: the runner counts,
//! the store keeps the counts and the open alert.

use chrono::{DateTime, Duration, Utc};

use crate::store::{NewNotification, NotificationKind, Severity};

/// How far back the counts are judged.
pub const LOOKBACK: Duration = Duration::hours(24);
/// Unannounced changes that can be bad luck (a delivery lost once).
pub const TOLERATED: u64 = 2;
/// Default for `CALSYNC_WEBHOOK_SILENCE`: no delivery for this long while
/// bookings changed means webhooks are not arriving.
pub const DEFAULT_SILENCE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// What the last [`LOOKBACK`] looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// Changes to our appointments' bookings that cycles found in Cal.com.
    pub changes: u64,
    /// How many of them a webhook had announced.
    pub announced: u64,
    pub last_delivery: Option<DateTime<Utc>>,
}

impl Coverage {
    pub fn unannounced(&self) -> u64 {
        self.changes.saturating_sub(self.announced)
    }

    /// Whether webhooks look disabled or misconfigured: most changes came
    /// unannounced (more than a lost delivery or two), or changes came while
    /// no delivery arrived for `silence`.
    pub fn looks_broken(&self, now: DateTime<Utc>, silence: Duration) -> bool {
        let mostly_unannounced = self.unannounced() > TOLERATED && self.announced * 2 < self.changes;
        let silent = self.last_delivery.is_none_or(|at| now - at >= silence);
        mostly_unannounced || (self.unannounced() > 0 && silent)
    }
}

/// The one notification for an open alert.
pub fn alert(slug: &str, coverage: &Coverage, opened: DateTime<Utc>, last: Option<String>) -> NewNotification {
    let last = last.map_or_else(|| "calsync has never received one".to_owned(), |at| format!("the last arrived {at}"));
    NewNotification {
        kind: NotificationKind::CalcomConnection,
        severity: Severity::Warning,
        title: "Cal.com webhooks look disabled or misconfigured".into(),
        body: format!(
            "In the last 24 hours calsync found {} change(s) in Cal.com that no webhook announced (of {}); {last}. \
             Changes are still found by the 6-hour cycle, only later. To fix it, in Cal.com open Settings → \
             Developer → Webhooks and check that a webhook sends to calsync's /webhooks/calcom/{slug}, is \
             enabled, has the booking triggers (created, rescheduled, cancelled, rejected, requested), and has \
             calsync's webhook secret (Settings → Cal.com connection here).",
            coverage.unannounced(),
            coverage.changes,
        ),
        appointment_id: None,
        issue_id: None,
        dedupe_key: Some(format!("webhooks:silent:{}", opened.timestamp_millis())),
    }
}

/// The notice when deliveries arrive again.
pub fn recovered(opened: DateTime<Utc>) -> NewNotification {
    NewNotification {
        kind: NotificationKind::CalcomConnection,
        severity: Severity::Info,
        title: "Cal.com webhooks are arriving again".into(),
        body: "calsync is receiving Cal.com's webhooks again: changes show within seconds.".into(),
        appointment_id: None,
        issue_id: None,
        dedupe_key: Some(format!("webhooks:back:{}", opened.timestamp_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
    }

    fn coverage(changes: u64, announced: u64, hours_since_delivery: Option<i64>) -> Coverage {
        Coverage { changes, announced, last_delivery: hours_since_delivery.map(|h| now() - Duration::hours(h)) }
    }

    #[test]
    fn a_lost_delivery_or_two_is_no_alarm() {
        let day = Duration::hours(24);
        assert!(!coverage(10, 8, Some(1)).looks_broken(now(), day));
        assert!(!coverage(2, 0, Some(1)).looks_broken(now(), day), "two unannounced, deliveries recent");
        assert!(!coverage(0, 0, None).looks_broken(now(), day), "nothing changed, nothing to say");
    }

    #[test]
    fn mostly_unannounced_changes_or_silence_while_bookings_change_is() {
        let day = Duration::hours(24);
        assert!(coverage(5, 1, Some(1)).looks_broken(now(), day));
        assert!(coverage(1, 0, None).looks_broken(now(), day), "never a delivery, and a change");
        assert!(coverage(1, 0, Some(30)).looks_broken(now(), day), "silent for longer than allowed");
        assert!(!coverage(1, 0, Some(30)).looks_broken(now(), Duration::hours(48)), "silence is configurable");
    }
}
