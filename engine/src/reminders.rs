//! Reminders for issues someone acknowledged and then left: once an
//! acknowledged issue has been open for the organization's
//! `ack_reminder_hours`, the in-app feed brings it up again, naming who
//! acknowledged it and who owns it. Once per issue; an issue resolved or
//! ignored meanwhile is not brought up. The server's reminder task calls
//! `send_due` every few minutes; several instances may, the store's mark
//! makes it once.

use std::collections::hash_map::{Entry, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::{OrgId, UserId};
use crate::store::{
    Appointment, Issue, NewNotification, NotificationKind, Organization, Severity, Store, StoreError, User,
};
use crate::verify::alerts::short_time;

/// Most reminders one round sends; the rest wait for the next round.
pub const BATCH: u32 = 200;

/// Sends the reminders that are due at `now`; returns how many.
pub async fn send_due(store: &Store, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let due = store.issues_to_remind(now, BATCH).await?;
    let mut orgs: HashMap<OrgId, (Organization, Vec<User>)> = HashMap::new();
    let mut sent = 0;
    for (org_id, issue) in due {
        let (org, users) = match orgs.entry(org_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(first) => first.insert((store.organization(org_id).await?, store.users(org_id).await?)),
        };
        let appointment = match issue.appointment_id {
            Some(id) => Some(store.appointment(org_id, id).await?),
            None => None,
        };
        let note = reminder(&issue, org, users, appointment.as_ref());
        if store.remind(org_id, issue.id, &note, now).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// The reminder's words: what the issue is, who acknowledged it when, who
/// owns it, and whose appointment it is.
pub fn reminder(
    issue: &Issue,
    org: &Organization,
    users: &[User],
    appointment: Option<&Appointment>,
) -> NewNotification {
    let name = |id: UserId| crate::store::name_among(users, id);
    let tz = org.time_zone;
    let mut lines = Vec::new();
    if let Some(ack) = issue.acknowledged {
        lines.push(format!(
            "Issue #{} ({}) was acknowledged by {} on {} and is still open",
            issue.id,
            issue.code.label(),
            name(ack.by),
            short_time(ack.at, tz)
        ));
    }
    lines.push(match issue.assigned_to {
        Some(owner) => format!("Owner: {}", name(owner)),
        None => "Nobody owns it yet".to_owned(),
    });
    match (appointment, &issue.calcom_booking_uid) {
        (Some(a), _) => lines.push(format!("Customer: {} │ Time: {}", a.customer_name, short_time(a.starts_at, tz))),
        (None, Some(uid)) => lines.push(format!("Cal.com booking {uid}")),
        (None, None) => {}
    }
    NewNotification {
        kind: NotificationKind::Reminder,
        severity: Severity::Warning,
        title: "Still open after it was acknowledged".into(),
        body: lines.join("\n"),
        appointment_id: issue.appointment_id,
        issue_id: Some(issue.id),
        dedupe_key: Some(format!("reminder:{}", issue.id)),
    }
}
