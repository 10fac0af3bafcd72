//! The emails of the spec ("⚠️ Cal.com Sync Issue: Appointment #1236"),
//! each with a plain-text and an HTML part and a link to the review page.

use chrono_tz::Tz;

use crate::domain::ErrorCode;
use crate::store::Appointment;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// "13.10.2025 10:00" in the organization's zone, as the seed's email shows it.
fn long_time(appointment: &Appointment, tz: Tz) -> String {
    appointment.starts_at.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string()
}

fn issue_type(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::OrphanedLocal => "Appointment exists in database but not in Cal.com",
        ErrorCode::OrphanedCalcom => "Booking exists in Cal.com but not in the database",
        ErrorCode::DataMismatch => "Time or status differ between database and Cal.com",
        ErrorCode::VerificationError => "Verification kept failing (Cal.com API or network error)",
        ErrorCode::CircuitOpen => "Cal.com unavailable",
    }
}

fn status_words(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::OrphanedLocal => "Orphaned Local",
        ErrorCode::OrphanedCalcom => "Orphaned Cal.com",
        ErrorCode::DataMismatch => "Data Mismatch",
        ErrorCode::VerificationError => "Verification Failed",
        ErrorCode::CircuitOpen => "Circuit Open",
    }
}

fn render(
    subject: String,
    intro: &str,
    details: &[(&str, String)],
    link_text: &str,
    link: &str,
    outro: &str,
) -> EmailContent {
    let mut text = format!("{intro}\n\nDetails:\n");
    for (label, value) in details {
        text.push_str(&format!("• {label}: {value}\n"));
    }
    text.push_str(&format!("\n{link_text}: {link}\n\n{outro}\n"));

    let items: String = details
        .iter()
        .map(|(label, value)| format!("<li><strong>{}:</strong> {}</li>", escape(label), escape(value)))
        .collect();
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#1d2430\">\
         <p>{intro}</p><p><strong>Details:</strong></p><ul>{items}</ul>\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 18px;background:#2457d6;color:#fff;\
         border-radius:8px;text-decoration:none\">{link_text} →</a></p><p>{outro}</p></body></html>",
        intro = escape(intro),
        link = escape(link),
        link_text = escape(link_text),
        outro = escape(outro),
    );
    EmailContent { subject, text, html }
}

/// An issue about one of our appointments.
pub fn appointment_issue(code: ErrorCode, appointment: &Appointment, tz: Tz, public_url: &str) -> EmailContent {
    let link = format!("{public_url}/appointments/{}", appointment.id);
    render(
        format!("⚠️ Cal.com Sync Issue: Appointment #{}", appointment.id),
        "An appointment synchronization issue has been detected.",
        &[
            ("Issue Type", issue_type(code).to_owned()),
            ("Appointment", format!("#{}", appointment.id)),
            ("Customer", appointment.customer_name.clone()),
            ("Time", long_time(appointment, tz)),
            ("Status", status_words(code).to_owned()),
        ],
        "Review Appointment",
        &link,
        "Please review and resolve this sync issue.",
    )
}

/// A Cal.com booking with no appointment.
pub fn calcom_only_issue(issue_id: i64, uid: &str, when: &str, public_url: &str) -> EmailContent {
    render(
        format!("⚠️ Cal.com Sync Issue: Booking {uid}"),
        "A Cal.com booking without an appointment has been detected.",
        &[
            ("Issue Type", issue_type(ErrorCode::OrphanedCalcom).to_owned()),
            ("Booking", uid.to_owned()),
            ("Time", when.to_owned()),
            ("Status", status_words(ErrorCode::OrphanedCalcom).to_owned()),
        ],
        "Review Booking",
        &format!("{public_url}/review/{issue_id}"),
        "Please review and resolve this sync issue.",
    )
}

/// Problems that fixed themselves during a run.
pub fn sync_restored(restored: u64, settled: u64, public_url: &str) -> EmailContent {
    let words = crate::verify::alerts::restored_words(restored, settled);
    let subject = match restored {
        0 => format!("✅ Cal.com Sync Restored: {settled} Cal.com-only booking{}", if settled == 1 { "" } else { "s" }),
        1 => "✅ Cal.com Sync Restored: 1 appointment".to_owned(),
        n => format!("✅ Cal.com Sync Restored: {n} appointments"),
    };
    render(
        subject,
        &format!("{words}, after earlier sync problems."),
        &[],
        "Open Dashboard",
        &format!("{public_url}/"),
        "No action is needed.",
    )
}

/// Cal.com refuses the organization's API key.
pub fn calcom_unauthorized(public_url: &str) -> EmailContent {
    render(
        "🔑 Cal.com rejected calsync's API key".to_owned(),
        "Cal.com answered 401/403: the organization's API key is wrong, expired or revoked. Verification is paused until it is replaced; nothing was flagged.",
        &[],
        "Open Settings",
        &format!("{public_url}/settings"),
        "Set a new key under Settings → Cal.com connection.",
    )
}

/// A notice about the organization's Cal.com setup (webhook health), with
/// the notification's own title and words.
pub fn notice(note: &crate::store::NewNotification, public_url: &str) -> EmailContent {
    render(format!("Cal.com: {}", note.title), &note.body, &[], "Open calsync", &format!("{public_url}/"), "")
}

/// An alert rule's push (alert, digest, recovery), with the notification's
/// own words and a link to the review queue.
pub fn alert(note: &crate::store::NewNotification, public_url: &str) -> EmailContent {
    render(
        format!("calsync: {}", note.title),
        &note.body,
        &[],
        "Open the review queue",
        &format!("{public_url}/review"),
        "",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppointmentId, AppointmentSource, AppointmentStatus, OrgId, SyncStatus};
    use crate::store::SyncState;
    use chrono::{Duration, TimeZone, Utc};

    fn tom() -> Appointment {
        let start = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
        Appointment {
            id: AppointmentId(1236),
            org_id: OrgId(1),
            external_id: None,
            customer_name: "Tom <Klein>".into(),
            customer_email: None,
            customer_phone: None,
            service: "Schnitt".into(),
            starts_at: start,
            ends_at: start + Duration::minutes(45),
            time_zone: chrono_tz::Europe::Berlin,
            status: AppointmentStatus::Scheduled,
            source: AppointmentSource::Retell,
            calcom_booking_uid: None,
            calcom_event_type_id: None,
            sync: SyncState {
                status: SyncStatus::OrphanedLocal,
                error_code: None,
                error_detail: None,
                attempts: 3,
                last_verified_at: None,
                next_verification_at: None,
                requires_manual_review: true,
            },
            created_at: start,
            updated_at: start,
        }
    }

    #[test]
    fn the_seed_email_with_a_review_link_in_both_parts() {
        let mail =
            appointment_issue(ErrorCode::OrphanedLocal, &tom(), chrono_tz::Europe::Berlin, "https://sync.example.com");
        assert_eq!(mail.subject, "⚠️ Cal.com Sync Issue: Appointment #1236");
        assert!(mail.text.contains("• Time: 13.10.2025 10:00"), "{}", mail.text);
        assert!(mail.text.contains("• Status: Orphaned Local"));
        assert!(mail.text.contains("https://sync.example.com/appointments/1236"));
        assert!(mail.html.contains("href=\"https://sync.example.com/appointments/1236\""));
        assert!(mail.html.contains("Tom &lt;Klein&gt;"), "customer text is escaped in HTML");
        assert!(!mail.html.contains("<Klein>"));
    }
}
