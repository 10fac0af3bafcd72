//! Storage over a simulated month: 10,000 appointments through 30 days of
//! the worker's real schedule (6-hourly cycles, the nightly comprehensive
//! check) on a manual clock, with 1 % of bookings changing a day (most
//! moved on both sides, some only in Cal.com, which an admin resolves the
//! next morning), emails sent, notifications read, and the hourly pruning.
//! The database may grow with what happened, not with how often nothing
//! did: its size after day 30 is compared with its size after day 7.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{Context, Result};
use calcom_sim::{spawn, BookingEdit, SeedBooking, SimConfig, SimHandle};
use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::calcom::{CalcomClient, NewAttendee, RateBudget};
use engine::clock::{Clock, ManualClock};
use engine::domain::{AppointmentSource, AppointmentStatus, ErrorCode, Role};
use engine::resolve::{Actor, Resolver};
use engine::store::{
    Appointment, Backend, EventKind, NewAppointment, NewOrganization, NewSyncEvent, NewUser, Organization, Retention,
    Store,
};
use engine::testing::TestDb;
use engine::verify::circuit::Circuits;
use engine::verify::ladder::RetryLadder;
use engine::verify::service::Verifier;
use engine::worker::{Connector, Worker};

const FIRST: [&str; 12] =
    ["Max", "Sabine", "Jan", "Petra", "Katrin", "Lena", "Jonas", "Mia", "Felix", "Anna", "Lukas", "Sophie"];
const LAST: [&str; 10] =
    ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch"];
const SERVICES: [&str; 5] = [
    "Herrenschnitt",
    "Damenhaarschnitt & Föhnen",
    "Färben & Schnitt",
    "Physiotherapie (Praxis am Markt)",
    "Herrenschnitt & Bart",
];

/// A customer as real accounts have them: name, email, phone.
fn customer(i: usize) -> (String, String, String) {
    let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]);
    let email = format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase().replace('ü', "ue"), i);
    (format!("{first} {last}"), email, format!("+49 30 {:07}", 1_000_000 + i))
}

/// Share of the changed bookings moved only in Cal.com (flagged, then resolved).
const CALCOM_ONLY_EVERY: usize = 5;

/// What the month left behind.
pub struct Month {
    pub appointments: usize,
    pub bytes_day_7: u64,
    pub bytes_day_30: u64,
    pub history_rows: i64,
    pub changes: usize,
}

impl Month {
    pub fn ratio(&self) -> f64 {
        self.bytes_day_30 as f64 / self.bytes_day_7.max(1) as f64
    }
}

struct Fixed(CalcomClient);

impl Connector for Fixed {
    type Source = CalcomClient;
    async fn connect(&self, _org: &Organization) -> Option<CalcomClient> {
        Some(self.0.clone())
    }
}

/// Monday 2 March 2026, 00:30 in Berlin.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap()
}

struct Sim {
    store: Store,
    org: Organization,
    clock: ManualClock,
    sim: SimHandle,
    client: CalcomClient,
    worker: Worker<Fixed>,
    resolver: Resolver,
    admin: Actor,
    appointments: Vec<(String, Appointment)>,
}

pub async fn month(backend: Backend, n: usize, days: i64) -> Result<Month> {
    let db = TestDb::new(backend).await;
    let w = Sim::new(db.store.clone(), n).await?;
    let mut bytes_day_7 = 0;
    let mut changes = 0;
    for day in 0..days {
        for hour in 0..24 {
            w.clock.set(t0() + Duration::days(day) + Duration::hours(hour));
            match hour {
                9 => w.resolve_flagged().await?,
                10 => changes += w.change_bookings(day, n / 100).await?,
                _ => {}
            }
            w.worker.tick().await?;
            // Webhooks are off in this month: the cycles find every change.
            w.housekeeping().await?;
        }
        if day + 1 == 7 {
            bytes_day_7 = size(&db.store).await?;
        }
    }
    let history_rows = sqlx::query_scalar("SELECT COUNT(*) FROM sync_events").fetch_one(db.store.pool()).await?;
    Ok(Month { appointments: n, bytes_day_7, bytes_day_30: size(&db.store).await?, history_rows, changes })
}

/// The database's size on disk: SQLite's pages (after a checkpoint, so the
/// WAL is in the file), PostgreSQL's whole database.
async fn size(store: &Store) -> Result<u64> {
    let bytes: i64 = match store.backend() {
        Backend::Sqlite => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.pool()).await?;
            let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(store.pool()).await?;
            let page: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(store.pool()).await?;
            pages * page
        }
        Backend::Postgres => {
            sqlx::query_scalar("SELECT CAST(pg_database_size(current_database()) AS BIGINT)")
                .fetch_one(store.pool())
                .await?
        }
    };
    Ok(bytes as u64)
}

impl Sim {
    async fn new(store: Store, n: usize) -> Result<Sim> {
        let clock = ManualClock::at(t0() - Duration::hours(1));
        let new = NewOrganization { slug: "month".into(), name: "Month".into(), time_zone: chrono_tz::Europe::Berlin };
        let org = store.create_organization(&new, clock.now()).await?;
        let user = NewUser {
            email: "ann@example.com".into(),
            name: "Ann".into(),
            role: Role::Admin,
            password_hash: "-".into(),
        };
        let admin = store.create_user(org.id, &user, clock.now()).await?;
        let sim = spawn(SimConfig::default().with_rate_limit(None).with_clock(Arc::new(clock.clone()))).await?;
        let mut config = sim.client_config();
        config.budget = RateBudget::new(1_000_000, StdDuration::from_secs(1));
        let client = CalcomClient::new(config).context("client")?;
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let verifier =
            Verifier::new(store.clone(), Arc::new(Circuits::default()), RetryLadder::default(), shared.clone())
                .with_email("http://calsync.example");
        let worker = Worker::new(store.clone(), verifier, Fixed(client.clone()), shared.clone(), "month".into());
        let resolver = Resolver::new(store.clone(), shared);
        let mut w = Sim {
            store,
            org,
            clock,
            sim,
            client,
            worker,
            resolver,
            admin: Actor { user_id: admin.id, name: admin.name },
            appointments: Vec::new(),
        };
        w.book(n).await?;
        Ok(w)
    }

    /// `n` bookings over the next 45 days (8:00 to 18:00), each with the
    /// appointment that matches it.
    async fn book(&mut self, n: usize) -> Result<()> {
        let slot = |i: usize| {
            let day = (i * 45 / n.max(1)) as i64;
            let minute = ((i * 37) % 600) as i64;
            t0() + Duration::days(day + 1) + Duration::hours(7) + Duration::minutes(minute)
        };
        let seeds = (0..n)
            .map(|i| {
                let (name, email, phone) = customer(i);
                SeedBooking {
                    attendee: Some(NewAttendee {
                        name,
                        email,
                        time_zone: "Europe/Berlin".into(),
                        phone_number: Some(phone),
                        language: Some("de".into()),
                    }),
                    ..SeedBooking::at(slot(i))
                }
            })
            .collect();
        let uids = self.sim.control().seed(seeds)?;
        for (i, uid) in uids.into_iter().enumerate() {
            let (name, email, phone) = customer(i);
            let new = NewAppointment {
                external_id: Some(format!("crm-{i}")),
                customer_name: name,
                customer_email: Some(email),
                customer_phone: Some(phone),
                service: SERVICES[i % SERVICES.len()].into(),
                starts_at: slot(i),
                ends_at: slot(i) + Duration::minutes(30),
                time_zone: chrono_tz::Europe::Berlin,
                status: AppointmentStatus::Scheduled,
                source: AppointmentSource::Api,
                calcom_booking_uid: Some(uid.clone()),
                calcom_event_type_id: Some(1),
            };
            let appointment =
                self.store.insert_appointment(self.org.id, &new, "api token crm", self.clock.now()).await?;
            self.appointments.push((uid, appointment));
        }
        Ok(())
    }

    /// Moves `count` bookings by an hour; most through calsync's API as
    /// well (a booking agent moving both), every fifth only in Cal.com.
    async fn change_bookings(&self, day: i64, count: usize) -> Result<usize> {
        let now = self.clock.now();
        let first = day as usize * count;
        for k in 0..count {
            let (uid, appointment) = &self.appointments[(first + k * 97) % self.appointments.len()];
            let booking = self.sim.control().booking(uid).context("a seeded booking")?;
            let moved = booking.start + Duration::hours(1);
            self.sim.control().edit(uid, BookingEdit { start: Some(moved), ..BookingEdit::default() })?;
            if k % CALCOM_ONLY_EVERY == 0 {
                continue;
            }
            let current = self.store.appointment(self.org.id, appointment.id).await?;
            let facts = NewAppointment {
                starts_at: moved,
                ends_at: moved + (current.ends_at - current.starts_at),
                ..facts_of(&current)
            };
            let event = NewSyncEvent {
                appointment_id: Some(current.id),
                kind: EventKind::Updated,
                result: None,
                attempt: None,
                duration_ms: None,
                detail: Some("Moved by an hour".into()),
                technical: None,
                actor: "api token crm".into(),
                actor_user_id: None,
                at: now,
            };
            let state = current.sync.queued(now);
            self.store.update_appointment_facts(self.org.id, current.id, &facts, &state, &event).await?;
        }
        Ok(count)
    }

    /// The admin's morning: yesterday's flagged moves accepted from Cal.com,
    /// the feed read.
    async fn resolve_flagged(&self) -> Result<()> {
        for issue in self.store.open_issues(self.org.id, None, 10_000).await? {
            let (ErrorCode::DataMismatch, Some(id)) = (issue.code, issue.appointment_id) else { continue };
            let appointment = self.store.appointment(self.org.id, id).await?;
            self.resolver.accept_calcom(&self.org, &appointment, &self.admin, &self.client).await?;
        }
        self.store.mark_all_read(self.org.id, self.admin.user_id, self.clock.now()).await?;
        Ok(())
    }

    /// What `calsync serve` does besides verifying: emails go out, old
    /// records are pruned.
    async fn housekeeping(&self) -> Result<()> {
        let now = self.clock.now();
        for email in self.store.claim_emails(now, Duration::minutes(5), 1000).await? {
            self.store.mark_email_sent(email.id, now).await?;
        }
        self.store.prune(&Retention::default(), now).await?;
        Ok(())
    }
}

fn facts_of(a: &Appointment) -> NewAppointment {
    NewAppointment {
        external_id: a.external_id.clone(),
        customer_name: a.customer_name.clone(),
        customer_email: a.customer_email.clone(),
        customer_phone: a.customer_phone.clone(),
        service: a.service.clone(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        time_zone: a.time_zone,
        status: a.status,
        source: a.source,
        calcom_booking_uid: a.calcom_booking_uid.clone(),
        calcom_event_type_id: a.calcom_event_type_id,
    }
}
