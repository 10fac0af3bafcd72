//! Email through a real SMTP conversation (the test sink), on both databases:
//! who gets what, what it says, and that a mail server outage delays
//! but never loses or duplicates mail.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentSource, AppointmentStatus, OrgId};
use engine::mail::{deliver_due, SmtpMailer};
use engine::on_both_backends;
use engine::store::{Appointment, NewAppointment, NewOrganization, Organization, Store};
use engine::testing::smtp_sink::SmtpSink;
use engine::verify::circuit::Circuits;
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;

mod support;
use support::FakeCalcom;

const PUBLIC_URL: &str = "https://sync.salon.example";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 11, 8, 0, 0).unwrap()
}

async fn user(store: &Store, org: OrgId, email: &str, pref: &str) {
    sqlx::query(
        "INSERT INTO users (org_id, email, name, role, password_hash, email_pref, created_at) VALUES ($1, $2, 'U', 'admin', 'x', $3, 0)",
    )
    .bind(org.get())
    .bind(email)
    .bind(pref)
    .execute(store.pool())
    .await
    .unwrap();
}

async fn setup(store: &Store) -> (Organization, ManualClock, Verifier, Appointment) {
    let org = store
        .create_organization(
            &NewOrganization { slug: "salon".into(), name: "Salon".into(), time_zone: chrono_tz::Europe::Berlin },
            t0(),
        )
        .await
        .unwrap();
    user(store, org.id, "all@salon.example", "all").await;
    user(store, org.id, "issues@salon.example", "issues").await;
    user(store, org.id, "none@salon.example", "none").await;
    let clock = ManualClock::at(t0());
    let verifier =
        Verifier::new(store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), Arc::new(clock.clone()))
            .with_email(PUBLIC_URL);
    let start = Utc.with_ymd_and_hms(2025, 10, 13, 8, 0, 0).unwrap();
    let new = NewAppointment {
        external_id: None,
        customer_name: "Tom Klein".into(),
        customer_email: Some("tom@example.com".into()),
        customer_phone: None,
        service: "Herrenschnitt".into(),
        starts_at: start,
        ends_at: start + Duration::minutes(45),
        time_zone: chrono_tz::Europe::Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Retell,
        calcom_booking_uid: Some("abc-def-123".into()),
        calcom_event_type_id: None,
    };
    let appointment = store.insert_appointment(org.id, &new, "test", t0()).await.unwrap();
    (org, clock, verifier, appointment)
}

/// Three 404s: the appointment becomes an orphan and one issue opens.
async fn orphan(store: &Store, org: &Organization, clock: &ManualClock, verifier: &Verifier, a: &Appointment) {
    let calcom = FakeCalcom::default();
    for wait in [0, 1, 5] {
        clock.advance(Duration::minutes(wait));
        let current = store.appointment(org.id, a.id).await.unwrap();
        verifier.verify_one(org, &calcom, &current).await.unwrap();
    }
}

/// The message body with quoted-printable soft line breaks and escapes undone.
fn unfold(data: &str) -> String {
    let joined = data.replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

on_both_backends!(an_issue_emails_the_admins_who_want_it, |db| async move {
    let store = &db.store;
    let (org, clock, verifier, a) = setup(store).await;
    orphan(store, &org, &clock, &verifier, &a).await;
    assert_eq!(store.outbox_counts(org.id).await.unwrap(), (2, 0, 0), "all + issues, not none");

    let sink = SmtpSink::start().await;
    let mailer = SmtpMailer::new(&sink.url(), "calsync <noreply@salon.example>").unwrap();
    let report = deliver_due(store, &mailer, clock.now()).await.unwrap();
    assert_eq!(report.sent, 2);
    let mails = sink.received();
    let mut to: Vec<_> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["all@salon.example", "issues@salon.example"]);
    let mail = &mails[0];
    assert_eq!(mail.from, "noreply@salon.example");
    let body = unfold(&mail.data);
    assert!(body.contains("Subject: "), "{body}");
    assert!(body.contains("text/plain") && body.contains("text/html"), "both parts: {body}");
    let link = format!("{PUBLIC_URL}/appointments/{}", a.id);
    assert!(body.contains(&format!("Review Appointment: {link}")), "text part link: {body}");
    assert!(body.contains(&format!("href=\"{link}\"")), "html part link: {body}");
    assert!(body.contains("Tom Klein") && body.contains("13.10.2025 10:00"), "{body}");
    assert_eq!(store.outbox_counts(org.id).await.unwrap(), (0, 2, 0));
    assert_eq!(deliver_due(store, &mailer, clock.now()).await.unwrap().sent, 0, "nothing twice");
});

on_both_backends!(a_mail_server_outage_delays_but_delivers_each_email_once, |db| async move {
    let store = &db.store;
    let (org, clock, verifier, a) = setup(store).await;
    orphan(store, &org, &clock, &verifier, &a).await;

    let mut sink = SmtpSink::start().await;
    let mailer = SmtpMailer::new(&sink.url(), "noreply@salon.example").unwrap();
    sink.stop();
    let down = deliver_due(store, &mailer, clock.now()).await.unwrap();
    assert_eq!((down.sent, down.retrying), (0, 2));
    assert_eq!(store.outbox_counts(org.id).await.unwrap(), (2, 0, 0), "kept for later");
    assert_eq!(deliver_due(store, &mailer, clock.now()).await.unwrap().sent, 0, "not due again before the backoff");

    sink.restart().await;
    clock.advance(Duration::minutes(1));
    let up = deliver_due(store, &mailer, clock.now()).await.unwrap();
    assert_eq!(up.sent, 2);
    clock.advance(Duration::hours(1));
    assert_eq!(deliver_due(store, &mailer, clock.now()).await.unwrap().sent, 0);
    assert_eq!(sink.received().len(), 2, "each email exactly once");
});

#[tokio::test]
async fn a_bad_smtp_url_or_sender_is_a_clear_error() {
    assert!(SmtpMailer::new("http://nope", "a@b.de").unwrap_err().to_string().starts_with("SMTP_URL"));
    assert!(SmtpMailer::new("smtp://127.0.0.1:2525", "not an address")
        .unwrap_err()
        .to_string()
        .starts_with("SMTP_FROM"));
}

fn message_id(data: &str) -> String {
    data.lines()
        .find_map(|line| line.strip_prefix("Message-ID: "))
        .map(str::trim)
        .expect("every email has a Message-ID")
        .to_owned()
}

on_both_backends!(a_resend_after_a_crash_is_the_same_message, |db| async move {
    let store = &db.store;
    let (org, clock, verifier, a) = setup(store).await;
    orphan(store, &org, &clock, &verifier, &a).await;
    let sink = SmtpSink::start().await;
    let mailer = SmtpMailer::new(&sink.url(), "calsync <noreply@salon.example>").unwrap();
    // A crash after sending and before recording it: as if the record of
    // the sends (status, and the bodies it drops) had never been written.
    let bodies: Vec<(i64, String, String)> = sqlx::query_as("SELECT email_id, text_body, html_body FROM email_bodies")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(bodies.len(), 2);
    deliver_due(store, &mailer, clock.now()).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM email_bodies").fetch_one(store.pool()).await.unwrap();
    assert_eq!(left, 0, "a sent email's bodies are not kept");
    sqlx::query("UPDATE email_outbox SET status = 'pending', sent_at = NULL, next_attempt_at = 0")
        .execute(store.pool())
        .await
        .unwrap();
    for (id, text, html) in &bodies {
        sqlx::query("INSERT INTO email_bodies (email_id, text_body, html_body) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(text)
            .bind(html)
            .execute(store.pool())
            .await
            .unwrap();
    }
    assert_eq!(deliver_due(store, &mailer, clock.now()).await.unwrap().sent, 2, "at least once");
    let ids: Vec<String> = sink.received().iter().map(|m| message_id(&m.data)).collect();
    assert_eq!(ids.len(), 4);
    assert!(ids.iter().all(|id| id.starts_with("<calsync.") && id.ends_with("@salon.example>")), "{ids:?}");
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 2, "each resend repeats its first send's Message-ID: {ids:?}");
});
