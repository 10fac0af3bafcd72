//! What alert rules send: the feed notification (whose words the email
//! repeats) and the outgoing webhook's JSON.

use chrono::{DateTime, Utc};

use super::rules::{RuleKind, RuleSettings};
use crate::store::{NewNotification, NotificationKind, Organization, Severity};
use crate::verify::alerts::short_time;

/// The rule fired on `line` (a first failure) or on the open-issue count.
pub fn fired(rule: &RuleSettings, line: &str) -> NewNotification {
    NewNotification {
        kind: NotificationKind::Alert,
        severity: Severity::Warning,
        title: format!("Alert: {}", rule.kind.label()),
        body: line.to_owned(),
        appointment_id: None,
        issue_id: None,
        dedupe_key: None,
    }
}

/// The open-issue count's line.
pub fn open_over_line(open: i64, threshold: u32) -> String {
    format!("{open} issues are open in the review queue (the rule's threshold is {threshold})")
}

/// What the throttle held back since the last push, in one notice.
pub fn digest(
    rule: &RuleSettings,
    count: i64,
    lines: &[String],
    since: Option<DateTime<Utc>>,
    org: &Organization,
) -> NewNotification {
    let since = since.map(|at| format!(" since {}", short_time(at, org.time_zone))).unwrap_or_default();
    let noun = if count == 1 { "event" } else { "events" };
    let mut body = vec![format!(
        "{count} more {noun}{since}, held back by the rule's limit of one alert per {} min:",
        rule.throttle_minutes
    )];
    body.extend(lines.iter().map(|l| format!("• {l}")));
    let unlisted = count - lines.len() as i64;
    if unlisted > 0 {
        body.push(format!("…and {unlisted} more"));
    }
    NewNotification {
        kind: NotificationKind::Alert,
        severity: Severity::Warning,
        title: format!("Alert digest: {}", rule.kind.label()),
        body: body.join("\n"),
        appointment_id: None,
        issue_id: None,
        dedupe_key: None,
    }
}

/// The condition cleared.
pub fn recovered(
    kind: RuleKind,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    org: &Organization,
) -> NewNotification {
    let tz = org.time_zone;
    let span = match since {
        Some(at) => format!(" (alerting since {}, cleared {})", short_time(at, tz), short_time(now, tz)),
        None => String::new(),
    };
    NewNotification {
        kind: NotificationKind::AlertRecovered,
        severity: Severity::Info,
        title: format!("Recovered: {}", kind.label()),
        body: format!("{}{span}", kind.recovered()),
        appointment_id: None,
        issue_id: None,
        dedupe_key: None,
    }
}

/// What an outgoing webhook carries. `text` is the whole message, so a
/// Slack incoming webhook shows it as is; the rest is for a CRM.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WebhookPayload {
    /// "alert.fired", "alert.digest", "alert.recovered" or "issue.opened".
    #[serde(rename = "type")]
    pub kind: String,
    pub rule: RuleKind,
    pub organization: String,
    pub title: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

impl WebhookPayload {
    pub fn new(
        kind: &str,
        rule: RuleKind,
        org: &Organization,
        note: &NewNotification,
        now: DateTime<Utc>,
    ) -> WebhookPayload {
        WebhookPayload {
            kind: kind.to_owned(),
            rule,
            organization: org.slug.clone(),
            title: note.title.clone(),
            text: format!("{}\n{}", note.title, note.body),
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn org() -> Organization {
        crate::store::sample_organization()
    }

    #[test]
    fn a_digest_counts_everything_and_lists_what_it_kept() {
        let rule = RuleSettings { throttle_minutes: 60, ..RuleSettings::default_for(RuleKind::FirstFailure) };
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        let note = digest(&rule, 3, &["Appointment #1".into(), "Appointment #2".into()], Some(at), &org());
        assert_eq!(note.title, "Alert digest: A verification fails for the first time");
        assert_eq!(
            note.body,
            "3 more events since 03.12 10:00, held back by the rule's limit of one alert per 60 min:\n• Appointment #1\n• Appointment #2\n…and 1 more"
        );
    }

    #[test]
    fn a_recovery_says_how_long_it_lasted_in_local_time() {
        let since = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        let note = recovered(RuleKind::OpenOver, Some(since), since + chrono::Duration::minutes(42), &org());
        assert_eq!(note.title, "Recovered: Open issues exceed a threshold");
        assert_eq!(
            note.body,
            "Open issues are back at or below the threshold (alerting since 03.12 10:00, cleared 03.12 10:42)"
        );
        assert_eq!(note.kind, NotificationKind::AlertRecovered);
    }
}
