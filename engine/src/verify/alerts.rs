//! What admins are told, in the words of the spec's notification examples.
//! One notification per open issue (its id is the dedupe key), and
//! "sync restored" batched per run.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{ErrorCode, IssueId};
use crate::store::{Appointment, NewNotification, NotificationKind, Opened, Severity, SyncState};

/// "13.10 10:00": the seed's short day-month-time in the organization's zone.
pub fn short_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%d.%m %H:%M").to_string()
}

/// "Retrying in 3h (13.10 14:00)", the seed's words for when the verifier
/// tries again by itself, with the local time as the notification is read
/// later; or that it will not.
pub fn retry_words(next: Option<DateTime<Utc>>, now: DateTime<Utc>, tz: Tz) -> String {
    let Some(at) = next else { return "No automatic retry".to_owned() };
    let minutes = (at - now).num_minutes().max(1);
    let wait = match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{}h", (m + 30) / 60),
        m => format!("{} days", (m + 12 * 60) / (24 * 60)),
    };
    format!("Retrying in {wait} ({})", short_time(at, tz))
}

/// The notification for a newly opened issue about an appointment, whose
/// sync state the verification has just left as `state`.
pub fn issue_opened(
    issue: IssueId,
    code: ErrorCode,
    appointment: &Appointment,
    tz: Tz,
    state: &SyncState,
    now: DateTime<Utc>,
) -> NewNotification {
    let who = format!("Customer: {} │ Time: {}", appointment.customer_name, short_time(appointment.starts_at, tz));
    let (kind, severity, title, body) = match code {
        ErrorCode::VerificationError | ErrorCode::CircuitOpen => (
            NotificationKind::VerificationFailed,
            Severity::Error,
            "Sync Verification Failed",
            format!(
                "Appointment #{} verification failed\nReason: {} │ {}\n{who}",
                appointment.id,
                state.error_detail.as_deref().unwrap_or("Cal.com API error"),
                retry_words(state.next_verification_at, now, tz)
            ),
        ),
        _ => (
            NotificationKind::SyncIssue,
            Severity::Warning,
            "Cal.com Sync Issue",
            format!("Appointment #{} requires manual review ({})\n{who}", appointment.id, code.label()),
        ),
    };
    NewNotification {
        kind,
        severity,
        title: title.into(),
        body,
        appointment_id: Some(appointment.id),
        issue_id: Some(issue),
        dedupe_key: Some(format!("issue:{issue}")),
    }
}

/// The note of an issue that closed itself: what the verification that
/// contradicted the finding saw, and when (in the organization's zone).
pub fn resolved_itself(at: DateTime<Utc>, tz: Tz) -> String {
    format!("Resolved itself: Cal.com's booking matched ours when checked on {}", short_time(at, tz))
}

/// The note of a Cal.com-only finding that closed itself because Cal.com
/// now lists its booking as called off (`status`: "cancelled", "declined").
pub fn calcom_only_called_off(uid: &str, status: &str, at: DateTime<Utc>, tz: Tz) -> String {
    format!("Resolved itself: Cal.com listed booking {uid} as {status} when checked on {}", short_time(at, tz))
}

/// The note of a Cal.com-only finding that closed itself because an
/// appointment in calsync now carries its booking.
pub fn calcom_only_claimed(uid: &str, by: &Appointment, at: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "Resolved itself: booking {uid} belongs to appointment #{} ({}, {}) when checked on {}",
        by.id,
        by.customer_name,
        short_time(by.starts_at, tz),
        short_time(at, tz)
    )
}

/// The notification for a Cal.com booking that has no appointment.
pub fn calcom_only_opened(issue: IssueId, uid: &str, start: DateTime<Utc>, tz: Tz) -> NewNotification {
    NewNotification {
        kind: NotificationKind::SyncIssue,
        severity: Severity::Warning,
        title: "Cal.com Sync Issue".into(),
        body: format!("Cal.com booking {uid} ({}) has no appointment in calsync", short_time(start, tz)),
        appointment_id: None,
        issue_id: Some(issue),
        dedupe_key: Some(format!("issue:{issue}")),
    }
}

/// "5 appointments successfully verified; 2 bookings only Cal.com had
/// settled themselves (…)", each part only when it counts something.
pub fn restored_words(restored: u64, settled: u64) -> String {
    let mut parts = Vec::new();
    if restored > 0 {
        let noun = if restored == 1 { "appointment" } else { "appointments" };
        parts.push(format!("{restored} {noun} successfully verified"));
    }
    if settled > 0 {
        let noun = if settled == 1 { "booking" } else { "bookings" };
        parts.push(format!(
            "{settled} {noun} only Cal.com had settled {} (called off there, or now on an appointment)",
            if settled == 1 { "itself" } else { "themselves" }
        ));
    }
    parts.join("; ")
}

/// A regression's notification says so: admins closed this problem before.
pub fn came_back(mut note: NewNotification, opened: Opened) -> NewNotification {
    if let Opened::Regressed(_) = opened {
        note.title.push_str(" (came back)");
        note.body.push_str("\nIt came back after it was closed: see the review queue's regressions.");
    }
    note
}

/// "5 appointments successfully verified", once per run; findings of
/// bookings only Cal.com had that settled themselves are named apart, as
/// no appointment is behind them.
pub fn sync_restored(restored: u64, settled: u64, dedupe_key: String) -> NewNotification {
    NewNotification {
        kind: NotificationKind::SyncRestored,
        severity: Severity::Info,
        title: "Sync Restored".into(),
        body: restored_words(restored, settled),
        appointment_id: None,
        issue_id: None,
        dedupe_key: Some(dedupe_key),
    }
}

/// The organization's Cal.com key is refused: one alert a day at most,
/// however many appointments ran into it.
pub fn calcom_unauthorized(now: DateTime<Utc>) -> NewNotification {
    NewNotification {
        kind: NotificationKind::CalcomConnection,
        severity: Severity::Error,
        title: "Cal.com connection problem".into(),
        body: "Cal.com rejected the API key; verification is paused until it is replaced in Settings".into(),
        appointment_id: None,
        issue_id: None,
        dedupe_key: Some(format!("calcom-unauthorized:{}", now.format("%Y-%m-%d"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn times_are_local_to_the_organization() {
        let at = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        assert_eq!(short_time(at, chrono_tz::Europe::Berlin), "13.10 10:00");
    }

    #[test]
    fn a_regression_says_it_came_back_and_a_first_opening_does_not() {
        let at = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        let note = || calcom_only_opened(IssueId(7), "k2nY7qL0", at, chrono_tz::UTC);
        let back = came_back(note(), Opened::Regressed(IssueId(7)));
        assert_eq!(back.title, "Cal.com Sync Issue (came back)");
        assert!(back.body.ends_with("It came back after it was closed: see the review queue's regressions."));
        assert_eq!(came_back(note(), Opened::New(IssueId(7))), note());
    }

    #[test]
    fn a_failure_says_when_it_is_tried_again_in_the_seeds_words() {
        let now = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        let tz = chrono_tz::Europe::Berlin;
        let retry = |d: Duration| retry_words(Some(now + d), now, tz);
        assert_eq!(retry(Duration::hours(3)), "Retrying in 3h (13.10 13:00)");
        assert_eq!(retry(Duration::minutes(5)), "Retrying in 5 min (13.10 10:05)");
        assert_eq!(retry(Duration::seconds(10)), "Retrying in 1 min (13.10 10:00)");
        assert_eq!(retry(Duration::minutes(5 * 60 + 40)), "Retrying in 6h (13.10 15:40)");
        assert_eq!(retry(Duration::days(3)), "Retrying in 3 days (16.10 10:00)");
        assert_eq!(retry_words(None, now, tz), "No automatic retry");
    }

    #[test]
    fn restored_counts_read_naturally() {
        assert_eq!(sync_restored(5, 0, "k".into()).body, "5 appointments successfully verified");
        assert_eq!(sync_restored(1, 0, "k".into()).body, "1 appointment successfully verified");
        assert_eq!(
            sync_restored(0, 1, "k".into()).body,
            "1 booking only Cal.com had settled itself (called off there, or now on an appointment)"
        );
        assert_eq!(
            sync_restored(3, 2, "k".into()).body,
            "3 appointments successfully verified; 2 bookings only Cal.com had settled themselves (called off \
             there, or now on an appointment)"
        );
    }
}
