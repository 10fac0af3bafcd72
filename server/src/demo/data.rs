//! The demo's made-up business: a Berlin hair salon with a small practice
//! next door, its customers and services. Times are local (Europe/Berlin)
//! in the coming days, so the lists look like next week's diary.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;

pub const ORG_SLUG: &str = "demo";
pub const ORG_NAME: &str = "Salon Haarmonie & Praxis am Markt (Demo)";

/// One visit: who, what, and when (days from today, local time).
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    pub customer: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub service: &'static str,
    pub minutes: i64,
    pub day: i64,
    pub at: (u32, u32),
}

impl Visit {
    /// The start instant, `day` days after `today`'s local date.
    pub fn start(&self, today: DateTime<Utc>) -> DateTime<Utc> {
        let date = today.with_timezone(&Berlin).date_naive() + Duration::days(self.day);
        let time = NaiveTime::from_hms_opt(self.at.0, self.at.1, 0).expect("valid demo time");
        // Demo times avoid the DST switch hour, so the local time is unique.
        Berlin.from_local_datetime(&date.and_time(time)).earliest().expect("valid local time").with_timezone(&Utc)
    }

    pub fn end(&self, today: DateTime<Utc>) -> DateTime<Utc> {
        self.start(today) + Duration::minutes(self.minutes)
    }
}

const fn v(
    customer: &'static str,
    email: &'static str,
    phone: &'static str,
    service: &'static str,
    minutes: i64,
    day: i64,
    at: (u32, u32),
) -> Visit {
    Visit { customer, email, phone, service, minutes, day, at }
}

/// In both systems and equal: verified as synced.
pub const SYNCED: &[Visit] = &[
    v("Max Müller", "max.mueller@example.com", "+49 30 1234501", "Herrenschnitt", 30, 1, (9, 0)),
    v("Jan Weber", "jan.weber@example.com", "+49 30 1234502", "Herrenschnitt & Bart", 45, 1, (10, 0)),
    v("Sabine Hoffmann", "sabine.hoffmann@example.com", "+49 30 1234503", "Damenhaarschnitt & Föhnen", 60, 1, (11, 30)),
    v("Petra Schulz", "petra.schulz@example.com", "+49 30 1234504", "Färben & Schnitt", 120, 2, (9, 30)),
    v(
        "Katrin Wagner",
        "katrin.wagner@example.com",
        "+49 30 1234505",
        "Physiotherapie (Praxis am Markt)",
        30,
        2,
        (14, 0),
    ),
    v("Lukas Becker", "lukas.becker@example.com", "+49 30 1234506", "Massage 45 min (Praxis am Markt)", 45, 2, (16, 0)),
    v("Monika Fischer", "monika.fischer@example.com", "+49 30 1234507", "Dauerwelle", 90, 3, (10, 0)),
    v("Stefan Koch", "stefan.koch@example.com", "+49 30 1234508", "Herrenschnitt", 30, 3, (17, 30)),
    v("Julia Richter", "julia.richter@example.com", "+49 30 1234509", "Strähnen", 120, 4, (9, 0)),
    v("Thomas Wolf", "thomas.wolf@example.com", "+49 30 1234510", "Krankengymnastik (Praxis am Markt)", 30, 4, (15, 0)),
];

/// Cal.com's copy will be moved an hour later behind our back.
pub const MOVED_IN_CALCOM: Visit =
    v("Claudia Neumann", "claudia.neumann@example.com", "+49 30 1234511", "Damenhaarschnitt", 45, 2, (12, 0));
/// Cal.com's copy will be cancelled behind our back.
pub const CANCELLED_IN_CALCOM: Visit =
    v("Andreas Schwarz", "andreas.schwarz@example.com", "+49 30 1234512", "Bartpflege", 30, 3, (12, 0));

/// Deleted from Cal.com: three 404s in a row make them ORPHANED_LOCAL. Their
/// times are free in Cal.com, so "Create in Cal.com" can book them again
/// (as "push ours" can move the moved one back).
pub const ORPHANED_LOCAL: &[Visit] = &[
    v("Tom Klein", "tom.klein@example.com", "+49 123 456789", "Hairstyling - Herrenschnitt", 45, 1, (13, 0)),
    v(
        "Birgit Zimmermann",
        "birgit.zimmermann@example.com",
        "+49 30 1234513",
        "Manuelle Therapie (Praxis am Markt)",
        30,
        5,
        (8, 30),
    ),
    // Rebooked in Cal.com ten minutes later (`REBOOKED_IN_CALCOM`): the queue suggests the link.
    v("Jens Vogel", "jens.vogel@example.com", "+49 30 1234519", "Herrenschnitt", 30, 6, (11, 0)),
];

/// Jens Vogel's new booking, made in Cal.com after his first was deleted:
/// only in Cal.com, and probably his ORPHANED_LOCAL appointment.
pub const REBOOKED_IN_CALCOM: &[Visit] =
    &[v("Jens Vogel", "jens.vogel@example.com", "+49 30 1234519", "Herrenschnitt", 30, 6, (11, 10))];

/// Deleted from Cal.com just now: the first 404, being confirmed.
pub const BEING_CONFIRMED: &[Visit] =
    &[v("Heike Krüger", "heike.krueger@example.com", "+49 30 1234514", "Föhnfrisur", 30, 2, (13, 0))];

/// Cal.com does not answer while these are checked (an outage).
pub const DURING_OUTAGE: &[Visit] = &[
    v("Lisa Braun", "lisa.braun@example.com", "+49 30 1234515", "Färben", 90, 1, (11, 30)),
    v("Frank Hartmann", "frank.hartmann@example.com", "+49 30 1234516", "Herrenschnitt", 30, 4, (13, 30)),
];

/// Only in Cal.com: booked there, never reached calsync (ORPHANED_CALCOM).
pub const CALCOM_ONLY: &[Visit] = &[
    v("Sandra Lange", "sandra.lange@example.com", "+49 30 1234517", "Damenhaarschnitt & Föhnen", 60, 3, (15, 0)),
    v(
        "Michael Schmitt",
        "michael.schmitt@example.com",
        "+49 30 1234518",
        "Physiotherapie (Praxis am Markt)",
        30,
        5,
        (10, 30),
    ),
];

/// New, not verified yet.
pub const PENDING: &[Visit] = &[
    v("Anna Schmidt", "anna.schmidt@example.com", "+49 30 1234519", "Damenhaarschnitt", 45, 1, (15, 30)),
    v("Nina Schröder", "nina.schroeder@example.com", "+49 30 1234520", "Maniküre", 45, 5, (14, 0)),
    v("Paul Meyer", "paul.meyer@example.com", "+49 30 1234521", "Herrenschnitt", 30, 6, (9, 30)),
];
