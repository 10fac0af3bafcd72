//! DATA_MISMATCH detection: our appointment against Cal.com's booking,
//! comparing instants (never wall-clock strings), the status mapping, and
//! the attendee email where both sides have one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::AppointmentStatus;
use crate::store::Appointment;

/// Cal.com's booking status (API v2 spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteStatus {
    Accepted,
    Pending,
    Cancelled,
    Rejected,
    /// Waiting for its host: the meeting is still on.
    #[serde(rename = "awaiting_host")]
    AwaitingHost,
    /// A status calsync does not know: it proves nothing either way, so a
    /// booking with it is neither an orphan nor in sync nor different.
    #[serde(other)]
    Unknown,
}

/// The facts about a Cal.com booking that verification compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteBooking {
    pub uid: String,
    pub status: RemoteStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub attendee_emails: Vec<String>,
    pub attendee_phones: Vec<String>,
    pub rescheduled_to_uid: Option<String>,
    /// When Cal.com last changed it (`updatedAt`, else `createdAt`), for
    /// the review page's evidence; `None` in snapshots taken before it was kept.
    #[serde(default)]
    pub changed_at: Option<DateTime<Utc>>,
    /// Its event type (the service booked), for suggested links; `None`
    /// when Cal.com names none (a deleted event type) and in snapshots
    /// taken before it was kept.
    #[serde(default)]
    pub event_type_id: Option<i64>,
}

impl RemoteStatus {
    /// Whether the meeting is going to happen; `None` when the status is unknown.
    pub fn is_live(self) -> Option<bool> {
        match self {
            RemoteStatus::Accepted | RemoteStatus::Pending | RemoteStatus::AwaitingHost => Some(true),
            RemoteStatus::Cancelled | RemoteStatus::Rejected => Some(false),
            RemoteStatus::Unknown => None,
        }
    }
}

impl RemoteBooking {
    /// Known to be going to happen (accepted, pending, awaiting its host).
    pub fn is_live(&self) -> bool {
        self.status.is_live() == Some(true)
    }

    /// Could be going to happen: live, or a status calsync does not know.
    pub fn may_be_live(&self) -> bool {
        self.status.is_live() != Some(false)
    }
}

/// One field that differs, with both values as people read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub field: String,
    pub ours: String,
    pub calcom: String,
}

/// Whether our status and Cal.com's say the same thing: a live appointment
/// is accepted or pending there; a cancelled one is cancelled or rejected.
/// (An unknown status never reaches here: see `verify::rules::evidence`.)
fn statuses_agree(ours: AppointmentStatus, theirs: RemoteStatus) -> bool {
    let ours_live = !matches!(ours, AppointmentStatus::Cancelled);
    theirs.is_live().is_none_or(|theirs_live| ours_live == theirs_live)
}

pub fn remote_status_name(status: RemoteStatus) -> &'static str {
    match status {
        RemoteStatus::Accepted => "accepted",
        RemoteStatus::Pending => "pending",
        RemoteStatus::Cancelled => "cancelled",
        RemoteStatus::Rejected => "rejected",
        RemoteStatus::AwaitingHost => "awaiting_host",
        RemoteStatus::Unknown => "unknown",
    }
}

pub fn differences(ours: &Appointment, theirs: &RemoteBooking) -> Vec<Difference> {
    let mut diffs = Vec::new();
    let mut differ =
        |field: &str, a: String, b: String| diffs.push(Difference { field: field.into(), ours: a, calcom: b });
    if ours.starts_at != theirs.start {
        differ("start", ours.starts_at.to_rfc3339(), theirs.start.to_rfc3339());
    }
    if ours.ends_at != theirs.end {
        differ("end", ours.ends_at.to_rfc3339(), theirs.end.to_rfc3339());
    }
    if !statuses_agree(ours.status, theirs.status) {
        differ("status", ours.status.as_str().into(), remote_status_name(theirs.status).into());
    }
    if let Some(email) = ours.customer_email.as_deref() {
        let known = !theirs.attendee_emails.is_empty();
        let matches = theirs.attendee_emails.iter().any(|e| e.eq_ignore_ascii_case(email));
        if known && !matches {
            differ("attendee_email", email.into(), theirs.attendee_emails.join(", "));
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn ours() -> Appointment {
        crate::store::sample_appointment()
    }

    fn theirs() -> RemoteBooking {
        let a = ours();
        RemoteBooking {
            uid: "abc".into(),
            status: RemoteStatus::Accepted,
            start: a.starts_at,
            end: a.ends_at,
            attendee_emails: vec!["Tom.Klein@example.com".into()],
            attendee_phones: vec![],
            rescheduled_to_uid: None,
            changed_at: None,
            event_type_id: None,
        }
    }

    #[test]
    fn the_same_instant_in_another_zone_is_no_difference() {
        let mut b = theirs();
        b.start = chrono::DateTime::parse_from_rfc3339("2025-10-13T10:00:00+02:00").unwrap().with_timezone(&Utc);
        assert!(differences(&ours(), &b).is_empty());
    }

    #[test]
    fn moved_time_is_reported_with_both_values() {
        let mut b = theirs();
        b.start += Duration::hours(1);
        b.end += Duration::hours(1);
        let d = differences(&ours(), &b);
        assert_eq!(d.iter().map(|d| d.field.as_str()).collect::<Vec<_>>(), ["start", "end"]);
        assert_eq!(d[0].ours, "2025-10-13T08:00:00+00:00");
        assert_eq!(d[0].calcom, "2025-10-13T09:00:00+00:00");
    }

    #[test]
    fn status_mapping() {
        let mut a = ours();
        for (theirs_status, agree) in [
            (RemoteStatus::Accepted, true),
            (RemoteStatus::Pending, true),
            (RemoteStatus::Cancelled, false),
            (RemoteStatus::Rejected, false),
        ] {
            let mut b = theirs();
            b.status = theirs_status;
            assert_eq!(differences(&a, &b).is_empty(), agree, "scheduled vs {theirs_status:?}");
        }
        a.status = AppointmentStatus::Cancelled;
        let mut b = theirs();
        b.status = RemoteStatus::Rejected;
        assert!(differences(&a, &b).is_empty(), "cancelled ↔ rejected agree");
    }

    #[test]
    fn email_compared_only_when_both_sides_have_one() {
        let mut b = theirs();
        b.attendee_emails = vec!["someone@else.de".into()];
        assert_eq!(differences(&ours(), &b)[0].field, "attendee_email");
        b.attendee_emails.clear();
        assert!(differences(&ours(), &b).is_empty());
        let mut a = ours();
        a.customer_email = None;
        assert!(differences(&a, &theirs()).is_empty());
    }
}
