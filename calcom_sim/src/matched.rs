//! A booking seeded in the simulator and the appointment that matches it
//! field for field (same customer, start, 30 minutes): what verification
//! finds in sync. Server tests, the soak and the benchmarks start from it.

use chrono::{DateTime, Duration, Utc};

use crate::{SeedBooking, SimHandle};
use engine::calcom::NewAttendee;
use engine::domain::{AppointmentSource, AppointmentStatus, OrgId};
use engine::store::{Appointment, NewAppointment, Store};

/// Who booked: the appointment's customer and the booking's attendee.
pub struct Customer<'a> {
    pub name: &'a str,
    pub email: &'a str,
}

/// Seeds the booking, inserts its appointment (created at `at`), and returns
/// the booking's uid with the appointment. Panics on failure: a fixture.
pub async fn seed_matching(
    store: &Store,
    org: OrgId,
    sim: &SimHandle,
    start: DateTime<Utc>,
    customer: Customer<'_>,
    at: DateTime<Utc>,
) -> (String, Appointment) {
    let attendee = NewAttendee {
        name: customer.name.into(),
        email: customer.email.into(),
        time_zone: "Europe/Berlin".into(),
        phone_number: None,
        language: None,
    };
    let seed = SeedBooking { attendee: Some(attendee), ..SeedBooking::at(start) };
    let uid = sim.control().seed(vec![seed]).expect("seed the simulator").remove(0);
    let new = NewAppointment {
        external_id: None,
        customer_name: customer.name.into(),
        customer_email: Some(customer.email.into()),
        customer_phone: None,
        service: "Beratung".into(),
        starts_at: start,
        ends_at: start + Duration::minutes(30),
        time_zone: chrono_tz::Europe::Berlin,
        status: AppointmentStatus::Scheduled,
        source: AppointmentSource::Api,
        calcom_booking_uid: Some(uid.clone()),
        calcom_event_type_id: Some(1),
    };
    let appointment = store.insert_appointment(org, &new, "test", at).await.expect("insert the appointment");
    (uid, appointment)
}
