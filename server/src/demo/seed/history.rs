//! The month before today, lived through on the seed's clock: each day a
//! few new bookings arrive and are verified by the day's cycle, the night's
//! comprehensive check confirms everything, and on some days Cal.com is
//! down for a while (failed attempts, retried until they succeed) or a
//! booking is moved in Cal.com and an admin accepts the move the next
//! morning. The runs page, the metrics and the 7-day trend then read like
//! real use, made by the real verifier, not written.

use calcom_sim::{BookingEdit, Faults, SeedBooking};
use chrono::{Duration, NaiveTime, TimeZone};
use chrono_tz::Europe::Berlin;
use engine::calcom::NewAttendee;
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode};
use engine::resolve::{Actor, Resolver};
use engine::store::{NewAppointment, RunKind};

use super::{DemoError, Seeder};

/// How far back the history goes.
pub const DAYS: i64 = 30;
const NEW_PER_DAY: usize = 2;
/// Days (counted back from today) with a Cal.com outage during the cycle.
const OUTAGE_DAYS: [i64; 3] = [23, 12, 4];
/// Days on which a booking is moved in Cal.com and accepted the day after.
const MOVED_DAYS: [i64; 2] = [18, 7];

const FIRST: [&str; 12] =
    ["Lena", "Tim", "Mia", "Paul", "Emma", "Felix", "Hannah", "Lukas", "Sophie", "Jonas", "Laura", "Noah"];
const LAST: [&str; 10] =
    ["Becker", "Fischer", "Meyer", "Koch", "Richter", "Wolf", "Neumann", "Schwarz", "Zimmermann", "Braun"];
const SERVICES: [(&str, i64); 4] =
    [("Herrenschnitt", 30), ("Damenhaarschnitt & Föhnen", 60), ("Färben & Schnitt", 120), ("Bartpflege", 20)];

pub async fn month(s: &mut Seeder<'_>) -> Result<(), DemoError> {
    let admin = s.store.user_by_email(crate::demo::accounts::ADMIN_EMAIL).await?;
    let resolver = Resolver::new(s.store.clone(), std::sync::Arc::new(s.clock.clone()));
    let mut moved = Vec::new();
    for back in (1..=DAYS).rev() {
        let day = s.today.with_timezone(&Berlin).date_naive() - Duration::days(back);
        let local = |h: u32, m: u32| {
            let time = NaiveTime::from_hms_opt(h, m, 0).expect("valid time");
            Berlin.from_local_datetime(&day.and_time(time)).earliest().expect("no DST gap then").to_utc()
        };
        // The night's comprehensive check, then the admin's morning.
        s.clock.set(local(3, 0));
        s.run(RunKind::Comprehensive).await?;
        s.clock.set(local(8, 30));
        if let Some(admin) = &admin {
            let actor = Actor { user_id: admin.id, name: admin.name.clone() };
            for issue in s.store.open_issues(s.org.id, None, 100).await? {
                let (ErrorCode::DataMismatch, Some(id)) = (issue.code, issue.appointment_id) else { continue };
                let appointment = s.store.appointment(s.org.id, id).await?;
                resolver.accept_calcom(s.org, &appointment, &actor, s.source).await?;
            }
        }
        // The day's new bookings, verified by the midday cycle.
        s.clock.set(local(11, 0));
        for n in 0..NEW_PER_DAY {
            moved.push(book_and_record(s, back, n).await?);
        }
        s.clock.set(local(12, 0));
        if OUTAGE_DAYS.contains(&back) {
            s.sim.set_faults(Faults { outage: true, ..Faults::default() });
            s.run(RunKind::Cycle).await?;
            s.clock.advance(Duration::minutes(1));
            s.run(RunKind::Cycle).await?;
            s.sim.reset_faults();
            s.clock.advance(Duration::minutes(5));
        }
        s.run(RunKind::Cycle).await?;
        if MOVED_DAYS.contains(&back) {
            if let Some(booking) = moved.last().and_then(|uid| s.sim.booking(uid)) {
                let later = booking.start + Duration::minutes(30);
                s.sim.edit(&booking.uid, BookingEdit { start: Some(later), ..BookingEdit::default() })?;
            }
        }
        s.clock.set(local(18, 0));
        s.run(RunKind::Cycle).await?;
    }
    Ok(())
}

/// One new booking taken in Cal.com and recorded by the phone agent, for a
/// day in the coming two weeks; returns its uid.
async fn book_and_record(s: &mut Seeder<'_>, back: i64, n: usize) -> Result<String, DemoError> {
    let i = (back as usize) * NEW_PER_DAY + n;
    let customer = format!("{} {}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len() + i) % LAST.len()]);
    let email = format!("{}@example.com", customer.to_lowercase().replace(' ', "."));
    let phone = format!("+49 30 55{:05}", i * 37 % 100_000);
    let (service, minutes) = SERVICES[i % SERVICES.len()];
    // After the demo's own diary (its next six days), 09:00 to 17:30, so
    // these never take a slot a resolution in the demo wants to book.
    let date = s.today.with_timezone(&Berlin).date_naive() + Duration::days(7 + (i % 12) as i64);
    let time =
        NaiveTime::from_hms_opt(9 + (i % 9) as u32, if n.is_multiple_of(2) { 0 } else { 30 }, 0).expect("valid time");
    let start = Berlin.from_local_datetime(&date.and_time(time)).earliest().expect("no DST gap then").to_utc();
    let end = start + Duration::minutes(minutes);
    let seed = SeedBooking {
        end: Some(end),
        title: Some(format!("{service} – {customer}")),
        attendee: Some(NewAttendee {
            name: customer.clone(),
            email: email.clone(),
            time_zone: "Europe/Berlin".into(),
            phone_number: Some(phone.clone()),
            language: Some("de".into()),
        }),
        ..SeedBooking::at(start)
    };
    let uid = s.sim.seed(vec![seed])?.remove(0);
    let new = NewAppointment {
        external_id: None,
        customer_name: customer,
        customer_email: Some(email),
        customer_phone: Some(phone),
        service: service.into(),
        starts_at: start,
        ends_at: end,
        time_zone: Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Retell,
        calcom_booking_uid: Some(uid.clone()),
        calcom_event_type_id: Some(1),
    };
    s.store.insert_appointment(s.org.id, &new, "demo", s.clock_now()).await?;
    s.appointments += 1;
    Ok(uid)
}
